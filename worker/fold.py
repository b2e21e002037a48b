"""Folding raw events into the rollups, off the ingest path.

Ingest only inserts events (worker/track.py). Every event with `id <= fold_state.folded` is counted in the
rollups; the rest, the tail, is folded in chunks of ids by `catch_up`, which read routes call before
reading (bounded), the cron calls, and `POST /admin/fold` exposes. A chunk is one D1 transaction: it
adds the chunk's events to every rollup and advances `folded`, or does nothing at all.

Sketches need Python (hashing), so a fold reads a snapshot first (the chunk's users, the sketches it
touches), computes, and commits only onto that snapshot: its first statement checks `folded` and
`version` and fails a CHECK constraint if another fold or a deletion came in between, which rolls the
whole batch back (the next call simply tries again).
"""
import json
from collections import namedtuple

import hll
import session_rollups
from d1 import D1Error, Statement

CHUNK = 2000


class Grain:
    """Hour or day: the rollup tables of one granularity and how a timestamp (ms) maps to a bucket."""

    def __init__(self, name, column, seconds, counters, names, users):
        self.name, self.column, self.seconds = name, column, seconds
        self.counters, self.names, self.users = counters, names, users

    def bucket(self, ts_column):
        return f"({ts_column} / 1000 - {ts_column} / 1000 % {self.seconds})"


HOURLY = Grain("hour", "hour", 3600, "hourly", "hourly_names", "hourly_users")
DAILY = Grain("day", "day", 86400, "daily", "daily_names", "daily_users")
GRAINS = (HOURLY, DAILY)
HOUR_OF_TS = HOURLY.bucket("ts")
DAY_OF_TS = DAILY.bucket("ts")

CHUNK_CTE = "chunk AS (SELECT * FROM events WHERE id > ?1 AND id <= ?2)"
# Each session of the chunk with its known start (old_ts, NULL if new) and its start once the chunk is in.
MOVES_CTE = """chunk_sessions AS (SELECT app_id, session_id, MIN(ts) AS first_ts FROM chunk GROUP BY app_id, session_id),
moves AS (SELECT cs.app_id, cs.session_id, s.first_ts AS old_ts, MIN(cs.first_ts, COALESCE(s.first_ts, cs.first_ts)) AS new_ts
  FROM chunk_sessions cs LEFT JOIN sessions s ON s.app_id = cs.app_id AND s.session_id = cs.session_id)"""


def _moved(grain):
    return f"(m.old_ts IS NULL OR {grain.bucket('m.new_ts')} != {grain.bucket('m.old_ts')})"


def counters_sql(grain):
    """events in the bucket; sessions starting in it (a session whose start moves leaves its old bucket);
    users: user-buckets not seen before."""
    b = grain.bucket
    return f"""WITH {CHUNK_CTE}, {MOVES_CTE},
contributions AS (
  SELECT app_id, {b('ts')} AS bucket, 1 AS e, 0 AS s, 0 AS u FROM chunk
  UNION ALL SELECT m.app_id, {b('m.new_ts')}, 0, 1, 0 FROM moves m WHERE {_moved(grain)}
  UNION ALL SELECT m.app_id, {b('m.old_ts')}, 0, -1, 0 FROM moves m WHERE m.old_ts IS NOT NULL AND {_moved(grain)}
  UNION ALL SELECT app_id, bucket, 0, 0, 1 FROM (SELECT DISTINCT app_id, {b('ts')} AS bucket, user_id FROM chunk
    WHERE user_id IS NOT NULL) c
    WHERE NOT EXISTS (SELECT 1 FROM {grain.users} x WHERE x.app_id = c.app_id AND x.{grain.column} = c.bucket
                      AND x.user_id = c.user_id))
INSERT INTO {grain.counters} (app_id, {grain.column}, events, sessions, users)
SELECT app_id, bucket, SUM(e), SUM(s), SUM(u) FROM contributions WHERE true GROUP BY app_id, bucket
ON CONFLICT (app_id, {grain.column}) DO UPDATE SET events = events + excluded.events,
  sessions = sessions + excluded.sessions, users = users + excluded.users"""


