"""GET /stats/*: figures for a range, read from the rollups only (rollups/read.py)."""
from api.params import (
    Scope,
    check_bucket_count,
    choice_param,
    int_param,
    local_segments,
    text_param,
)
from api.web import ok
from rollups import purge, read
from rollups.grains import DAILY, HOURLY
from sql import Sql
from tz import zones
from tz.localtime import date_label, day_starts
from tz.timeutil import DAY, HOUR, seconds_to_iso


async def periods_figures(ctx, scope, periods):
    """Per [start, end) of `periods`: events, sessions (started in it), users (distinct), apps; and whether users
    is a sketch estimate; and what the read found not folded (read.Pending). One D1 call when there is nothing to
    fold and users come from sketches (an app past a few thousand user-days in the range): the fold state, the
    totals, the purge horizon and every period's sketches in one batch; a second for users counted exactly. Under
    Pyodide each call costs the worker 1-3 ms of CPU, and the overview asks about two periods: it made 5 to 7 calls.
    The sketches are read before the totals decide between them and the exact count: where the exact count wins
    (few users), they are few rows (already read by the totals) of small sparse sketches."""
    totals_queries = [read.counter_totals_query(scope, start, end, by_app=True) for start, end in periods]
    sketches_queries = [read.sketches_query(scope, start, end) for start, end in periods]
    pending, batch = await read.fold_tail_and(ctx, [*totals_queries, Sql(purge.HORIZON_SQL), *sketches_queries])
    count = len(periods)
    horizon = purge.horizon_of(batch[count]["rows"])
    totals = [read.totals_of(result["rows"]) for result in batch[:count]]
    sketch_rows = [result["rows"] for result in batch[count + 1:]]
    sums = [_sum(by_app.values()) for by_app in totals]
    counts = [read.DistinctUsers(scope, start, end, {None: summed}).settle(horizon)
              for (start, end), summed in zip(periods, sums)]
    queries = [counting.query for counting in counts if counting.query is not None and counting.kind != "sketch"]
    answers = iter(await ctx.db.batch(queries) if queries else [])
    figures = []
    for counting, summed, by_app, sketched in zip(counts, sums, totals, sketch_rows):
        if counting.kind == "sketch":
            rows = sketched
        else:
            rows = next(answers)["rows"] if counting.query is not None else ()
        users, approximate = counting.answer(rows)
        figures.append(({"events": summed["events"], "sessions": summed["sessions"], "users": users[None],
                         "apps": len(by_app)}, approximate))
    return pending, figures


def _sum(totals):
    totals = list(totals)
    return {name: sum(t[name] for t in totals) for name in ("events", "sessions", "user_buckets", "exact_rows")}


async def overview(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    previous_range = scope.range.previous()
    unfolded, ((current, current_approximate), (previous, previous_approximate)) = await periods_figures(
        ctx, scope, [(scope.range.start, scope.range.end), (previous_range.start, previous_range.end)])
    return ok({**current, "previous": {**previous, **previous_range.as_json()}, "range": scope.as_json(),
               **read.freshness(unfolded, current_approximate or previous_approximate)})


def event_table(event, grain):
    """The table a series reads, and its extra join condition."""
    return (grain.names, Sql(" AND t.event_name = ?", [event])) if event is not None else (grain.counters, Sql())


async def timeline(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    interval = choice_param(ctx.query, "interval", ("day", "hour"), "day")
    event = text_param(ctx.query, "event")
    check_bucket_count(scope, interval)
    source = read.app_source(scope)
    if interval == "hour" or scope.whole_utc_days():
        # UTC buckets: hours, or whole UTC days read from the daily tables.
        grain = HOURLY if interval == "hour" else DAILY
        table, on = event_table(event, grain)
        query = (f"SELECT t.{grain.column} AS t, SUM(t.events) AS events, SUM(t.sessions) AS sessions\nFROM " + source
                 + f" CROSS JOIN {table} AS t ON t.app_id = a.app_id" + on
                 + Sql(f" AND t.{grain.column} >= ? AND t.{grain.column} < ?\nGROUP BY 1",
                       [scope.range.start - scope.range.start % grain.seconds, scope.range.end]))
        size = HOUR if interval == "hour" else DAY
        starts = [(t, t) for t in range(scope.range.start - scope.range.start % size, scope.range.end, size)]
    else:
        # Local days: each rollup hour joined to its zone offset, grouped by local midnight (wall-clock seconds).
        segments = scope.segments()
        table, on = event_table(event, HOURLY)
        query = ("WITH " + local_segments(segments) + f"""
SELECT (t.hour + shift) - (t.hour + shift) % {DAY} AS t, SUM(t.events) AS events, SUM(t.sessions) AS sessions
FROM local_segments CROSS JOIN """ + source + f" CROSS JOIN {table} AS t\n  ON t.app_id = a.app_id" + on
                 + " AND t.hour >= segment_start AND t.hour < segment_end\nGROUP BY 1")
        starts = day_starts(segments)
    # One D1 call when there is nothing to fold: the fold state and the series in one batch.
    unfolded, (result,) = await read.fold_tail_and(ctx, [query])
    rows = result["rows"]
    counts = {row["t"]: row for row in rows}
    buckets = [
        {"t": seconds_to_iso(t), **({"date": date_label(key)} if interval == "day" else {}),
         "events": counts[key]["events"] if key in counts else 0,
         "sessions": counts[key]["sessions"] if key in counts else 0}
        for key, t in starts
    ]
    return ok({"interval": interval, "event": event, "range": scope.as_json(), "buckets": buckets,
               **read.freshness(unfolded)})


async def top_events(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    limit = int_param(ctx.query, "limit", 20, 1, 1000)
    source = read.app_source(scope)
    parts = []
    for grain, lo, hi in read.pieces(scope.range.start, scope.range.end):
        if grain is DAILY:
            rows_of = " CROSS JOIN daily_names AS t ON t.app_id = a.app_id AND t.day >= ? AND t.day < ?"
        else:
            # hourly_names is keyed by name first: go name by name through event_names.
            rows_of = (" CROSS JOIN event_names AS n ON n.app_id = a.app_id CROSS JOIN hourly_names AS t "
                       "ON t.app_id = n.app_id AND t.event_name = n.event_name AND t.hour >= ? AND t.hour < ?")
        parts.append("SELECT t.event_name, t.events, t.sessions FROM " + source + Sql(rows_of, [lo, hi]))
    if not parts:
        return ok({"range": scope.as_json(), "events": [], **read.freshness(await read.fold_tail(ctx))})
    # One D1 call when there is nothing to fold: the fold state and the names in one batch.
    unfolded, (result,) = await read.fold_tail_and(ctx, [
        "SELECT event_name AS event, SUM(events) AS count, SUM(sessions) AS sessions\nFROM ("
        + Sql.join(" UNION ALL ", parts) + Sql(""") GROUP BY event_name HAVING SUM(events) > 0
ORDER BY count DESC, event LIMIT ?""", [limit])])
    rows = result["rows"]
    return ok({"range": scope.as_json(), "events": rows, **read.freshness(unfolded)})
