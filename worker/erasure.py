"""Deleting events while keeping every rollup equal to what the remaining events say.

One mechanism serves every kind of deletion (one event, a user's erasure request, a whole app,
retention): a `Selection` is a fixed SQL condition on `events` plus its bound values, with the order its
index gives. Each chunk of matching events is removed in ONE `db.batch` (one transaction):

- only folded events (id <= fold_state.folded) are in the rollups, so only they are subtracted;
  unfolded ones simply go;
- counts subtract exactly (events per hour/day and name, user-hours and user-days by their event counts);
- each session touched is taken out of the rollups whole and put back from its remaining events, so
  its start (where it is counted) and the names it did stay exact;
- user sketches cannot forget a user: the hours and days touched are queued in `stale_sketches` and
  rebuilt from hourly_users (worker/sketches.py) before the next read;
- per-user and per-app first/last seen come from the remaining events, through their indexes.
"""
import dims
import fold
import session_rollups
from event_apps import EVENT_APPS
from d1 import Statement
from fold import GRAINS, session_events_sql, session_users_sql, sessions_sql

# At most this many events per transaction: keeps each statement's rows read/written bounded.
CHUNK = 5000
# D1 Free allows 50 queries per invocation; a chunk is about 30 statements.
MAX_CHUNKS_PER_CALL = 1

FOLDED = "(SELECT folded FROM fold_state WHERE id = 1)"


class Selection:
    """`where`: a fixed SQL condition on events using numbered parameters ?1, ?2...; `params`: their values;
    `order`: the order of the index that serves `where`, so a chunk is found without sorting the rest."""

    def __init__(self, where, params, order="ts, id"):
        self.where = where
        self.params = list(params)
        self.order = order


def by_id(event_id):
    return Selection("id = ?1", [event_id], "id")


def by_user(user_id, app_id=None):
    if app_id is None:
        return Selection("user_id = ?1", [user_id])
    return Selection("user_id = ?1 AND app_id = ?2", [user_id, app_id])


def by_app(app_id):
    return Selection("app_id = ?1", [app_id])


def older_than(cutoff_ms):
    # App by app through events_app_ts: there is no index on ts alone.
    return Selection(f"app_id IN {EVENT_APPS} AND ts < ?1", [cutoff_ms], "app_id, ts, id")


