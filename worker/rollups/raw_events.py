"""Reads of the raw events: every app they hold, and capped walks.

Capped walks: many small rows (raw events through an index, per-user rollup rows) read for Python to
compute on, for funnels and retention.

A walk's LIMIT sits on the rows walked, before rows without a key (events without a user) are dropped, so it
bounds rows read whatever their share; without ORDER BY the walk streams and stops at the LIMIT. Rows come
back as flat JSON lists, one per column and slice of time, all aggregates of one pass over the walk (an
aggregate over it is not billed again; a GROUP BY or window over it was, up to 4x): converting result rows
costs Pyodide per row and column. Ids of up to 255 characters (a control character is 6 bytes once escaped)
can still make one list pass D1's 2 MB per value (SQLITE_TOOBIG): the walk is then read again as plain rows.
"""
import json

from d1 import D1Error
from limits import MAX_BIND_INT
from sql import Sql

# Every app_id that has raw events, folded or not, for queries that go app by app over `events`.
# The `apps` rollup lists folded apps only. This walks `events_app_name` from one app to the next (a loose
# index scan SQLite does not do on its own): one index seek, so about one row read, per app.
EVENT_APPS = """(WITH RECURSIVE app_ids(app_id) AS (
  SELECT (SELECT MIN(app_id) FROM events INDEXED BY events_app_name)
  UNION ALL SELECT (SELECT MIN(app_id) FROM events INDEXED BY events_app_name WHERE app_id > app_ids.app_id)
    FROM app_ids WHERE app_id IS NOT NULL)
SELECT app_id FROM app_ids WHERE app_id IS NOT NULL)"""


def event_names(apps=EVENT_APPS):
    """Every (app_id, event_name) with raw events, folded or not, of the apps `apps` lists (a subquery with an
    app_id column, text or Sql): a read by time alone goes name by name through events_app_name (app_id,
    event_name, ts), as there is no index on (app_id, ts) (one row written per event less;
    migrations/0012_no_time_index.sql). The same loose index scan as EVENT_APPS: one seek, about one row read,
    per name. `event_names` (the rollup) would list folded names only, and keeps names retention emptied."""
    return ("""(WITH RECURSIVE names(app_id, event_name) AS (
  SELECT a.app_id, (SELECT MIN(e.event_name) FROM events AS e INDEXED BY events_app_name WHERE e.app_id = a.app_id)
    FROM """ + apps + """ AS a
  UNION ALL SELECT n.app_id, (SELECT MIN(e.event_name) FROM events AS e INDEXED BY events_app_name
    WHERE e.app_id = n.app_id AND e.event_name > n.event_name) FROM names AS n WHERE n.event_name IS NOT NULL)
SELECT app_id, event_name FROM names WHERE event_name IS NOT NULL)""")


EVENT_NAMES = event_names()


def oldest_by_name(cutoff_ms, chunk, folded_only=True):
    """Sql: the ids of up to `chunk` events before `cutoff_ms`, name by name through
    events_app_name: there is no index on (app_id, ts). Without ORDER BY each walk streams and stops at the LIMIT:
    about `chunk` rows read, plus a seek per name; in the same order every time it runs on the same events, so every
    statement of a step takes the same chunk. Events without a user mark that are not a span's head go first, then
    marked ones before heads (rollups/marks.py, rollups/spans.py; heads with a user are marked): a mark goes only
    once no unmarked event before the cutoff is left, and a head once no other event before it is (its span's events
    all are: the head is their latest), so the marks and spans left still cover every event left, and a purge writes
    neither. The marked and head events (about one per request and session) are sorted, not walked in two more
    passes: each pass reads every event before the cutoff again, in each statement of the step."""
    folded = " AND e.id <= (SELECT folded FROM fold_state WHERE id = 1)" if folded_only else ""
    walk = (f"FROM {EVENT_NAMES} AS n CROSS JOIN events AS e INDEXED BY events_app_name "
            f"ON e.app_id = n.app_id AND e.event_name = n.event_name AND e.ts < ?{folded} AND ")
    plain = f"SELECT e.id {walk}e.user_mark IS NULL AND e.span_first IS NULL"
    kept = (f"SELECT e.id AS id, e.span_first IS NOT NULL AS head {walk}(e.user_mark IS NOT NULL "
            "OR e.span_first IS NOT NULL) ORDER BY head, id")
    return Sql(f"SELECT id FROM ({plain} UNION ALL SELECT id FROM ({kept})) LIMIT {int(chunk)}",
               [cutoff_ms, cutoff_ms])


