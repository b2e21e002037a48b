"""GET /stats/funnel: how many users (or sessions) did A, then B, then C, each within a window of entering
(`window=first`, the default) or of the step before it (`window=previous`).

Funnels need the order of each entity's events, which no rollup keeps, so they read raw events: each distinct
step name once, through `events_app_name (app_id, event_name, ts)`, selecting only (entity, ts, id), app by
app. A step name may match at most MAX_ROWS events in the range: past that the request is refused
with a 400 asking for a shorter range or one app, never a partial answer, so every figure is exact and a
request reads at most steps x (MAX_ROWS + 1) index rows plus one per app.
"""
from operator import itemgetter
from statistics import median

from api.params import MAX_FILTER_LENGTH, Scope, choice_param
from api.web import ok
from errors import BadRequest, detail
from rollups import purge
from rollups.raw_events import MAX_ROWS, capped_rows
from rollups.read import Pending, app_source, folded_at_least, freshness
from sql import Sql
from tz import zones
from tz.timeutil import DAY, HOUR, MS

WITHIN = {"1h": HOUR, "1d": DAY, "7d": 7 * DAY}
MIN_STEPS, MAX_STEPS = 2, 6
# Per entity: sessions are per app, users span apps (as everywhere). NUL cannot occur in stored ids.
ENTITY_SQL = {"user": "events.user_id", "session": "events.app_id || char(0) || events.session_id"}
BY_TIME = itemgetter(1, 2)
# Where each step's window starts: at the first step (the whole funnel within `within`), or at the step before.
WINDOW_FROM = ("first", "previous")


def steps_param(query_lists):
    """`steps=A,B,C`, or repeated `step=` for names containing commas -> the list of names."""
    listed, repeated = query_lists.get("steps", []), query_lists.get("step", [])
    if listed and repeated:
        raise BadRequest("use either 'steps' or repeated 'step', not both", [detail(None, "steps", "conflicts with step")])
    if len(listed) > 1:
        raise BadRequest("'steps' may be given once; repeat 'step' instead", [detail(None, "steps", "given twice")])
    names = listed[0].split(",") if listed else repeated
    field = "steps" if listed else "step"
    if not MIN_STEPS <= len(names) <= MAX_STEPS:
        raise BadRequest(f"a funnel has {MIN_STEPS} to {MAX_STEPS} steps",
                         [detail(None, field, f"got {len(names)} step{'s' * (len(names) != 1)}")])
    for position, name in enumerate(names):
        if not name or len(name) > MAX_FILTER_LENGTH or "\x00" in name:
            raise BadRequest(f"step {position + 1} is not a valid event name",
                             [detail(position, field, f"1 to {MAX_FILTER_LENGTH} characters, no NUL")])
    return names


def walk(step_rows, entry_end_ms, within_ms):
    """The funnel over each step's rows [(entity, ts, id)], each list in (ts, id) order. Pure, O(rows).

    An entity enters at its first row of step 1 before `entry_end_ms`; it reaches step k at its first row of
    step k after the one that reached step k-1 (later ts, or the same ts and a higher id), at most `within_ms`
    after entering. The earliest match is always the best: it leaves the most room for the next steps.
    Returns [(count, median ms from the previous step or None)] per step."""
    reached = {}
    for entity, ts, row_id in step_rows[0]:
        # Rows are in time order per entity only (app by app): no early exit.
        if ts < entry_end_ms and entity not in reached:
            reached[entity] = (ts, row_id, ts + within_ms)
    results = [(len(reached), None)]
    for rows in step_rows[1:]:
        advanced, gaps = {}, []
        for entity, ts, row_id in rows:
            previous = reached.get(entity)
            if previous is None or entity in advanced:
                continue
            previous_ts, previous_id, deadline = previous
            if ts > deadline:
                continue
            if ts > previous_ts or (ts == previous_ts and row_id > previous_id):
                advanced[entity] = (ts, row_id, deadline)
                gaps.append(ts - previous_ts)
        reached = advanced
        results.append((len(advanced), median(gaps) if gaps else None))
    return results


