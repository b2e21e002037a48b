"""GET /events: raw events, newest first, keyset-paginated on (ts, id).

Every page reads O(page) rows through an index. Filtered by name, one range of (app_id, event_name, ts); by session,
the session's spans (rollups/spans.py: every event of the session, sorted by time; a session holds few); without
`app_id`, the same page is taken from each app in turn (apps x page rows) and merged. Unfiltered, a page merges
many ranges: there is no index on (app_id, ts) (each was a row written per event): each name of the scope's apps is
a range of (app_id, event_name, ts), and SQLite merges those ranges newest first (a compound SELECT with ORDER BY
and LIMIT is a merge of ordered ranges that stops at the LIMIT; D1 allows 5 terms per compound, so compounds of
compounds): a page reads about a page of rows per 5 ranges, plus a seek per range. By user, the sessions the user's
marks name (rollups/marks.py), read whole through their spans (there is no index on (user_id, ts)). A page is bounded by bytes as well as rows: events carry up to 10 KB of properties, and
1,000 of them would be a 10 MB body.
"""
import json

import debug_apps
from api import cursor as cursors
from api import event_ids
from api.params import Scope, int_param, text_param
from api.web import load_stored_json, ok_with_rows
from rollups import marks, purge
from rollups.ranges import BY_NAME, BY_SESSION, MAX_MERGED, each_range_ids, newest_ids
from rollups.raw_events import EVENT_APPS, event_names
from sql import Sql
from tz import zones
from tz.timeutil import MS, iso_ms_sql

# Optional equality filters: query parameter -> column. Fixed SQL, values bound.
FILTERS = {"event": "event_name", "session_id": "session_id", "user_id": "user_id"}
MAX_LIMIT = 1000
# A page stops before this many bytes of event JSON (estimated in SQL: the stored text plus a fixed
# allowance for names and timestamps), and always holds at least one event.
MAX_PAGE_BYTES = 1024 * 1024
# Event ids are stored compactly (api/event_ids.py): a page shows them as sent.
SHOWN_EVENT_ID = event_ids.shown("events.event_id")
ROW_BYTES = ("(300 + length(CAST(events.event_name || events.app_id || events.session_id || "
             f"COALESCE(events.user_id, '') || COALESCE({SHOWN_EVENT_ID}, '') || COALESCE(events.platform, '') || "
             "COALESCE(events.app_version, '') || COALESCE(events.properties, '') AS BLOB)))")


# An event as a page shows it, built by D1 (json_object) and spliced into the body as text (api/web.ok_with_rows):
# building and serialising 50 dicts cost Pyodide ~7 ms a page (issue 16: per-row work goes to SQL). Properties stored
# as standard JSON are embedded as they are (integers past 64 bits were stored as digits, so they come back as sent);
# rows stored before non-finite numbers were refused (`Infinity`, `NaN`) fail json_valid(..., 1), are embedded as
# null and come back in `odd_properties`, which Python reads as it always did (event_json_of).
EVENT_JSON = ("json_object('id', events.id, 'event_id', " + SHOWN_EVENT_ID + ", 'event', events.event_name, "
              "'app_id', " + debug_apps.release_id_sql("events.app_id") + ", "  # a debug read says so in its range
              "'session_id', events.session_id, 'user_id', events.user_id, "
              "'timestamp', " + iso_ms_sql("events.ts") + ", 'received_at', " + iso_ms_sql("events.received_at") + ", "
              "'platform', events.platform, 'app_version', events.app_version, 'country', events.country, "
              "'properties', CASE WHEN json_valid(events.properties, 1) THEN json(events.properties) END)")
ODD_PROPERTIES = ("CASE WHEN events.properties IS NOT NULL AND NOT json_valid(events.properties, 1) "
                  "THEN events.properties END")


def event_json_of(row):
    """A page row -> its event's JSON text. Odd properties that are not JSON at all (no version stored such text)
    are shown as the text, rather than failing the page."""
    if row["odd_properties"] is None:
        return row["event"]
    event = json.loads(row["event"])
    try:
        event["properties"] = load_stored_json(row["odd_properties"])
    except ValueError:
        event["properties"] = row["odd_properties"]
    return json.dumps(event, ensure_ascii=False, allow_nan=False)


