"""GET /events: raw events, newest first, keyset-paginated on (ts, id).

Every page reads O(page) rows through an index: filtered, through (app_id, session_id, ts), (app_id,
event_name, ts) or (user_id, ts), and without `app_id` the same page is taken from each app in turn (apps x page
rows) and merged. Unfiltered, there is no index on (app_id, ts) (a row written per event less): each name of the
scope's apps is a range of (app_id, event_name, ts), and SQLite merges those ranges newest first (a compound
SELECT with ORDER BY and LIMIT is a merge of ordered ranges that stops at the LIMIT; D1 allows 5 ranges per
compound, so compounds of compounds), so a page reads about a page of rows per 5 names, plus a seek per name.
A page is bounded by bytes as well as rows: events carry up to 10 KB of properties, and 1,000 of them would be a
10 MB body.
"""
import json

import debug_apps
from api import cursor as cursors
from api.params import Scope, int_param, text_param
from api.web import load_stored_json, ok
from rollups import purge
from rollups.raw_events import EVENT_APPS, event_names
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


# An unfiltered page: D1 allows 5 terms per compound SELECT, so the names' ranges merge in a tree of compounds
# of at most 5 (each reads up to a page of rows, then its parent merges the pages: about names / 5 pages read).
# Past MAX_MERGED names (a statement's text stays under D1's 100 KB), each name gives its own page and the newest
# of those are kept (names x page rows read: names per app and apps per deployment are capped, api/caps.py).
COMPOUND_TERMS = 5
MAX_MERGED = 300


def chosen_index(filtered):
    """The index that reads one page for these filters, None for none (unfiltered: name by name, see
    `unfiltered_pages`). Named, not left to the planner: D1 keeps no statistics, and SQLite then preferred a
    wider index for ?event=, reading the whole range."""
    if "user_id" in filtered:
        return "events_user_ts"
    if "session_id" in filtered:
        return "events_app_session"
    if "event" in filtered:
        return "events_app_name"
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
    columns = ", ".join(f"events.{name}" for name in COLUMN_NAMES)
    # A running sum streams under LIMIT; COUNT(*) OVER () would not (it made D1 read the whole range).
    return (f"""SELECT * FROM (
  SELECT {columns}, {ROW_BYTES} AS row_bytes, SUM({ROW_BYTES}) OVER ({ORDER} ROWS UNBOUNDED PRECEDING) AS bytes_through
  FROM """ + source + Sql(f""" {ORDER} LIMIT ?)
WHERE bytes_through - row_bytes < ?""", [take, MAX_PAGE_BYTES]))


def page_sql(scope, where, filtered, take):
    """The newest `take` events matching a filter, read through its index (`chosen_index`)."""
    index = chosen_index(filtered)
    if scope.app_id is not None or index == "events_user_ts":
        # One app, or (user_id, ts), which already spans apps: one range of one index.
        source = f"events INDEXED BY {index} WHERE " + where + scope.app_filter("app_id")
    else:
        # One page per app through that app's part of the index, then the newest of those: apps x page
        # rows, never the whole range. Release apps, or their debug twins.
        source = (f"{EVENT_APPS} AS apps CROSS JOIN events ON " + debug_apps.condition("apps.app_id", scope.debug)
                  + f" AND events.id IN (SELECT id FROM events INDEXED BY {index} "
                  "WHERE app_id = apps.app_id AND " + where + Sql(" ORDER BY ts DESC, id DESC LIMIT ?)", [take]))
    return budgeted(source, take)


def names_sql(scope):
    """Every (app_id, event_name) of the scope with raw events: one app, or the release apps (or debug twins)."""
    if scope.app_id is not None:
        apps = Sql("(SELECT ? AS app_id)", [scope.app_id])
    else:
        apps = f"(SELECT app_id FROM {EVENT_APPS} AS a WHERE " + debug_apps.condition("a.app_id", scope.debug) + ")"
    return "SELECT app_id, event_name FROM " + event_names(apps)


