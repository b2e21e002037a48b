"""GET /stats/breakdown, /stats/properties, /stats/groups: figures per value of a field, from the breakdown
rollups (rollups/dims.py).

A field's keys are found in `dim_values` (at most VALUE_CAP + 2 per app and field), then each key's rows
for the range: whole UTC days from `daily_dims`, the ends from the hours inside its rows (`hours`), as every stats
route reads whole days and hours.

Users per value are distinct users over the UTC days the range touches (`daily_user_dims`, a row per user and day
with the keys they had): exact while that is at most EXACT_USER_ROWS user-days; beyond, counted over the users whose
sample (6 bits of their hash) falls below a threshold that keeps the read near EXACT_USER_ROWS rows, scaled up, and
declared. One pass over those rows counts every value shown (a column per value). A range
with partial UTC days at its ends (a local zone, or hours) counts those days whole: also declared.
"""
import json

from api.params import Scope, int_param, text_param
from api.web import ok
from errors import BadRequest, detail
from rollups import dims, purge, read
from rollups.grains import DAILY
from sql import Sql
from tz import zones
from tz.timeutil import DAY, HOUR, seconds_to_iso

# Counting distinct users costs D1 about two rows read per user-day (the GROUP BY's sorter bills them again).
EXACT_USER_ROWS = 1500
FIELDS = ("platform", "app_version", "country", "event", "group")
PER_EVENT_FIELDS = ("group",)


def field_param(query):
    """`by` -> the dim it reads: one of FIELDS, or property:<key>."""
    by = query.get("by") or ""
    if by in FIELDS:
        return by
    key = by[len(dims.PROPERTY_PREFIX):]
    if by.startswith(dims.PROPERTY_PREFIX) and 0 < len(key) <= dims.KEY_MAX_LENGTH and key != "group" and "\x00" not in key:
        return by
    raise BadRequest(f"'by' must be one of {', '.join(FIELDS)} or property:<key>",
                     [detail(None, "by", f"property keys are 1 to {dims.KEY_MAX_LENGTH} characters; "
                                         f"use by=group for the group; got {by[:80]!r}")])


def names_join(event_name):
    """FROM items after the app source: dim_values `k` of one event name, or of every event name through
    `event_names` when `event_name` is None; ends in the join's ON clause."""
    if event_name is None:
        return Sql(" CROSS JOIN event_names AS n ON n.app_id = a.app_id CROSS JOIN dim_values AS k "
                   "ON k.app_id = n.app_id AND k.event_name = n.event_name")
    return Sql(" CROSS JOIN dim_values AS k ON k.app_id = a.app_id AND k.event_name = ?", [event_name])


def keys_rows(grain, lo, hi):
    """After the field's keys `k`: (events, sessions) FROM their rows in [lo, hi): whole days, or the hours inside
    the days' rows (`daily_dims.hours`, {hour of the day: [events, sessions]}; each element a row read)."""
    key_on = ("daily_dims AS t ON t.app_id = k.app_id AND t.event_name = k.event_name AND t.dim = k.dim "
              "AND t.kind = k.kind AND t.value = k.value AND t.day >= ? AND t.day < ?")
    if grain is DAILY:
        return Sql("t.events AS events, t.sessions AS sessions FROM ", []), Sql(" CROSS JOIN " + key_on, [lo, hi])
    hour = f"t.day + CAST(h.key AS INTEGER) * {HOUR}"
    return (Sql("json_extract(h.value, '$[0]') AS events, json_extract(h.value, '$[1]') AS sessions FROM ", []),
            Sql(" CROSS JOIN " + key_on + f" CROSS JOIN json_each(t.hours) AS h ON {hour} >= ? AND {hour} < ?",
                [lo - lo % DAY, hi, lo, hi]))


