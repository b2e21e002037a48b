"""The users family: per user and app, all-time events, sessions and first/last seen (`users`), read by the
user routes and by new-user counting (rollups/activity.py)."""
from rollups import marks, sessions
from rollups.chunk import FOLDED
from sql import UPSERT_WHERE, Sql

TABLES = ("users",)


def fold(chunk):
    """Reads the old sessions and session_users rows (a session counts once per user): runs before they change."""
    return ["WITH " + chunk + f""",
pairs AS (SELECT DISTINCT app_id, session_id, user_id FROM chunk WHERE user_id IS NOT NULL),
contributions AS (
  SELECT user_id, app_id, ts AS first_seen, ts AS last_seen, 1 AS e, 0 AS s FROM chunk WHERE user_id IS NOT NULL
  UNION ALL SELECT p.user_id, p.app_id, NULL, NULL, 0, 1 FROM pairs p WHERE NOT EXISTS (SELECT 1 FROM session_users x
    WHERE x.app_id = p.app_id AND x.session_id = p.session_id AND x.user_id = p.user_id)
    AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.app_id = p.app_id AND s.session_id = p.session_id
    AND s.user_id = p.user_id))
INSERT INTO users (user_id, app_id, first_seen, last_seen, events, sessions)
SELECT user_id, app_id, MIN(first_seen), MAX(last_seen), SUM(e), SUM(s) FROM contributions {UPSERT_WHERE}
GROUP BY user_id, app_id
ON CONFLICT (user_id, app_id) DO UPDATE SET first_seen = MIN(users.first_seen, excluded.first_seen),
  last_seen = MAX(users.last_seen, excluded.last_seen), events = users.events + excluded.events,
  sessions = users.sessions + excluded.sessions"""]


def _sessions_change(erasing, sign):
    return Sql(f"""UPDATE users SET sessions = users.sessions {sign} g.n FROM (SELECT user_id, app_id, COUNT(*) AS n
      FROM ({sessions.users_of_sessions(erasing.touched_sessions)}) GROUP BY 1, 2) AS g
WHERE users.user_id = g.user_id AND users.app_id = g.app_id""")


def leave_sessions(erasing):
    """Before rollups/sessions.py rebuilds the touched sessions: their users lose them..."""
    return [_sessions_change(erasing, "-")]


def rejoin_sessions(erasing):
    """...and after, get back those that remain."""
    return [_sessions_change(erasing, "+")]


def _seen(gone_ids, edge, order):
    """The first (MIN, "") or last (MAX, " DESC") remaining counted event of the user in the app: over the sessions the
    user's marks name (rollups/marks.py; there is no index on (user_id, ts)), each session's through its index."""
    return f"""(SELECT {edge}((SELECT e.ts FROM {marks.by_session('e')} WHERE e.app_id = m.app_id
    AND e.session_id = m.session_id AND e.user_id = m.user_id AND e.id <= {FOLDED} AND e.id NOT IN ({gone_ids})
    ORDER BY e.ts{order} LIMIT 1)) FROM {marks.by_marks('m')} WHERE m.user_id = users.user_id AND m.user_mark = 1
    AND m.app_id = users.app_id)"""


def erase(erasing):
    """Events subtract; first/last seen come from the remaining counted events; users left without events go."""
    counted, gone_ids = erasing.counted, erasing.gone_ids
    return [Sql(f"""UPDATE users SET events = users.events - g.n,
  first_seen = COALESCE({_seen(gone_ids, "MIN", "")}, users.first_seen),
  last_seen = COALESCE({_seen(gone_ids, "MAX", " DESC")}, users.last_seen)
FROM (SELECT user_id, app_id, COUNT(*) AS n FROM events WHERE {counted} AND user_id IS NOT NULL GROUP BY 1, 2) AS g
WHERE users.user_id = g.user_id AND users.app_id = g.app_id"""),
            Sql(f"DELETE FROM users WHERE events <= 0 AND (user_id, app_id) IN (SELECT user_id, app_id FROM events WHERE {counted})")]