def names_sql(grain):
    """events per name in the bucket; sessions that did the name, at the session's start bucket."""
    b = grain.bucket
    moved_pairs = (f"FROM moves m JOIN session_events se ON se.app_id = m.app_id AND se.session_id = m.session_id "
                   f"WHERE m.old_ts IS NOT NULL AND {b('m.new_ts')} != {b('m.old_ts')}")
    return f"""WITH {CHUNK_CTE}, {MOVES_CTE},
chunk_pairs AS (SELECT DISTINCT app_id, session_id, event_name FROM chunk),
contributions AS (
  SELECT app_id, event_name, {b('ts')} AS bucket, 1 AS e, 0 AS s FROM chunk
  UNION ALL SELECT m.app_id, se.event_name, {b('m.old_ts')}, 0, -1 {moved_pairs}
  UNION ALL SELECT m.app_id, se.event_name, {b('m.new_ts')}, 0, 1 {moved_pairs}
  UNION ALL SELECT p.app_id, p.event_name, {b('m.new_ts')}, 0, 1
    FROM chunk_pairs p JOIN moves m ON m.app_id = p.app_id AND m.session_id = p.session_id
    WHERE NOT EXISTS (SELECT 1 FROM session_events se WHERE se.app_id = p.app_id AND se.session_id = p.session_id
                      AND se.event_name = p.event_name))
INSERT INTO {grain.names} (app_id, event_name, {grain.column}, events, sessions)
SELECT app_id, event_name, bucket, SUM(e), SUM(s) FROM contributions WHERE true GROUP BY app_id, event_name, bucket
ON CONFLICT (app_id, event_name, {grain.column}) DO UPDATE SET events = events + excluded.events,
  sessions = sessions + excluded.sessions"""


GUARD_SQL = "INSERT INTO fold_guard (ok) SELECT folded = ?1 AND version = ?2 FROM fold_state WHERE id = 1"
RELEASE_SQL = ["DELETE FROM fold_guard", "UPDATE fold_state SET folded = MAX(folded, ?1), version = version + 1 WHERE id = 1"]

# MATERIALIZED: SQLite indexes the hashes for the join instead of scanning the JSON once per event.
HOURLY_USERS_SQL = f"""WITH {CHUNK_CTE}, hashes AS MATERIALIZED (SELECT key AS user_id, value AS uh FROM json_each(?3))
INSERT INTO hourly_users (app_id, hour, user_id, uh, events)
SELECT c.app_id, {HOUR_OF_TS}, c.user_id, h.uh, COUNT(*) FROM chunk c JOIN hashes h ON h.user_id = c.user_id
WHERE true GROUP BY 1, 2, 3
ON CONFLICT (app_id, hour, user_id) DO UPDATE SET events = events + excluded.events"""

DAILY_USERS_SQL = f"""WITH {CHUNK_CTE}
INSERT INTO daily_users (app_id, day, user_id, events)
SELECT app_id, {DAY_OF_TS}, user_id, COUNT(*) FROM chunk WHERE user_id IS NOT NULL GROUP BY 1, 2, 3
ON CONFLICT (app_id, day, user_id) DO UPDATE SET events = events + excluded.events"""

def sessions_sql(chunk_cte=CHUNK_CTE):
    return f"""WITH {chunk_cte},
ranked AS (SELECT *, FIRST_VALUE(event_name) OVER ordered AS first_name,
  LAST_VALUE(event_name) OVER (ordered ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS last_name
  FROM chunk WINDOW ordered AS (PARTITION BY app_id, session_id ORDER BY ts, id))
INSERT INTO sessions (app_id, session_id, first_ts, last_ts, events, user_id, platform, app_version, country,
  first_event, last_event)
SELECT app_id, session_id, MIN(ts), MAX(ts), COUNT(*), MIN(user_id), MIN(platform), MIN(app_version), MIN(country),
  MIN(first_name), MIN(last_name)
FROM ranked WHERE true GROUP BY app_id, session_id
ON CONFLICT (app_id, session_id) DO UPDATE SET
  first_event = CASE WHEN excluded.first_ts < sessions.first_ts THEN excluded.first_event ELSE sessions.first_event END,
  last_event = CASE WHEN excluded.last_ts >= sessions.last_ts THEN excluded.last_event ELSE sessions.last_event END,
  first_ts = MIN(sessions.first_ts, excluded.first_ts), last_ts = MAX(sessions.last_ts, excluded.last_ts),
  events = sessions.events + excluded.events,
  user_id = COALESCE(MIN(sessions.user_id, excluded.user_id), sessions.user_id, excluded.user_id),
  platform = COALESCE(MIN(sessions.platform, excluded.platform), sessions.platform, excluded.platform),
  app_version = COALESCE(MIN(sessions.app_version, excluded.app_version), sessions.app_version, excluded.app_version),
  country = COALESCE(MIN(sessions.country, excluded.country), sessions.country, excluded.country)"""


