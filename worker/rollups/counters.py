"""The counters family: per app and hour/day, events, sessions (at their start) and users (`hourly`, `daily`);
the same per event name (`*_names`); who was active (`daily_users`, a row per user and day with the hours inside,
and the user's sketch register `uh`; `hourly_users` is a view of those hours). Sketches themselves are
rollups/sketches.py's.

Folding adds the chunk; a session whose start moves (a late event) leaves its old bucket. Erasing subtracts
exactly what the erased folded events added; touched sessions leave their start bucket and come back, after
rollups/sessions.py rebuilt them, from what remains.
"""
from rollups.chunk import FOLDED, MOVES_CTE, SESSION_EVENTS, into_counts, moved
from rollups.grains import DAILY, GRAINS, HOURLY, hour_of_day
from sql import UPSERT_WHERE, Sql
from tz.timeutil import DAY

# The tables this family writes (hourly_users is a view of the hours inside daily_users).
TABLES = (*(table for grain in GRAINS for table in (grain.counters, grain.names)), DAILY.users)


def counters_sql(chunk):
    """events in the bucket; sessions starting in it (a session whose start moves leaves its old bucket);
    users: user-buckets not seen before (a user's day row; for an hour, with that hour inside). Both grains in one
    statement."""
    seen_in_hour = f" AND json_extract(x.hours, '$.\"' || {hour_of_day('c.bucket')} || '\"') IS NOT NULL"
    contributions = []
    for grain in GRAINS:
        b = grain.bucket
        contributions.append(f"""{grain.name}_contributions AS (
  SELECT app_id, {b('ts')} AS bucket, 1 AS e, 0 AS s, 0 AS u FROM chunk
  UNION ALL SELECT m.app_id, {b('m.new_ts')}, 0, 1, 0 FROM moves m WHERE {moved(grain)}
  UNION ALL SELECT m.app_id, {b('m.old_ts')}, 0, -1, 0 FROM moves m WHERE m.old_ts IS NOT NULL AND {moved(grain)}
  UNION ALL SELECT app_id, bucket, 0, 0, 1 FROM (SELECT DISTINCT app_id, {b('ts')} AS bucket, user_id FROM chunk
    WHERE user_id IS NOT NULL) c
    WHERE NOT EXISTS (SELECT 1 FROM daily_users x WHERE x.app_id = c.app_id AND x.day = c.bucket - c.bucket % {DAY}
                      AND x.user_id = c.user_id{seen_in_hour if grain is HOURLY else ''}))""")
    return "WITH " + chunk + f", {MOVES_CTE},\n" + ",\n".join(contributions) + "\n" + into_counts(
        "app_id, bucket, events, sessions, users",
        [f"SELECT '{grain.counters}', app_id, bucket, SUM(e), SUM(s), SUM(u) FROM {grain.name}_contributions "
         "GROUP BY app_id, bucket" for grain in GRAINS])


# The names each session of the chunk did before it (its events up to the watermark, through their spans;
# only sessions with a row already can have any):
# recomputed rather than stored per session and name, which cost a row written per pair and another to purge it.
PRIOR_NAMES = f"""prior_names AS (SELECT DISTINCT app_id, session_id, event_name FROM {SESSION_EVENTS}
  WHERE (app_id, session_id) IN (SELECT app_id, session_id FROM moves WHERE old_ts IS NOT NULL) AND id <= {FOLDED})"""


def names_sql(chunk):
    """events per name in the bucket; sessions that did the name, at the session's start bucket. Days are the sums
    of the chunk's hours (a session moving within a day adds nothing there), so the chunk is read once."""
    b = HOURLY.bucket
    moved_pairs = (f"FROM moves m JOIN prior_names se ON se.app_id = m.app_id AND se.session_id = m.session_id "
                   f"WHERE m.old_ts IS NOT NULL AND {b('m.new_ts')} != {b('m.old_ts')}")
    day = DAILY.bucket("bucket * 1000")
    return "WITH " + chunk + f""", {MOVES_CTE}, {PRIOR_NAMES},
chunk_pairs AS (SELECT DISTINCT app_id, session_id, event_name FROM chunk),
contributions AS (
  SELECT app_id, event_name, {b('ts')} AS bucket, 1 AS e, 0 AS s FROM chunk
  UNION ALL SELECT m.app_id, se.event_name, {b('m.old_ts')}, 0, -1 {moved_pairs}
  UNION ALL SELECT m.app_id, se.event_name, {b('m.new_ts')}, 0, 1 {moved_pairs}
  UNION ALL SELECT p.app_id, p.event_name, {b('m.new_ts')}, 0, 1
    FROM chunk_pairs p JOIN moves m ON m.app_id = p.app_id AND m.session_id = p.session_id
    WHERE NOT EXISTS (SELECT 1 FROM prior_names se WHERE se.app_id = p.app_id AND se.session_id = p.session_id
                      AND se.event_name = p.event_name)),
hours AS (SELECT app_id, event_name, bucket, SUM(e) AS e, SUM(s) AS s FROM contributions GROUP BY 1, 2, 3)
""" + into_counts("app_id, event_name, bucket, events, sessions", [
        f"SELECT '{HOURLY.names}', app_id, event_name, bucket, e, s FROM hours",
        f"""SELECT '{DAILY.names}', app_id, event_name, {day}, SUM(e), SUM(s) FROM hours GROUP BY 2, 3, 4
  HAVING SUM(e) != 0 OR SUM(s) != 0"""])


