"""API answers -> the tables the screens draw and show. Pure: unit-tested on CPython without Streamlit."""
from datetime import date, timedelta

import pandas as pd

from dashboard import periods

NONE_LABEL = "(none)"
NO_GROUP = "(no group)"
OTHER_GROUPS = "Other groups"
REPEAT_WINDOW_S = 300
REPEAT_WINDOW_LABEL = "5 min"
BREAKDOWN_COLUMNS = ["value", "events", "sessions", "users", "share"]


def breakdown_frame(body):
    """Values with their figures and share in percent; null is "(none)", the rest one "Other (n values)" row
    (its sessions and users are not additive, so they stay empty)."""
    total = body["total"]["events"]
    # Shares from the counts: the API's `share` is rounded to 4 places, and rounding it again shows 19.1% for 4 of 21.
    rows = [{**v, "value": NONE_LABEL if v["value"] is None else str(v["value"]), "share": share_of(v["events"], total)}
            for v in body["values"]]
    other = body.get("other")
    if other and other.get("events"):
        rows.append({"value": f"Other ({periods.count(other['values'])} values)", "events": other["events"],
                     "sessions": None, "users": None, "share": share_of(other["events"], total)})
    return pd.DataFrame(rows, columns=BREAKDOWN_COLUMNS)


def calendar_frame(days, first, last):
    """/stats/calendar's days (those with users) -> GitHub-style cells for every day from `first` to `last`
    (dates): one column per week (weeks start on Sunday, as the date picker), one row per weekday."""
    by_date = {entry["date"]: entry for entry in days}
    rows = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        sunday = day - timedelta(days=(day.weekday() + 1) % 7)
        entry = by_date.get(day.isoformat(), {})
        rows.append({"date": day.isoformat(), "week": sunday.isoformat(), "weekday": f"{day:%a}",
                     "active": entry.get("active", 0), "new": entry.get("new", 0)})
    return pd.DataFrame(rows, columns=["date", "week", "weekday", "active", "new"])


def previous_overlay(buckets, previous):
    """The previous period's counts drawn at the current period's times, bucket by bucket (same length:
    the previous period is as long as the current one)."""
    return [{"t": bucket["t"], "previous": old["events"]} for bucket, old in zip(buckets, previous)]


def percent(part, whole):
    """`part` of `whole` in percent, from the counts (the API's shares are rounded to 4 places: rounding them
    again is off by one in the last digit shown); None when there is nothing to divide by."""
    return part / whole * 100 if whole else None


def funnel_frame(steps, aliases=None):
    """One row per step; `aliases` ({name: alias}, one app's) label a step by its alias with its real name."""
    aliases = aliases or {}
    first = steps[0]["count"] if steps else 0
    rows = [{"step": f"{index}. {event_label(step['event'], aliases)}", "event": step["event"], "count": step["count"],
             "from_first": percent(step["count"], first),
             "from_previous": percent(step["count"], steps[index - 2]["count"] if index > 1 else first),
             "median_s": step.get("median_s_from_previous")} for index, step in enumerate(steps, 1)]
    return pd.DataFrame(rows, columns=["step", "event", "count", "from_first", "from_previous", "median_s"])


def cohort_label(start, size):
    """A retention row's label: the cohort's start with its size, so the size is read in the grid itself."""
    return f"{start} · {size:,} {'user' if size == 1 else 'users'}"


def retention_frame(cohorts):
    """Long form: one row per cohort and period with the share (percent, from the counts) and users. Cohorts
    without users are left out; a period still running (null) stays in with no share, so a cohort whose
    first period is not over yet still shows, with its size, as "not over yet"."""
    rows = []
    for cohort in cohorts:
        size = cohort["size"]
        if not size:
            continue
        users = cohort.get("retained_users") or [None] * len(cohort["retained"])
        for period, count in enumerate(users):
            over = count is not None
            rows.append({"cohort": cohort_label(cohort["start"], size), "start": cohort["start"], "size": size,
                         "period": period, "share": percent(count, size) if over else None,
                         "users": count, "label": f"{percent(count, size):.0f}" if over else "…",
                         "state": "over" if over else "not over yet"})
    return pd.DataFrame(rows, columns=["cohort", "start", "size", "period", "share", "users", "label", "state"])