def session_events_sql(chunk_cte=CHUNK_CTE):
    return f"""WITH {chunk_cte}
INSERT OR IGNORE INTO session_events (app_id, session_id, event_name)
SELECT DISTINCT app_id, session_id, event_name FROM chunk"""

EVENT_NAMES_SQL = f"""WITH {CHUNK_CTE}
INSERT INTO event_names (app_id, event_name, events)
SELECT app_id, event_name, COUNT(*) FROM chunk WHERE true GROUP BY app_id, event_name
ON CONFLICT (app_id, event_name) DO UPDATE SET events = events + excluded.events"""

USERS_SQL = f"""WITH {CHUNK_CTE},
pairs AS (SELECT DISTINCT app_id, session_id, user_id FROM chunk WHERE user_id IS NOT NULL),
contributions AS (
  SELECT user_id, app_id, ts AS first_seen, ts AS last_seen, 1 AS e, 0 AS s FROM chunk WHERE user_id IS NOT NULL
  UNION ALL SELECT p.user_id, p.app_id, NULL, NULL, 0, 1 FROM pairs p WHERE NOT EXISTS (SELECT 1 FROM session_users x
    WHERE x.app_id = p.app_id AND x.session_id = p.session_id AND x.user_id = p.user_id))
INSERT INTO users (user_id, app_id, first_seen, last_seen, events, sessions)
SELECT user_id, app_id, MIN(first_seen), MAX(last_seen), SUM(e), SUM(s) FROM contributions WHERE true
GROUP BY user_id, app_id
ON CONFLICT (user_id, app_id) DO UPDATE SET first_seen = MIN(users.first_seen, excluded.first_seen),
  last_seen = MAX(users.last_seen, excluded.last_seen), events = users.events + excluded.events,
  sessions = users.sessions + excluded.sessions"""


def session_users_sql(chunk_cte=CHUNK_CTE):
    return f"""WITH {chunk_cte}
INSERT OR IGNORE INTO session_users (app_id, session_id, user_id)
SELECT DISTINCT app_id, session_id, user_id FROM chunk WHERE user_id IS NOT NULL"""


APPS_SQL = f"""WITH {CHUNK_CTE}
INSERT INTO apps (app_id, first_seen, last_seen, events)
SELECT app_id, MIN(ts), MAX(ts), COUNT(*) FROM chunk WHERE true GROUP BY app_id
ON CONFLICT (app_id) DO UPDATE SET first_seen = MIN(apps.first_seen, excluded.first_seen),
  last_seen = MAX(apps.last_seen, excluded.last_seen), events = apps.events + excluded.events"""


def sketch_update_sql(grain):
    return f"""UPDATE {grain.counters} SET sketch = new.sketch
FROM (SELECT json_extract(value, '$[0]') AS app_id, json_extract(value, '$[1]') AS bucket,
             json_extract(value, '$[2]') AS sketch FROM json_each(?1)) AS new
WHERE {grain.counters}.app_id = new.app_id AND {grain.counters}.{grain.column} = new.bucket"""


def sketch_select_sql(grain):
    return f"""SELECT json_group_array(json_array(t.app_id, t.{grain.column}, t.sketch)) AS sketches
FROM (SELECT json_extract(value, '$[0]') AS app_id, json_extract(value, '$[1]') AS bucket FROM json_each(?1)) AS k
JOIN {grain.counters} t ON t.app_id = k.app_id AND t.{grain.column} = k.bucket"""


