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


def test_a_page_of_users_over_the_most_apps_with_the_longest_ids_is_not_past_d1s_value_limit(tmp_path_factory):
    """/users without app_id takes each app's last limit + 1 users as candidates. Their ids were bound again as
    one JSON value for their figures: with 100 apps (the default cap) of users whose 255-character ids are
    control characters (6 bytes each in JSON), 7.8 MB, past D1's 2 MB per value: a 500 (SQLITE_TOOBIG). The page
    is picked in SQL now, so limit + 1 ids are bound."""
    from conftest import own_api

    with own_api(tmp_path_factory, "users-long-ids", default_caps=True) as api:
        apps = [f"long-{n:03d}" for n in range(100)]
        at = 1_717_200_000  # 2024-06-01T00:00:00Z

        def user_of(app, i):
            return "\x01" * 240 + f"{app}-{i:02d}"

        for first in range(0, 100, 10):  # a body may name ten apps
            sent = [event(app, "App Opened", f"{app}-s{i}", user_id=user_of(app, i),
                          timestamp=at + (apps.index(app) * 51 + i) * 60)
                    for app in apps[first:first + 10] for i in range(51)]
            assert api.track({"events": sent}).json()["count"] == 510
        api.fold_all()
        window = {"from": "2024-06-01", "to": "2024-06-05"}
        first_page = api.get("/users", params={**window, "limit": "50"})
        assert first_page.status_code == 200, first_page.text
        body = first_page.json()
        # Newest first: the last app's users, from its last.
        assert [u["user_id"] for u in body["users"]] == [user_of("long-099", i) for i in range(50, 0, -1)]
        second = api.read("/users", **window, limit="50", cursor=body["next_cursor"])
        assert [u["user_id"] for u in second["users"]] == [user_of("long-099", 0)] + [
            user_of("long-098", i) for i in range(50, 1, -1)]
        # 5,100 users: past the exact count's bound, from the sketches, declared, within 2%.
        assert abs(body["total"] - 5100) <= 102 and (body["total"] == 5100 or body["approximate"] is True)