def chunk_statements(selection, chunk=CHUNK):
    """The statements that remove one chunk of `selection`, in order (see `erase` for where the results are)."""
    # The chunk is pinned first: later statements change tables a selection may read (apps, for older_than).
    pin = f"INSERT INTO erase_chunk (id) SELECT id FROM events WHERE {selection.where} ORDER BY {selection.order} LIMIT {int(chunk)}"
    gone_ids = "SELECT id FROM erase_chunk"
    gone = f"id IN ({gone_ids})"
    counted = f"{gone} AND id <= {FOLDED}"  # the part of the chunk the rollups hold
    touched_sessions = f"(app_id, session_id) IN (SELECT app_id, session_id FROM events WHERE {counted})"
    # What stays of the touched sessions, as the fold's `chunk`: their remaining counted events.
    remaining = (f"chunk AS (SELECT * FROM events WHERE {touched_sessions} AND id <= {FOLDED} "
                 f"AND id NOT IN ({gone_ids}))")
    sql = ["DELETE FROM erase_chunk", pin]
    # Breakdowns first: they read the users' samples from hourly_users and the sessions' starts.
    sql += dims.erase_out_statements(counted, touched_sessions)
    for grain in GRAINS:
        b = grain.bucket
        col = grain.column
        sql += [
            f"""UPDATE {grain.counters} SET events = {grain.counters}.events - g.n
FROM (SELECT app_id, {b('ts')} AS bucket, COUNT(*) AS n FROM events WHERE {counted} GROUP BY 1, 2) AS g
WHERE {grain.counters}.app_id = g.app_id AND {grain.counters}.{col} = g.bucket""",
            f"""UPDATE {grain.names} SET events = {grain.names}.events - g.n
FROM (SELECT app_id, event_name, {b('ts')} AS bucket, COUNT(*) AS n FROM events WHERE {counted} GROUP BY 1, 2, 3) AS g
WHERE {grain.names}.app_id = g.app_id AND {grain.names}.event_name = g.event_name AND {grain.names}.{col} = g.bucket""",
            # Sessions out: each touched session leaves its start bucket, with the names it did.
            f"""UPDATE {grain.counters} SET sessions = {grain.counters}.sessions - g.n
FROM (SELECT app_id, {b('first_ts')} AS bucket, COUNT(*) AS n FROM sessions WHERE {touched_sessions} GROUP BY 1, 2) AS g
WHERE {grain.counters}.app_id = g.app_id AND {grain.counters}.{col} = g.bucket""",
            f"""UPDATE {grain.names} SET sessions = {grain.names}.sessions - g.n
FROM (SELECT s.app_id, se.event_name, {b('s.first_ts')} AS bucket, COUNT(*) AS n
      FROM sessions s JOIN session_events se ON se.app_id = s.app_id AND se.session_id = s.session_id
      WHERE (s.app_id, s.session_id) IN (SELECT app_id, session_id FROM events WHERE {counted}) GROUP BY 1, 2, 3) AS g
WHERE {grain.names}.app_id = g.app_id AND {grain.names}.event_name = g.event_name AND {grain.names}.{col} = g.bucket""",
            # Users: a user-bucket goes when its last counted event goes.
            f"""UPDATE {grain.users} SET events = {grain.users}.events - g.n
FROM (SELECT app_id, {b('ts')} AS bucket, user_id, COUNT(*) AS n FROM events WHERE {counted} AND user_id IS NOT NULL
      GROUP BY 1, 2, 3) AS g
WHERE {grain.users}.app_id = g.app_id AND {grain.users}.{col} = g.bucket AND {grain.users}.user_id = g.user_id""",
            f"""UPDATE {grain.counters} SET users = {grain.counters}.users - g.n
FROM (SELECT app_id, {col} AS bucket, COUNT(*) AS n FROM {grain.users}
      WHERE events <= 0 AND (app_id, {col}) IN (SELECT app_id, {b('ts')} FROM events WHERE {counted}) GROUP BY 1, 2) AS g
WHERE {grain.counters}.app_id = g.app_id AND {grain.counters}.{col} = g.bucket""",
            f"""DELETE FROM {grain.users} WHERE events <= 0
  AND (app_id, {col}) IN (SELECT app_id, {b('ts')} FROM events WHERE {counted})""",
            f"""INSERT OR IGNORE INTO stale_sketches (app_id, grain, bucket)
SELECT DISTINCT app_id, '{grain.name}', {b('ts')} FROM events WHERE {counted} AND user_id IS NOT NULL""",
        ]
    user_sessions = f"""(SELECT user_id, app_id, COUNT(*) AS n FROM session_users WHERE {touched_sessions}
      GROUP BY 1, 2) AS g
WHERE users.user_id = g.user_id AND users.app_id = g.app_id"""
    # Issue 8, session lengths: read the touched sessions before they are deleted below.
    sql += session_rollups.erase_sessions_statements(touched_sessions, remaining)
    sql += [
        f"UPDATE users SET sessions = users.sessions - g.n FROM {user_sessions}",
        f"DELETE FROM session_users WHERE {touched_sessions}",
        f"DELETE FROM session_events WHERE {touched_sessions}",
        f"DELETE FROM sessions WHERE {touched_sessions}",
        # Sessions back in, from what remains of them: counted at their (possibly later) start.
        sessions_sql(remaining),
        session_events_sql(remaining),
        session_users_sql(remaining),
        f"UPDATE users SET sessions = users.sessions + g.n FROM {user_sessions}",
        *dims.erase_in_statements(remaining, counted),
    ]
    for grain in GRAINS:
        b = grain.bucket
        sql += [
            f"""INSERT INTO {grain.counters} (app_id, {grain.column}, events, sessions, users)
SELECT app_id, {b('first_ts')}, 0, COUNT(*), 0 FROM sessions
WHERE {touched_sessions} GROUP BY 1, 2
ON CONFLICT (app_id, {grain.column}) DO UPDATE SET sessions = sessions + excluded.sessions""",
            f"""INSERT INTO {grain.names} (app_id, event_name, {grain.column}, events, sessions)
SELECT s.app_id, se.event_name, {b('s.first_ts')}, 0, COUNT(*)
FROM sessions s JOIN session_events se ON se.app_id = s.app_id AND se.session_id = s.session_id
WHERE (s.app_id, s.session_id) IN (SELECT app_id, session_id FROM events WHERE {counted}) GROUP BY 1, 2, 3
ON CONFLICT (app_id, event_name, {grain.column}) DO UPDATE SET sessions = sessions + excluded.sessions""",
        ]
    sql += session_rollups.erase_new_users_out(counted)  # issue 8: before users.first_seen changes
    sql += [
        # Per user and app: events subtract; first/last seen from the remaining counted events (user_id, ts index).
        f"""UPDATE users SET events = users.events - g.n,
  first_seen = COALESCE((SELECT ts FROM events e WHERE e.user_id = users.user_id AND e.app_id = users.app_id
    AND e.id <= {FOLDED} AND e.id NOT IN ({gone_ids}) ORDER BY ts LIMIT 1), users.first_seen),
  last_seen = COALESCE((SELECT ts FROM events e WHERE e.user_id = users.user_id AND e.app_id = users.app_id
    AND e.id <= {FOLDED} AND e.id NOT IN ({gone_ids}) ORDER BY ts DESC LIMIT 1), users.last_seen)
FROM (SELECT user_id, app_id, COUNT(*) AS n FROM events WHERE {counted} AND user_id IS NOT NULL GROUP BY 1, 2) AS g
WHERE users.user_id = g.user_id AND users.app_id = g.app_id""",
        f"DELETE FROM users WHERE events <= 0 AND (user_id, app_id) IN (SELECT user_id, app_id FROM events WHERE {counted})",
        f"""UPDATE event_names SET events = event_names.events - g.n
FROM (SELECT app_id, event_name, COUNT(*) AS n FROM events WHERE {counted} GROUP BY 1, 2) AS g
WHERE event_names.app_id = g.app_id AND event_names.event_name = g.event_name""",
        f"DELETE FROM event_names WHERE events <= 0 AND (app_id, event_name) IN (SELECT app_id, event_name FROM events WHERE {counted})",
        # first_seen/last_seen come from the remaining counted events, through the events_app_ts index.
        f"""UPDATE apps SET events = apps.events - gone.n,
  first_seen = COALESCE((SELECT ts FROM events WHERE events.app_id = apps.app_id AND id <= {FOLDED}
    AND id NOT IN ({gone_ids}) ORDER BY ts LIMIT 1), apps.first_seen),
  last_seen = COALESCE((SELECT ts FROM events WHERE events.app_id = apps.app_id AND id <= {FOLDED}
    AND id NOT IN ({gone_ids}) ORDER BY ts DESC LIMIT 1), apps.last_seen)
FROM (SELECT app_id, COUNT(*) AS n FROM events WHERE {counted} GROUP BY app_id) AS gone
WHERE apps.app_id = gone.app_id""",
        f"DELETE FROM apps WHERE events <= 0 AND app_id IN (SELECT app_id FROM events WHERE {counted})",
    ]
    sql += session_rollups.erase_new_users_in(counted)  # issue 8: after users.first_seen changed
    for grain in GRAINS:
        b = grain.bucket
        sql += [
            f"""DELETE FROM {grain.counters} WHERE events <= 0
  AND (app_id, {grain.column}) IN (SELECT app_id, {b('ts')} FROM events WHERE {counted})""",
            f"""DELETE FROM {grain.names} WHERE events <= 0 AND sessions <= 0
  AND (app_id, event_name, {grain.column}) IN (SELECT app_id, event_name, {b('ts')} FROM events WHERE {counted})""",
        ]
    sql += [
        # Apps left without any event, counted before the events go (folded or not).
        f"""SELECT COUNT(*) AS emptied FROM (SELECT DISTINCT app_id FROM events WHERE {gone}) AS g
WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.app_id = g.app_id AND e.id NOT IN ({gone_ids}))""",
        f"DELETE FROM events WHERE {gone}",
        "UPDATE fold_state SET version = version + 1 WHERE id = 1",
        "DELETE FROM erase_chunk",
    ]
    # D1 wants exactly as many bindings as the statement uses: the selection's, or none.
    return [Statement(text, selection.params if "?1" in text else []) for text in sql]


async def erase(db, selection, chunk=CHUNK, max_chunks=MAX_CHUNKS_PER_CALL):
    """Remove what `selection` matches, chunk by chunk. Returns the payload the admin routes answer.

    `complete` is False when events still match after `max_chunks` chunks: call again.
    """
    events = apps = 0
    complete = False
    # Fold a chunk first, so fewer of the events about to go were never counted (nothing depends on it).
    await fold.catch_up(db)
    for _ in range(max_chunks):
        results = await db.batch(chunk_statements(selection, chunk))
        removed = int(results[-3]["meta"].get("changes", 0))
        events += removed
        apps += results[-4]["rows"][0]["emptied"]
        if removed < chunk:
            complete = True
            break
    return {"success": True, "deleted": {"events": events, "apps": apps}, "complete": complete}
