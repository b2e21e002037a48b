"""GET /stats/breakdown, /stats/properties, /stats/groups: figures per value of a field, from the breakdown
rollups (worker/dims.py).

A field's keys are found in `dim_values` (at most VALUE_CAP + 2 per app and field), then each key's rows
for the range: whole UTC days from `daily_dims`, the ends from `hourly_dims`, as every stats route reads.

Users per value are distinct users over the UTC days the range touches (`daily_dim_users`): exact while
that is at most EXACT_USER_ROWS rows; beyond, counted over the users whose sample (6 bits of their hash)
falls below a threshold that keeps the read near EXACT_USER_ROWS rows, scaled up, and declared. A range
with partial UTC days at its ends (a local zone, or hours) counts those days whole: also declared.
"""
import json

import dims
import rollups
import zones
from errors import BadRequest, detail
from filters import Scope, int_param, text_param
from timeutil import DAY
from web import ok

EXACT_USER_ROWS = 4000
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


def keys_join(grain, dim_condition):
    """FROM items after the app source: the field's keys in dim_values, then their rows in the range."""
    table = dims.dims_table(grain)
    return (f"CROSS JOIN dim_values AS k ON k.app_id = a.app_id AND k.event_name = ? AND {dim_condition} "
            f"CROSS JOIN {table} AS t ON t.app_id = k.app_id AND t.event_name = k.event_name AND t.dim = k.dim "
            f"AND t.kind = k.kind AND t.value = k.value AND t.{grain.column} >= ? AND t.{grain.column} < ?")


async def key_figures(db, scope, event_name, dim_condition, dim_params):
    """[{dim, kind, value, events, sessions}] over the range for the keys `dim_condition` selects."""
    source, source_params = rollups.app_source(scope)
    parts, params = [], []
    for grain, lo, hi in rollups.pieces(scope.range.start, scope.range.end):
        parts.append(f"SELECT k.dim AS dim, k.kind AS kind, k.value AS value, t.events AS events, "
                     f"t.sessions AS sessions FROM {source} {keys_join(grain, dim_condition)}")
        params += [*source_params, event_name, *dim_params, lo, hi]
    if not parts:
        return []
    return await db.query(
        f"SELECT dim, kind, value, SUM(events) AS events, SUM(sessions) AS sessions FROM ({' UNION ALL '.join(parts)}) "
        "GROUP BY dim, kind, value HAVING SUM(events) > 0 OR SUM(sessions) > 0", *params)


