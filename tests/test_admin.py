"""Admin deletions against the real worker: what they return, and rollups equal to the events left."""
import uuid
from urllib.parse import quote

import pytest

from conftest import KEYS, event
from consistency import assert_rollups_match_events, remaining_events

WINDOW = {"from": "2024-05-01", "to": "2024-05-03"}


def delete(api, path, **params):
    return api.request("DELETE", path, params=params)


def seed(api, app_id, erased="erased-user"):
    """Three sessions over two days; `erased` is the first user of session s1's first hour."""
    body = {"events": [
        event(app_id, "Opened", "s1", user_id=erased, timestamp="2024-05-01T10:05:00Z"),
        event(app_id, "Viewed", "s1", user_id="other-user", timestamp="2024-05-01T10:20:00Z"),
        event(app_id, "Viewed", "s1", user_id=erased, timestamp="2024-05-01T11:00:00Z"),
        event(app_id, "Opened", "s2", user_id=erased, timestamp="2024-05-02T09:00:00Z"),
        event(app_id, "Clicked", "s2", timestamp="2024-05-02T09:30:00Z"),
        event(app_id, "Opened", "s3", user_id="third-user", timestamp="2024-05-02T23:59:00Z"),
    ]}
    response = api.track(body)
    assert response.json()["count"] == 6
    return remaining_events(api, app_id, WINDOW)


@pytest.fixture
def other_app():
    return f"test-{uuid.uuid4().hex[:12]}"


def test_delete_event_returns_what_it_removed_and_keeps_rollups_consistent(api, app_id):
    events = seed(api, app_id)
    target = next(e for e in events if e["event"] == "Clicked")
    response = delete(api, f"/admin/events/{target['id']}")
    assert response.status_code == 200
    assert response.json() == {"success": True, "deleted": {"events": 1, "apps": 0}, "complete": True}
    left = assert_rollups_match_events(api, app_id, WINDOW)
    assert len(left) == 5 and target["id"] not in {e["id"] for e in left}


def test_deleting_the_first_and_last_events_moves_first_and_last_seen(api, app_id):
    events = seed(api, app_id)
    for e in (events[0], events[-1]):  # newest first
        assert delete(api, f"/admin/events/{e['id']}").status_code == 200
    left = assert_rollups_match_events(api, app_id, WINDOW)
    app = api.read("/apps", app_id=app_id, **WINDOW)["apps"][0]
    assert (app["first_seen"], app["last_seen"]) == ("2024-05-01T10:20:00.000Z", "2024-05-02T09:30:00.000Z")
    assert app["total_events"] == len(left) == 4


def test_deleting_an_absent_event_is_a_404(api, app_id):
    target = seed(api, app_id)[0]
    assert delete(api, f"/admin/events/{target['id']}").status_code == 200
    response = delete(api, f"/admin/events/{target['id']}")
    assert response.status_code == 404
    assert response.json() == {"success": False, "error": f"no event with id {target['id']}", "details": []}


@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", "1.5", "²", "4503599627370497", "9" * 30, "1" * 5000], ids=lambda v: v[:20])
def test_malformed_event_ids_are_400(api, bad_id):
    response = delete(api, f"/admin/events/{quote(bad_id)}")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "id"


def test_deleting_the_last_event_of_an_app_removes_the_app(api, app_id):
    assert api.track(event(app_id, timestamp="2024-05-01T10:00:00Z")).status_code == 200
    only = remaining_events(api, app_id, WINDOW)[0]
    response = delete(api, f"/admin/events/{only['id']}")
    assert response.json()["deleted"] == {"events": 1, "apps": 1}
    assert api.read("/apps", app_id=app_id, **WINDOW)["apps"] == []
    assert_rollups_match_events(api, app_id, WINDOW)


def test_user_erasure_removes_the_user_from_every_app(api, app_id, other_app):
    user = f"erase-{uuid.uuid4().hex[:8]}"
    seed(api, app_id, erased=user)
    seed(api, other_app, erased=user)
    response = delete(api, f"/admin/users/{user}")
    assert response.status_code == 200
    assert response.json() == {"success": True, "deleted": {"events": 6, "apps": 0}, "complete": True}
    for app in (app_id, other_app):
        left = assert_rollups_match_events(api, app, WINDOW)
        assert user not in {e["user_id"] for e in left} and len(left) == 3
        assert api.read("/events", app_id=app, user_id=user, **WINDOW)["events"] == []


def test_erased_user_leaves_no_trace_in_user_figures(api, app_id):
    user = f"erase-{uuid.uuid4().hex[:8]}"
    seed(api, app_id, erased=user)
    assert delete(api, f"/admin/users/{user}").status_code == 200
    listed = api.read("/users", app_id=app_id, **WINDOW)
    # s1's first hour was attributed to the erased user; "other-user" is still in it.
    assert sorted(u["user_id"] for u in listed["users"]) == ["other-user", "third-user"]
    assert api.read("/users", search=user, **WINDOW)["users"] == []
    overview = api.read("/stats/overview", app_id=app_id, **WINDOW)
    assert (overview["events"], overview["sessions"], overview["users"]) == (3, 3, 2)


