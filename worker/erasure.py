"""Deleting events while keeping every rollup equal to what the remaining events say.

One mechanism serves every kind of deletion (one event, a user's erasure request, a whole app,
retention): a `Selection` is a fixed SQL condition on `events` plus its bound values. Each chunk
of matching events is removed in ONE `db.batch` (one transaction): first the rollups lose exactly
what those events added, then the events go. Rollups never drift, even if a request dies midway.

`hourly_sessions.user_id` holds one user seen in that session-hour. When the events carrying that
user go but others stay, it is replaced by a user still present in the session-hour (or NULL), so
an erased user_id survives nowhere.
"""
from d1 import Statement

# At most this many events per transaction: keeps each statement's rows read/written bounded.
CHUNK = 5000
# D1 Free allows 50 queries per invocation and each chunk is about a dozen statements.
MAX_CHUNKS_PER_CALL = 3

# The hour bucket of an event, as track.py computes it (`ts` is epoch ms, `hour` epoch seconds).
HOUR_OF_TS = "ts / 1000 - ts / 1000 % 3600"


class Selection:
    """`where`: a fixed SQL condition on events using numbered parameters ?1, ?2...; `params`: their values."""

    def __init__(self, where, params):
        self.where = where
        self.params = list(params)


def by_id(event_id):
    return Selection("id = ?1", [event_id])


def by_user(user_id, app_id=None):
    if app_id is None:
        return Selection("user_id = ?1", [user_id])
    return Selection("user_id = ?1 AND app_id = ?2", [user_id, app_id])


def by_app(app_id):
    return Selection("app_id = ?1", [app_id])


def older_than(cutoff_ms):
    return Selection("ts < ?1", [cutoff_ms])


def chunk_statements(selection, chunk=CHUNK):
    """The statements that remove one chunk of `selection`, in order; the last deletes the events."""
    # (ts, id) is unique and every candidate index (app_id/user_id, ts) ends in the rowid, so each
    # statement of the transaction sees exactly the same chunk.
    gone = f"id IN (SELECT id FROM events WHERE {selection.where} ORDER BY ts, id LIMIT {int(chunk)})"
    kept = f"id NOT IN (SELECT id FROM events WHERE {selection.where} ORDER BY ts, id LIMIT {int(chunk)})"
    session_hour = f"SELECT {HOUR_OF_TS}, app_id, session_id FROM events WHERE {gone}"
    sql = [
        f"""UPDATE hourly_events SET events = hourly_events.events - gone.n
FROM (SELECT {HOUR_OF_TS} AS hour, app_id, event_name, COUNT(*) AS n FROM events WHERE {gone}
      GROUP BY 1, 2, 3) AS gone
WHERE hourly_events.hour = gone.hour AND hourly_events.app_id = gone.app_id
  AND hourly_events.event_name = gone.event_name""",
        f"""DELETE FROM hourly_events WHERE events <= 0 AND (hour, app_id, event_name) IN
  (SELECT {HOUR_OF_TS}, app_id, event_name FROM events WHERE {gone})""",

        f"""UPDATE hourly_event_sessions SET events = hourly_event_sessions.events - gone.n
FROM (SELECT {HOUR_OF_TS} AS hour, app_id, event_name, session_id, COUNT(*) AS n FROM events WHERE {gone}
      GROUP BY 1, 2, 3, 4) AS gone
WHERE hourly_event_sessions.hour = gone.hour AND hourly_event_sessions.app_id = gone.app_id
  AND hourly_event_sessions.event_name = gone.event_name AND hourly_event_sessions.session_id = gone.session_id""",
        f"""DELETE FROM hourly_event_sessions WHERE events <= 0 AND (hour, app_id, event_name, session_id) IN
  (SELECT {HOUR_OF_TS}, app_id, event_name, session_id FROM events WHERE {gone})""",

        f"""UPDATE hourly_sessions SET events = hourly_sessions.events - gone.n
FROM (SELECT {HOUR_OF_TS} AS hour, app_id, session_id, COUNT(*) AS n FROM events WHERE {gone}
      GROUP BY 1, 2, 3) AS gone
WHERE hourly_sessions.hour = gone.hour AND hourly_sessions.app_id = gone.app_id
  AND hourly_sessions.session_id = gone.session_id""",
        f"""DELETE FROM hourly_sessions WHERE events <= 0 AND (hour, app_id, session_id) IN ({session_hour})""",
        # The session-hour's user is no longer among its remaining events: take one that is, or NULL.
        f"""UPDATE hourly_sessions SET user_id = (
  SELECT MAX(user_id) FROM events
  WHERE events.app_id = hourly_sessions.app_id AND events.ts >= hourly_sessions.hour * 1000
    AND events.ts < (hourly_sessions.hour + 3600) * 1000 AND events.session_id = hourly_sessions.session_id
    AND {kept})
WHERE user_id IS NOT NULL AND (hour, app_id, session_id) IN ({session_hour})
  AND NOT EXISTS (
  SELECT 1 FROM events
  WHERE events.app_id = hourly_sessions.app_id AND events.ts >= hourly_sessions.hour * 1000
    AND events.ts < (hourly_sessions.hour + 3600) * 1000 AND events.session_id = hourly_sessions.session_id
    AND events.user_id = hourly_sessions.user_id AND {kept})""",

        # first_seen/last_seen come from the remaining events, through the events_app_ts index.
        f"""UPDATE apps SET events = apps.events - gone.n,
  first_seen = COALESCE((SELECT ts FROM events WHERE events.app_id = apps.app_id AND {kept} ORDER BY ts LIMIT 1),
                        apps.first_seen),
  last_seen = COALESCE((SELECT ts FROM events WHERE events.app_id = apps.app_id AND {kept} ORDER BY ts DESC LIMIT 1),
                       apps.last_seen)
FROM (SELECT app_id, COUNT(*) AS n FROM events WHERE {gone} GROUP BY app_id) AS gone
WHERE apps.app_id = gone.app_id""",
        f"""DELETE FROM apps WHERE events <= 0 AND app_id IN (SELECT app_id FROM events WHERE {gone})""",

        f"DELETE FROM events WHERE {gone}",
    ]
    return [Statement(text, selection.params) for text in sql]


APPS_REMOVED = 8  # index of the statement deleting emptied apps


async def erase(db, selection, chunk=CHUNK, max_chunks=MAX_CHUNKS_PER_CALL):
    """Remove what `selection` matches, chunk by chunk. Returns the payload the admin routes answer.

    `complete` is False when events still match after `max_chunks` chunks: call again.
    """
    events = apps = 0
    complete = False
    for _ in range(max_chunks):
        results = await db.batch(chunk_statements(selection, chunk))
        removed = int(results[-1]["meta"].get("changes", 0))
        events += removed
        apps += int(results[APPS_REMOVED]["meta"].get("changes", 0))
        if removed < chunk:
            complete = True
            break
    return {"success": True, "deleted": {"events": events, "apps": apps}, "complete": complete}
