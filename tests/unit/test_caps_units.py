"""api/caps.py on CPython: the guard against SQLite (the schema as it ships), its bindings, and the refusals."""
import json
import sqlite3
from pathlib import Path

import pytest

from api import caps
from api.validation import parse_track_body
from errors import BadRequest, Forbidden
from sql import MAX_BOUND_PAIRS

NOW = 1_732_550_400_000
SCHEMA = Path(__file__).resolve().parents[2] / "schema.sql"


class Failure:
    def __init__(self, reason):
        self.reason = reason


@pytest.fixture
def db():
    connection = sqlite3.connect(":memory:")
    connection.executescript(SCHEMA.read_text())
    connection.execute("INSERT INTO meta (key, value) VALUES ('max_apps', '3'), ('max_event_names', '2')")
    return connection


def rows_of(*events):
    rows, _ = parse_track_body(json.dumps({"events": [{"session_id": "s", **e} for e in events]}), NOW)
    return rows


def store(db, rows):
    """The guard, then the refusal it leads to (as api/ingest.store does), or None when it lets the batch in."""
    statement = caps.guard(rows)
    assert len(statement.params) <= 100 and statement.text.count("?") == len(statement.params)
    try:
        db.execute(statement.text, statement.params)
    except sqlite3.IntegrityError as error:
        setting = caps.refused(Failure(str(error)))
        query = caps.diagnosis(rows, setting)
        cursor = db.execute(query.text, query.params)
        found = dict(zip([column[0] for column in cursor.description], cursor.fetchone()))
        with pytest.raises((Forbidden, BadRequest)) as refusal:
            caps.raise_refusal(setting, found, rows)
        return refusal.value
    for row in rows:
        db.execute("INSERT INTO events (app_id, event_name, session_id, ts, received_at) VALUES (?, ?, 's', 0, 0)",
                   (row["app_id"], row["event"]))
    return None


def test_apps_count_with_their_debug_twins_and_past_the_cap_are_a_403_naming_max_apps(db):
    assert store(db, rows_of({"app_id": "a", "event": "e"}, {"app_id": "b", "event": "e", "debug": True})) is None
    assert store(db, rows_of({"app_id": "b", "event": "e"}, {"app_id": "a", "event": "e", "debug": True})) is None
    db.execute("INSERT INTO apps VALUES ('c', 0, 0, 1)")  # folded, its raw events purged: still an app
    refusal = store(db, rows_of({"app_id": "a", "event": "e"}, {"app_id": "d", "event": "e", "debug": True}))
    assert isinstance(refusal, Forbidden) and "max_apps (3)" in refusal.message
    assert [d["message"] for d in refusal.details] == ["new app past max_apps (3): d"]


def test_new_names_past_the_cap_are_a_400_naming_each_event(db):
    assert store(db, rows_of({"app_id": "a", "event": "x"}, {"app_id": "a", "event": "y"})) is None
    refusal = store(db, rows_of({"app_id": "b", "event": "z"}, {"app_id": "a", "event": "x"},
                                {"app_id": "a", "event": "new"}, {"app_id": "a", "event": "new"}))
    assert isinstance(refusal, BadRequest) and "max_event_names (2)" in refusal.message
    # Only the events of the app past its cap: b's new name would have been let in.
    assert [(d["index"], d["field"]) for d in refusal.details] == [(2, "event"), (3, "event")]
    # A debug twin's names are its own.
    assert store(db, rows_of({"app_id": "a", "event": "y"}, {"app_id": "a", "event": "new", "debug": True})) is None


@pytest.mark.parametrize("pairs", [1, MAX_BOUND_PAIRS, MAX_BOUND_PAIRS + 1, 1000])
def test_any_number_of_pairs_fits_one_statement(db, pairs):
    db.execute("UPDATE meta SET value = '5000' WHERE key = 'max_event_names'")
    assert store(db, rows_of(*[{"app_id": "a", "event": f"n{n}"} for n in range(pairs)])) is None


def test_other_failures_are_not_refusals():
    assert caps.refused(Failure("UNIQUE constraint failed: events.id")) is None
    assert caps.refused(Failure("NOT NULL constraint failed: events.app_id")) is None
    assert caps.refused(Failure("D1_ERROR: CHECK constraint failed: ok = 1: SQLITE_CONSTRAINT")) == caps.MAX_APPS
