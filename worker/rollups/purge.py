"""Purging expired events: run daily by the cron trigger (`on_scheduled`, production only) and on demand through
`POST /admin/purge`.

By default history survives: raw events older than the cutoff go, and with them whatever names a user or a session
(the sessions they ended in, the per-user sets of those days, users left without events); the anonymous
aggregates stay (events, sessions and user counts per hour, day, name and breakdown value, session lengths, new
users, the users sketches), so last year's charts still work. The horizon is kept in `meta` (`purged_before`):
figures that need the per-user sets (exact distinct users, breakdown users) know where those stop. With
RETENTION_KEEPS_AGGREGATES=off the expired events go the way every deletion does (rollups/erasure.py), rollups
with them.

A purge step deletes what it forgets in one transaction per chunk of events; only folded events go (an unfolded
event would never reach the aggregates), so a purge behind the fold leaves those for the next run.

The daily cron run purges one step (20,000 events at most, fewer while steps are slow). When that does not finish,
it leaves `purge_pending` in `meta`, and the cron's runs every few minutes that find nothing to fold go on purging,
one step each, until one finishes (routes/maintenance.py): an app with more events a day than one step holds still
keeps up with its retention, and each invocation stays one step's CPU.
"""
from rollups import erasure, fold, links, sessions, steps
from rollups.grains import DAILY
from rollups.raw_events import oldest_by_name
from sql import Sql
from tz.timeutil import DAY, HOUR, MS, to_iso

# A purge step starts at CHUNK events and may double while steps are fast, up to MAX_CHUNK (rollups/steps.py), and a
# slow one makes the next smaller. Each step updates every user it touches once, and a step walks the events name by
# name (raw_events.oldest_by_name), so each step touches nearly every user of the day: purging the reference app's
# day in steps of 5,000 updated 4,385 user rows, in steps of 20,000 ~1,900. A step's cost does not grow with what a
# sender puts in an event (it reads no properties), so the first step is as big as any: a deployment's first purge
# (5,000 + 10,000 + the rest) updated 2,819 user rows of the reference day, 1,000 more than two steps.
CHUNK = 20000
MAX_CHUNK = 20000
HORIZON_SQL = "SELECT CAST(value AS INTEGER) AS ms FROM meta WHERE key = 'purged_before'"
# Where raw events start, whichever way they went: `purged_before` is written only when the aggregates stay (it
# also marks where the per-user sets stop), `raw_purged_before` by every purge (and only by a purge: an erasure
# of a user or an app says nothing about how far back the rest reaches). Two rows of meta's primary key.
RAW_SINCE_SQL = "SELECT MAX(CAST(value AS INTEGER)) AS ms FROM meta WHERE key IN ('purged_before', 'raw_purged_before')"


# Whether the last cron purge left expired events behind (one row of meta's primary key).
PENDING_SQL = "SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'purge_pending') AS pending"


def pending_of(rows):
    return bool(rows and rows[0]["pending"])


def mark_pending(complete):
    """The statement recording whether the purge has more to do (the cron's later runs go on while it has)."""
    if complete:
        return Sql("DELETE FROM meta WHERE key = 'purge_pending'")
    return Sql("INSERT INTO meta (key, value) VALUES ('purge_pending', '1') ON CONFLICT (key) DO NOTHING")


def cutoff_ms(now_ms, retention_days):
    """Start of the UTC hour `retention_days` ago: whole rollup hours go, none is left half-counted."""
    cutoff = now_ms // MS - retention_days * DAY
    return (cutoff - cutoff % HOUR) * MS


def horizon_of(rows):
    """HORIZON_SQL's rows (run alone, or in a caller's batch) -> the purge horizon in epoch seconds (0: none purged)."""
    return (rows[0]["ms"] or 0) // MS if rows else 0


async def horizon(db):
    """The purge horizon, epoch seconds: raw events before it are gone, and the per-user sets that reach before it
    are not whole (0: none purged)."""
    return horizon_of(await db.query(HORIZON_SQL))


def raw_since_json_of(rows):
    """RAW_SINCE_SQL's rows (run in a caller's batch) -> the `raw_since` fields of a route that reads raw events (or
    per-user rows, which go with them): how far back its answer can reach. ISO like every time the API gives, and
    epoch ms."""
    ms = int(rows[0]["ms"]) if rows and rows[0]["ms"] else None
    return {"raw_since": to_iso(ms) if ms else None, "raw_since_ms": ms}


async def raw_since_json(db):
    """`raw_since_json_of`, read on its own."""
    return raw_since_json_of(await db.query(RAW_SINCE_SQL))


def record_raw_cutoff(cutoff):
    return Sql("INSERT INTO meta (key, value) VALUES ('raw_purged_before', ?) ON CONFLICT (key) DO UPDATE SET "
               "value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))", [str(cutoff)])