CHUNK_USERS_SQL = f"""SELECT json_group_array(json_array(app_id, hour, user_id)) AS users FROM (
  SELECT DISTINCT app_id, {HOUR_OF_TS} AS hour, user_id FROM events WHERE id > ?1 AND id <= ?2 AND user_id IS NOT NULL)"""

STATE_SQL = """SELECT folded, version, (SELECT MAX(id) FROM events) AS last_id,
  EXISTS (SELECT 1 FROM stale_sketches) AS stale FROM fold_state WHERE id = 1"""


class FoldState(namedtuple("FoldState", "folded version last_id stale")):
    @property
    def unfolded(self):
        """Events not counted yet, by id (an upper bound: ids have gaps)."""
        return max(self.last_id - self.folded, 0)


async def state(db):
    """One query, so a read route with nothing to fold or rebuild pays one row or two."""
    row = await db.first(STATE_SQL)
    return FoldState(row["folded"], row["version"], row["last_id"] or 0, bool(row["stale"]))


async def merged_sketches(db, grain, additions):
    """{(app_id, bucket): [uh...]} -> [[app_id, bucket, sketch text]] with the stored sketches merged in."""
    keys = [[app_id, bucket] for app_id, bucket in additions]
    row = await db.first(sketch_select_sql(grain), json.dumps(keys, ensure_ascii=False))
    stored = {(a, b): text for a, b, text in json.loads(row["sketches"])}
    return [[app_id, bucket, hll.Sketch().merge(stored.get((app_id, bucket))).add_all(uhs).encode()]
            for (app_id, bucket), uhs in additions.items()]


async def fold_chunk(db, folded, version, upto):
    """Fold events (folded, upto] in one transaction. False if another writer came first (nothing done)."""
    import dims  # builds on this module's CTEs, so it imports this one

    row = await db.first(CHUNK_USERS_SQL, folded, upto)
    user_hours = json.loads(row["users"])
    hashes = {user_id: hll.user_register(user_id) for user_id in {u for _, _, u in user_hours}}
    by_hour, by_day = {}, {}
    for app_id, hour, user_id in user_hours:
        by_hour.setdefault((app_id, hour), []).append(hashes[user_id])
        by_day.setdefault((app_id, hour - hour % 86400), []).append(hashes[user_id])
    hour_sketches = await merged_sketches(db, HOURLY, by_hour) if by_hour else []
    day_sketches = await merged_sketches(db, DAILY, by_day) if by_day else []
    chunk = [folded, upto]
    statements = [Statement(GUARD_SQL, [folded, version])]
    # Counters read the old sessions/session_events/*_users: they run before those tables change.
    statements += [Statement(counters_sql(grain), chunk) for grain in GRAINS]
    statements += [Statement(names_sql(grain), chunk) for grain in GRAINS]
    hashes_json = json.dumps(hashes, ensure_ascii=False)
    # Before sessions/session_dims change: the breakdown counters read their old rows.
    statements += [Statement(sql, [*chunk, hashes_json] if "?3" in sql else chunk)
                   for sql in dims.fold_statements(CHUNK_CTE, "?3")]
    # Issue 8, sessions and active users: they read the old sessions and users rows, so they come first.
    statements += [Statement(sql, chunk) for sql in session_rollups.fold_statements()]
    statements += [
        Statement(HOURLY_USERS_SQL, [*chunk, hashes_json]),
        Statement(DAILY_USERS_SQL, chunk),
        Statement(USERS_SQL, chunk),  # reads the old session_users rows
        Statement(session_users_sql(), chunk),
        Statement(sessions_sql(), chunk),
        Statement(session_events_sql(), chunk),
        Statement(EVENT_NAMES_SQL, chunk),
        Statement(APPS_SQL, chunk),
    ]
    for grain, sketches in ((HOURLY, hour_sketches), (DAILY, day_sketches)):
        if sketches:
            statements.append(Statement(sketch_update_sql(grain), [json.dumps(sketches, ensure_ascii=False)]))
    statements += [Statement(RELEASE_SQL[0]), Statement(RELEASE_SQL[1], [upto])]
    try:
        await db.batch(statements)
    except D1Error as error:
        if "CHECK constraint failed" in error.reason:
            return False
        raise
    return True


