"""Every rollup figure recomputed from the raw events that remain, straight from GET /events.

What the rollups promise, restated over raw events: events count where they happen; a session counts once,
where its first event (over all time) falls; "sessions that did X" are sessions starting in the range that
did X at any time; users are distinct user ids with an event in the range; a user's figures are all-time.
"""
import math
from collections import Counter, defaultdict
from datetime import datetime, timezone

ALL_TIME = {"from": "2000-01-01", "to": "2100-01-01"}


def all_events(api, app_id):
    events, cursor = [], None
    while True:
        page = api.read("/events", app_id=app_id, limit=1000, **ALL_TIME, **({"cursor": cursor} if cursor else {}))
        events += page["events"]
        cursor = page["next_cursor"]
        if cursor is None:
            return events


def remaining_events(api, app_id, window):
    """The events of `app_id` inside `window` (the rollup checks below use every event of the app)."""
    start, end = window_bounds(api, app_id, window)
    return [e for e in all_events(api, app_id) if start <= e["timestamp"] < end]


def window_bounds(api, app_id, window):
    """The window as the worker resolved it, as ISO strings comparable with event timestamps."""
    resolved = api.read("/stats/overview", app_id=app_id, **window)["range"]
    return resolved["from"].replace("Z", ".000Z"), resolved["to"].replace("Z", ".000Z")


def session_starts(events):
    starts = {}
    for e in events:
        key = e["session_id"]
        starts[key] = min(starts.get(key, e["timestamp"]), e["timestamp"])
    return starts


def expected_figures(events, start, end):
    """Figures of one app's events (all of them, over all time) for the window [start, end)."""
    inside = [e for e in events if start <= e["timestamp"] < end]
    starts = session_starts(events)
    started = {s for s, t in starts.items() if start <= t < end}
    names = defaultdict(set)
    for e in events:
        if e["session_id"] in started:
            names[e["event"]].add(e["session_id"])
    counts = Counter(e["event"] for e in inside)
    by_day, sessions_by_day = Counter(e["timestamp"][:10] for e in inside), Counter(starts[s][:10] for s in started)
    users = {e["user_id"] for e in inside if e["user_id"] is not None}
    per_user = defaultdict(list)
    for e in events:
        if e["user_id"] is not None:
            per_user[e["user_id"]].append(e)
    return {
        "overview": (len(inside), len(started), len(users)),
        "top": {name: (counts[name], len(names[name])) for name in counts},
        "days": {day: (by_day[day], sessions_by_day[day]) for day in set(by_day) | set(sessions_by_day)},
        "heatmap": Counter((weekday(e["timestamp"]), int(e["timestamp"][11:13])) for e in inside),
        "apps": [(len(inside), len(started), len(users), len(events),
                  min(e["timestamp"] for e in events), max(e["timestamp"] for e in events))] if events else [],
        "users": {user: (len(rows), len({e["session_id"] for e in rows}), min(e["timestamp"] for e in rows),
                         max(e["timestamp"] for e in rows))
                  for user, rows in per_user.items() if user in users},
    }


def weekday(timestamp):
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).astimezone(timezone.utc).isoweekday()


def rollup_figures(api, app_id, window):
    api.fold_all()
    overview = api.read("/stats/overview", app_id=app_id, **window)
    top = api.read("/stats/events", app_id=app_id, limit=1000, **window)["events"]
    timeline = api.read("/stats/timeline", app_id=app_id, interval="day", **window)["buckets"]
    heatmap = api.read("/stats/heatmap", app_id=app_id, **window)["cells"]
    apps = api.read("/apps", app_id=app_id, **window)["apps"]
    users = api.read("/users", app_id=app_id, limit=1000, **window)["users"]
    return {
        "overview": (overview["events"], overview["sessions"], overview["users"]),
        "top": {row["event"]: (row["count"], row["sessions"]) for row in top},
        "days": {b["t"][:10]: (b["events"], b["sessions"]) for b in timeline if b["events"] or b["sessions"]},
        "heatmap": Counter({(c["day"], c["hour"]): c["events"] for c in heatmap if c["events"]}),
        "apps": [(a["events"], a["sessions"], a["users"], a["total_events"], a["first_seen"], a["last_seen"])
                 for a in apps],
        "users": {u["user_id"]: (u["events"], u["sessions"], u["first_seen"], u["last_seen"]) for u in users},
        "approximate": overview["approximate"],
    }


def assert_rollups_match_events(api, app_id, window):
    """Every stats/apps/users figure for `app_id` over `window` (UTC) equals what its raw events say.
    Returns the events inside the window."""
    start, end = window_bounds(api, app_id, window)
    events = all_events(api, app_id)
    expected = expected_figures(events, start, end)
    actual = rollup_figures(api, app_id, window)
    assert actual["approximate"] is False
    for figure in ("overview", "top", "days", "heatmap", "apps"):
        assert actual[figure] == expected[figure], figure
    assert_breakdowns_match(breakdown_figures(api, app_id, window, events), expected_breakdowns(events, start, end),
                            whole_days=start[11:] == end[11:] == "00:00:00.000Z")
    # /users may also list, for a window in the past, someone active before and after it (declared there).
    assert {user: actual["users"].get(user) for user in expected["users"]} == expected["users"]
    assert_users_events_found(api, app_id, events, window)
    return [e for e in events if start <= e["timestamp"] < end]


