"""GET /stats/retention: users by the (local) day or week they were first seen, and the share of each cohort
active in each following period.

Read from the rollups, user by user, in at most three queries:
1. activity: who was active when, from the range's start to the end of the last cohort's last period (or now):
   `daily_users` (UTC days) when the reading zone is UTC throughout, else `hourly_users` shifted to local time
   (exact local days across DST); with `event=NAME`, that event's raw rows through `events_app_name`;
2. with `event=NAME` only, who was active in the range at all (`daily_users`): the cohort candidates;
3. the candidates' first_seen from `users` (the earliest over the apps read).
Each walk reads at most MAX_ROWS rows; past that the request is refused with a 400 (never a partial
answer). So a request reads at most 2 x (MAX_ROWS + 1) rows, plus per candidate one row and one per app
of theirs, plus one per app.
"""
from bisect import bisect_right

from api.params import Scope, choice_param, int_param, local_segments, text_param
from api.web import ok
from errors import BadRequest, detail
from rollups import purge, read
from rollups.grains import HOURLY, bounded
from rollups.raw_events import MAX_ROWS, capped_rows, json_batches
from sql import Sql
from tz import zones
from tz.localtime import date_label, hour_offset
from tz.timeutil import DAY, HOUR, MS, ceil_hour

PERIOD_SECONDS = {"day": DAY, "week": 7 * DAY}
MAX_PERIODS = {"day": 31, "week": 26}
DEFAULT_PERIODS = 8
MAX_COHORTS = 100
# 1970-01-01 was a Thursday: three days after a Monday, four after a Sunday.
WEEK_STARTS = {"monday": 3, "sunday": 4}


