"""GET /events: raw events, newest first, keyset-paginated on (ts, id).

Every page reads O(page) rows through an index: with `app_id`, through (app_id, ts), (app_id, session_id,
ts), (app_id, event_name, ts) or (user_id, ts); without it, the same page is taken from each app in turn
(apps x page rows) and merged. A page is bounded by bytes as well as rows: events carry up to 10 KB of
properties, and 1,000 of them would be a 10 MB body.
"""
import debug_apps
from api import cursor as cursors
from api.params import Scope, int_param, text_param
from api.web import load_stored_json, ok
from rollups import purge
from rollups.raw_events import EVENT_APPS
from sql import Sql
from tz import zones
from tz.timeutil import MS, to_iso

COLUMN_NAMES = ("id", "event_id", "app_id", "event_name", "session_id", "user_id", "ts", "received_at",
                "platform", "app_version", "country", "properties")
# Optional equality filters: query parameter -> column. Fixed SQL, values bound.
FILTERS = {"event": "event_name", "session_id": "session_id", "user_id": "user_id"}
MAX_LIMIT = 1000
# A page stops before this many bytes of event JSON (estimated in SQL: the stored text plus a fixed
# allowance for names and timestamps), and always holds at least one event.
MAX_PAGE_BYTES = 1024 * 1024
ROW_BYTES = ("(300 + length(CAST(events.event_name || events.app_id || events.session_id || "
             "COALESCE(events.user_id, '') || COALESCE(events.event_id, '') || COALESCE(events.platform, '') || "
             "COALESCE(events.app_version, '') || COALESCE(events.properties, '') AS BLOB)))")


def event_json(row):
    return {
        "id": row["id"],
        "event_id": row["event_id"],
        "event": row["event_name"],
        "app_id": debug_apps.release_id(row["app_id"]),  # a debug read says so in its range
        "session_id": row["session_id"],
        "user_id": row["user_id"],
        "timestamp": to_iso(row["ts"]),
        "received_at": to_iso(row["received_at"]),
        "platform": row["platform"],
        "app_version": row["app_version"],
        "country": row["country"],
        "properties": load_stored_json(row["properties"]) if row["properties"] else None,
    }


def chosen_index(filtered):
    """The index that reads one page for these filters. Named, not left to the planner: D1 keeps no
    statistics, and SQLite then preferred (app_id, ts) for ?event=, reading the whole range."""
    if "user_id" in filtered:
        return "events_user_ts"
    if "session_id" in filtered:
        return "events_app_session"
    if "event" in filtered:
        return "events_app_name"
    return "events_app_ts"


def event_filters(ctx, scope):
    """Conditions on `events` other than the app: range, equality filters, cursor. -> (Sql, names filtered)."""
    where = [Sql("ts >= ? AND ts < ?", [scope.range.start * MS, scope.range.end * MS])]
    filtered = set()
    for name, column in FILTERS.items():
        value = text_param(ctx.query, name)
        if value is not None:
            where.append(Sql(f"{column} = ?", [value]))
            filtered.add(name)
    after = text_param(ctx.query, "cursor", max_length=200)
    if after is not None:
        ts, row_id = cursors.decode(after)
        # `ts <= ?` alone bounds the index range; the OR then only breaks ties within one millisecond.
        where.append(Sql("ts <= ? AND (ts < ? OR id < ?)", [ts, ts, row_id]))
    return Sql.join(" AND ", where), filtered


def page_sql(scope, where, filtered, take):
    """The newest `take` events matching, read through one index, as far as MAX_PAGE_BYTES: every row
    that starts below the budget, so the one that crosses it says whether more remain."""
    index = chosen_index(filtered)
    if scope.app_id is not None or index == "events_user_ts":
        # One app, or (user_id, ts), which already spans apps: one range of one index.
        source = f"events INDEXED BY {index} WHERE " + where + scope.app_filter("app_id")
    else:
        # One page per app through that app's part of the index, then the newest of those: apps x page
        # rows, never the whole range (there is no index on ts alone). Release apps, or their debug twins.
        source = (f"{EVENT_APPS} AS apps CROSS JOIN events ON " + debug_apps.condition("apps.app_id", scope.debug)
                  + f" AND events.id IN (SELECT id FROM events INDEXED BY {index} "
                  "WHERE app_id = apps.app_id AND " + where + Sql(" ORDER BY ts DESC, id DESC LIMIT ?)", [take]))
    columns = ", ".join(f"events.{name}" for name in COLUMN_NAMES)
    order = "ORDER BY events.ts DESC, events.id DESC"
    # A running sum streams under LIMIT; COUNT(*) OVER () would not (it made D1 read the whole range).
    return (f"""SELECT * FROM (
  SELECT {columns}, {ROW_BYTES} AS row_bytes, SUM({ROW_BYTES}) OVER ({order} ROWS UNBOUNDED PRECEDING) AS bytes_through
  FROM """ + source + Sql(f""" {order} LIMIT ?)
WHERE bytes_through - row_bytes < ?""", [take, MAX_PAGE_BYTES]))


def within_budget(rows, limit):
    """The page: rows in order up to `limit` and MAX_PAGE_BYTES, never empty when there are rows."""
    fitting = sum(1 for row in rows if row["bytes_through"] <= MAX_PAGE_BYTES)
    return rows[:min(limit, max(1, fitting))]


async def list_events(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    limit = int_param(ctx.query, "limit", 50, 1, MAX_LIMIT)
    where, filtered = event_filters(ctx, scope)
    page = page_sql(scope, where, filtered, limit + 1)
    candidates = sorted(await ctx.db.query(page), key=lambda row: (row["ts"], row["id"]), reverse=True)
    rows = within_budget(candidates, limit)
    next_cursor = cursors.encode(rows[-1]["ts"], rows[-1]["id"]) if len(candidates) > len(rows) else None
    return ok({"range": scope.as_json(), "events": [event_json(r) for r in rows], "next_cursor": next_cursor,
               **await purge.raw_since_json(ctx.db)})
