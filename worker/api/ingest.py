"""Storing normalised event rows (api/validation.py): the one insert that `/track` and the Aptabase protocol
(`routes/aptabase.py`) share. Takes the database as a parameter, so it imports no runtime."""
import json

from api import caps
from d1 import D1Error
from sql import Sql

# Ingest writes the raw events only, in one statement per ~700 KB of rows: rollups are folded in later
# (rollups/fold.py). Rows travel as one bound JSON parameter (json_each), so a batch of any size stays
# inside D1's 100-parameter limit, and the split keeps each bound string well under D1's 2 MB.
FIELDS = ("event_id", "app_id", "event", "session_id", "user_id", "ts", "received_at",
          "platform", "app_version", "country", "properties", "user_mark")
MAX_PAYLOAD_BYTES = 700 * 1024

# Ids increase with every insert and stay above the fold watermark, even after the newest events
# were deleted: folding relies on "id > folded" meaning "not yet counted".
#
# Exactly once (schema.sql, events_app_session): a retry carries the same app, session, time and event_id, and the
# unique session index refuses it (DO NOTHING names no index: either unique index may refuse a row). One case
# escapes both indexes: an event stamped ahead of the worker's clock was stored at the moment it arrived, in the
# partial index; its retry, once the clock has passed its stamp, keeps the stamp and is no longer in that index.
# NOT EXISTS asks the partial index for such a first copy: one index probe per event with an event_id.
INSERT_SQL = f"""INSERT INTO events (id, event_id, app_id, event_name, session_id, user_id, ts, received_at,
  platform, app_version, country, properties, user_mark)
SELECT base.id + batch.key + 1, {", ".join(f"json_extract(batch.value, '$[{i}]')" for i in range(len(FIELDS)))}
FROM json_each(?) AS batch,
  (SELECT MAX(COALESCE((SELECT MAX(id) FROM events), 0), (SELECT folded FROM fold_state WHERE id = 1)) AS id) AS base
WHERE NOT EXISTS (SELECT 1 FROM events AS stored INDEXED BY events_received_event_id
  WHERE stored.app_id = json_extract(batch.value, '$[1]') AND stored.event_id = json_extract(batch.value, '$[0]')
    AND stored.ts = stored.received_at)
ON CONFLICT DO NOTHING"""


def mark_rows(rows):
    """Rows -> the same rows, each with `user_mark`: 1 on the latest (by time, then by position) of each app, session
    and user, None on the others and on events without a user. A user's sessions are found through these marks
    (rollups/marks.py, which says the rule every writer keeps)."""
    latest = {}
    for position, row in enumerate(rows):
        if row["user_id"] is not None:
            key = (row["app_id"], row["session_id"], row["user_id"])
            if key not in latest or row["ts"] >= rows[latest[key]]["ts"]:
                latest[key] = position
    marked = set(latest.values())
    return [{**row, "user_mark": 1 if position in marked else None} for position, row in enumerate(rows)]


def ingest_triples(rows):
    """[app_id, session_id, user_id, latest ts] of each app, session and user of the marked rows: INGEST_FIX_SQL's
    one bound JSON value."""
    return [[row["app_id"], row["session_id"], row["user_id"], row["ts"]] for row in rows if row["user_mark"]]


# A mark that ON CONFLICT refused (its event was stored already: a retry) leaves the request's other events of that
# session and user uncovered, unless an earlier request marked as late: then the latest stored event of the session
# and user is marked. One probe per app, session and user, of the session's events from the request's latest on
# (through the session index: the user's marks at or after that time could be many, a session's events there are
# the request's few); nothing is written when the insert's marks went in.
INGEST_FIX_SQL = """UPDATE events SET user_mark = 1 WHERE id IN (
  SELECT (SELECT e.id FROM events AS e INDEXED BY events_app_session WHERE e.app_id = t.app_id
    AND e.session_id = t.session_id AND e.user_id = t.user_id ORDER BY e.ts DESC, e.id DESC LIMIT 1)
  FROM (SELECT json_extract(value, '$[0]') AS app_id, json_extract(value, '$[1]') AS session_id,
    json_extract(value, '$[2]') AS user_id, json_extract(value, '$[3]') AS ts FROM json_each(?)) AS t
  WHERE NOT EXISTS (SELECT 1 FROM events AS m INDEXED BY events_app_session WHERE m.app_id = t.app_id
    AND m.session_id = t.session_id AND m.ts >= t.ts AND m.user_id = t.user_id AND m.user_mark = 1))"""


def payloads(rows):
    """Rows -> JSON arrays of rows, each under MAX_PAYLOAD_BYTES of UTF-8 (non-ASCII is not escaped).
    One dump for the whole batch in the common case; a batch over the limit is split in halves."""
    text = json.dumps([[row[f] for f in FIELDS] for row in rows], ensure_ascii=False, allow_nan=False)
    size = len(text) if text.isascii() else len(text.encode("utf-8"))
    if size <= MAX_PAYLOAD_BYTES or len(rows) == 1:
        return [text]
    middle = len(rows) // 2
    return payloads(rows[:middle]) + payloads(rows[middle:])


async def store(db, rows):
    """Insert the rows (in one transaction) -> how many were stored (a repeated event_id is not). A batch that
    names a new app or a new event name past the deployment's caps (api/caps.py) stores nothing and raises."""
    if not rows:
        return 0
    rows = mark_rows(rows)
    chunks = payloads(rows)
    inserts = [Sql(INSERT_SQL, [payload]) for payload in chunks]
    triples = ingest_triples(rows)
    fix = [Sql(INGEST_FIX_SQL, [json.dumps(triples, ensure_ascii=False)])] if triples else []
    # The caps' guard goes first in the same batch: one subrequest, and no insert survives a refusal.
    try:
        results = await db.batch([caps.guard(rows)] + inserts + fix)
    except D1Error as error:
        setting = caps.refused(error)
        if setting is None:
            raise
        caps.raise_refusal(setting, await db.first(caps.diagnosis(rows, setting)), rows)
    return sum(int(result["meta"].get("changes", 0)) for result in results[1:1 + len(inserts)])