MAX_ROWS = 20_000
# Slices of a walk's time range, one JSON text each: 20,000 rows of 100-byte ids would be 2.4 MB in one.
SLICES = 8
MAX_BOUND = MAX_BIND_INT  # above every time column, and still bound as a plain JS number
MAX_PARAM_BYTES = 200_000


def slice_bounds(low, high, slices=SLICES):
    """[low, high) -> `slices` consecutive [from, to) pieces, the first and last open-ended: every row lands in one."""
    step = max(1, -(-(high - low) // slices))
    cuts = [low + i * step for i in range(1, slices)]
    return list(zip([-MAX_BOUND, *cuts], [*cuts, MAX_BOUND]))


async def capped_rows(db, walk, columns, refuse=None, split=None):
    """The rows of `walk` (Sql selecting `columns`, the first a key that may be NULL) as tuples, keyless rows
    dropped.

    `refuse()` -> the error raised when more than MAX_ROWS rows would be walked; None: no cap. `split`:
    (column, low, high), the walk's time column and range: the rows come back in one JSON text per slice of
    it and column, in order, so each stays small (the walk's order within a slice is kept). A flat JSON list
    per column parses several times faster than a list of rows."""
    limit = Sql(" LIMIT ?", [-1 if refuse is None else MAX_ROWS + 1])  # LIMIT -1: none
    keyed = f"{columns[0]} IS NOT NULL"
    pieces = [None] if split is None else slice_bounds(split[1], split[2])

    def condition(piece):
        return Sql(keyed) if piece is None else Sql(f"{keyed} AND {split[0]} >= ? AND {split[0]} < ?", piece)

    # Each slice's bounds once per column: at most SLICES x columns x 2 of D1's 100 parameters.
    selected = Sql.join(", ", (f"json_group_array({name}) FILTER (WHERE " + condition(piece) + f") AS s{i}_{name}"
                               for i, piece in enumerate(pieces) for name in columns))
    try:
        row = await db.first("SELECT COUNT(*) AS walked, " + selected + " FROM (" + walk + limit + ")")
        walked = row["walked"]
        rows = [item for i in range(len(pieces)) for item in zip(*(json.loads(row[f"s{i}_{name}"]) for name in columns))]
    except D1Error as error:
        if not error.too_big:
            raise
        # A slice still past D1's 2 MB per value (long ids): the walk again as plain rows, slower to convert.
        plain = await db.query(walk + limit)
        walked, rows = len(plain), [tuple(row[name] for name in columns) for row in plain if row[columns[0]] is not None]
    if refuse is not None and walked > MAX_ROWS:
        raise refuse()
    return rows


def json_batches(values, max_bytes=MAX_PARAM_BYTES):
    """Values -> JSON arrays of them, each under `max_bytes` of UTF-8: one bound parameter each (D1 takes at
    most 2 MB per value)."""
    batches, batch, size = [], [], 2
    for value in values:
        text = json.dumps(value, ensure_ascii=False)
        length = len(text.encode("utf-8")) + 1
        if batch and size + length > max_bytes:
            batches.append("[" + ",".join(batch) + "]")
            batch, size = [], 2
        batch.append(text)
        size += length
    if batch:
        batches.append("[" + ",".join(batch) + "]")
    return batches