def test_user_erasure_can_be_limited_to_one_app(api, app_id, other_app):
    user = f"erase-{uuid.uuid4().hex[:8]}"
    seed(api, app_id, erased=user)
    seed(api, other_app, erased=user)
    response = delete(api, f"/admin/users/{user}", app_id=app_id)
    assert response.json()["deleted"]["events"] == 3
    assert user not in {e["user_id"] for e in assert_rollups_match_events(api, app_id, WINDOW)}
    kept = assert_rollups_match_events(api, other_app, WINDOW)
    assert sum(e["user_id"] == user for e in kept) == 3


def test_user_ids_are_percent_decoded_from_the_path(api, app_id):
    user = f"ann/{uuid.uuid4().hex[:6]} @example.com?é"
    assert api.track(event(app_id, user_id=user, timestamp="2024-05-01T10:00:00Z")).status_code == 200
    response = delete(api, "/admin/users/" + quote(user, safe=""))
    assert response.json()["deleted"]["events"] == 1
    assert remaining_events(api, app_id, WINDOW) == []


def test_erasing_an_unknown_user_removes_nothing(api, app_id):
    seed(api, app_id)
    response = delete(api, f"/admin/users/nobody-{uuid.uuid4().hex}")
    assert response.json() == {"success": True, "deleted": {"events": 0, "apps": 0}, "complete": True}
    assert len(assert_rollups_match_events(api, app_id, WINDOW)) == 6


@pytest.mark.parametrize("bad", ["%00", "x" * 256])
def test_malformed_user_ids_are_400(api, bad):
    response = delete(api, f"/admin/users/{bad}")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "user_id"


def test_deleting_an_app_removes_everything_of_it_and_nothing_else(api, app_id, other_app):
    seed(api, app_id)
    seed(api, other_app)
    response = delete(api, f"/admin/apps/{app_id}")
    assert response.status_code == 200
    assert response.json() == {"success": True, "deleted": {"events": 6, "apps": 1}, "complete": True}
    assert assert_rollups_match_events(api, app_id, WINDOW) == []
    overview = api.read("/stats/overview", app_id=app_id, **WINDOW)
    assert (overview["events"], overview["sessions"], overview["users"], overview["apps"]) == (0, 0, 0, 0)
    assert api.read("/users", app_id=app_id, **WINDOW)["users"] == []
    assert len(assert_rollups_match_events(api, other_app, WINDOW)) == 6


def test_deletions_need_the_admin_key(api, app_id):
    seed(api, app_id)
    response = api.request("DELETE", f"/admin/apps/{app_id}", key=KEYS["READ_KEY"])
    assert response.status_code == 403
    assert len(remaining_events(api, app_id, WINDOW)) == 6


def test_events_sent_again_after_deletion_are_counted_afresh(api, app_id):
    body = event(app_id, event_id="once", timestamp="2024-05-01T10:00:00Z")
    assert api.track(body).json()["count"] == 1
    assert delete(api, f"/admin/apps/{app_id}").json()["deleted"]["events"] == 1
    assert api.track(body).json()["count"] == 1
    assert len(assert_rollups_match_events(api, app_id, WINDOW)) == 1


def seed_sessions(api, app_id, sessions, per_session=10):
    """`sessions` sessions of `per_session` events, user u{n} in session s{n}, one property."""
    for first in range(0, sessions, 100):
        body = {"events": [event(app_id, f"E{i % 4}", f"s{s}", user_id=f"u{s}",
                                 timestamp=f"2024-05-01T{s % 24:02d}:{i:02d}:00Z", properties={"screen": f"v{i % 3}"})
                           for s in range(first, min(first + 100, sessions)) for i in range(per_session)]}
        assert api.track(body).json()["count"] == len(body["events"])


def test_deleting_events_reads_their_sessions_not_their_app(api, app_id, other_app):
    """Deleting events takes their sessions out and puts them back from their other events, which are read through
    events_app_session. Left to the planner, workerd's SQLite searched (app_id, ts) by the app alone and read every
    event of the app, in each of eight statements (293,370 rows read for one event of a 20,000-event app). The same
    deletions in an app of 3,000 events and in one of 300 read about as many rows."""
    seed_sessions(api, app_id, 300)
    seed_sessions(api, other_app, 30)
    api.fold_all()
    read = {}
    for app in (app_id, other_app):
        target = next(e for e in remaining_events(api, app, WINDOW) if e["session_id"] == "s8")
        one = delete(api, f"/admin/events/{target['id']}")
        assert one.json() == {"success": True, "deleted": {"events": 1, "apps": 0}, "complete": True}
        user = delete(api, "/admin/users/u7", app_id=app)  # their one session, of 10 events
        assert user.json() == {"success": True, "deleted": {"events": 10, "apps": 0}, "complete": True}
        read[app] = [int(r.headers["x-d1-rows-read"]) for r in (one, user)]
    # 2,700 more events: the old plan read ~43,000 more rows for each deletion.
    assert read[app_id][0] < read[other_app][0] + 1000 and read[app_id][1] < read[other_app][1] + 1000, read
    assert len(assert_rollups_match_events(api, app_id, WINDOW)) == 3000 - 1 - 10
    assert len(assert_rollups_match_events(api, other_app, WINDOW)) == 300 - 1 - 10
