"""The sessions family: one row per session (`sessions`: start, end, events, first and last event, its user,
platform, version, country) and its users (`session_users`). The names a session did are not stored: the
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


def session_users_sql(chunk):
    return "WITH " + chunk + """
INSERT OR IGNORE INTO session_users (app_id, session_id, user_id)
SELECT DISTINCT app_id, session_id, user_id FROM chunk WHERE user_id IS NOT NULL"""


def fold(chunk):
    return [session_users_sql(chunk), sessions_sql(chunk)]


def erase(erasing):
    """The touched sessions go whole, then come back from what remains of them (`erasing.remaining`)."""
    touched = erasing.touched_sessions
    return [Sql(f"DELETE FROM session_users WHERE {touched}"),
            Sql(f"DELETE FROM sessions WHERE {touched}"),
            sessions_sql(erasing.remaining),
            session_users_sql(erasing.remaining)]