def duration_text(seconds):
    """95 -> '1 min 35 s'; None (or a table's NaN) -> '–'."""
    if seconds is None or pd.isna(seconds):
        return "–"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s" if seconds % 60 else f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def fold_repeats(events, window_s=REPEAT_WINDOW_S):
    """Newest-first events -> runs of the same event name in the same app and session, each run spanning at
    most `window_s`: [{"event", "times", "newest", "oldest", "events": [...]}]."""
    runs = []
    for event in events:
        moment = periods.parse_time(event["timestamp"])
        run = runs[-1] if runs else None
        if run and (run["event"], run["app_id"], run["session_id"]) == (
                event["event"], event["app_id"], event["session_id"]) \
                and (run["newest"] - moment).total_seconds() <= window_s:
            run["events"].append(event)
            run["oldest"] = moment
            continue
        runs.append({"event": event["event"], "app_id": event["app_id"], "session_id": event["session_id"],
                     "newest": moment, "oldest": moment, "events": [event]})
    return runs


def run_label(run):
    """'3× within 5 min' for a folded run; '' for a single event."""
    times = len(run["events"])
    return f"{times}× within {REPEAT_WINDOW_LABEL}" if times > 1 else ""


def https_icon(url):
    """An icon URL the browser may fetch: https only (no http, data:, javascript: or relative URLs)."""
    return url if isinstance(url, str) and url.lower().startswith("https://") and len(url) > 8 else None


def without_empty(frame, columns=("icon", "display_name")):
    """The frame without those of `columns` that are empty in every row (no app has an icon, say)."""
    return frame.drop(columns=[c for c in columns if c in frame and frame[c].isna().all()])


EMPTY = "—"


def with_dashes(frame, columns):
    """Text columns with "—" in empty cells (a table draws an empty cell as a grey "None")."""
    frame = frame.copy()
    for column in columns:
        if column in frame:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), EMPTY)
    return frame


def app_label(app_id, names):
    """The picker's text for an app: its display name with its id, or the id alone. Plain text."""
    name = names.get(app_id)
    return f"{name} ({app_id})" if name and name != app_id else app_id


def event_label(name, aliases):
    """An event's alias with its real name, or the name alone (`aliases`: one app's). Plain text."""
    alias = aliases.get(name)
    return f"{alias} ({name})" if alias and alias != name else name


def share_of(part, whole):
    return part / whole * 100 if whole else 0.0


def group_name(group):
    """Null is the events without a group, or (with "other") the groups past the worker's cap."""
    return group["group"] or (OTHER_GROUPS if group.get("other") else NO_GROUP)


def groups_frame(groups, events, aliases=None):
    """Every event name of an app with its count and share, under its group (null: "(no group)"), groups in
    the API's order. A name the groups do not list (the event list is the complete one) goes under
    "(no group)"."""
    aliases = aliases or {}
    total = sum(e["count"] for e in events)
    rows, listed = [], set()
    for group in groups:
        for item in group.get("events_by_name", []):
            listed.add(item["event"])
            rows.append((group_name(group), item["event"], item["events"]))
    rows += [(NO_GROUP, e["event"], e["count"]) for e in events if e["event"] not in listed]
    frame = pd.DataFrame([{"group": group, "event": event_label(name, aliases), "name": name,
                           "count": count, "share": share_of(count, total)} for group, name, count in rows],
                         columns=["group", "event", "name", "count", "share"])
    order = {name: index for index, name in enumerate(dict.fromkeys([*map(group_name, groups), NO_GROUP]))}
    frame["order"] = frame["group"].map(order)
    return frame.sort_values(["order", "count", "name"], ascending=[True, False, True],
                             kind="stable").drop(columns=["order", "name"]).reset_index(drop=True)
