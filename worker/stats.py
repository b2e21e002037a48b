"""GET /stats/*: figures for a range, read from the rollups only (worker/rollups.py)."""
import json

import rollups
import zones
from errors import BadRequest, detail
from filters import LOCAL_SEGMENTS, Scope, choice_param, int_param, text_param
from fold import DAILY, HOURLY
from localtime import date_label, day_starts
from timeutil import DAY, HOUR, seconds_to_iso
from web import ok

MAX_BUCKETS = {"hour": 24 * 31, "day": 3660}


async def period_figures(db, scope, start, end):
    """events, sessions (started in the range), users (distinct), apps for [start, end); and whether users
    is a sketch estimate."""
    totals = await rollups.counter_totals(db, scope, start, end, by_app=True)
    users, approximate = await rollups.distinct_users(db, scope, start, end, {None: _sum(totals.values())})
    figures = _sum(totals.values())
    return {"events": figures["events"], "sessions": figures["sessions"], "users": users[None],
            "apps": len(totals)}, approximate


def _sum(totals):
    totals = list(totals)
    return {name: sum(t[name] for t in totals) for name in ("events", "sessions", "user_buckets")}


async def overview(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    unfolded = await rollups.fold_tail(ctx)
    current, current_approximate = await period_figures(ctx.db, scope, scope.range.start, scope.range.end)
    previous_range = scope.range.previous()
    previous, previous_approximate = await period_figures(ctx.db, scope, previous_range.start, previous_range.end)
    return ok({**current, "previous": {**previous, **previous_range.as_json()}, "range": scope.as_json(),
               **rollups.freshness(unfolded, current_approximate or previous_approximate)})


def bucket_count(start, end, size):
    """How many buckets of `size` seconds [start, end) touches: arithmetic, before anything is allocated."""
    first = start - start % size
    return max(0, -(-(end - first) // size))


def check_bucket_count(scope, interval):
    size = HOUR if interval == "hour" else DAY
    # Counted on UTC buckets first (a local day count differs by at most one) to refuse before any zone work.
    if bucket_count(scope.range.start, scope.range.end, size) > MAX_BUCKETS[interval]:
        raise BadRequest(
            f"interval={interval} allows at most {MAX_BUCKETS[interval]} buckets; narrow the range"
            + (" or use interval=day" if interval == "hour" else ""),
            [detail(None, "interval", "too many buckets")],
        )


def event_table(event, grain):
    return (grain.names, " AND t.event_name = ?", [event]) if event is not None else (grain.counters, "", [])


async def timeline(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    interval = choice_param(ctx.query, "interval", ("day", "hour"), "day")
    event = text_param(ctx.query, "event")
    check_bucket_count(scope, interval)
    unfolded = await rollups.fold_tail(ctx)
    source, source_params = rollups.app_source(scope)
    if interval == "hour" or scope.whole_utc_days():
        # UTC buckets: hours, or whole UTC days read from the daily tables.
        grain = HOURLY if interval == "hour" else DAILY
        table, on, on_params = event_table(event, grain)
        rows = await ctx.db.query(
            f"""SELECT t.{grain.column} AS t, SUM(t.events) AS events, SUM(t.sessions) AS sessions
FROM {source} CROSS JOIN {table} AS t ON t.app_id = a.app_id{on} AND t.{grain.column} >= ? AND t.{grain.column} < ?
GROUP BY 1""", *source_params, *on_params, scope.range.start - scope.range.start % grain.seconds, scope.range.end)
        size = HOUR if interval == "hour" else DAY
        starts = [(t, t) for t in range(scope.range.start - scope.range.start % size, scope.range.end, size)]
    else:
        # Local days: each rollup hour joined to its zone offset, grouped by local midnight (wall-clock seconds).
        segments = scope.segments()
        table, on, on_params = event_table(event, HOURLY)
        rows = await ctx.db.query(
            f"""WITH {LOCAL_SEGMENTS}
SELECT (t.hour + shift) - (t.hour + shift) % 86400 AS t, SUM(t.events) AS events, SUM(t.sessions) AS sessions
FROM local_segments CROSS JOIN {source} CROSS JOIN {table} AS t
  ON t.app_id = a.app_id{on} AND t.hour >= segment_start AND t.hour < segment_end
GROUP BY 1""", json.dumps(segments), *source_params, *on_params)
        starts = day_starts(segments)
    counts = {row["t"]: row for row in rows}
    buckets = [
        {"t": seconds_to_iso(t), **({"date": date_label(key)} if interval == "day" else {}),
         "events": counts[key]["events"] if key in counts else 0,
         "sessions": counts[key]["sessions"] if key in counts else 0}
        for key, t in starts
    ]
    return ok({"interval": interval, "event": event, "range": scope.as_json(), "buckets": buckets,
               **rollups.freshness(unfolded)})


async def top_events(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    limit = int_param(ctx.query, "limit", 20, 1, 1000)
    unfolded = await rollups.fold_tail(ctx)
    source, source_params = rollups.app_source(scope)
    parts, params = [], []
    for grain, lo, hi in rollups.pieces(scope.range.start, scope.range.end):
        if grain is DAILY:
            parts.append(f"SELECT t.event_name, t.events, t.sessions FROM {source} CROSS JOIN daily_names AS t "
                         "ON t.app_id = a.app_id AND t.day >= ? AND t.day < ?")
        else:
            # hourly_names is keyed by name first: go name by name through event_names.
            parts.append(f"SELECT t.event_name, t.events, t.sessions FROM {source} CROSS JOIN event_names AS n "
                         "ON n.app_id = a.app_id CROSS JOIN hourly_names AS t ON t.app_id = n.app_id "
                         "AND t.event_name = n.event_name AND t.hour >= ? AND t.hour < ?")
        params += [*source_params, lo, hi]
    rows = []
    if parts:
        rows = await ctx.db.query(
            f"""SELECT event_name AS event, SUM(events) AS count, SUM(sessions) AS sessions
FROM ({" UNION ALL ".join(parts)}) GROUP BY event_name HAVING SUM(events) > 0
ORDER BY count DESC, event LIMIT ?""", *params, limit)
    return ok({"range": scope.as_json(), "events": rows, **rollups.freshness(unfolded)})