def forget_statements(cutoff, chunk=CHUNK):
    """One purge step that keeps the aggregates: the next `chunk` folded events before `cutoff` (ms) go, with the
    sessions that ended before it, the user sets of whole days before it, and users with no later
    event. The chunk is the same selection in every statement (nothing before the last one changes `events`)."""
    gone = "id IN (" + oldest_by_name(cutoff, chunk) + ")"
    cutoff_s = cutoff // MS
    # Each statement reads the step's events once, through this CTE.
    with_gone = Sql("WITH gone_events AS MATERIALIZED (SELECT app_id, session_id, user_id, ts FROM events WHERE ") + gone + ")"
    ended_sessions = Sql("(app_id, session_id) IN (SELECT app_id, session_id FROM gone_events) AND last_ts < ?", [cutoff])
    per_user = "WHERE users.user_id = g.user_id AND users.app_id = g.app_id"
    statements = [
        # Users keep counting their remaining events and sessions: an erasure later empties them exactly. One
        # UPDATE for both (a row updated twice is two rows written, and each statement reads the chunk again).
        with_gone + "\nUPDATE users SET sessions = users.sessions - g.sessions, events = users.events - g.events FROM ("
        "SELECT user_id, app_id, SUM(s) AS sessions, SUM(e) AS events FROM ("
        "SELECT user_id, app_id, 1 AS s, 0 AS e FROM (" + sessions.users_of_sessions(
            "(app_id, session_id) IN (SELECT app_id, session_id FROM sessions WHERE " + ended_sessions + ")",
            ended_sessions) + ")"
        " UNION ALL SELECT user_id, app_id, 0, 1 FROM gone_events WHERE user_id IS NOT NULL) GROUP BY 1, 2) AS g "
        + per_user,
        # What goes with the step, in one statement through the view `purge_rows` (schema.sql), whose trigger
        # deletes each row it is given: the sessions that ended before the cutoff (with who was in them), the
        # user sets of the whole days before it that the step touched (a day: its users with their hours and their
        # breakdown keys, daily_users and daily_user_dims; the hours of the cutoff's own day go with that day). Each
        # of those DELETEs read the step's events again. With a trigger on the target, SQLite computes the whole
        # SELECT before the first delete: the sessions are chosen before any of them goes.
        with_gone + ",\ngone_days AS (SELECT DISTINCT app_id, " + DAILY.bucket("ts") + " AS day FROM gone_events WHERE "
        + Sql(f"{DAILY.bucket('ts')} + {DAY} <= ?)\n", [cutoff_s])
        + "INSERT INTO purge_rows (target, app_id, session_id, event_name, dim, kind, value, bucket)\n"
        + "SELECT 'session', app_id, session_id, '', '', 0, '', 0 FROM sessions WHERE " + ended_sessions
        + "\nUNION ALL SELECT 'day', app_id, '', '', '', 0, '', day FROM gone_days",
        # A user with no event after the cutoff: every trace of them goes (their counts stay in the aggregates).
        with_gone + "\nDELETE FROM users WHERE (user_id, app_id) IN (SELECT user_id, app_id FROM gone_events "
        + Sql("WHERE user_id IS NOT NULL) AND (events <= 0 OR last_seen < ?)", [cutoff]),
        Sql("INSERT INTO meta (key, value) VALUES ('purged_before', ?) ON CONFLICT (key) DO UPDATE SET "
            "value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))", [str(cutoff)]),
    ]
    return statements, "DELETE FROM events WHERE " + gone


def removed_by(results):
    return int(results[-1]["meta"].get("changes", 0))


def after_expiry(cutoff):
    """Links older than the events they moved, and where raw events now start (routes say how far back they reach)."""
    return [*links.forget(before_ms=cutoff), record_raw_cutoff(cutoff)]


async def forget_expired(db, cutoff, received_before=None, known=None, known_size=None):
    """One purge step keeping the aggregates. A step D1 refuses is tried a quarter as big, down to one event; a
    slow one makes the next smaller (rollups/steps.py). Three D1 calls when nothing is left to fold (each costs the
    worker 1-3 ms of CPU under Pyodide): the fold state with the step size, the step (with `after_expiry`, which
    changes no event), and the step size when it changes. Folds first what was received before `received_before`
    (the fold interval's start, as the cron folds; None: every event). `known`, `known_size`: the fold state
    (fold.READ_STATE_SQL's row) and the purge's step size when the caller read them (the cron, in its first call):
    the first of those calls is then not made."""
    if known is None:
        state_result, size_result = await db.batch([Sql(fold.READ_STATE_SQL), steps.size_sql("purge")])
        known, known_size = state_result["rows"][0], steps.size_from(size_result["rows"])
    if not fold.nothing_to_fold(fold.state_of(known), known["next_received"], received_before):
        await fold.try_catch_up(db, received_before=received_before, known=known)

    async def forget(size):
        statements, delete_events = forget_statements(cutoff, size)
        return await db.batch([*statements, *after_expiry(cutoff), delete_events])

    results, chunk, _ = await steps.run(db, "purge", forget, MAX_CHUNK, initial=CHUNK, handled=removed_by,
                                        stored=known_size or CHUNK)
    removed = removed_by(results)
    return {"success": True, "deleted": {"events": removed, "apps": 0}, "complete": removed < chunk}


async def purge_expired(db, now_ms, retention_days, keep_aggregates=True, received_before=None, known=None,
                        known_size=None):
    """Delete events stamped before the cutoff. Returns the route's payload plus the cutoff (epoch ms).
    `received_before`, `known`, `known_size`: as forget_expired takes them."""
    cutoff = cutoff_ms(now_ms, retention_days)
    if keep_aggregates:
        result = await forget_expired(db, cutoff, received_before, known, known_size)
    else:
        result = await erasure.erase(db, erasure.older_than(cutoff))
        await db.batch(after_expiry(cutoff))
    return {**result, "cutoff_ms": cutoff, "aggregates_kept": keep_aggregates}