# A user id sent in more requests and sessions than this is read from its newest marks (see `sessions_sql`).
MAX_USER_MARKS = 10_000


def chosen_source(filtered):
    """Where one page for these filters is read (rollups/ranges.py: an index, or a session's spans): one range of it
    (`page_sql`), or for a user or for none, the user's sessions read whole or a range per name, merged. Named, not left to the planner: D1 keeps no
    statistics, and SQLite then preferred a wider index for ?event=, reading the whole range."""
    if "user_id" in filtered or "session_id" in filtered:
        return BY_SESSION
    if "event" in filtered:
        return BY_NAME
    return None


def event_filters(ctx, scope):
    """Conditions on `events` other than the app: range, equality filters, cursor. -> (Sql, names filtered)."""
    # One upper bound on ts, the range's end or the cursor's, whichever is lower: given both (`ts < ? AND ts <= ?`),
    # SQLite bounded the index range by the range's end, so each later page read every row of the pages before it.
    last = scope.range.end * MS - 1
    after = text_param(ctx.query, "cursor", max_length=200)
    cursor = cursors.decode(after) if after is not None else None
    where = [Sql("ts >= ? AND ts <= ?", [scope.range.start * MS, last if cursor is None else min(last, cursor[0])])]
    filtered = set()
    for name, column in FILTERS.items():
        value = text_param(ctx.query, name)
        if value is not None:
            where.append(Sql(f"{column} = ?", [value]))
            filtered.add(name)
    if cursor is not None:
        # The OR only breaks ties within the cursor's millisecond.
        where.append(Sql("(ts < ? OR id < ?)", [cursor[0], cursor[1]]))
    return Sql.join(" AND ", where), filtered


ORDER = "ORDER BY events.ts DESC, events.id DESC"


def budgeted(source, take):
    """The newest `take` events of `source` (Sql after FROM), as far as MAX_PAGE_BYTES: every row that starts
    below the budget, so the one that crosses it says whether more remain."""
    columns = f"events.id, events.ts, {EVENT_JSON} AS event, {ODD_PROPERTIES} AS odd_properties"
    # A running sum streams under LIMIT; COUNT(*) OVER () would not (it made D1 read the whole range).
    return (f"""SELECT * FROM (
  SELECT {columns}, {ROW_BYTES} AS row_bytes, SUM({ROW_BYTES}) OVER ({ORDER} ROWS UNBOUNDED PRECEDING) AS bytes_through
  FROM """ + source + Sql(f""" {ORDER} LIMIT ?)
WHERE bytes_through - row_bytes < ?""", [take, MAX_PAGE_BYTES]))


def page_sql(scope, where, filtered, take):
    """The newest `take` events matching a session or name filter, through its index or spans (`chosen_source`)."""
    chosen = chosen_source(filtered)
    if scope.app_id is not None:
        # One app: one range of one index, or one session's spans.
        source = f"{chosen.source('events')} WHERE " + where + scope.app_filter("app_id")
    else:
        # One page per app through that app's part of the index, then the newest of those: apps x page
        # rows, never the whole range. Release apps, or their debug twins.
        source = (f"{EVENT_APPS} AS apps CROSS JOIN events ON " + debug_apps.condition("apps.app_id", scope.debug)
                  + f" AND events.id IN (SELECT id FROM {chosen.source()} "
                  "WHERE app_id = apps.app_id AND " + where + Sql(" ORDER BY ts DESC, id DESC LIMIT ?)", [take]))
    return budgeted(source, take)


def names_sql(scope):
    """Every (app_id, event_name) of the scope with raw events: one app, or the release apps (or debug twins)."""
    if scope.app_id is not None:
        apps = Sql("(SELECT ? AS app_id)", [scope.app_id])
    else:
        apps = f"(SELECT app_id FROM {EVENT_APPS} AS a WHERE " + debug_apps.condition("a.app_id", scope.debug) + ")"
    return "SELECT app_id, event_name FROM " + event_names(apps)


