"""The activity family: session lengths and new users (read by GET /stats/sessions and GET /stats/active).

- `*_session_lengths`: sessions by start bucket (hour/day of their first event, as everywhere) and by
  length bucket (`length_s`: the lower bound, in seconds, of LENGTH_BOUNDS' bucket holding last_ts -
  first_ts), with their events and how many had a single event. A range reads days x length buckets rows.
- `*_new_users`: users whose first event in the app falls in the bucket (`users.first_seen`);
  `*_new_users_any`: users whose first event in any app falls in it (MIN of their `users.first_seen`).

The fold (rollups/fold.py) moves a session or a user between buckets as late events arrive: the old
values are read from `sessions`/`users` before the same batch updates those tables, subtracted, and the
new ones added. Deletions (rollups/erasure.py) take each touched session or user out and put it back from
what remains. Buckets left at zero stay (at most one row per bucket and length): reads stay bounded.
"""
import debug_apps
from rollups.chunk import into_counts
from rollups.grains import GRAINS
from sql import UPSERT_WHERE, Sql

# Length buckets, lower bounds in seconds (the last one is open): whole seconds below 10 s, so a median
# or p90 under 10 s is exact; beyond, bounds about 25 % apart, so an estimate inside one is within that.
LENGTH_BOUNDS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 25, 30, 40, 50, 60, 75, 90, 120, 150, 180, 240, 300,
                 360, 450, 600, 750, 900, 1200, 1500, 1800, 2400, 3000, 3600, 4800, 6000, 7200, 10800, 14400, 21600,
                 28800, 43200, 86400)

TABLES = tuple(table for grain in GRAINS for table in (grain.lengths, grain.new_users, grain.new_users_any))


def length_bucket(ms_expression):
    """SQL: a session length in ms -> the lower bound (s) of its LENGTH_BOUNDS bucket. Constant SQL."""
    seconds = f"(({ms_expression}) / 1000)"
    cases = " ".join(f"WHEN {seconds} < {upper} THEN {lower}" for lower, upper in zip(LENGTH_BOUNDS, LENGTH_BOUNDS[1:]))
    return f"(CASE {cases} ELSE {LENGTH_BOUNDS[-1]} END)"


def _lengths_upsert(grain, contributions_cte):
    """Adds `contributions (app_id, start_ts, length_ms, n, e)` (n = +1/-1 per session, e its events)."""
    table, column = grain.lengths, grain.column
    return "WITH " + contributions_cte + f"""
INSERT INTO {table} (app_id, {column}, length_s, sessions, events, one_event)
SELECT app_id, {grain.bucket('start_ts')}, {length_bucket('length_ms')}, SUM(n), SUM(n * e), SUM(n * (e = 1))
FROM contributions {UPSERT_WHERE} GROUP BY 1, 2, 3
ON CONFLICT (app_id, {column}, length_s) DO UPDATE SET sessions = sessions + excluded.sessions,
  events = events + excluded.events, one_event = one_event + excluded.one_event"""


def fold_lengths_sql(chunk):
    """The chunk's sessions leave their old (start, length) bucket, read from `sessions` before the batch
    updates it, and enter their new one. Both grains in one statement."""
    return "WITH " + chunk + """,
chunk_sessions AS (SELECT app_id, session_id, MIN(ts) AS first_ts, MAX(ts) AS last_ts, COUNT(*) AS events
  FROM chunk GROUP BY app_id, session_id),
merged AS (SELECT cs.app_id, s.first_ts AS old_first, s.last_ts AS old_last, s.events AS old_events,
  MIN(cs.first_ts, COALESCE(s.first_ts, cs.first_ts)) AS new_first,
  MAX(cs.last_ts, COALESCE(s.last_ts, cs.last_ts)) AS new_last, cs.events + COALESCE(s.events, 0) AS new_events
  FROM chunk_sessions cs LEFT JOIN sessions s ON s.app_id = cs.app_id AND s.session_id = cs.session_id),
contributions AS (
  SELECT app_id, new_first AS start_ts, new_last - new_first AS length_ms, 1 AS n, new_events AS e FROM merged
  UNION ALL SELECT app_id, old_first, old_last - old_first, -1, old_events FROM merged WHERE old_first IS NOT NULL)
""" + into_counts("app_id, bucket, length_s, sessions, events, one_event", [
        f"""SELECT '{grain.lengths}', app_id, {grain.bucket('start_ts')}, {length_bucket('length_ms')}, SUM(n), SUM(n * e),
  SUM(n * (e = 1)) FROM contributions GROUP BY 2, 3, 4""" for grain in GRAINS])


def fold_new_users_sql(chunk):
    """Users of the chunk new to an app, or seen earlier than known: +1 where they are first seen now, -1
    where they were (read from `users` before the batch updates it). Both grains."""
    return "WITH " + chunk + """,
firsts AS (SELECT app_id, user_id, MIN(ts) AS ts FROM chunk WHERE user_id IS NOT NULL GROUP BY app_id, user_id),
moves AS (SELECT f.app_id, u.first_seen AS old_ts, MIN(f.ts, COALESCE(u.first_seen, f.ts)) AS new_ts
  FROM firsts f LEFT JOIN users u ON u.user_id = f.user_id AND u.app_id = f.app_id)
""" + into_counts("app_id, bucket, users", [_new_users_rows(grain.new_users, grain) for grain in GRAINS])


