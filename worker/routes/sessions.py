"""GET /stats/sessions: sessions starting in the range, their lengths and events, from the session-length
rollups (rollups/activity.py): one query reading days x length buckets rows per app.

A session's length is last_ts - first_ts, truncated to whole seconds; its events are all of its events.
Median and p90 are nearest-rank (the shortest length at least half / 90 % of sessions do not exceed):
exact while they fall under 10 s (one bucket per second), otherwise interpolated inside their bucket
(LENGTH_BOUNDS, ~25 % wide; the open bucket from 24 h gives its lower bound) and declared approximate.
"""
import json
import math

from api.params import Scope
from api.web import ok
from rollups import read
from rollups.activity import LENGTH_BOUNDS
from sql import Sql
from tz import zones

# (label, from_s, to_s): the response's histogram; every edge is one of LENGTH_BOUNDS.
HISTOGRAM = (("0s", 0, 1), ("1-10s", 1, 10), ("10-30s", 10, 30), ("30-60s", 30, 60), ("1-3m", 60, 180),
             ("3-10m", 180, 600), ("10-30m", 600, 1800), ("30-60m", 1800, 3600), ("≥ 1h", 3600, None))
QUANTILES = (("median_duration_s", 0.5), ("p90_duration_s", 0.9))
_UPPER = dict(zip(LENGTH_BOUNDS, (*LENGTH_BOUNDS[1:], None)))


async def length_counts(db, scope):
    """{length bucket lower bound: [sessions, events, one_event]} for sessions starting in the range.

    Each piece's rows come back as one JSON array, summed here: grouping in SQL (a sorter, or a subquery
    over read.union) bills every row as read twice."""
    parts = ["SELECT json_group_array(json_array(t.length_s, t.sessions, t.events, t.one_event)) AS rows\nFROM "
             + read.app_source(scope) + Sql(f""" CROSS JOIN {grain.lengths} AS t
  ON t.app_id = a.app_id AND t.{grain.column} >= ? AND t.{grain.column} < ?""", [lo, hi])
             for grain, lo, hi in read.pieces(scope.range.start, scope.range.end)]
    counts = {}
    for row in await db.query(Sql.join(" UNION ALL ", parts)) if parts else []:
        for length_s, sessions, events, one_event in json.loads(row["rows"]):
            figures = counts.setdefault(length_s, [0, 0, 0])
            figures[0] += sessions
            figures[1] += events
            figures[2] += one_event
    return {length_s: figures for length_s, figures in counts.items() if figures[0]}


def quantile(sessions_by_bound, total, fraction):
    """Nearest-rank quantile over length buckets -> (seconds, exact)."""
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for lower in sorted(sessions_by_bound):
        count = sessions_by_bound[lower]
        if seen + count >= rank:
            upper = _UPPER[lower]
            if upper is None or upper - lower == 1:
                return lower, upper is not None
            # The rank's place among the bucket's sessions, spread evenly over the bucket.
            return round(lower + (upper - lower) * (rank - seen - 0.5) / count), False
        seen += count
    raise ValueError("rank beyond the sessions counted")


def figures(counts):
    """The response's figures from length_counts(); and the figures that are estimates."""
    sessions = sum(c[0] for c in counts.values())
    events = sum(c[1] for c in counts.values())
    one_event = sum(c[2] for c in counts.values())
    result = {"sessions": sessions, "events": events,
              "events_per_session": round(events / sessions, 2) if sessions else None,
              "one_event_sessions": one_event, "one_event_share": round(one_event / sessions, 4) if sessions else None}
    estimated = []
    by_bound = {lower: c[0] for lower, c in counts.items()}
    for name, fraction in QUANTILES:
        value, exact = quantile(by_bound, sessions, fraction) if sessions else (None, True)
        result[name] = value
        if not exact:
            estimated.append(name)
    result["histogram"] = [
        {"label": label, "from_s": low, "to_s": high,
         "sessions": sum(n for lower, n in by_bound.items() if lower >= low and (high is None or lower < high))}
        for label, low, high in HISTOGRAM]
    return result, estimated


async def sessions(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    unfolded = await read.fold_tail(ctx)
    result, estimated = figures(await length_counts(ctx.db, scope))
    return ok({**result, "range": scope.as_json(), **read.declare_estimates(read.freshness(unfolded), estimated)})
