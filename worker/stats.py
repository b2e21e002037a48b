"""GET /stats/*: figures for a range, read from the hourly rollups only."""
import json

import zones
from errors import BadRequest, detail
from filters import LOCAL_SEGMENTS, Scope, local_from, choice_param, int_param, text_param
from localtime import date_label, day_starts
from timeutil import DAY, HOUR, seconds_to_iso
from web import ok

# Sessions are per app: the same session id in two apps is two sessions.
SESSION_KEY = "app_id || char(31) || session_id"
MAX_BUCKETS = {"hour": 24 * 31, "day": 3660}


async def period_figures(db, scope, start, end):
    """events, sessions, users, apps for [start, end)."""
    where, params = scope.where(start, end)
    counts = await db.first(
        f"SELECT COALESCE(SUM(events), 0) AS events, COUNT(DISTINCT app_id) AS apps FROM hourly_events WHERE {where}",
        *params,
    )
    people = await db.first(
        f"SELECT COUNT(DISTINCT {SESSION_KEY}) AS sessions, COUNT(DISTINCT user_id) AS users "
        f"FROM hourly_sessions WHERE {where}",
        *params,
    )
    return {"events": counts["events"], "sessions": people["sessions"], "users": people["users"], "apps": counts["apps"]}


async def overview(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    current = await period_figures(ctx.db, scope, scope.range.start, scope.range.end)
    previous_range = scope.range.previous()
    previous = await period_figures(ctx.db, scope, previous_range.start, previous_range.end)
    return ok({**current, "previous": {**previous, **previous_range.as_json()}, "range": scope.as_json()})


def bucket_starts(start, end, size):
    first = start - start % size
    return list(range(first, end, size))


async def timeline(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    interval = choice_param(ctx.query, "interval", ("day", "hour"), "day")
    event = text_param(ctx.query, "event")
    size = HOUR if interval == "hour" else DAY
    # Checked on UTC buckets first (a local day count differs by at most one) to refuse before any zone work.
    if len(bucket_starts(scope.range.start, scope.range.end, size)) > MAX_BUCKETS[interval]:
        raise BadRequest(
            f"interval={interval} allows at most {MAX_BUCKETS[interval]} buckets; narrow the range "
            + ("or use interval=day" if interval == "hour" else ""),
            [detail(None, "interval", "too many buckets")],
        )
    events_from, sessions_from = "hourly_events", ("hourly_event_sessions" if event else "hourly_sessions")
    if interval == "hour":
        prefix, bucket = "", "hour"
        where, params = scope.where(scope.range.start, scope.range.end)
        starts = [(t, t) for t in bucket_starts(scope.range.start, scope.range.end, HOUR)]
    else:
        # Day buckets are local days: grouped by the local midnight, as wall-clock epoch seconds.
        segments = scope.segments()
        prefix, bucket = f"WITH {LOCAL_SEGMENTS} ", "(hour + shift) - (hour + shift) % 86400"
        events_from, sessions_from = local_from(events_from), local_from(sessions_from)
        where, params = scope.app_where()
        params = [json.dumps(segments), *params]
        starts = day_starts(segments)
    if event is not None:
        where += " AND event_name = ?"
        params.append(event)
    events_sql = f"{prefix}SELECT {bucket} AS t, SUM(events) AS n FROM {events_from} WHERE {where} GROUP BY t"
    sessions_sql = (f"{prefix}SELECT {bucket} AS t, COUNT(DISTINCT {SESSION_KEY}) AS n "
                    f"FROM {sessions_from} WHERE {where} GROUP BY t")
    events = {row["t"]: row["n"] for row in await ctx.db.query(events_sql, *params)}
    sessions = {row["t"]: row["n"] for row in await ctx.db.query(sessions_sql, *params)}
    buckets = [
        {"t": seconds_to_iso(t), **({"date": date_label(key)} if interval == "day" else {}),
         "events": events.get(key, 0), "sessions": sessions.get(key, 0)}
        for key, t in starts
    ]
    return ok({"interval": interval, "event": event, "range": scope.as_json(), "buckets": buckets})


async def top_events(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    limit = int_param(ctx.query, "limit", 20, 1, 1000)
    where, params = scope.where(scope.range.start, scope.range.end)
    # One pass over each rollup: a correlated subquery per event name would rescan the range.
    rows = await ctx.db.query(
        f"""WITH top AS (
  SELECT event_name, SUM(events) AS count FROM hourly_events WHERE {where}
  GROUP BY event_name ORDER BY count DESC, event_name LIMIT ?),
sessions AS (
  SELECT event_name, COUNT(DISTINCT {SESSION_KEY}) AS sessions FROM hourly_event_sessions
  WHERE {where} AND event_name IN (SELECT event_name FROM top) GROUP BY event_name)
SELECT top.event_name AS event, top.count AS count, COALESCE(sessions.sessions, 0) AS sessions
FROM top LEFT JOIN sessions USING (event_name) ORDER BY count DESC, event""",
        *params, limit, *params,
    )
    return ok({"range": scope.as_json(), "events": rows})