STALE_LIMIT = 200
STALE_SQL = "SELECT app_id, grain, bucket FROM stale_sketches WHERE grain = ? LIMIT ?"
HOUR_USERS_SQL = """SELECT json_group_array(json_array(k.app_id, k.bucket, u.uh)) AS users
FROM (SELECT json_extract(value, '$[0]') AS app_id, json_extract(value, '$[1]') AS bucket FROM json_each(?1)) AS k
JOIN hourly_users u ON u.app_id = k.app_id AND u.hour = k.bucket"""
DAY_HOURS_SQL = """SELECT json_group_array(json_array(k.app_id, k.bucket, h.sketch)) AS sketches
FROM (SELECT json_extract(value, '$[0]') AS app_id, json_extract(value, '$[1]') AS bucket FROM json_each(?1)) AS k
JOIN hourly h ON h.app_id = k.app_id AND h.hour >= k.bucket AND h.hour < k.bucket + 86400 AND h.users > 0"""
UNSTALE_SQL = """DELETE FROM stale_sketches WHERE (app_id, grain, bucket) IN
  (SELECT json_extract(value, '$[0]'), ?2, json_extract(value, '$[1]') FROM json_each(?1))"""


async def rebuild_stale_sketches(db, folded, version):
    """Rebuild the sketches deletions left stale: hours from hourly_users, then days from their hours.
    Returns False if there was nothing to do or another writer came first."""
    grain = HOURLY
    stale = await db.query(STALE_SQL, "hour", STALE_LIMIT)
    if not stale:
        grain = DAILY
        stale = await db.query(STALE_SQL, "day", STALE_LIMIT)
    if not stale:
        return False
    keys = json.dumps([[row["app_id"], row["bucket"]] for row in stale], ensure_ascii=False)
    sketches = {(row["app_id"], row["bucket"]): hll.Sketch() for row in stale}
    if grain is HOURLY:
        for app_id, bucket, uh in json.loads((await db.first(HOUR_USERS_SQL, keys))["users"]):
            sketches[(app_id, bucket)].add(uh)
    else:
        for app_id, bucket, text in json.loads((await db.first(DAY_HOURS_SQL, keys))["sketches"]):
            sketches[(app_id, bucket)].merge(text)
    rebuilt = [[app_id, bucket, sketch.encode()] for (app_id, bucket), sketch in sketches.items()]
    try:
        await db.batch([
            Statement(GUARD_SQL, [folded, version]),
            Statement(sketch_update_sql(grain), [json.dumps(rebuilt, ensure_ascii=False)]),
            Statement(UNSTALE_SQL, [keys, grain.name]),
            Statement(RELEASE_SQL[0]),
            Statement(RELEASE_SQL[1], [folded]),
        ])
    except D1Error as error:
        if "CHECK constraint failed" in error.reason:
            return False
        raise
    return True


async def catch_up(db, max_chunks=1, chunk=CHUNK):
    """Rebuild stale sketches, then fold up to `max_chunks` chunks of the tail.
    Returns (events still unfolded (by id), whether stale sketches remain)."""
    current = await state(db)
    for _ in range(2):  # hours, then the days built from them
        if not current.stale or not await rebuild_stale_sketches(db, current.folded, current.version):
            break
        current = await state(db)
    for _ in range(max_chunks):
        if not current.unfolded:
            break
        await fold_span(db, current, min(current.last_id - current.folded, chunk))
        current = await state(db)
    return current.unfolded, current.stale


async def fold_span(db, current, span):
    """Fold the next `span` ids; while a value of the chunk is too big for D1, fold half as many. Anyone
    with the ingest key could otherwise stop every fold (and every read route, which folds first)."""
    while True:
        try:
            return await fold_chunk(db, current.folded, current.version, current.folded + span)
        except D1Error as error:
            # The chunk's users or sketches as JSON: ids are up to 255 characters, a control character 6 bytes.
            if not error.too_big or span == 1:
                raise
            span //= 2
