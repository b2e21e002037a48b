"""Storing normalised event rows (api/validation.py): the one insert that `/track` and the Aptabase protocol
(`routes/aptabase.py`) share. Takes the database as a parameter, so it imports no runtime."""
import json

from api import caps, event_ids, session_cap
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
# Exactly once (schema.sql): a retry carries the same app, session, time and event_id. Its first copy lies in a span
# of that session that ends at or after its time (rollups/spans.py): `stored` reads the batch's sessions' spans
# that end at or after each session's earliest new time, once per request (live traffic's new events come after
# every stored span: an index seek that finds nothing is billed nothing). One case escapes it: an event stamped
# ahead of the worker's clock was stored at the moment it arrived, in the partial unique index
# events_received_event_id; its retry, once the clock has passed its stamp, keeps the stamp, and another time than
# its copy. NOT EXISTS asks that index too: one probe per event with an event_id. Both are asked before the insert,
# not left to ON CONFLICT: each session's head (its latest new event) must be a row that goes in, as must the first id
# of its span. Rows come sorted by app, session and time (`in_spans`): each session's new rows take consecutive ids.
# Event ids are stored compactly (api/event_ids.py); one an earlier version stored as text is found as sent.
# Reads ~8 rows per event (the window and the materialized `stored` are billed as rows read; the batch is parsed
# twice instead, NOT MATERIALIZED: 207 rows read for 25 events against 232), a retry ~6.
def field_sql(position, name):
    """SQL: field `name` of a bound row; the event_id in its stored form (api/event_ids.py) and as sent."""
    value = f"json_extract(batch.value, '$[{position}]')"
    if name == "event_id":
        return f"{event_ids.stored(value)} AS event_id, {value} AS sent_event_id"
    return f"{value} AS {name}"


FIELD_SQL = ", ".join(field_sql(position, name) for position, name in enumerate(FIELDS))
INSERT_SQL = f"""WITH batch_rows AS NOT MATERIALIZED (SELECT batch.key AS key, {FIELD_SQL} FROM json_each(?) AS batch),
stored AS MATERIALIZED (SELECT s.app_id, s.session_id, s.ts, s.event_id
  FROM (SELECT app_id, session_id, MIN(ts) AS since FROM batch_rows WHERE event_id IS NOT NULL GROUP BY 1, 2) AS b
  CROSS JOIN session_events AS s ON s.app_id = b.app_id AND s.session_id = b.session_id AND s.span_ts >= b.since
  WHERE s.event_id IS NOT NULL)
INSERT INTO events (id, event_id, app_id, event_name, session_id, user_id, ts, received_at,
  platform, app_version, country, properties, user_mark, span_first)
SELECT base.id + n.key + 1, n.event_id, n.app_id, n.event, n.session_id, n.user_id, n.ts, n.received_at,
  n.platform, n.app_version, n.country, n.properties,
  CASE WHEN n.key = n.last_key AND n.user_id IS NOT NULL THEN 1 ELSE n.user_mark END,
  CASE WHEN n.key = n.last_key THEN base.id + n.first_key + 1 END
FROM (SELECT r.*, MIN(r.key) OVER spans AS first_key, MAX(r.key) OVER spans AS last_key FROM batch_rows AS r
  WHERE NOT EXISTS (SELECT 1 FROM stored WHERE stored.app_id = r.app_id AND stored.session_id = r.session_id
      AND stored.ts = r.ts AND stored.event_id IN (r.event_id, r.sent_event_id))
    AND NOT EXISTS (SELECT 1 FROM events AS first INDEXED BY events_received_event_id
      WHERE first.app_id = r.app_id AND first.event_id = r.event_id AND first.ts = first.received_at)
    AND NOT EXISTS (SELECT 1 FROM events AS first INDEXED BY events_received_event_id
      WHERE first.app_id = r.app_id AND first.event_id = r.sent_event_id AND first.ts = first.received_at)
  WINDOW spans AS (PARTITION BY r.app_id, r.session_id)) AS n,
  (SELECT MAX(COALESCE((SELECT MAX(id) FROM events), 0), (SELECT folded FROM fold_state WHERE id = 1)) AS id) AS base
WHERE true
ON CONFLICT DO NOTHING"""


def in_spans(rows):
    """Rows -> the same rows by app, session and time (then as sent): each session's rows of a request take
    consecutive ids, its latest the last of them (the span's head, rollups/spans.py)."""
    order = sorted(range(len(rows)), key=lambda i: (rows[i]["app_id"], rows[i]["session_id"], rows[i]["ts"], i))
    return [rows[i] for i in order]


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
# (through the session's spans that end at or after it: the user's marks at or after that time could be many, a
# session's events there are the request's few); nothing is written when the insert's marks went in. Most marks are
# heads (a head with a user is marked, rollups/spans.py): the heads alone are asked first, an index entry and a row
# each, and the spans' events only where no head answers (29 -> ~3 rows read for a request of one session and user).
INGEST_FIX_SQL = """UPDATE events SET user_mark = 1 WHERE id IN (
  SELECT (SELECT e.id FROM session_events AS e WHERE e.app_id = t.app_id AND e.session_id = t.session_id
    AND e.span_ts >= t.ts AND e.user_id = t.user_id ORDER BY e.ts DESC, e.id DESC LIMIT 1)
  FROM (SELECT json_extract(value, '$[0]') AS app_id, json_extract(value, '$[1]') AS session_id,
    json_extract(value, '$[2]') AS user_id, json_extract(value, '$[3]') AS ts FROM json_each(?)) AS t
  WHERE NOT EXISTS (SELECT 1 FROM events AS h INDEXED BY events_session_spans WHERE h.app_id = t.app_id
      AND h.session_id = t.session_id AND h.ts >= t.ts AND h.span_first IS NOT NULL AND h.user_id = t.user_id
      AND h.user_mark = 1)
    AND NOT EXISTS (SELECT 1 FROM session_events AS m WHERE m.app_id = t.app_id AND m.session_id = t.session_id
      AND m.span_ts >= t.ts AND m.ts >= t.ts AND m.user_id = t.user_id AND m.user_mark = 1))"""


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
    rows = mark_rows(in_spans(rows))
    chunks = payloads(rows)
    inserts = [Sql(INSERT_SQL, [payload]) for payload in chunks]
    triples = ingest_triples(rows)
    fix = [Sql(INGEST_FIX_SQL, [json.dumps(triples, ensure_ascii=False)])] if triples else []
    # The guards go first in the same batch (the deployment's caps, then the session cap): one subrequest, and no
    # insert survives a refusal.
    guards = [caps.guard(rows), session_cap.guard(rows)]
    try:
        results = await db.batch(guards + inserts + fix)
    except D1Error as error:
        if session_cap.refused(error):
            session_cap.raise_refusal(await db.query(session_cap.diagnosis(rows)), rows)
        setting = caps.refused(error)
        if setting is None:
            raise
        caps.raise_refusal(setting, await db.first(caps.diagnosis(rows, setting)), rows)
    return sum(int(result["meta"].get("changes", 0)) for result in results[len(guards):len(guards) + len(inserts)])
