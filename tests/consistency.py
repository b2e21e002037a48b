"""Rollup figures (stats, apps) recomputed from the raw events that remain, for deletion tests.

The rollups keep one user per session-hour, so callers give each session at most one user
unless they assert on that case themselves.
"""
from collections import Counter, defaultdict


def remaining_events(api, app_id, window):
    events = api.read("/events", app_id=app_id, limit=1000, **window)["events"]
    assert len(events) < 1000, "the window must hold every event of the test"
    return events


def expected_figures(events):
    by_name = defaultdict(list)
    by_day = defaultdict(list)
    for e in events:
        by_name[e["event"]].append(e)
        by_day[e["timestamp"][:10]].append(e)
    return {
        "overview": (len(events), len({e["session_id"] for e in events}),
                     len({e["user_id"] for e in events if e["user_id"] is not None})),
        "top": {name: (len(group), len({e["session_id"] for e in group})) for name, group in by_name.items()},
        "days": {day: (len(group), len({e["session_id"] for e in group})) for day, group in by_day.items()},
        "first_last": (min(e["timestamp"] for e in events), max(e["timestamp"] for e in events)) if events else None,
    }


def rollup_figures(api, app_id, window):
    overview = api.read("/stats/overview", app_id=app_id, **window)
    top = api.read("/stats/events", app_id=app_id, limit=1000, **window)["events"]
    timeline = api.read("/stats/timeline", app_id=app_id, interval="day", **window)["buckets"]
    apps = api.read("/apps", app_id=app_id, **window)["apps"]
    return {
        "overview": (overview["events"], overview["sessions"], overview["users"]),
        "top": {row["event"]: (row["count"], row["sessions"]) for row in top},
        "days": {b["t"][:10]: (b["events"], b["sessions"]) for b in timeline if b["events"] or b["sessions"]},
        "first_last": (apps[0]["first_seen"], apps[0]["last_seen"]) if apps else None,
        "apps": [(a["events"], a["sessions"], a["users"], a["total_events"]) for a in apps],
    }


def assert_rollups_match_events(api, app_id, window):
    """Every stats/apps figure for `app_id` equals what the remaining raw events say. Returns them."""
    events = remaining_events(api, app_id, window)
    expected = expected_figures(events)
    actual = rollup_figures(api, app_id, window)
    assert actual["overview"] == expected["overview"]
    assert actual["top"] == expected["top"]
    assert actual["days"] == expected["days"]
    assert actual["first_last"] == expected["first_last"]
    assert actual["apps"] == ([(*expected["overview"], len(events))] if events else [])
    return events


def names(events):
    return Counter(e["event"] for e in events)
