"""The read API against the real worker: figures from known events, ranges, zero-fill, paging, auth."""
import pytest

from conftest import event

READ_ROUTES = ["/apps", "/stats/overview", "/stats/timeline", "/stats/events", "/events"]
MAY = {"from": "2024-05-01", "to": "2024-05-04"}


@pytest.fixture
def may_app(api, app_id):
    """Seven events in three sessions by two users over 1-3 May 2024, and one in April."""
    events = [
        event(app_id, "App Opened", "s1", user_id="u1", timestamp="2024-05-01T09:15:00Z"),
        event(app_id, "Purchase", "s1", user_id="u1", timestamp="2024-05-01T09:40:00Z"),
        event(app_id, "App Opened", "s2", user_id="u2", timestamp="2024-05-01T17:00:00Z"),
        event(app_id, "App Opened", "s3", timestamp="2024-05-03T08:00:00Z"),
        event(app_id, "Screen Viewed", "s3", timestamp="2024-05-03T08:01:00Z"),
        event(app_id, "Screen Viewed", "s3", timestamp="2024-05-03T08:02:00Z"),
        event(app_id, "Purchase", "s3", timestamp="2024-05-03T23:59:59Z"),
        event(app_id, "App Opened", "s0", user_id="u1", timestamp="2024-04-29T12:00:00Z"),
    ]
    assert api.track({"events": events}).json()["count"] == 8
    return app_id


def test_overview_counts_and_previous_period(api, may_app):
    current = api.read("/stats/overview", app_id=may_app, **{"from": "2024-05-03", "to": "2024-05-04"})
    assert (current["events"], current["sessions"], current["users"], current["apps"]) == (4, 1, 0, 1)
    assert current["previous"]["from"] == "2024-05-01T00:00:00Z"
    assert (current["previous"]["events"], current["previous"]["sessions"], current["previous"]["users"]) == (3, 2, 2)


def test_timeline_by_day_is_zero_filled(api, may_app):
    timeline = api.read("/stats/timeline", app_id=may_app, interval="day", **MAY)
    assert [(b["t"], b["events"], b["sessions"]) for b in timeline["buckets"]] == [
        ("2024-05-01T00:00:00Z", 3, 2),
        ("2024-05-02T00:00:00Z", 0, 0),
        ("2024-05-03T00:00:00Z", 4, 1),
        ("2024-05-04T00:00:00Z", 0, 0),
    ]


def test_timeline_by_hour_with_event_filter(api, may_app):
    timeline = api.read("/stats/timeline", app_id=may_app, interval="hour", event="App Opened",
                        **{"from": "2024-05-01T08:00:00Z", "to": "2024-05-01T11:00:00Z"})
    assert [(b["t"], b["events"], b["sessions"]) for b in timeline["buckets"]] == [
        ("2024-05-01T08:00:00Z", 0, 0), ("2024-05-01T09:00:00Z", 1, 1), ("2024-05-01T10:00:00Z", 0, 0)]


def test_top_events(api, may_app):
    top = api.read("/stats/events", app_id=may_app, **MAY)["events"]
    assert top == [
        {"event": "App Opened", "count": 3, "sessions": 3},
        {"event": "Purchase", "count": 2, "sessions": 2},
        {"event": "Screen Viewed", "count": 2, "sessions": 1},
    ]
    assert len(api.read("/stats/events", app_id=may_app, limit=1, **MAY)["events"]) == 1


def test_apps_lists_range_figures_and_first_last_seen(api, may_app):
    (app,) = api.read("/apps", app_id=may_app, **MAY)["apps"]
    assert app == {"app_id": may_app, "events": 7, "sessions": 3, "users": 2, "total_events": 8,
                   "first_seen": "2024-04-29T12:00:00.000Z", "last_seen": "2024-05-03T23:59:59.000Z",
                   "display_name": None, "icon_url": None}


def test_events_paginate_newest_first_without_gaps(api, may_app):
    seen, cursor = [], None
    while True:
        params = {"app_id": may_app, "limit": 3, **MAY, **({"cursor": cursor} if cursor else {})}
        page = api.read("/events", **params)
        seen += page["events"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    timestamps = [e["timestamp"] for e in seen]
    assert len(seen) == 7 and len({e["id"] for e in seen}) == 7
    assert timestamps == sorted(timestamps, reverse=True)


def test_events_filters(api, may_app):
    by_user = api.read("/events", app_id=may_app, user_id="u1", **MAY)["events"]
    by_session = api.read("/events", app_id=may_app, session_id="s3", event="Screen Viewed", **MAY)["events"]
    assert [e["event"] for e in by_user] == ["Purchase", "App Opened"]
    assert [e["session_id"] for e in by_session] == ["s3", "s3"]


def test_days_parameter_and_default_range(api, app_id):
    api.track(event(app_id))
    assert api.read("/stats/overview", app_id=app_id, days=1)["events"] == 1
    default = api.read("/stats/overview", app_id=app_id)
    assert default["events"] == 1
    assert len(api.read("/stats/timeline", app_id=app_id)["buckets"]) in (30, 31)


@pytest.mark.parametrize("path,params,field", [
    ("/stats/overview", {"days": "0"}, "days"),
    ("/stats/overview", {"days": "ten"}, "days"),
    ("/stats/overview", {"from": "not-a-date"}, "from"),
    ("/stats/overview", {"from": "2024-05-04", "to": "2024-05-01"}, "from"),
    ("/stats/overview", {"days": "7", "from": "2024-05-01"}, "days"),
    ("/stats/timeline", {"interval": "week"}, "interval"),
    ("/stats/timeline", {"interval": "hour", "days": "60"}, "interval"),
    ("/stats/events", {"limit": "-1"}, "limit"),
    ("/events", {"limit": "100000"}, "limit"),
    ("/events", {"cursor": "garbage!"}, "cursor"),
    ("/apps", {"app_id": "x" * 300}, "app_id"),
])
def test_bad_parameters_are_400(api, path, params, field):
    response = api.get(path, params=params)
    assert response.status_code == 400, response.text
    assert field in [d["field"] for d in response.json()["details"]]


@pytest.mark.parametrize("path", READ_ROUTES)
@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_read_routes_require_a_valid_key(api, path, key):
    response = api.get(path, key=key)
    assert response.status_code == 401
    assert response.json()["success"] is False