def utc_days(scope):
    """The UTC days [first, end) the range touches."""
    start, end = scope.range.start, scope.range.end
    return start - start % DAY, -(-end // DAY) * DAY


async def user_counts(db, scope, event_name, dim, keys):
    """({(kind, value): users}, approximate) for `keys`, over the UTC days the range touches."""
    if not keys:
        return {}, False
    keys_json = json.dumps([[kind, value] for kind, value in keys], ensure_ascii=False)
    first, end = utc_days(scope)
    source, source_params = rollups.app_source(scope)
    key_on = ("t.event_name = ? AND t.dim = ? AND t.kind = json_extract(k.value, '$[0]') "
              "AND t.value = json_extract(k.value, '$[1]')")
    row = await db.first(
        f"SELECT SUM(t.users) AS rows FROM {source} CROSS JOIN json_each(?) AS k CROSS JOIN daily_dims AS t "
        f"ON t.app_id = a.app_id AND {key_on} AND t.day >= ? AND t.day < ?",
        *source_params, keys_json, event_name, dim, first, end)
    set_rows = row["rows"] or 0
    if set_rows == 0:
        return {key: 0 for key in keys}, False
    samples = dims.SAMPLES if set_rows <= EXACT_USER_ROWS else max(1, dims.SAMPLES * EXACT_USER_ROWS // set_rows)
    if samples == dims.SAMPLES:
        days, day_params = "t.day >= ? AND t.day < ?", [first, end]
    else:
        # One index range per day and sample prefix: `day` alone as a range would read every sample.
        days, day_params = f"t.day IN ({', '.join(str(d) for d in range(first, end, DAY))}) AND t.sample < {samples}", []
    rows = await db.query(
        f"SELECT json_extract(k.value, '$[0]') AS kind, json_extract(k.value, '$[1]') AS value, "
        f"COUNT(DISTINCT t.user_id) AS users FROM {source} CROSS JOIN json_each(?) AS k "
        f"CROSS JOIN daily_dim_users AS t ON t.app_id = a.app_id AND {key_on} AND {days} GROUP BY 1, 2",
        *source_params, keys_json, event_name, dim, *day_params)
    counts = {(r["kind"], r["value"]): round(r["users"] * dims.SAMPLES / samples) for r in rows}
    return {key: counts.get(key, 0) for key in keys}, samples < dims.SAMPLES


def value_of(row):
    """A value as shown: null for "(none)" and for "other" (kind tells them apart)."""
    return row["value"] if row["kind"] == 0 else None


def share(part, whole):
    return round(part / whole, 4) if whole else 0.0


async def breakdown(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    dim = field_param(ctx.query)
    event = text_param(ctx.query, "event")
    if event is not None and dim not in PER_EVENT_FIELDS and not dim.startswith(dims.PROPERTY_PREFIX):
        raise BadRequest("'event' applies to by=group and by=property:<key> only",
                         [detail(None, "event", f"by={dim} counts every event")])
    limit = int_param(ctx.query, "limit", 10, 1, 100)
    pending = await rollups.fold_tail(ctx)
    rows = await key_figures(ctx.db, scope, event or "", "k.dim = ?", [dim])
    total = sum(row["events"] for row in rows)
    listed = sorted((row for row in rows if row["kind"] != 2),
                    key=lambda row: (-row["events"], row["kind"], row["value"]))
    shown, rest = listed[:limit], listed[limit:] + [row for row in rows if row["kind"] == 2]
    users, sampled = await user_counts(ctx.db, scope, event or "", dim, [(r["kind"], r["value"]) for r in shown])
    values = [{"value": value_of(r), "events": r["events"], "sessions": r["sessions"],
               "users": users[(r["kind"], r["value"])], "share": share(r["events"], total)} for r in shown]
    other_events = sum(r["events"] for r in rest)
    other = {"values": sum(1 for r in rest if r["kind"] != 2), "events": other_events,
             "share": share(other_events, total)} if rest else None
    whole_days = scope.range.start % DAY == 0 and scope.range.end % DAY == 0
    freshness = rollups.freshness(pending, users_approximate=bool(values) and (sampled or not whole_days))
    return ok({"by": dim, "event": event, "range": scope.as_json(), "total": {"events": total}, "values": values,
               "other": other, "capped": any(r["kind"] == 2 for r in rows),
               **({"users_sampled": True} if sampled else {}), **freshness})


async def properties(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    event = text_param(ctx.query, "event")
    pending = await rollups.fold_tail(ctx)
    rows = await key_figures(ctx.db, scope, event or "", "k.dim >= ? AND k.dim < ?",
                             [dims.PROPERTY_PREFIX, dims.PROPERTY_PREFIX[:-1] + chr(ord(":") + 1)])
    keys = {}
    for row in rows:
        figures = keys.setdefault(row["dim"][len(dims.PROPERTY_PREFIX):], {"events": 0, "values": 0, "capped": False})
        figures["events"] += row["events"]
        figures["values"] += row["kind"] == 0
        figures["capped"] = figures["capped"] or row["kind"] == 2
    listed = [{"key": key, **figures} for key, figures in sorted(keys.items(), key=lambda kv: (-kv[1]["events"], kv[0]))
              if figures["events"] > 0]
    return ok({"event": event, "properties": listed, "range": scope.as_json(), **rollups.freshness(pending)})


async def groups(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    pending = await rollups.fold_tail(ctx)
    source, source_params = rollups.app_source(scope)
    parts, params = [], []
    for grain, lo, hi in rollups.pieces(scope.range.start, scope.range.end):
        table = dims.dims_table(grain)
        # Event by event (event_names), then that event's group keys: never the other fields' keys.
        parts.append(
            f"SELECT n.event_name AS event, k.kind AS kind, k.value AS value, t.events AS events FROM {source} "
            f"CROSS JOIN event_names AS n ON n.app_id = a.app_id "
            f"CROSS JOIN dim_values AS k ON k.app_id = n.app_id AND k.event_name = n.event_name AND k.dim = 'group' "
            f"CROSS JOIN {table} AS t ON t.app_id = k.app_id AND t.event_name = k.event_name AND t.dim = k.dim "
            f"AND t.kind = k.kind AND t.value = k.value AND t.{grain.column} >= ? AND t.{grain.column} < ?")
        params += [*source_params, lo, hi]
    rows = await ctx.db.query(
        f"SELECT event, kind, value, SUM(events) AS events FROM ({' UNION ALL '.join(parts)}) "
        "GROUP BY 1, 2, 3 HAVING SUM(events) > 0", *params) if parts else []
    total = sum(row["events"] for row in rows)
    by_group = {}
    for row in rows:
        group = by_group.setdefault((row["kind"], value_of(row)), {"events": 0, "events_by_name": []})
        group["events"] += row["events"]
        group["events_by_name"].append({"event": row["event"], "events": row["events"]})
    listed = []
    for (kind, value), group in sorted(by_group.items(), key=lambda kv: (kv[0][0] != 0, -kv[1]["events"], kv[0][1] or "")):
        group["events_by_name"].sort(key=lambda e: (-e["events"], e["event"]))
        listed.append({"group": value, **({"other": True} if kind == 2 else {}), "events": group["events"],
                       "share": share(group["events"], total), "events_by_name": group["events_by_name"]})
    return ok({"groups": listed, "range": scope.as_json(), **rollups.freshness(pending)})