def numbered(fragment, first):
    """`fragment`'s text with its `?` marks numbered from `first` (?NNN, which D1 binds by position), so that
    many ranges share one copy of its values. Only for fixed SQL text: values are never in it."""
    pieces = fragment.text.split("?")
    assert len(pieces) == len(fragment.params) + 1
    return "".join(piece + (f"?{first + i}" if i < len(pieces) - 1 else "") for i, piece in enumerate(pieces))


def merge_tree(terms, limit):
    """SELECTs of (id, ts), each newest first -> one compound of them under `limit`, newest first: groups of
    COMPOUND_TERMS merged, then groups of those, as D1 refuses bigger compounds. SQLite merges a compound with
    ORDER BY (no sort) and stops at its LIMIT."""
    order = f" ORDER BY ts DESC, id DESC LIMIT {limit}"
    while True:
        groups = [terms[i:i + COMPOUND_TERMS] for i in range(0, len(terms), COMPOUND_TERMS)]
        if len(groups) == 1:
            return " UNION ALL ".join(groups[0]) + order
        terms = [f"SELECT id, ts FROM ({' UNION ALL '.join(group)}{order})" for group in groups]


def merged_page_sql(where, names, take):
    """The newest `take` events matching `where` over these (app_id, event_name) pairs: each pair a range of
    events_app_name, newest first, merged by SQLite. The pairs are one bound JSON value (D1 binds at most 100),
    each range's app and name read from it: a constant, so the range is an index seek."""
    condition = numbered(where, 2)
    take_mark = f"?{len(where.params) + 2}"
    ranges = [f"SELECT id, ts FROM events INDEXED BY events_app_name WHERE app_id = json_extract(?1, '$[{i}][0]') "
              f"AND event_name = json_extract(?1, '$[{i}][1]') AND {condition}" for i in range(len(names))]
    source = Sql(f"events WHERE events.id IN (SELECT id FROM ({merge_tree(ranges, take_mark)}))",
                 [json.dumps(names, ensure_ascii=False), *where.params, take])
    # `budgeted` adds anonymous marks after the numbered ones: SQLite numbers each one past the largest so far.
    return budgeted(source, take)


def each_name_page_sql(where, names_query, take):
    """Past MAX_MERGED names: a page per name through its range, then the newest of those (names x page rows)."""
    source = ("(" + names_query + ") AS n CROSS JOIN events ON events.id IN (SELECT id FROM events INDEXED BY "
              "events_app_name WHERE app_id = n.app_id AND event_name = n.event_name AND " + where
              + Sql(" ORDER BY ts DESC, id DESC LIMIT ?)", [take]))
    return budgeted(source, take)


async def unfiltered_pages(db, scope, where, take):
    """The statements' rows for an unfiltered page: the scope's names first, then their ranges merged."""
    names_query = names_sql(scope)
    names = [(row["app_id"], row["event_name"]) for row in await db.query(names_query)]
    if not names:
        return []
    if len(names) > MAX_MERGED:
        return await db.query(each_name_page_sql(where, names_query, take))
    return await db.query(merged_page_sql(where, names, take))


def within_budget(rows, limit):
    """The page: rows in order up to `limit` and MAX_PAGE_BYTES, never empty when there are rows."""
    fitting = sum(1 for row in rows if row["bytes_through"] <= MAX_PAGE_BYTES)
    return rows[:min(limit, max(1, fitting))]


async def list_events(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    limit = int_param(ctx.query, "limit", 50, 1, MAX_LIMIT)
    where, filtered = event_filters(ctx, scope)
    if chosen_index(filtered) is None:
        found = await unfiltered_pages(ctx.db, scope, where, limit + 1)
    else:
        found = await ctx.db.query(page_sql(scope, where, filtered, limit + 1))
    candidates = sorted(found, key=lambda row: (row["ts"], row["id"]), reverse=True)
    rows = within_budget(candidates, limit)
    next_cursor = cursors.encode(rows[-1]["ts"], rows[-1]["id"]) if len(candidates) > len(rows) else None
    return ok({"range": scope.as_json(), "events": [event_json(r) for r in rows], "next_cursor": next_cursor,
               **await purge.raw_since_json(ctx.db)})
