"""POST /track: validate, then store events and their rollups in one D1 transaction."""
import json

from d1 import Statement
from errors import UnsupportedMediaType, detail
from validation import check_body_size, parse_track_body
from web import ok

# Every statement reads the batch from one bound JSON parameter (json_each), so a batch of any
# size is a fixed number of statements, well inside D1's 100-parameter and per-invocation limits.
_FIELDS = ("event_id", "app_id", "event", "session_id", "user_id", "ts", "hour",
           "received_at", "platform", "app_version", "country", "properties")
_BATCH = "SELECT " + ", ".join(f"json_extract(value, '$.{f}') AS {f}" for f in _FIELDS) + " FROM json_each(?1)"

# Events whose event_id is already stored are retries: rollups must not count them again.
# The rollup statements run before the insert, inside the same transaction.
_FRESH = f"""WITH batch AS ({_BATCH}),
fresh AS (SELECT * FROM batch b WHERE b.event_id IS NULL OR NOT EXISTS (
  SELECT 1 FROM events e WHERE e.app_id = b.app_id AND e.event_id = b.event_id))
"""

ROLLUP_SQL = [
    _FRESH + """INSERT INTO hourly_events (hour, app_id, event_name, events)
SELECT hour, app_id, event, COUNT(*) FROM fresh WHERE true GROUP BY hour, app_id, event
ON CONFLICT (hour, app_id, event_name) DO UPDATE SET events = events + excluded.events""",
    _FRESH + """INSERT INTO hourly_sessions (hour, app_id, session_id, user_id, events)
SELECT hour, app_id, session_id, MAX(user_id), COUNT(*) FROM fresh WHERE true GROUP BY hour, app_id, session_id
ON CONFLICT (hour, app_id, session_id) DO UPDATE SET events = events + excluded.events,
  user_id = COALESCE(hourly_sessions.user_id, excluded.user_id)""",
    _FRESH + """INSERT INTO hourly_event_sessions (hour, app_id, event_name, session_id, events)
SELECT hour, app_id, event, session_id, COUNT(*) FROM fresh WHERE true GROUP BY hour, app_id, event, session_id
ON CONFLICT (hour, app_id, event_name, session_id) DO UPDATE SET events = events + excluded.events""",
    _FRESH + """INSERT INTO apps (app_id, first_seen, last_seen, events)
SELECT app_id, MIN(ts), MAX(ts), COUNT(*) FROM fresh WHERE true GROUP BY app_id
ON CONFLICT (app_id) DO UPDATE SET first_seen = MIN(apps.first_seen, excluded.first_seen),
  last_seen = MAX(apps.last_seen, excluded.last_seen), events = apps.events + excluded.events""",
]

INSERT_SQL = f"""INSERT INTO events (event_id, app_id, event_name, session_id, user_id, ts, received_at,
  platform, app_version, country, properties)
SELECT event_id, app_id, event, session_id, user_id, ts, received_at, platform, app_version, country, properties
FROM ({_BATCH}) WHERE true
ON CONFLICT DO NOTHING"""


def check_content_type(headers):
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    # A missing type is accepted (some HTTP clients omit it); a wrong one is a client bug.
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, not {content_type[:60]}",
            [detail(None, "content-type", "send Content-Type: application/json")],
        )


def check_declared_length(headers):
    length = headers.get("content-length")
    if length and length.isdigit():
        check_body_size(int(length))


async def post_track(ctx):
    check_content_type(ctx.request.headers)
    check_declared_length(ctx.request.headers)
    text = await ctx.request.text()
    rows, batch_duplicates = parse_track_body(text, ctx.now_ms, ctx.request.cf_country)
    payload = json.dumps(rows)
    statements = [Statement(sql, [payload]) for sql in ROLLUP_SQL] + [Statement(INSERT_SQL, [payload])]
    results = await ctx.db.batch(statements)
    stored = int(results[-1]["meta"].get("changes", 0))
    duplicates = batch_duplicates + len(rows) - stored
    return ok({"success": True, "count": stored, "duplicates": duplicates})