def fold_new_users_any_sql(chunk):
    """The same over all apps: a user's first event in any app is the smallest of their users.first_seen."""
    # Release apps only: a debug build's users (debug_apps) must not show as new users of the release figures.
    # These tables have no app column: the view's app_id is '' for them.
    return "WITH " + chunk + """,
firsts AS (SELECT user_id, MIN(ts) AS ts FROM chunk WHERE user_id IS NOT NULL AND """ + debug_apps.condition(
        "app_id", False) + """ GROUP BY user_id),
known AS (SELECT f.ts, (SELECT MIN(u.first_seen) FROM users u WHERE u.user_id = f.user_id AND """ + debug_apps.condition(
        "u.app_id", False) + """) AS old_ts FROM firsts f),
moves AS (SELECT '' AS app_id, old_ts, MIN(ts, COALESCE(old_ts, ts)) AS new_ts FROM known)
""" + into_counts("app_id, bucket, users", [_new_users_rows(grain.new_users_any, grain) for grain in GRAINS])


def _new_users_rows(table, grain):
    """A SELECT of `table`'s rows for counts_fold from `moves (app_id, old_ts, new_ts)`: first-seen times before
    and after; a user counts at new_ts."""
    b = grain.bucket
    return f"""SELECT '{table}', app_id, bucket, SUM(n) FROM (
  SELECT app_id, {b('new_ts')} AS bucket, 1 AS n FROM moves WHERE old_ts IS NULL OR new_ts < old_ts
  UNION ALL SELECT app_id, {b('old_ts')}, -1 FROM moves WHERE new_ts < old_ts) GROUP BY app_id, bucket"""


def fold(chunk):
    """A fold step's statements. They read the old `sessions` and `users` rows: they run before the step
    updates those tables."""
    return [fold_lengths_sql(chunk), fold_new_users_sql(chunk), fold_new_users_any_sql(chunk)]


# Deletions (rollups/erasure.py): `erasing` holds its SQL conditions (rollups/chunk.Erasing).

def erase_sessions(erasing):
    """Before the touched sessions are deleted: each leaves its bucket and comes back as what remains of it
    (`erasing.remaining`, the fold's `chunk` of its remaining counted events); emptied buckets go."""
    touched_sessions = erasing.touched_sessions
    statements = []
    for grain in GRAINS:
        statements.append(_lengths_upsert(grain, erasing.remaining + f""",
contributions AS (
  SELECT app_id, first_ts AS start_ts, last_ts - first_ts AS length_ms, -1 AS n, events AS e FROM sessions
  WHERE {touched_sessions}
  UNION ALL SELECT app_id, MIN(ts), MAX(ts) - MIN(ts), 1, COUNT(*) FROM chunk GROUP BY app_id, session_id)"""))
        statements.append(Sql(f"""DELETE FROM {grain.lengths} WHERE sessions = 0 AND (app_id, {grain.column}) IN
  (SELECT app_id, {grain.bucket('first_ts')} FROM sessions WHERE {touched_sessions})"""))
    return statements


def _touched_users(counted):
    return f"(user_id, app_id) IN (SELECT user_id, app_id FROM events WHERE {counted} AND user_id IS NOT NULL)"


def _new_users_change(grain, counted, sign):
    b, column = grain.bucket, grain.column
    per_app = f"""INSERT INTO {grain.new_users} (app_id, {column}, users)
SELECT app_id, {b('first_seen')}, {sign} * COUNT(*) FROM users WHERE {_touched_users(counted)} GROUP BY 1, 2
ON CONFLICT (app_id, {column}) DO UPDATE SET users = users + excluded.users"""
    any_app = (f"""INSERT INTO {grain.new_users_any} ({column}, users)
SELECT {b('first_seen')}, {sign} * COUNT(*) FROM (SELECT MIN(first_seen) AS first_seen FROM users
  WHERE user_id IN (SELECT user_id FROM events WHERE {counted} AND user_id IS NOT NULL) AND """
               + debug_apps.condition("app_id", False) + f""" GROUP BY user_id) {UPSERT_WHERE}
GROUP BY 1
ON CONFLICT ({column}) DO UPDATE SET users = users + excluded.users""")
    return [Sql(per_app), any_app]


def new_users_out(erasing):
    """Before erasure updates `users`: the touched users leave the buckets where they were first seen."""
    return [sql for grain in GRAINS for sql in _new_users_change(grain, erasing.counted, -1)]


def new_users_in(erasing):
    """After: those who keep events come back where they are first seen now."""
    return [sql for grain in GRAINS for sql in _new_users_change(grain, erasing.counted, 1)]


def backfill_statements():
    """The rollups from `sessions` and `users` (what is folded so far): migrations/0004 runs exactly these."""
    statements = []
    for grain in GRAINS:
        b, column = grain.bucket, grain.column
        statements += [
            f"""INSERT INTO {grain.lengths} (app_id, {column}, length_s, sessions, events, one_event)
SELECT app_id, {b('first_ts')}, {length_bucket('last_ts - first_ts')}, COUNT(*), SUM(events), SUM(events = 1)
FROM sessions GROUP BY 1, 2, 3""",
            f"""INSERT INTO {grain.new_users} (app_id, {column}, users)
SELECT app_id, {b('first_seen')}, COUNT(*) FROM users GROUP BY 1, 2""",
            f"""INSERT INTO {grain.new_users_any} ({column}, users)
SELECT {b('first_seen')}, COUNT(*) FROM (SELECT MIN(first_seen) AS first_seen FROM users GROUP BY user_id) GROUP BY 1""",
        ]
    return statements