def fold_counts(chunk):
    """Counters and names. They read the old sessions and user-buckets: they run before those tables change."""
    return [counters_sql(chunk), names_sql(chunk)]


def merged_hours(old, delta):
    """SQL: `daily_users.hours` JSON `old` plus `delta` (the same form: {"<hour>": events}). D1 bills each `json_each`
    element as a row read: a delta of one hour (a fold step of live traffic, mostly) is set by its path, reading 2;
    a longer one merges both objects."""
    path = "'$.\"' || key || '\"'"
    one = f"""(SELECT json_set(COALESCE({old}, '{{}}'), {path}, COALESCE(json_extract({old}, {path}), 0) + value)
    FROM json_each({delta}))"""
    every = f"""(SELECT json_group_object(key, n) FROM (SELECT key, SUM(value) AS n FROM (
      SELECT key, value FROM json_each({old}) UNION ALL SELECT key, value FROM json_each({delta})) GROUP BY key))"""
    return f"CASE WHEN (SELECT COUNT(*) FROM json_each({delta})) = 1 THEN {one} ELSE {every} END"


def fold_user_buckets(chunk, hashes):
    """Who was active per day and hour: one row per user and day, its hours inside (one row written per user a fold
    step sees). `hashes` binds the chunk's users' registers, JSON {user_id: uh}. MATERIALIZED: SQLite indexes the
    hashes for the join instead of scanning the JSON once per event."""
    return ["WITH " + chunk + ", hashes AS MATERIALIZED (SELECT key AS user_id, value AS uh FROM json_each("
            + hashes + f""")),
per_hour AS (SELECT c.app_id, {DAILY.bucket('c.ts')} AS day, {hour_of_day(HOURLY.bucket('c.ts'))} AS hour_key,
    c.user_id, h.uh, COUNT(*) AS n FROM chunk c JOIN hashes h ON h.user_id = c.user_id GROUP BY 1, 2, 3, 4)
INSERT INTO daily_users (app_id, day, user_id, events, uh, hours)
SELECT app_id, day, user_id, SUM(n), MAX(uh), json_group_object(hour_key, n) FROM per_hour {UPSERT_WHERE}
GROUP BY 1, 2, 3
ON CONFLICT (app_id, day, user_id) DO UPDATE SET events = events + excluded.events, uh = excluded.uh,
  hours = {merged_hours('daily_users.hours', 'excluded.hours')}"""]


def erase_out(erasing):
    """Subtract the erased events, take the touched sessions out of their start bucket, drop emptied
    user-buckets and queue their sketches for a rebuild (a sketch cannot forget a user)."""
    counted, touched_sessions = erasing.counted, erasing.touched_sessions
    statements = []
    for grain in GRAINS:
        b, col = grain.bucket, grain.column
        statements += [Sql(text) for text in (
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
      FROM sessions s JOIN (SELECT DISTINCT app_id, session_id, event_name FROM {SESSION_EVENTS}
        WHERE {touched_sessions} AND id <= {FOLDED}) se ON se.app_id = s.app_id AND se.session_id = s.session_id
      GROUP BY 1, 2, 3) AS g
WHERE {grain.names}.app_id = g.app_id AND {grain.names}.event_name = g.event_name AND {grain.names}.{col} = g.bucket""",
            *users_out(grain, counted),
            f"""INSERT OR IGNORE INTO stale_sketches (app_id, grain, bucket)
SELECT DISTINCT app_id, '{grain.name}', {b('ts')} FROM events WHERE {counted} AND user_id IS NOT NULL""",
        )]
    return statements


def users_out(grain, counted):
    """A user-bucket goes when its last counted event goes: its events less the erased ones, the bucket's users less
    the emptied ones, then the emptied ones removed. An hour is a key of its day's row (the day's statements, which
    come after, delete rows whose day is empty): its count goes to 0 or below first, so that the next statement can
    count it, and the last statement removes it."""
    # The erased events' users and days only: the day's other users cannot have emptied (and reading them all, their
    # hours included, would cost every user of the day).
    user_days = (f"(app_id, day, user_id) IN (SELECT app_id, {DAILY.bucket('ts')}, user_id FROM events WHERE {counted}"
                 " AND user_id IS NOT NULL)")
    if grain is DAILY:
        return (f"""UPDATE daily_users SET events = daily_users.events - g.n