def key_figures_query(scope, event_name, dim_condition, by_event=False):
    """Sql: [{event_name, dim, kind, value, events, sessions}] over the range for the keys `dim_condition` (Sql)
    selects. With `event_name` None, every event name's keys (summed unless `by_event`: then sessions do not
    add up). Read in the route's first batch, with the fold state (read.fold_tail_and)."""
    keys = read.app_source(scope) + names_join(event_name) + " AND " + dim_condition
    parts = []
    for grain, lo, hi in read.pieces(scope.range.start, scope.range.end):
        figures, rows = keys_rows(grain, lo, hi)
        parts.append("SELECT k.event_name AS event_name, k.dim AS dim, k.kind AS kind, k.value AS value, "
                     + figures + keys + rows)
    if not parts:
        return Sql("SELECT NULL AS event_name WHERE false")  # an empty range: a statement all the same, for the batch
    name = "event_name" if by_event else "NULL"
    return (f"SELECT {name} AS event_name, dim, kind, value, SUM(events) AS events, SUM(sessions) AS sessions FROM ("
            + Sql.join(" UNION ALL ", parts)
            + ") GROUP BY 1, dim, kind, value HAVING SUM(events) > 0 OR SUM(sessions) > 0")


def utc_days(scope):
    """The UTC days [first, end) the range touches."""
    start, end = scope.range.start, scope.range.end
    return start - start % DAY, -(-end // DAY) * DAY


def user_days_query(scope):
    """Sql: the UTC days the range touches that have users (`days`, JSON) and their user-days (`user_days`: the rows of
    daily_user_dims): read in the route's first batch, before the keys shown are known."""
    first, end = utc_days(scope)
    return ("SELECT SUM(d.users) AS user_days, json_group_array(DISTINCT d.day) FILTER (WHERE d.users > 0) AS days "
            "FROM " + read.app_source(scope)
            + Sql(" CROSS JOIN daily AS d ON d.app_id = a.app_id AND d.day >= ? AND d.day < ?", [first, end]))


async def user_counts(db, scope, event_name, dim, keys, user_days_row):
    """({(kind, value): users}, approximate) for `keys`, over the UTC days the range touches; `user_days_row`: the
    row of user_days_query. One D1 call (there were two: the days were read per key first)."""
    if not keys:
        return {}, False
    keys_json = json.dumps([[kind, value] for kind, value in keys], ensure_ascii=False)
    first, end = utc_days(scope)
    source = read.app_source(scope)
    user_days = user_days_row["user_days"] or 0
    if not user_days:
        return {key: 0 for key in keys}, False
    if scope.app_id is not None and end - first == DAY:
        # One UTC day of one app: the stored count of that day's set is the answer.
        return await day_user_counts(db, scope, event_name, dim, keys_json, first), False
    samples = dims.SAMPLES if user_days <= EXACT_USER_ROWS else max(1, dims.SAMPLES * EXACT_USER_ROWS // user_days)
    if samples == dims.SAMPLES:
        days = Sql(" CROSS JOIN daily_user_dims AS t ON t.app_id = a.app_id AND t.day >= ? AND t.day < ?", [first, end])
    else:
        # One index range per stored day and sample prefix (a range of days would read every sample): the days
        # with users, never a list of every day of the range (3,660 days make SQL too big).
        days = (Sql(" CROSS JOIN json_each(?) AS d", [user_days_row["days"]])
                + Sql(" CROSS JOIN daily_user_dims AS t ON t.app_id = a.app_id AND t.day = d.value AND t.sample < ?",
                      [samples]))
    # Per user (over days and apps), whether they had each key: one pass over the user-days, a column per key, the
    # key's JSON path built as the fold builds it (rollups/dims.py: user_key).
    had = ", ".join(
        f"MAX(json_extract(t.dims, {dims.key_path(dims.user_key_of('p.dim', pick(i, 0), pick(i, 1)))}) IS NOT NULL) "
        f"AS had{i}" for i in range(len(keys)))
    totals = ", ".join(f"SUM(had{i}) AS users{i}" for i in range(len(keys)))
    counted = await db.first(
        Sql(f"SELECT {totals} FROM (SELECT {had} FROM (SELECT ? AS keys, ? AS dim) AS p CROSS JOIN ",
            [keys_json, dim]) + source + days + " GROUP BY t.user_id)")
    return ({key: round((counted[f"users{i}"] or 0) * dims.SAMPLES / samples) for i, key in enumerate(keys)},
            samples < dims.SAMPLES)


def pick(i, field):
    """SQL: field `field` (0 kind, 1 value) of key `i` in the bound keys JSON `p.keys`."""
    return f"json_extract(p.keys, '$[{i}][{field}]')"


async def day_user_counts(db, scope, event_name, dim, keys_json, day):
    rows = await db.query(
        "SELECT json_extract(k.value, '$[0]') AS kind, json_extract(k.value, '$[1]') AS value, t.users AS users "
        "FROM json_each(?) AS k CROSS JOIN daily_dims AS t ON t.app_id = ? AND t.event_name = ? AND t.dim = ? "
        "AND t.kind = json_extract(k.value, '$[0]') AND t.value = json_extract(k.value, '$[1]') AND t.day = ?",
        keys_json, scope.app_id, event_name, dim, day)
    counts = {(r["kind"], r["value"]): r["users"] for r in rows}
    return {tuple(key): counts.get(tuple(key), 0) for key in json.loads(keys_json)}


def value_of(row):
    """A value as shown: null for "(none)" and for "other" (kind tells them apart)."""
    return row["value"] if row["kind"] == 0 else None


def share(part, whole):
    return round(part / whole, 4) if whole else 0.0


def kept_figures(dim, event):
    """Which of sessions and users the rollups keep for this field and event filter (rollups/dims.py)."""
    per_event = event is not None or dim.startswith(dims.PROPERTY_PREFIX)
    sessions = not per_event or (event is not None and dim.startswith(dims.PROPERTY_PREFIX))
    return sessions, not per_event


async def breakdown(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    dim = field_param(ctx.query)
    event = text_param(ctx.query, "event")
    if event is not None and dim not in PER_EVENT_FIELDS and not dim.startswith(dims.PROPERTY_PREFIX):
        raise BadRequest("'event' applies to by=group and by=property:<key> only",
                         [detail(None, "event", f"by={dim} counts every event")])
    limit = int_param(ctx.query, "limit", 10, 1, 100)
    # Properties are kept per event name: without `event`, summed over every name.
    names = event if event is not None else (None if dim.startswith(dims.PROPERTY_PREFIX) else "")
    sessions_kept, users_kept = kept_figures(dim, event)
    # One D1 call for the fold state, the keys' figures, the purge horizon and the range's user-days (there were four;
    # each costs the worker 1-3 ms of CPU under Pyodide).
    pending, (figures, horizon, user_days) = await read.fold_tail_and(ctx, [
        key_figures_query(scope, names, Sql("k.dim = ? AND k.kind < ?", [dim, dims.ANY_VALUE])),
        Sql(purge.HORIZON_SQL), user_days_query(scope) if users_kept else Sql("SELECT 0 AS user_days")])
    rows = figures["rows"]
    total = sum(row["events"] for row in rows)
    listed = sorted((row for row in rows if row["kind"] != 2 and row["events"] > 0),
                    key=lambda row: (-row["events"], row["kind"], row["value"]))
    shown, rest = listed[:limit], listed[limit:] + [row for row in rows if row["kind"] == 2]
    # Users are counted from per-user sets, which retention removes (rollups/purge.py): not before its horizon.
    since = purge.horizon_of(horizon["rows"]) if users_kept and shown else 0
    users_kept = users_kept and utc_days(scope)[0] >= since
    users, sampled = (await user_counts(ctx.db, scope, "", dim, [(r["kind"], r["value"]) for r in shown],
                                        user_days["rows"][0]) if users_kept else ({}, False))
    values = [{"value": value_of(r), "events": r["events"], "sessions": r["sessions"] if sessions_kept else None,
               "users": users[(r["kind"], r["value"])] if users_kept else None, "share": share(r["events"], total)}
              for r in shown]
    other_events = sum(r["events"] for r in rest)
    other = {"values": sum(1 for r in rest if r["kind"] != 2), "events": other_events,
             "share": share(other_events, total)} if other_events else None
    whole_days = scope.range.start % DAY == 0 and scope.range.end % DAY == 0
    freshness = read.freshness(pending, users_approximate=users_kept and bool(values) and (sampled or not whole_days))
    return ok({"by": dim, "event": event, "range": scope.as_json(), "total": {"events": total}, "values": values,
               "other": other, "capped": any(r["kind"] == 2 for r in rows),
               **({"users_sampled": True} if sampled else {}),
               **({"users_since": seconds_to_iso(since)} if since and not users_kept else {}), **freshness})


PROPERTY_DIMS = Sql("k.dim >= ? AND k.dim < ?", [dims.PROPERTY_PREFIX, dims.PROPERTY_END])


async def kept_values(db, scope, event):
    """{key: (values kept, capped)} from dim_values: of one event name, or of every name."""
    rows = await db.query(
        "SELECT k.dim AS dim, COUNT(DISTINCT CASE WHEN k.kind = 0 THEN k.value END) AS kept, MAX(k.kind = 2) AS capped "
        "FROM " + read.app_source(scope) + names_join(event) + " AND " + PROPERTY_DIMS + " GROUP BY k.dim")
    return {row["dim"]: (row["kept"], bool(row["capped"])) for row in rows}


async def properties(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    event = text_param(ctx.query, "event")
    pending, (figures,) = await read.fold_tail_and(
        ctx, [key_figures_query(scope, event, PROPERTY_DIMS + Sql(" AND k.kind = ?", [dims.ANY_VALUE]))])
    rows = figures["rows"]
    events = {}
    for row in rows:
        events[row["dim"]] = events.get(row["dim"], 0) + row["events"]
    kept = await kept_values(ctx.db, scope, event) if events else {}
    listed = [{"key": dim[len(dims.PROPERTY_PREFIX):], "events": count, "values": kept.get(dim, (0, False))[0],
               "capped": kept.get(dim, (0, False))[1]}
              for dim, count in sorted(events.items(), key=lambda kv: (-kv[1], kv[0]))
              # A key with NUL (refused at ingest since issue 18, maybe stored before) cannot be asked for.
              if count > 0 and "\x00" not in dim]
    return ok({"event": event, "properties": listed, "range": scope.as_json(), **read.freshness(pending)})


async def groups(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    pending, (figures,) = await read.fold_tail_and(
        ctx, [key_figures_query(scope, None, Sql("k.dim = 'group'"), by_event=True)])
    rows = [row for row in figures["rows"] if row["events"] > 0]
    total = sum(row["events"] for row in rows)
    by_group = {}
    for row in rows:
        group = by_group.setdefault((row["kind"], value_of(row)), {"events": 0, "events_by_name": []})
        group["events"] += row["events"]
        group["events_by_name"].append({"event": row["event_name"], "events": row["events"]})
    listed = []
    for (kind, value), group in sorted(by_group.items(), key=lambda kv: (kv[0][0] != 0, kv[0][0], -kv[1]["events"], kv[0][1] or "")):
        group["events_by_name"].sort(key=lambda e: (-e["events"], e["event"]))
        listed.append({"group": value, **({"other": True} if kind == 2 else {}), "events": group["events"],
                       "share": share(group["events"], total), "events_by_name": group["events_by_name"]})
    return ok({"groups": listed, "range": scope.as_json(), **read.freshness(pending)})
