"""The newest raw events over many ranges of one index, merged inside SQLite.

Raw events have no index by time alone nor by user (each was a row written per event): a read by time goes
through a range of `events_app_name` per event name, a user's events through the spans of each session the user's
marks name (rollups/marks.py, rollups/spans.py; a session's events come in id order, and are sorted by time: a
session holds few). A compound SELECT with ORDER BY and LIMIT is a merge of its
ordered terms that stops at the LIMIT (no sort; an outer ORDER BY over a subquery of them sorts everything), and D1
refuses compounds of more than 5 terms: the ranges merge in a tree of compounds of at most 5, each reading up to
`take` rows (about take / 5 rows per range in all). The ranges' keys travel as one bound JSON value, each range
reading its pair with json_extract (a constant: the range is still an index seek), so D1's 100 bound values do not
cap them; past MAX_MERGED ranges (a statement's text stays under D1's 100 KB), each range gives its own `take`
rows and the newest of those are kept.
"""
import json

from sql import Sql

COMPOUND_TERMS = 5
MAX_MERGED = 300


class Ranges:
    """Where events are read from (`table`: `events` through `index`, or a view of them) and the two columns
    (`keys`) that fix each of its ranges."""

    def __init__(self, table, keys, index=None):
        self.table, self.keys, self.index = table, keys, index
        # A range of an index comes in time order and merges without a sort; a session's spans come in id order,
        # and are read whole and sorted (a session holds few events): one statement for all of the sessions, as a
        # merge of views ran D1 out of memory (SQLITE_NOMEM at 250 sessions).
        self.ordered = index is not None

    def source(self, alias=None):
        """The FROM clause's text for reading the ranges, under `alias` if given."""
        named = self.table if alias is None else f"{self.table} AS {alias}"
        return named if self.index is None else f"{named} INDEXED BY {self.index}"


BY_NAME = Ranges("events", ("app_id", "event_name"), "events_app_name")
BY_SESSION = Ranges("session_events", ("app_id", "session_id"))


def numbered(fragment, first):
    """`fragment`'s text with its `?` marks numbered from `first` (?NNN, which D1 binds by position), so that
    many ranges share one copy of its values. Only for fixed SQL text: values are never in it."""
    pieces = fragment.text.split("?")
    assert len(pieces) == len(fragment.params) + 1
    return "".join(piece + (f"?{first + i}" if i < len(pieces) - 1 else "") for i, piece in enumerate(pieces))


def merge_tree(terms, limit):
    """SELECTs of (id, ts), each newest first -> one compound of them under `limit`, newest first: groups of
    COMPOUND_TERMS merged, then groups of those."""
    order = f" ORDER BY ts DESC, id DESC LIMIT {limit}"
    while True:
        groups = [terms[i:i + COMPOUND_TERMS] for i in range(0, len(terms), COMPOUND_TERMS)]
        if len(groups) == 1:
            return " UNION ALL ".join(groups[0]) + order
        terms = [f"SELECT id, ts FROM ({' UNION ALL '.join(group)}{order})" for group in groups]


def newest_ids(ranges, keys, condition, take):
    """Sql selecting the ids of the newest `take` events matching `condition` (Sql on `events`) over the ranges of
    `keys` (pairs of the ranges' key columns, at most MAX_MERGED). Its marks are numbered: an anonymous `?` after
    it takes the next number."""
    first, second = ranges.keys
    if not ranges.ordered:
        pairs = Sql("SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)",
                    [json.dumps(keys, ensure_ascii=False)])
        return whole_ranges_ids(ranges, pairs, condition, take)
    where = numbered(condition, 2)
    take_mark = f"?{len(condition.params) + 2}"
    terms = [f"SELECT id, ts FROM {ranges.source()} WHERE {first} = json_extract(?1, '$[{i}][0]') "
             f"AND {second} = json_extract(?1, '$[{i}][1]') AND {where}" for i in range(len(keys))]
    return Sql(f"SELECT id FROM ({merge_tree(terms, take_mark)})",
               [json.dumps(keys, ensure_ascii=False), *condition.params, take])


def each_range_ids(ranges, keys_query, condition, take):
    """Past MAX_MERGED ranges: Sql selecting, for each key of `keys_query` (Sql selecting the key columns), the ids of
    its newest `take` events matching `condition` (keys x take rows)."""
    first, second = ranges.keys
    if not ranges.ordered:
        return whole_ranges_ids(ranges, "SELECT " + first + ", " + second + " FROM (" + keys_query + ")", condition, take)
    return ("SELECT r.id FROM (" + keys_query + ") AS k CROSS JOIN events AS r ON r.id IN (SELECT id FROM "
            f"{ranges.source()} WHERE {first} = k.{first} AND {second} = k.{second} AND " + condition
            + Sql(" ORDER BY ts DESC, id DESC LIMIT ?)", [take]))


def whole_ranges_ids(ranges, pairs, condition, take):
    """Sql selecting the ids of the newest `take` events matching `condition` over the ranges whose key pairs `pairs`
    (Sql selecting the two key columns) names, for ranges that are not in time order: every event of them is read."""
    first, second = ranges.keys
    return (f"SELECT id FROM {ranges.source()} WHERE ({first}, {second}) IN (" + pairs + ") AND " + condition
            + Sql(" ORDER BY ts DESC, id DESC LIMIT ?", [take]))