def user_pages(api, params):
    found, cursor = [], None
    while True:
        page = api.read("/events", limit=1000, **params, **({"cursor": cursor} if cursor else {}))
        found += [e["id"] for e in page["events"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def assert_users_events_found(api, app_id, events, window, most=10):
    """A user's events are found through their sessions' marks (worker/rollups/marks.py): each of the first `most`
    users' events, all time and from the window's start on, are exactly those the app's events say."""
    start = window_bounds(api, app_id, window)[0]
    for user in sorted({e["user_id"] for e in events if e["user_id"] is not None})[:most]:
        theirs = [e for e in events if e["user_id"] == user]
        assert sorted(user_pages(api, {"app_id": app_id, "user_id": user, **ALL_TIME})) == sorted(e["id"] for e in theirs), user
        since = {"from": start[:10], "to": ALL_TIME["to"]}
        assert sorted(user_pages(api, {"app_id": app_id, "user_id": user, **since})) == \
            sorted(e["id"] for e in theirs if e["timestamp"] >= start[:10]), user


def names(events):
    return Counter(e["event"] for e in events)


def value_text(value):
    """A property value as the breakdown rollups group it: JSON scalars as text, true/false spelled out."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return sqlite_real_text(value)
    return str(value)[:100] if isinstance(value, (str, int)) else None


def sqlite_real_text(value):
    """CAST(real AS TEXT) in SQLite: 15 significant digits, always a decimal point ("2.0", "1.0e+300")."""
    text = "%.15g" % value
    mantissa, _, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + ("e" + exponent if exponent else "")


def event_fields(event):
    """(event name or "" for any event, field, value or None) keys an event counts under (worker/rollups/dims.py)."""
    properties = event.get("properties") or {}
    group = value_text(properties.get("group")) if "group" in properties else None
    keys = [("", "platform", event.get("platform")), ("", "app_version", event.get("app_version")),
            ("", "country", event.get("country")), ("", "event", event["event"])]
    keys += [("", "group", group), (event["event"], "group", group)]
    keys += [(event["event"], f"property:{key}", value_text(value)) for key, value in properties.items()
             if key != "group" and 1 <= len(key) <= 64 and value_text(value) is not None]
    return [(name, field, value[:100] if value is not None else None) for name, field, value in keys]


def expected_breakdowns(events, start, end):
    """{(event name, field): {value: (events, sessions, users)}} for one app's events over [start, end):
    sessions that started in the window and had the value at any time; users with such an event in the window."""
    starts = session_starts(events)
    counts, sessions, users = Counter(), defaultdict(set), defaultdict(set)
    for e in events:
        inside = start <= e["timestamp"] < end
        for key in event_fields(e):
            if inside:
                counts[key] += 1
                if e["user_id"] is not None:
                    users[key].add(e["user_id"])
            if start <= starts[e["session_id"]] < end:
                sessions[key].add(e["session_id"])
    fields = defaultdict(dict)
    for key in set(counts) | set(sessions):
        name, field, value = key
        # What the rollups keep: sessions for fields of any event and properties per event, users for the former.
        kept_sessions = name == "" or field.startswith("property:")
        fields[(name, field)][value] = (counts[key], len(sessions[key]) if kept_sessions else None,
                                        len(users[key]) if name == "" else None)
    for (name, field), values in list(fields.items()):
        if field.startswith("property:"):  # without `event`: summed over every event name
            summed = fields.setdefault(("", field), {})
            for value, (count, _, _) in values.items():
                summed[value] = (summed.get(value, (0,))[0] + count, None, None)
    # Values show when they have events in the window.
    shown = {key: {v: f for v, f in values.items() if f[0]} for key, values in fields.items()}
    return {key: values for key, values in shown.items() if values}


def breakdown_figures(api, app_id, window, events):
    """The same from /stats/breakdown, for every field and event name the events have."""
    fields = {(name, field) for e in events for name, field, _ in event_fields(e)}
    fields |= {("", field) for _, field in fields if field.startswith("property:")}
    figures = {}
    for name, field in fields:
        params = {"by": field, "limit": 100, **({"event": name} if name else {})}
        answer = api.read("/stats/breakdown", app_id=app_id, **params, **window)
        assert answer["other"] is None and answer["capped"] is False
        assert answer["approximate_figures"] == ["users"] if answer.get("approximate") else True
        if answer["values"]:
            figures[(name, field)] = {v["value"]: (v["events"], v["sessions"], v["users"]) for v in answer["values"]}
    return figures


def assert_breakdowns_match(actual, expected, whole_days):
    """Events and sessions exact; users exact over whole UTC days. A window with partial days counts users over
    the whole days it touches (declared approximate): then at least the exact figure."""
    assert actual.keys() == expected.keys()
    for key, values in expected.items():
        assert values.keys() == actual[key].keys(), key
        for value, (events, sessions, users) in values.items():
            got = actual[key][value]
            assert got[:2] == (events, sessions), (key, value)
            assert got[2] == users if whole_days or users is None else got[2] >= users, (key, value)


# Issue 8: GET /stats/sessions and GET /stats/active restated over raw events.

DAY_MS = 86_400_000
HISTOGRAM_EDGES = (0, 1, 10, 30, 60, 180, 600, 1800, 3600)


def epoch_ms(timestamp):
    return round(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000)


def nearest_rank(sorted_values, fraction):
    return sorted_values[max(1, math.ceil(len(sorted_values) * fraction)) - 1] if sorted_values else None


def expected_sessions(events, start, end):
    """Sessions starting in [start, end) (ISO), with all their events: counts, histogram, exact quantiles."""
    by_session = defaultdict(list)
    for e in events:
        by_session[e["session_id"]].append(epoch_ms(e["timestamp"]))
    started = [times for times in by_session.values() if epoch_ms(start) <= min(times) < epoch_ms(end)]
    lengths = sorted((max(times) - min(times)) // 1000 for times in started)
    edges = (*HISTOGRAM_EDGES, None)
    return {
        "sessions": len(started), "events": sum(len(times) for times in started),
        "one_event_sessions": sum(len(times) == 1 for times in started),
        "histogram": [sum(low <= n and (high is None or n < high) for n in lengths) for low, high in zip(edges, edges[1:])],
        "median_duration_s": nearest_rank(lengths, 0.5), "p90_duration_s": nearest_rank(lengths, 0.9),
    }


def length_bucket_of(seconds):
    from rollups.activity import LENGTH_BOUNDS

    return max(bound for bound in LENGTH_BOUNDS if bound <= seconds)


def expected_active(events, start, end, interval):
    """Per UTC day or week (from Monday) of [start, end) (epoch ms): (date, active, new, returning); and DAU,
    WAU, MAU over the 1, 7 and 30 UTC days ending with the last day (up to `end`)."""
    seen = [(epoch_ms(e["timestamp"]), e["user_id"]) for e in events if e["user_id"] is not None]
    first = {}
    for at, user in seen:
        first[user] = min(first.get(user, at), at)

    def key(at):
        day = at - at % DAY_MS
        return day if interval == "day" else day - (day // DAY_MS + 3) % 7 * DAY_MS

    active, new = defaultdict(set), defaultdict(set)
    for at, user in seen:
        if start <= at < end:
            active[key(at)].add(user)
    for user, at in first.items():
        if start <= at < end:
            new[key(at)].add(user)
    keys = sorted({key(at) for at in range(start, end, 3_600_000)})
    buckets = [(datetime.fromtimestamp(k / 1000, tz=timezone.utc).strftime("%Y-%m-%d"), len(active[k]), len(new[k]),
                len(active[k]) - len(new[k])) for k in keys]
    last_day = (end - 3_600_000) - (end - 3_600_000) % DAY_MS
    windows = {name: len({user for at, user in seen if last_day - (days - 1) * DAY_MS <= at < end})
               for name, days in (("dau", 1), ("wau", 7), ("mau", 30))}
    return buckets, windows


def assert_sessions_and_active_match_events(api, app_id, window):
    """GET /stats/sessions and /stats/active for `app_id` over `window` (UTC) equal what its raw events say:
    counts and histogram exactly; median and p90 exactly under 10 s, else within their declared bucket."""
    api.fold_all()
    start, end = window_bounds(api, app_id, window)
    events = all_events(api, app_id)
    expected = expected_sessions(events, start, end)
    actual = api.read("/stats/sessions", app_id=app_id, **window)
    assert {name: actual[name] for name in ("sessions", "events", "one_event_sessions")} == \
        {name: expected[name] for name in ("sessions", "events", "one_event_sessions")}
    assert [b["sessions"] for b in actual["histogram"]] == expected["histogram"]
    estimated = actual.get("approximate_figures", [])
    for name in ("median_duration_s", "p90_duration_s"):
        if expected[name] is None or expected[name] < 10:
            assert actual[name] == expected[name] and name not in estimated, name
        else:
            assert length_bucket_of(actual[name]) == length_bucket_of(expected[name]) and name in estimated, name
    for interval in ("day", "week"):
        body = api.read("/stats/active", app_id=app_id, interval=interval, **window)
        buckets, windows = expected_active(events, epoch_ms(start), epoch_ms(end), interval)
        assert body["approximate"] is False, interval
        assert [(b["date"], b["active"], b["new"], b["returning"]) for b in body["buckets"]] == buckets, interval
        assert {name: body[name] for name in windows} == windows, interval
