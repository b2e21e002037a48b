"""Rollups against raw events on a varied set: two apps sharing names, a session id and a user; sessions
crossing hours and days; late events earlier than a session's known start, folded after the rest; a second
user joining a session; retries; then every kind of deletion. After each step every figure equals what the
remaining raw events say (tests/consistency.py)."""
import uuid

import pytest

from conftest import event
from consistency import all_events, assert_rollups_match_events, assert_sessions_and_active_match_events

WINDOWS = [{"from": "2024-06-08", "to": "2024-06-14"}, {"from": "2024-06-10", "to": "2024-06-10"},
           {"from": "2024-06-10T23:00:00Z", "to": "2024-06-12T13:00:00Z"}]


def ev(app_id, name, session, at, user=None, **fields):
    return event(app_id, name, session, timestamp=f"2024-06-{at}:00Z", event_id=uuid.uuid4().hex,
                 **({"user_id": user} if user else {}), **fields)


def check(api, *apps):
    for app in apps:
        for window in WINDOWS:
            assert_rollups_match_events(api, app, window)
            assert_sessions_and_active_match_events(api, app, window)


@pytest.fixture
def two_apps(api):
    a, b = (f"test-{uuid.uuid4().hex[:12]}" for _ in range(2))
    first = [
        ev(a, "Opened", "s1", "10T23:50", "u1"), ev(a, "Viewed", "s1", "11T00:10", "u1"),
        ev(a, "Opened", "s2", "10T10:30", platform="iOS"), ev(a, "Viewed", "s2", "10T11:15"),
        ev(a, "Opened", "s3", "12T12:00", "u2"),
        ev(b, "Opened", "s1", "10T09:00", "u1"), ev(b, "Viewed", "s1", "10T09:05", "u1"),
    ]
    assert api.track({"events": first}).json()["count"] == 7
    check(api, a, b)  # folded before the late events arrive
    late = [
        ev(a, "Clicked", "s1", "10T22:00", "u1"),     # the session's start moves an hour back
        ev(a, "Opened", "s2", "09T23:30"),            # ... and a day back
        ev(a, "Purchase", "s3", "12T12:30", "u2"),
        ev(a, "Viewed", "s2", "10T11:20", "u3"),      # a user joins a session that had none
    ]
    assert api.track({"events": late}).json()["count"] == 4
    retry = api.track({"events": first})
    assert retry.json() == {"success": True, "count": 0, "duplicates": 7}
    return a, b


def test_figures_equal_raw_events_after_late_events_and_retries(api, two_apps):
    check(api, *two_apps)


def test_deleting_a_sessions_first_event_moves_where_it_counts(api, two_apps):
    a, b = two_apps
    first = min((e for e in all_events(api, a) if e["session_id"] == "s2"), key=lambda e: e["timestamp"])
    assert api.request("DELETE", f"/admin/events/{first['id']}").json()["deleted"]["events"] == 1
    check(api, a, b)


def test_erasing_a_user_in_one_app_keeps_the_other(api, two_apps):
    a, b = two_apps
    assert api.request("DELETE", "/admin/users/u1", params={"app_id": a}).json()["deleted"]["events"] == 3
    check(api, a, b)
    assert {e["user_id"] for e in all_events(api, a)} == {None, "u2", "u3"}
    assert [u["user_id"] for u in api.read("/users", app_id=b, **WINDOWS[0])["users"]] == ["u1"]


def test_deleting_an_app_leaves_the_other_exact(api, two_apps):
    a, b = two_apps
    assert api.request("DELETE", f"/admin/apps/{b}").json()["deleted"] == {"events": 2, "apps": 1}
    check(api, a)
    assert api.read("/apps", app_id=b, **WINDOWS[0])["apps"] == []


def test_rebuild_from_raw_events_gives_the_same_figures(api, two_apps):
    a, b = two_apps
    before = [api.read("/stats/overview", app_id=app, **WINDOWS[0]) for app in (a, b)]
    assert api.post("/admin/rebuild").json()["complete"] is False
    api.fold_all()
    assert [api.read("/stats/overview", app_id=app, **WINDOWS[0]) for app in (a, b)] == before
    check(api, a, b)


def test_distinct_users_over_many_days_are_a_declared_estimate_within_two_percent(api, app_id):
    users = 10_500
    batch = [event(app_id, "Opened", f"s{i}", user_id=f"user-{i}",
                   timestamp=f"2024-07-{1 + i % 20:02d}T{i % 24:02d}:00:00Z") for i in range(users)]
    for start in range(0, users, 1000):
        assert api.track({"events": batch[start:start + 1000]}).json()["count"] == len(batch[start:start + 1000])
    api.fold_all()
    overview = api.read("/stats/overview", app_id=app_id, **{"from": "2024-07-01", "to": "2024-07-31"})
    assert overview["events"] == overview["sessions"] == users
    assert overview["approximate"] is True and overview["approximate_figures"] == ["users"]
    assert abs(overview["users"] - users) / users <= 0.02
    one_day = api.read("/stats/overview", app_id=app_id, **{"from": "2024-07-03", "to": "2024-07-03"})
    assert one_day["approximate"] is False and one_day["users"] == users // 20
