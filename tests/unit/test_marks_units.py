"""The pure parts of finding a user's events without a (user_id, ts) index: which ingest rows carry the user's mark
(api/ingest.mark_rows) and the merge of many index ranges (rollups/ranges.py). Against SQLite 3.50 (sqlean), as
recent as workerd's: the merge reads about a page per five ranges."""
import json
from pathlib import Path

import sqlean

from api.ingest import ingest_triples, mark_rows
from rollups.ranges import BY_NAME, COMPOUND_TERMS, merge_tree, newest_ids, numbered
from sql import Sql

SCHEMA = Path(__file__).resolve().parents[2] / "schema.sql"


def row(session, user, ts, app="a"):
    return {"app_id": app, "session_id": session, "user_id": user, "ts": ts}


def test_the_latest_event_of_each_app_session_and_user_carries_the_mark():
    rows = [row("s1", "u", 5), row("s1", "u", 9), row("s1", "v", 1), row("s2", "u", 3), row("s1", None, 20),
            row("s1", "u", 9), row("s1", "u", 2, app="b")]
    marked = [r["user_mark"] for r in mark_rows(rows)]
    # Ties go to the later row; events without a user never carry one.
    assert marked == [None, None, 1, 1, None, 1, 1]
    assert ingest_triples(mark_rows(rows)) == [["a", "s1", "v", 1], ["a", "s2", "u", 3], ["a", "s1", "u", 9],
                                               ["b", "s1", "u", 2]]


def test_numbered_marks_follow_the_values():
    assert numbered(Sql("ts >= ? AND (ts < ? OR id < ?)", [1, 2, 3]), 4) == "ts >= ?4 AND (ts < ?5 OR id < ?6)"


def test_the_merge_tree_keeps_every_compound_within_d1s_five_terms():
    text = merge_tree([f"SELECT id, ts FROM t{i}" for i in range(27)], 10)
    depth, terms = 0, [0]
    for token in text.replace("(", " ( ").replace(")", " ) ").split():
        if token == "(":
            depth += 1
            terms.append(0)
        elif token == ")":
            assert terms.pop() <= COMPOUND_TERMS - 1
            depth -= 1
        elif token == "UNION":
            terms[-1] += 1
    # Each compound, nested or the outermost, joins at most 5 terms (4 UNIONs); every range is in it once.
    assert depth == 0 and len(terms) == 1 and terms[0] <= COMPOUND_TERMS - 1
    assert sorted(int(token[1:]) for token in text.split() if token.startswith("t") and token[1:].isdigit()) == \
        list(range(27))


def test_merged_ranges_give_the_newest_events_reading_about_a_page_per_five_ranges():
    db = sqlean.connect(":memory:")
    db.executescript(SCHEMA.read_text())
    names = [f"n{i}" for i in range(23)]
    db.executemany("INSERT INTO events (app_id, event_name, session_id, ts, received_at) VALUES ('a', ?, 's', ?, 0)",
                   [(names[i * 7 % 23], 1_000 + i) for i in range(2_000)])
    walked = []
    db.create_function("walked", 1, lambda row_id: walked.append(row_id) or 1)
    ids = newest_ids(BY_NAME, [("a", name) for name in names], Sql("ts >= ? AND walked(id)", [0]), 40)
    newest = [r[0] for r in db.execute(ids.text, ids.params)]
    assert newest == [r[0] for r in db.execute("SELECT id FROM events ORDER BY ts DESC, id DESC LIMIT 40")]
    assert len(walked) <= -(-len(names) // COMPOUND_TERMS) * (40 + COMPOUND_TERMS), len(walked)
    assert json.loads(ids.params[0])[0] == ["a", "n0"]
