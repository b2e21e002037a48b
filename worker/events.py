"""GET /events: raw events, newest first, keyset-paginated."""
import cursor as cursors
import zones
from filters import Scope, int_param, text_param
from timeutil import MS, to_iso
from web import load_stored_json, ok

COLUMNS = ("id, event_id, app_id, event_name, session_id, user_id, ts, received_at, "
           "platform, app_version, country, properties")
# Optional equality filters: query parameter -> column. Fixed SQL, values bound.
FILTERS = {"event": "event_name", "session_id": "session_id", "user_id": "user_id"}


def event_json(row):
    return {
        "id": row["id"],
        "event_id": row["event_id"],
        "event": row["event_name"],
        "app_id": row["app_id"],
        "session_id": row["session_id"],
        "user_id": row["user_id"],
        "timestamp": to_iso(row["ts"]),
        "received_at": to_iso(row["received_at"]),
        "platform": row["platform"],
        "app_version": row["app_version"],
        "country": row["country"],
        "properties": load_stored_json(row["properties"]) if row["properties"] else None,
    }


async def list_events(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    limit = int_param(ctx.query, "limit", 50, 1, 1000)
    where, params = scope.where(scope.range.start, scope.range.end, column="ts", scale=MS)
    for name, column in FILTERS.items():
        value = text_param(ctx.query, name)
        if value is not None:
            where += f" AND {column} = ?"
            params.append(value)
    after = text_param(ctx.query, "cursor", max_length=200)
    if after is not None:
        ts, row_id = cursors.decode(after)
        where += " AND (ts < ? OR (ts = ? AND id < ?))"
        params += [ts, ts, row_id]
    rows = await ctx.db.query(
        f"SELECT {COLUMNS} FROM events WHERE {where} ORDER BY ts DESC, id DESC LIMIT ?", *params, limit + 1
    )
    next_cursor = cursors.encode(rows[limit - 1]["ts"], rows[limit - 1]["id"]) if len(rows) > limit else None
    return ok({"range": scope.as_json(), "events": [event_json(r) for r in rows[:limit]], "next_cursor": next_cursor})