def sessions_sql(scope, user_id):
    """The (app_id, session_id) of the user's sessions in the scope marked since the range starts: they hold every
    event of the user from then on (rollups/marks.py). At most MAX_USER_MARKS marks, the newest: they cover every
    event of the user at or after the oldest of them, and a user id sent in more requests and sessions than that
    cannot make a page read more (the page then says it may miss older events)."""
    apps = Sql("m.app_id = ?", [scope.app_id]) if scope.app_id is not None else debug_apps.condition("m.app_id", scope.debug)
    return marks.sessions_of(user_id, scope.range.start * MS, apps, walk=MAX_USER_MARKS)


def merged_page_sql(where, ranges, keys, take):
    """The newest `take` events matching `where` over the ranges of these `keys` (rollups/ranges.py)."""
    # `budgeted` adds anonymous marks after the numbered ones: SQLite numbers each one past the largest so far.
    return budgeted("events WHERE events.id IN (" + newest_ids(ranges, keys, where, take) + ")", take)


def each_key_page_sql(where, ranges, keys_query, take):
    """Past MAX_MERGED keys: a page per range, then the newest of those (keys x page rows)."""
    return budgeted("events WHERE events.id IN (" + each_range_ids(ranges, keys_query, where, take) + ")", take)


async def merged_pages(db, where, ranges, keys_query, take, beside):
    """The rows of a page merged over ranges: their keys first (`keys_query`, in one D1 call with `beside`, a statement
    the page needs anyway), then the ranges. -> (rows, key rows, beside's rows)"""
    first, second = ranges.keys
    keys_result, beside_result = await db.batch([keys_query, beside])
    found, beside_rows = keys_result["rows"], beside_result["rows"]
    keys = [(row[first], row[second]) for row in found]
    if not keys:
        return [], found, beside_rows
    if len(keys) > MAX_MERGED:
        return await db.query(each_key_page_sql(where, ranges, keys_query, take)), found, beside_rows
    return await db.query(merged_page_sql(where, ranges, keys, take)), found, beside_rows


def within_budget(rows, limit):
    """The page: rows in order up to `limit` and MAX_PAGE_BYTES, never empty when there are rows."""
    fitting = sum(1 for row in rows if row["bytes_through"] <= MAX_PAGE_BYTES)
    return rows[:min(limit, max(1, fitting))]


async def list_events(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    limit = int_param(ctx.query, "limit", 50, 1, MAX_LIMIT)
    where, filtered = event_filters(ctx, scope)
    declared = {}
    # How far back raw events reach, read in the same D1 call as the page's first statement (each call costs the
    # worker 1-3 ms of CPU under Pyodide).
    raw_since = Sql(purge.RAW_SINCE_SQL)
    if "user_id" in filtered:
        sessions = sessions_sql(scope, text_param(ctx.query, "user_id"))
        found, walked, since = await merged_pages(ctx.db, where, BY_SESSION, sessions, limit + 1, raw_since)
        if sum(row["marks"] for row in walked) >= MAX_USER_MARKS:
            declared = {"approximate": True, "approximate_figures": ["events"]}
    elif chosen_source(filtered) is None:
        found, _, since = await merged_pages(ctx.db, where, BY_NAME, names_sql(scope), limit + 1, raw_since)
    else:
        page, since_result = await ctx.db.batch([page_sql(scope, where, filtered, limit + 1), raw_since])
        found, since = page["rows"], since_result["rows"]
    candidates = sorted(found, key=lambda row: (row["ts"], row["id"]), reverse=True)
    rows = within_budget(candidates, limit)
    next_cursor = cursors.encode(rows[-1]["ts"], rows[-1]["id"]) if len(candidates) > len(rows) else None
    return ok_with_rows({"range": scope.as_json(), "next_cursor": next_cursor, **purge.raw_since_json_of(since),
                         **declared}, "events", [event_json_of(row) for row in rows])