def walk_from_previous(step_rows, entry_end_ms, within_ms):
    """As walk(), but each step must come at most `within_ms` after the step before it. Pure, O(rows).

    The earliest match is not always the best here (a later step k can leave room for a step k+1 the earliest
    cannot reach), so every row that can continue a chain is kept: a row of step k continues one when the
    latest such row of step k-1 before it is at most `within_ms` earlier. An entity still enters at its first
    row of step 1 before `entry_end_ms`. The median gap is, per entity, from its first row that continues a
    chain to the latest row of the step before that it continues."""
    chains = {}
    for entity, ts, row_id in step_rows[0]:
        if ts < entry_end_ms and entity not in chains:
            chains[entity] = [(ts, row_id)]
    results = [(len(chains), None)]
    for rows in step_rows[1:]:
        advanced, gaps, cursors = {}, [], {}
        for entity, ts, row_id in rows:
            before = chains.get(entity)
            if before is None:
                continue
            # Rows are in time order per entity: the position of the first earlier row never moves back.
            position = cursors.get(entity, 0)
            while position < len(before) and before[position] < (ts, row_id):
                position += 1
            cursors[entity] = position
            if not position or ts - before[position - 1][0] > within_ms:
                continue
            if entity not in advanced:
                advanced[entity] = []
                gaps.append(ts - before[position - 1][0])
            advanced[entity].append((ts, row_id))
        chains = advanced
        results.append((len(advanced), median(gaps) if gaps else None))
    return results


def share(part, whole):
    return round(part / whole, 4) if whole else None


def step_json(names, results):
    entered = results[0][0]
    steps = []
    for position, (name, (count, gap_ms)) in enumerate(zip(names, results)):
        previous = results[position - 1][0] if position else entered
        steps.append({"event": name, "count": count, "conversion_from_first": share(count, entered),
                      "conversion_from_previous": share(count, previous),
                      "median_s_from_previous": None if gap_ms is None else round(gap_ms / MS, 3)})
    return steps


def step_sql(scope, by, name, start_ms, end_ms):
    """One step name's events in [start, end): the entity (NULL for a user-less event by user), time and id."""
    return (f"SELECT {ENTITY_SQL[by]} AS e, events.ts AS ts, events.id AS id FROM " + app_source(scope, raw=True)
            + Sql(""" CROSS JOIN events INDEXED BY events_app_name
    ON events.app_id = a.app_id AND events.event_name = ? AND events.ts >= ? AND events.ts < ?""", [name, start_ms, end_ms]))


def too_many_events(name, scope):
    # "or one app" only where it would help: a read of every app.
    return BadRequest(
        f"step {name[:60]!r} has more than {MAX_ROWS:,} events in the range and the window after it; "
        "choose a shorter range" + (" or one app" if scope.app_id is None else ""),
        [detail(None, "from", f"at most {MAX_ROWS} events per step")])


async def step_rows(db, scope, by, name, start_ms, end_ms):
    # Refused from the names rollup when its folded events alone pass the cap: a few rows, not 20,001.
    named = Sql(" AND t.event_name = ?", [name])
    if await folded_at_least(db, scope, start_ms // MS, end_ms // MS, "t.events", lambda grain: grain.names,
                             named) > MAX_ROWS:
        raise too_many_events(name, scope)
    rows = await capped_rows(db, step_sql(scope, by, name, start_ms, end_ms), ("e", "ts", "id"),
                             lambda: too_many_events(name, scope), split=("ts", start_ms, end_ms))
    if scope.app_id is None and by == "user":
        # App by app, each in (ts, id) order; a user spans apps, so merge (runs of sorted rows: cheap).
        rows.sort(key=BY_TIME)
    return rows


async def stats_funnel(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    names = steps_param(ctx.request.query_lists)
    within = choice_param(ctx.query, "within", tuple(WITHIN), "1d")
    by = choice_param(ctx.query, "by", tuple(ENTITY_SQL), "user")
    window = choice_param(ctx.query, "window", WINDOW_FROM, "first")
    within_ms = WITHIN[within] * MS
    start_ms, entry_end_ms = scope.range.start * MS, scope.range.end * MS
    # Later steps may complete after the range, within the window of an entry made inside it (a window per
    # step: the last step up to steps - 1 windows after it).
    read_end_ms = entry_end_ms + within_ms * (1 if window == "first" else len(names) - 1)
    rows_by_name = {}
    for name in names:
        if name not in rows_by_name:
            rows_by_name[name] = await step_rows(ctx.db, scope, by, name, start_ms, read_end_ms)
    walker = walk if window == "first" else walk_from_previous
    results = walker([rows_by_name[name] for name in names], entry_end_ms, within_ms)
    # Raw events are read, not rollups: the figures are exact whatever is still unfolded.
    return ok({"steps": step_json(names, results), "within": within, "window": window, "by": by,
               "range": scope.as_json(),
               "sampled": None, **await purge.raw_since_json(ctx.db), **freshness(Pending(0, False, None))})
