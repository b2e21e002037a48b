"""GET /users and GET /stats/heatmap against the real worker: figures, paging, search, auth, validation."""
import pytest

from conftest import KEYS, event

DAY = "2024-05-06"  # a Monday
RANGE = {"from": DAY, "to": DAY}


def send(api, app_id):
    events = [
        event(app_id, "App Opened", "s1", user_id="alice", timestamp=f"{DAY}T09:10:00Z"),
        event(app_id, "Purchase", "s1", user_id="alice", timestamp=f"{DAY}T09:20:00Z"),
        event(app_id, "App Opened", "s2", user_id="alice", timestamp=f"{DAY}T14:00:00Z"),
        event(app_id, "App Opened", "s3", user_id="bob", timestamp=f"{DAY}T11:00:00Z"),
        event(app_id, "App Opened", "s4", user_id="carol", timestamp=f"{DAY}T08:00:00Z"),
        event(app_id, "App Opened", "anon", timestamp=f"{DAY}T08:30:00Z"),
    ]
    assert api.track({"events": events}).json()["count"] == 6


def test_users_lists_figures_newest_first(api, app_id):
    send(api, app_id)
    body = api.read("/users", app_id=app_id, **RANGE)
    assert body["total"] == 3
    assert body["next_cursor"] is None
    assert [(u["user_id"], u["events"], u["sessions"], u["first_seen"], u["last_seen"]) for u in body["users"]] == [
        ("alice", 3, 2, f"{DAY}T09:10:00.000Z", f"{DAY}T14:00:00.000Z"),
        ("bob", 1, 1, f"{DAY}T11:00:00.000Z", f"{DAY}T11:00:00.000Z"),
        ("carol", 1, 1, f"{DAY}T08:00:00.000Z", f"{DAY}T08:00:00.000Z"),
    ]


def test_users_pages_with_cursor(api, app_id):
    send(api, app_id)
    first = api.read("/users", app_id=app_id, limit=2, **RANGE)
    second = api.read("/users", app_id=app_id, limit=2, cursor=first["next_cursor"], **RANGE)
    assert [u["user_id"] for u in first["users"]] == ["alice", "bob"]
    assert [u["user_id"] for u in second["users"]] == ["carol"]
    assert second["next_cursor"] is None


def test_users_search_is_literal_and_case_insensitive(api, app_id):
    send(api, app_id)
    assert [u["user_id"] for u in api.read("/users", app_id=app_id, search="ALI", **RANGE)["users"]] == ["alice"]
    assert api.read("/users", app_id=app_id, search="%", **RANGE)["total"] == 0


def test_users_outside_range_are_not_listed(api, app_id):
    send(api, app_id)
    assert api.read("/users", app_id=app_id, **{"from": "2024-05-07", "to": "2024-05-07"})["users"] == []


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "x"}, {"cursor": "nope"}, {"days": "-1"},
                                    {"search": "a" * 300}])
def test_users_rejects_bad_parameters(api, params):
    response = api.get("/users", params=params)
    assert response.status_code == 400
    assert response.json()["success"] is False


def test_heatmap_counts_weekday_and_hour(api, app_id):
    send(api, app_id)
    body = api.read("/stats/heatmap", app_id=app_id, **RANGE)
    assert len(body["cells"]) == 168 and body["timezone"] == "UTC"
    busy = {(c["weekday"], c["hour"]): c["events"] for c in body["cells"] if c["events"]}
    assert busy == {("Mon", 8): 2, ("Mon", 9): 2, ("Mon", 11): 1, ("Mon", 14): 1}


def test_heatmap_filters_by_event(api, app_id):
    send(api, app_id)
    cells = api.read("/stats/heatmap", app_id=app_id, event="Purchase", **RANGE)["cells"]
    assert [(c["weekday"], c["hour"], c["events"]) for c in cells if c["events"]] == [("Mon", 9, 1)]


@pytest.mark.parametrize("path", ["/users", "/stats/heatmap"])
def test_read_routes_need_a_read_key(api, path):
    assert api.get(path, key=None).status_code == 401
    assert api.get(path, key="wrong").status_code == 401
    assert api.get(path, key=KEYS["INGEST_KEY"]).status_code == 403
    assert api.get(path, key=KEYS["READ_KEY"]).status_code == 200


def test_heatmap_rejects_bad_range(api):
    response = api.get("/stats/heatmap", params={"from": "tomorrow"})
    assert response.status_code == 400
    assert "from" in response.json()["error"]


def test_suggest_offers_ids_by_prefix_through_an_index(api, app_id):
    send(api, app_id)
    api.fold_all()

    def values(field, prefix, **params):
        return api.read("/suggest", field=field, prefix=prefix, app_id=app_id, **params)["values"]

    assert values("user_id", "a") == ["alice"] and values("user_id", "AL") == [] and values("user_id", "%") == []
    assert values("session_id", "s") == ["s1", "s2", "s3", "s4"] and values("session_id", "s", limit=2) == ["s1", "s2"]
    assert values("session_id", "an") == ["anon"]
    response = api.get("/suggest", params={"field": "session_id", "prefix": "s", "limit": 2})
    assert response.status_code == 200 and int(response.headers["x-d1-rows-read"]) < 2000
    assert api.get("/suggest", params={"field": "user_id"}).status_code == 400
    assert api.get("/suggest", params={"field": "event", "prefix": "a"}).status_code == 400
