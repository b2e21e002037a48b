"""The sessions family: one row per session (`sessions`: start, end, events, first and last event, its user,
platform, version, country) and its users: the least in `sessions.user_id`, any others in `session_users`. The names a session did are not stored: the
families that need them read the session's raw events (rollups/counters.py).

Other families read these rows as they were before a fold or erasure step changes them, so their
statements come first in the step's ordered list (rollups/fold.py, rollups/erasure.py).
"""
from sql import UPSERT_WHERE, Sql

TABLES = ("sessions", "session_users")


def sessions_sql(chunk):
    return "WITH " + chunk + f""",
ranked AS (SELECT *, FIRST_VALUE(event_name) OVER ordered AS first_name,
  LAST_VALUE(event_name) OVER (ordered ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS last_name
  FROM chunk WINDOW ordered AS (PARTITION BY app_id, session_id ORDER BY ts, id))
INSERT INTO sessions (app_id, session_id, first_ts, last_ts, events, user_id, platform, app_version, country,
  first_event, last_event)
SELECT app_id, session_id, MIN(ts), MAX(ts), COUNT(*), MIN(user_id), MIN(platform), MIN(app_version), MIN(country),
  MIN(first_name), MIN(last_name)
FROM ranked {UPSERT_WHERE} GROUP BY app_id, session_id
ON CONFLICT (app_id, session_id) DO UPDATE SET
  first_event = CASE WHEN excluded.first_ts < sessions.first_ts THEN excluded.first_event ELSE sessions.first_event END,
  last_event = CASE WHEN excluded.last_ts >= sessions.last_ts THEN excluded.last_event ELSE sessions.last_event END,
  first_ts = MIN(sessions.first_ts, excluded.first_ts), last_ts = MAX(sessions.last_ts, excluded.last_ts),
  events = sessions.events + excluded.events,
  user_id = COALESCE(MIN(sessions.user_id, excluded.user_id), sessions.user_id, excluded.user_id),
  platform = COALESCE(MIN(sessions.platform, excluded.platform), sessions.platform, excluded.platform),
  app_version = COALESCE(MIN(sessions.app_version, excluded.app_version), sessions.app_version, excluded.app_version),
  country = COALESCE(MIN(sessions.country, excluded.country), sessions.country, excluded.country)"""


# A session's users are `sessions.user_id` (the least of them) and its `session_users` rows: only the others are
# stored (issue 16). Most sessions have one user, so most have no row, which saves a row written when a session is
# folded and another when it is purged. `users_of_sessions` lists each session's users with that rule.
def users_of_sessions(where, sessions_where=None):
    """SQL (text, or Sql when a condition binds values) selecting (app_id, session_id, user_id) of each session
    `where` (a condition on app_id and session_id) selects, every user of a session once; `sessions_where`: the
    same sessions as a condition on `sessions` itself, when that reads fewer rows."""
    return ("SELECT app_id, session_id, user_id FROM session_users WHERE " + where
            + "\n  UNION ALL SELECT app_id, session_id, user_id FROM sessions WHERE " + (sessions_where or where)
            + " AND user_id IS NOT NULL")


def session_users_sql(chunk):
    """The chunk's users of each session but its least one (which `sessions_sql` keeps in `sessions.user_id`).
    Runs before `sessions_sql`, reading the session's least user so far: when the chunk brings a lesser one,
    the former least becomes a row. In an erasure, where `sessions_sql` rebuilt the session first, the least
    user is already the chunk's and only the others become rows."""
    return "WITH " + chunk + """,
pairs AS (SELECT DISTINCT app_id, session_id, user_id FROM chunk WHERE user_id IS NOT NULL),
least AS (SELECT p.app_id, p.session_id, MIN(p.user_id) AS chunk_least, s.user_id AS known_least
  FROM pairs p LEFT JOIN sessions s ON s.app_id = p.app_id AND s.session_id = p.session_id
  GROUP BY p.app_id, p.session_id),
now_least AS (SELECT app_id, session_id, known_least,
  CASE WHEN known_least IS NULL OR chunk_least < known_least THEN chunk_least ELSE known_least END AS user_id
  FROM least)
INSERT OR IGNORE INTO session_users (app_id, session_id, user_id)
SELECT p.app_id, p.session_id, p.user_id FROM pairs p JOIN now_least n ON n.app_id = p.app_id
  AND n.session_id = p.session_id WHERE p.user_id != n.user_id
UNION SELECT app_id, session_id, known_least FROM now_least WHERE known_least IS NOT NULL AND known_least != user_id"""


def fold(chunk):
    return [session_users_sql(chunk), sessions_sql(chunk)]


def erase(erasing):
    """The touched sessions go whole, then come back from what remains of them (`erasing.remaining`)."""
    touched = erasing.touched_sessions
    return [Sql(f"DELETE FROM session_users WHERE {touched}"),
            Sql(f"DELETE FROM sessions WHERE {touched}"),
            sessions_sql(erasing.remaining),
            session_users_sql(erasing.remaining)]