FROM (SELECT app_id, {DAILY.bucket('ts')} AS day, user_id, COUNT(*) AS n FROM events WHERE {counted} AND user_id IS NOT NULL
      GROUP BY 1, 2, 3) AS g
WHERE daily_users.app_id = g.app_id AND daily_users.day = g.day AND daily_users.user_id = g.user_id""",
                f"""UPDATE daily SET users = daily.users - g.n
FROM (SELECT app_id, day, COUNT(*) AS n FROM daily_users WHERE events <= 0 AND {user_days} GROUP BY 1, 2) AS g
WHERE daily.app_id = g.app_id AND daily.day = g.day""",
                f"DELETE FROM daily_users WHERE events <= 0 AND {user_days}")
    return (f"""UPDATE daily_users SET hours = {merged_hours('daily_users.hours', 'g.by_hour')}
FROM (SELECT app_id, day, user_id, json_group_object(h, -n) AS by_hour FROM (
      SELECT app_id, {DAILY.bucket('ts')} AS day, {hour_of_day(HOURLY.bucket('ts'))} AS h, user_id, COUNT(*) AS n
      FROM events WHERE {counted} AND user_id IS NOT NULL GROUP BY 1, 2, 3, 4) GROUP BY 1, 2, 3) AS g
WHERE daily_users.app_id = g.app_id AND daily_users.day = g.day AND daily_users.user_id = g.user_id""",
            f"""UPDATE hourly SET users = hourly.users - g.n
FROM (SELECT app_id, hour, COUNT(*) AS n FROM hourly_users WHERE events <= 0 AND {user_days} GROUP BY 1, 2) AS g
WHERE hourly.app_id = g.app_id AND hourly.hour = g.hour""",
            f"""UPDATE daily_users SET hours = (SELECT json_group_object(key, value) FROM json_each(daily_users.hours)
  WHERE value > 0) WHERE {user_days} AND EXISTS (SELECT 1 FROM json_each(daily_users.hours) WHERE value <= 0)""")


def erase_in(erasing):
    """After rollups/sessions.py put the touched sessions back: count them at their (possibly later) start."""
    counted, touched_sessions = erasing.counted, erasing.touched_sessions
    statements = []
    for grain in GRAINS:
        b = grain.bucket
        statements += [Sql(text) for text in (
            f"""INSERT INTO {grain.counters} (app_id, {grain.column}, events, sessions, users)
SELECT app_id, {b('first_ts')}, 0, COUNT(*), 0 FROM sessions
WHERE {touched_sessions} GROUP BY 1, 2
ON CONFLICT (app_id, {grain.column}) DO UPDATE SET sessions = sessions + excluded.sessions""",
            f"""INSERT INTO {grain.names} (app_id, event_name, {grain.column}, events, sessions)
SELECT s.app_id, se.event_name, {b('s.first_ts')}, 0, COUNT(*)
FROM sessions s JOIN (SELECT DISTINCT app_id, session_id, event_name FROM {SESSION_EVENTS}
  WHERE {touched_sessions} AND id <= {FOLDED} AND id NOT IN ({erasing.gone_ids})) se
  ON se.app_id = s.app_id AND se.session_id = s.session_id
{UPSERT_WHERE} GROUP BY 1, 2, 3
ON CONFLICT (app_id, event_name, {grain.column}) DO UPDATE SET sessions = sessions + excluded.sessions""",
        )]
    return statements


def erase_emptied(erasing):
    """Last: rows the erasure left without events (and, for names, without sessions)."""
    counted = erasing.counted
    statements = []
    for grain in GRAINS:
        b = grain.bucket
        statements += [Sql(text) for text in (
            f"""DELETE FROM {grain.counters} WHERE events <= 0
  AND (app_id, {grain.column}) IN (SELECT app_id, {b('ts')} FROM events WHERE {counted})""",
            f"""DELETE FROM {grain.names} WHERE events <= 0 AND sessions <= 0
  AND (app_id, event_name, {grain.column}) IN (SELECT app_id, event_name, {b('ts')} FROM events WHERE {counted})""",
        )]
    return statements
