"""GET /users/{user_id} and GET /user?user_id=: one user's all-time figures, per app, platforms and versions.

User ids are global (the `users` rollup is keyed by user, then app), so each test makes ids of its own.
"""
from urllib.parse import quote

import pytest

from conftest import KEYS, event


def user_in(app_id, name):
    # A slash, an encoded-looking "%2F", a space and non-ASCII: each must survive the path.
    return f"{app_id}/ü ser %2F {name} 😀"


def send(api, events):
    for start in range(0, len(events), 1000):
        response = api.track({"events": events[start:start + 1000]})
        assert response.status_code == 200, response.text
    api.fold_all()


def detail(api, user_id):
    return api.get("/users/" + quote(user_id, safe=""))


def crafted(api, app_id):
    user, other = user_in(app_id, "u"), user_in(app_id, "v")
    second_app = app_id + "-b"
    send(api, [
        event(app_id, "Opened", "s1", user_id=user, platform="iOS", app_version="1.0", timestamp="2024-05-06T09:00:00Z"),
        event(app_id, "Viewed", "s1", user_id=user, platform="iOS", app_version="1.0", timestamp="2024-05-06T09:05:00Z"),
        event(app_id, "Opened", "s2", user_id=user, platform="iOS", app_version="1.1", timestamp="2024-05-07T10:00:00Z"),
        event(second_app, "Opened", "s9", user_id=user, platform="macOS", app_version="2.0",
              timestamp="2024-05-08T12:00:00Z"),
        # Someone else in the same session, and an anonymous event: neither is this user's.
        event(second_app, "Opened", "s9", user_id=other, platform="android", app_version="9.9",
              timestamp="2024-05-08T12:01:00Z"),
        event(app_id, "Opened", "s3", platform="web", timestamp="2024-05-08T13:00:00Z"),
    ])
    return user, second_app


def test_one_user_over_two_apps(api, app_id):
    user, second_app = crafted(api, app_id)
    response = detail(api, user)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "success": True, "user_id": user, "debug": False,  # the release builds' events (issue 17)
        "first_seen": "2024-05-06T09:00:00.000Z", "last_seen": "2024-05-08T12:00:00.000Z",
        "events": 4, "sessions": 3,
        "platforms": ["macOS", "iOS"],  # most recently used first
        "app_versions": ["2.0", "1.1", "1.0"],
        "apps": [
            {"app_id": second_app, "events": 1, "sessions": 1,
             "first_seen": "2024-05-08T12:00:00.000Z", "last_seen": "2024-05-08T12:00:00.000Z"},
            {"app_id": app_id, "events": 3, "sessions": 2,
             "first_seen": "2024-05-06T09:00:00.000Z", "last_seen": "2024-05-07T10:00:00.000Z"},
        ],
        "apps_total": 2, "apps_next_cursor": None,
        "raw_since": None, "raw_since_ms": None,  # nothing was ever purged (tests/test_retention.py purges)
        "approximate": False,
    }
    # The fold check, one row per app of the user, the user's marks (one per request and session: 3) twice (the
    # walk, then grouping), and their sessions' events about 6 times (each span's entry and rows, the sort, billed
    # again by each query level above it, and the grouping): measured 45 through a session index, 58 through spans.
    assert int(response.headers["x-d1-rows-read"]) <= 60


def test_the_query_form_answers_the_same_and_carries_ids_a_path_cannot(api, app_id):
    user, _ = crafted(api, app_id)
    assert api.read("/user", user_id=user) == detail(api, user).json()
    dot = "."  # the runtime resolves a "." path segment away, even percent-encoded
    send(api, [event(app_id, "Opened", "s-dot", user_id=dot, timestamp="2024-05-06T09:00:00Z")])
    assert any(app["app_id"] == app_id for app in api.read("/user", user_id=dot)["apps"])


def test_an_unknown_user_is_a_404_and_so_is_an_erased_one(api, app_id):
    user, _ = crafted(api, app_id)
    unknown = detail(api, user_in(app_id, "nobody"))
    assert unknown.status_code == 404 and unknown.json()["success"] is False
    erased = api.request("DELETE", "/admin/users", params={"user_id": user}, key=KEYS["AUTH_KEY"])
    assert erased.json()["deleted"]["events"] == 4
    assert detail(api, user).status_code == 404


@pytest.mark.parametrize("query", [{}, {"user_id": ""}, {"user_id": "x" * 256}, {"user_id": "a\x00b"}])
def test_an_invalid_id_is_a_400_naming_user_id(api, query):
    response = api.get("/user", params=query)
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "user_id"


def test_a_long_history_declares_its_lists_approximate_and_reads_a_bounded_sample(api, app_id):
    user = user_in(app_id, "busy")
    old = [event(app_id, "Opened", "s0", user_id=user, platform="palmOS", app_version="0.1",
                 timestamp="2024-05-01T00:00:00Z")]
    recent = [event(app_id, "Tick", "s1", user_id=user, platform="iOS", app_version="3.0",
                    timestamp=f"2024-05-02T{n // 60 % 24:02d}:{n % 60:02d}:00Z") for n in range(1000)]
    send(api, old + recent)
    response = detail(api, user)
    body = response.json()
    assert (body["events"], body["sessions"], body["first_seen"]) == (1001, 2, "2024-05-01T00:00:00.000Z")
    # palmOS was used only before the newest 1,000 events: the lists say they may be incomplete.
    assert (body["platforms"], body["app_versions"]) == (["iOS"], ["3.0"])
    assert (body["approximate"], body["approximate_figures"]) == (True, ["platforms", "app_versions"])
    # The newest 1,000 of 1,001 events, merged from their sessions' ranges and grouped: ~5 rows read per event (each
    # query level above the merge bills its rows again), measured 5,020; with the (user_id, ts) index, 2,006.
    assert int(response.headers["x-d1-rows-read"]) <= 5 * 1000 + 40


def test_a_list_is_capped_at_50_values(api, app_id):
    user = user_in(app_id, "hopper")
    send(api, [event(app_id, "Opened", f"s{n}", user_id=user, platform=f"p{n:02d}",
                     timestamp=f"2024-05-06T10:{n:02d}:00Z") for n in range(51)])
    body = detail(api, user).json()
    assert body["platforms"] == [f"p{n:02d}" for n in range(50, 0, -1)]  # p00, the oldest, left out
    assert (body["app_versions"], body["approximate_figures"]) == ([], ["platforms"])
