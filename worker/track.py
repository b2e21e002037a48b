"""POST /track: validate, then store the events in one D1 transaction."""
import json

from d1 import Statement
from errors import UnsupportedMediaType, detail
from validation import check_body_size, parse_track_body
from web import ok

# Ingest writes the raw events only, in one statement per ~700 KB of rows: rollups are folded in later
# (worker/fold.py). Rows travel as one bound JSON parameter (json_each), so a batch of any size stays
# inside D1's 100-parameter limit, and the split keeps each bound string well under D1's 2 MB.
FIELDS = ("event_id", "app_id", "event", "session_id", "user_id", "ts", "received_at",
          "platform", "app_version", "country", "properties")
MAX_PAYLOAD_BYTES = 700 * 1024

# Ids increase with every insert and stay above the fold watermark, even after the newest events
# were deleted: folding relies on "id > folded" meaning "not yet counted".
INSERT_SQL = f"""INSERT INTO events (id, event_id, app_id, event_name, session_id, user_id, ts, received_at,
  platform, app_version, country, properties)
SELECT base.id + batch.key + 1, {", ".join(f"json_extract(batch.value, '$[{i}]')" for i in range(len(FIELDS)))}
FROM json_each(?1) AS batch,
  (SELECT MAX(COALESCE((SELECT MAX(id) FROM events), 0), (SELECT folded FROM fold_state WHERE id = 1)) AS id) AS base
WHERE true
ON CONFLICT (app_id, event_id) WHERE event_id IS NOT NULL DO NOTHING"""


def payloads(rows):
    """Rows -> JSON arrays of rows, each under MAX_PAYLOAD_BYTES of UTF-8 (non-ASCII is not escaped)."""
    chunks, current, size = [], [], 2
    for row in rows:
        text = json.dumps([row[f] for f in FIELDS], ensure_ascii=False, allow_nan=False)
        length = len(text.encode("utf-8")) + 1
        if current and size + length > MAX_PAYLOAD_BYTES:
            chunks.append("[" + ",".join(current) + "]")
            current, size = [], 2
        current.append(text)
        size += length
    if current:
        chunks.append("[" + ",".join(current) + "]")
    return chunks


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
    results = await ctx.db.batch([Statement(INSERT_SQL, [payload]) for payload in payloads(rows)])
    stored = sum(int(result["meta"].get("changes", 0)) for result in results)
    duplicates = batch_duplicates + len(rows) - stored
    return ok({"success": True, "count": stored, "duplicates": duplicates})
