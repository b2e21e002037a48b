"""A user's sessions, without an index entry per event (issue 16: one row written per event less).

There is no index on (user_id, ts). In each request, the latest event of each app, session and user carries
`user_mark = 1`, and only those are in `events_user_marks (user_id, ts, app_id, session_id)`: the reference app
writes an entry per request, not per event. A user's events are their marked sessions' events with their user_id,
read through the session's spans (rollups/spans.py). Every writer keeps one rule:

    each event of a user in a session has a mark of that app, session and user at or after its time,

so the sessions marked at or after a time hold every event of the user from then on. Ingest marks each request's
latest event per app, session and user, then the latest stored one where that mark was refused as a duplicate
(api/ingest.py). A deletion or a link marks the latest remaining event where a mark goes (`keep_marks`). A purge
takes unmarked events before marked ones (rollups/raw_events.oldest_by_name), so the marks it leaves still cover
what it leaves. A span's head is marked whenever it has a user (rollups/spans.py), so unmarked heads never hold a
user's event either.
"""
from rollups.chunk import SESSION_EVENTS
from sql import Sql


def by_marks(alias):
    return f"events AS {alias} INDEXED BY events_user_marks"


def by_session(alias):
    """A session's events through its spans (rollups/chunk.py, SESSION_EVENTS), under an alias."""
    return f"{SESSION_EVENTS} AS {alias}"


def keep_marks(gone_ids):
    """Before the events `gone_ids` (SQL selecting ids) go or move to another user: where a mark goes, the latest
    remaining event of its app, session and user is marked (unless it is already), so the remaining ones stay
    covered. Writes only where a deletion or a link takes a mark and leaves events behind."""
    return Sql(f"""UPDATE events SET user_mark = 1 WHERE user_mark IS NULL AND id IN (
  SELECT (SELECT e.id FROM {by_session('e')} WHERE e.app_id = t.app_id AND e.session_id = t.session_id
    AND e.user_id = t.user_id AND e.id NOT IN ({gone_ids}) ORDER BY e.ts DESC, e.id DESC LIMIT 1)
  FROM (SELECT DISTINCT app_id, session_id, user_id FROM events WHERE id IN ({gone_ids}) AND user_mark = 1) AS t)""")


def sessions_of(user_id, since_ms=None, app_condition=None, walk=None):
    """Sql selecting (app_id, session_id, newest, marks) of the user's sessions marked at or after `since_ms` (all if
    None), `newest` their latest mark, `marks` how many were read: by the rule above, they hold every event of the
    user from `since_ms` on.
    `app_condition`: Sql on `m.app_id`. `walk`: only the newest `walk` marks are read (a bounded walk, newest first;
    the sessions it finds are then the user's most recently marked)."""
    where = Sql("m.user_id = ? AND m.user_mark = 1", [user_id])
    if since_ms is not None:
        where += Sql(" AND m.ts >= ?", [since_ms])
    if app_condition is not None:
        where += " AND " + app_condition
    marks = Sql(f"SELECT m.app_id AS app_id, m.session_id AS session_id, m.ts AS ts FROM {by_marks('m')} WHERE ") + where
    if walk is not None:
        marks += Sql(" ORDER BY m.ts DESC LIMIT ?", [walk])
    return ("SELECT app_id, session_id, MAX(ts) AS newest, COUNT(*) AS marks FROM (" + marks
            + ") GROUP BY app_id, session_id")


def user_events(user_id, sessions, columns="e.id", extra=None):
    """Sql selecting `columns` of the user's events in `sessions` (Sql selecting app_id, session_id), through the
    sessions' spans. `extra`: Sql condition on `e`."""
    condition = Sql(" AND e.user_id = ?", [user_id]) + ("" if extra is None else " AND " + extra)
    return ("SELECT " + columns + " FROM (" + sessions + f") AS s CROSS JOIN {by_session('e')}"
            " ON e.app_id = s.app_id AND e.session_id = s.session_id" + condition)