def period_start(local_seconds, cohort, week_start="monday"):
    """Wall-clock seconds -> the start of their local day, or of their week (Monday, or Sunday)."""
    day = local_seconds - local_seconds % DAY
    return day if cohort == "day" else day - (day // DAY + WEEK_STARTS[week_start]) % 7 * DAY


class LocalClock:
    """UTC seconds -> local wall-clock seconds, through the zone's whole-hour offset segments (sorted)."""

    def __init__(self, segments):
        self.starts = [start for start, _, _ in segments]
        self.offsets = [offset for _, _, offset in segments]

    def local(self, seconds):
        return seconds + self.offsets[max(0, bisect_right(self.starts, seconds) - 1)]


def cohort_figures(first_seen, active, cohort_keys, cohort, periods, complete_before, week_start="monday"):
    """The cohorts. Pure.

    first_seen: {user: local seconds of first_seen}, users first seen in the range only; active: iterable of
    (user, local seconds) activity; cohort_keys: the cohort periods' starts (local), in order; a period counts
    only when it ended by `complete_before` (local seconds), else null."""
    length = PERIOD_SECONDS[cohort]
    member_of = {user: period_start(seconds, cohort, week_start) for user, seconds in first_seen.items()}
    seen = set()
    for user, seconds in active:
        key = member_of.get(user)
        if key is not None:
            offset = (period_start(seconds, cohort, week_start) - key) // length
            if 0 <= offset < periods:
                seen.add((user, offset))
    sizes = {key: 0 for key in cohort_keys}
    for key in member_of.values():
        sizes[key] += 1
    counts = {}
    for user, offset in seen:
        index = (member_of[user], offset)
        counts[index] = counts.get(index, 0) + 1
    cohorts = []
    for key in cohort_keys:
        size = sizes[key]
        users = [counts.get((key, k), 0) if key + (k + 1) * length <= complete_before else None
                 for k in range(periods)]
        cohorts.append({"start": date_label(key), "size": size, "retained_users": users,
                        "retained": [None if n is None or not size else round(n / size, 4) for n in users]})
    return cohorts


def cohort_keys(clock, start, end, cohort, week_start="monday"):
    first = period_start(clock.local(start), cohort, week_start)
    last = period_start(clock.local(end - HOUR), cohort, week_start)
    return list(range(first, last + 1, PERIOD_SECONDS[cohort]))


def too_many_cohorts(cohort):
    return BadRequest(f"at most {MAX_COHORTS} cohorts; choose a shorter range" + (" or cohort=week" if cohort == "day" else ""),
                      [detail(None, "cohort", f"at most {MAX_COHORTS} {cohort}s in the range")])


def refuse_large(what, scope):
    # "or one app" only where it would help: a read of every app.
    choices = "a shorter range, fewer periods or one app" if scope.app_id is None else "a shorter range or fewer periods"
    return BadRequest(f"more than {MAX_ROWS:,} {what} to read; choose {choices}",
                      [detail(None, "from", f"at most {MAX_ROWS} rows per walk")])


async def walk(db, scope, rows, what, low, high):
    """(user, time) rows of a capped walk (Sql) over `scope`, times (`v`) about [low, high); users NULL (raw events
    without one) dropped."""
    return await capped_rows(db, rows, ("u", "v"), lambda: refuse_large(what, scope), split=("v", low, high))


async def day_activity(db, scope, start, end):
    """(user, UTC day start) from daily_users for the UTC days touching [start, end)."""
    # The whole days inside: `daily.users` counts their daily_users rows (refused first from those, cheaply).
    if await read.folded_at_least(db, scope, start - start % DAY, end - end % DAY, "t.users",
                                  lambda grain: grain.counters) > MAX_ROWS:
        raise refuse_large("active user-days", scope)
    return await walk(db, scope, "SELECT t.user_id AS u, t.day AS v FROM " + read.app_source(scope) + Sql("""
  CROSS JOIN daily_users AS t ON t.app_id = a.app_id AND t.day >= ? AND t.day < ?""", [start - start % DAY, end]),
                      "active user-days", start, end)


async def hour_activity(db, scope, segments):
    """(user, local wall-clock hour) from hourly_users over the segments (each segment one key range per app)."""
    if await read.folded_at_least(db, scope, segments[0][0], segments[-1][1], "t.users", lambda grain: grain.counters,
                                  hourly_only=True) > MAX_ROWS:
        raise refuse_large("active user-hours", scope)
    return await walk(db, scope, "WITH " + local_segments(segments) + """
SELECT t.user_id AS u, t.hour + shift AS v FROM local_segments CROSS JOIN """ + read.app_source(scope) + """
  CROSS JOIN hourly_users AS t ON t.app_id = a.app_id AND t.hour >= segment_start AND t.hour < segment_end"""
                      + bounded(HOURLY.users, "t", "segment_start", "segment_end"),
                      "active user-hours", segments[0][0], segments[-1][1])


async def event_activity(db, scope, event, start, end, clock):
    """(user, local seconds) of each `event` through events_app_name."""
    if await read.folded_at_least(db, scope, start, end, "t.events", lambda grain: grain.names,
                                  Sql(" AND t.event_name = ?", [event])) > MAX_ROWS:
        raise refuse_large(f"{event[:60]!r} events", scope)
    rows = await walk(db, scope, "SELECT events.user_id AS u, events.ts / 1000 AS v FROM " + read.app_source(scope, raw=True) + Sql("""
  CROSS JOIN events INDEXED BY events_app_name
    ON events.app_id = a.app_id AND events.event_name = ? AND events.ts >= ? AND events.ts < ?""",
                      [event, start * MS, end * MS]), f"{event[:60]!r} events", start, end)
    local = clock.local
    return [(user, local(seconds)) for user, seconds in rows]


async def first_seen_in_range(db, scope, users, start, end, clock):
    """{user: local seconds of first_seen} for the users first seen (over the scope's apps) within [start, end).

    A join, not `IN (SELECT value FROM json_each(?))`, which D1 billed a row more per user; the earliest over
    apps is taken in Python (one row per user and app, read through the (user_id, app_id) key)."""
    app_filter = scope.app_filter("users.app_id")
    earliest = {}
    for batch in json_batches(sorted(users)):
        rows = await capped_rows(db, Sql("""SELECT users.user_id AS u, users.first_seen AS v FROM json_each(?) AS j
  CROSS JOIN users ON users.user_id = j.value""", [batch]) + app_filter + Sql(" AND users.first_seen < ?", [end * MS]),
                                 ("u", "v"))
        for user, ms in rows:
            if user not in earliest or ms < earliest[user]:
                earliest[user] = ms
    return {user: clock.local(ms // MS) for user, ms in earliest.items() if ms >= start * MS}


def periods_param(query, cohort):
    return int_param(query, "periods", DEFAULT_PERIODS, 1, MAX_PERIODS[cohort])


def cohort_periods(scope, cohort, week_start="monday"):
    """The starts (local) of the cohort periods the range touches; a 400 past MAX_COHORTS."""
    start, end = scope.range.start, scope.range.end
    # Counted in UTC first (local periods differ by at most one), to refuse before any zone work.
    if (end - start) // PERIOD_SECONDS[cohort] > MAX_COHORTS:
        raise too_many_cohorts(cohort)
    keys = cohort_keys(LocalClock(scope.segments()), start, end, cohort, week_start)
    if len(keys) > MAX_COHORTS:
        raise too_many_cohorts(cohort)
    return keys


def activity_end(scope, keys, cohort, periods, now):
    """Where activity stops mattering: the end of the last cohort's last period (an hour more for a DST
    change), or now; never before the range's end."""
    end = scope.range.end
    last_period_end = keys[-1] + periods * PERIOD_SECONDS[cohort] - hour_offset(scope.zone.offset_at(end)) + HOUR
    return max(min(now, last_period_end), end)


async def activity_and_candidates(db, scope, event, read_end, segments, clock):
    """([(user, local seconds)] of activity over [range start, read_end), the users active in the range)."""
    start, end = scope.range.start, scope.range.end
    if event is not None:
        active = await event_activity(db, scope, event, start, read_end, clock)
        return active, {user for user, _ in await day_activity(db, scope, start, end)}
    if all(offset == 0 for _, _, offset in segments):
        active = await day_activity(db, scope, start, read_end)
    else:
        active = await hour_activity(db, scope, segments)
    local_end = clock.local(end)
    return active, {user for user, seconds in active if seconds < local_end}


async def stats_retention(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    cohort = choice_param(ctx.query, "cohort", ("day", "week"), "week")
    periods = periods_param(ctx.query, cohort)
    event = text_param(ctx.query, "event")
    week_start = choice_param(ctx.query, "week_start", tuple(WEEK_STARTS), "monday")
    keys = cohort_periods(scope, cohort, week_start)
    now = ctx.now_ms // MS
    read_end = activity_end(scope, keys, cohort, periods, ceil_hour(now))
    segments = scope.segments(scope.range.start, read_end)
    clock = LocalClock(segments)
    pending = await read.fold_tail(ctx)
    active, candidates = await activity_and_candidates(ctx.db, scope, event, read_end, segments, clock)
    first_seen = await first_seen_in_range(ctx.db, scope, candidates, scope.range.start, scope.range.end, clock)
    complete_before = now + hour_offset(scope.zone.offset_at(now))
    return ok({"cohort": cohort, "periods": periods, "event": event,
               **({"week_start": week_start} if cohort == "week" else {}),
               "cohorts": cohort_figures(first_seen, active, keys, cohort, periods, complete_before, week_start),
               "range": scope.as_json(), **await purge.raw_since_json(ctx.db), **read.freshness(pending)})
