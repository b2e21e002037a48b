"""How SQLite plans every statement of a fold step, a deletion (by event, user, app and age), a purge step and a
link: no read of the raw events may search them by `app_id` alone, or scan them, unless it walks them in index order
under a LIMIT. D1 bills every index row walked, and such a read costs every event of the app.

The plans come from a SQLite as recent as workerd's (3.47; the `sqlean.py` wheel carries 3.50): CPython's SQLite
(3.40 here) plans these statements differently, and once planned the erasure's re-reads of the touched sessions
through `events_app_ts` by `app_id` alone, which only the runtime showed (DEVELOPERS.md). Pure: no worker."""
import re
from pathlib import Path

import pytest
import sqlean

from api import ingest
from rollups import erasure, fold, links, marks, purge, sketches, spans
from rollups.chunk import SESSION_EVENTS
from sql import Sql

SCHEMA = Path(__file__).resolve().parents[2] / "schema.sql"
CUTOFF_MS = 1_700_000_000_000

STATEMENTS = {
    "fold step": [sketches.snapshot(0, 2000), *fold.chunk_statements(0, 0, 2000, "{}", [])],
    "delete an event": erasure.chunk_statements(erasure.by_id(5)),
    "erase a user": erasure.chunk_statements(erasure.by_user("u")),
    "erase a user in one app": erasure.chunk_statements(erasure.by_user("u", "a")),
    "delete an app": erasure.chunk_statements(erasure.by_app("a")),
    "delete by age": erasure.chunk_statements(erasure.older_than(CUTOFF_MS)),
    "purge step": [*purge.forget_statements(CUTOFF_MS)[0], purge.forget_statements(CUTOFF_MS)[1]],
    "link": links.move_statements("a", "anonymous", "u", 0, 100)[0],
    "ingest": [Sql(ingest.INSERT_SQL, ["[]"]), Sql(ingest.INGEST_FIX_SQL, ["[]"])],
    "a user's events": [marks.user_events("u", marks.sessions_of("u", 0, Sql("m.app_id = ?", ["a"]), walk=10))],
}
# A search of `events` through an index by the app alone: every event of the app, unless walked in order and cut.
APP_ONLY = re.compile(r"^SEARCH events USING (COVERING )?INDEX \w+ \(app_id=\?\)$")
# Walked in the index's order under a LIMIT (first/last seen, a deletion's chunk): rows read stop at the LIMIT.
ORDERED_WALK = re.compile(r"ORDER BY (event_name, )?ts( DESC)?(, id( DESC)?)? LIMIT")


@pytest.fixture(scope="module")
def db():
    connection = sqlean.connect(":memory:")
    connection.executescript(SCHEMA.read_text())
    return connection


def test_the_plans_come_from_a_sqlite_as_recent_as_workerds():
    assert tuple(int(part) for part in sqlean.sqlite_version.split(".")) >= (3, 47)


def whole_app_reads(db, statements):
    wide = []
    for number, statement in enumerate(statements):
        plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + statement.text, statement.params)]
        for line in plan:
            whole_app = APP_ONLY.match(line) and not ORDERED_WALK.search(statement.text)
            if line.startswith("SCAN events") or whole_app:
                wide.append((number, line, " ".join(statement.text.split())[:120]))
    return wide


@pytest.mark.parametrize("name", STATEMENTS)
def test_no_statement_reads_a_whole_app_of_raw_events(db, name):
    assert whole_app_reads(db, STATEMENTS[name]) == []


def span_reads(db, statements):
    """The plan lines of every read of `session_events`' events (alias e inside the view) that are not a range of ids."""
    wide = []
    for statement in statements:
        for row in db.execute("EXPLAIN QUERY PLAN " + statement.text, statement.params):
            if "session_events" in statement.text and re.match(r"(SEARCH|SCAN) e( |$)", row[3]) and \
                    row[3] != "SEARCH e USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)":
                wide.append(row[3])
    return wide


@pytest.mark.parametrize("name", STATEMENTS)
def test_a_sessions_events_are_read_as_ranges_of_ids(db, name):
    """session_events (schema.sql) seeks each span's head, then reads [span_first, head id] of the table: without
    NOT INDEXED on its `e`, SQLite searched the span's events through events_app_name by app_id alone."""
    assert any("session_events" in s.text for s in STATEMENTS[name]) or name == "purge step"
    assert span_reads(db, STATEMENTS[name]) == []


def test_a_departing_head_finds_its_successor_in_its_span(db):
    """spans.keep_spans reads the span's ids below the head, not the app's events."""
    statement = spans.keep_spans("SELECT 5")
    plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + statement.text)]
    assert "SEARCH e USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in plan, plan
    assert not [line for line in plan if "(app_id=?)" in line], plan


def test_the_guard_sees_the_plans_that_read_whole_apps(db):
    """A deletion's statements as they were, re-reading the touched sessions from `events` without naming the index:
    planned by the app alone (the runtime read every event of the app in each of them)."""
    unnamed = [Sql(statement.text.replace(SESSION_EVENTS, "events"), statement.params)
               for statement in STATEMENTS["delete an event"]]
    assert len(whole_app_reads(db, unnamed)) >= 8


def test_a_fold_steps_snapshot_seeks_its_events_and_sketches(db):
    """The sketches' snapshot (one query: the chunk's users, the stored sketches of their hours and days) reads the
    chunk by id and each sketch by its row's key: never a scan of `events`, `hourly` or `daily`."""
    statement = sketches.snapshot(0, 2000)
    plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + statement.text, statement.params)]
    reads = [line for line in plan if re.match(r"(SEARCH|SCAN) (events|t)\b", line)]
    assert any(line.startswith("SEARCH events USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)") for line in reads), plan
    rollups = [line for line in reads if re.match(r"(SEARCH|SCAN) t\b", line)]
    assert len(rollups) == 2 and all(re.match(r"SEARCH t USING PRIMARY KEY \(app_id=\? AND (hour|day)=\?\)", line)
                                     for line in rollups), plan


def user_set_reads():
    """Reads of who was active, by day and by hour, as the routes and the sketch rebuild make them."""
    from rollups import read, sketches
    from routes import active

    hour = CUTOFF_MS // 1000 - CUTOFF_MS // 1000 % 3600
    day = hour - hour % 86400
    for app_id in ("a", None):
        scope = type("Scope", (), {"app_id": app_id, "debug": False})
        yield read.union(scope, hour + 3600, hour + 3 * 86400 + 7200, "t.user_id AS user_id", lambda grain: grain.users)
        yield active.over_units(scope, {"hour": [[hour, hour + 7200, 0]], "day": [[day, day + 86400, 1]]},
                                "json_group_array(DISTINCT t.user_id)", lambda grain: grain.users)
    yield Sql(sketches.HOUR_USERS_SQL, ["[]"])


def test_user_hours_are_read_through_the_days_that_hold_them(db):
    """`hourly_users` is a view of the hours inside daily_users rows: a read of hours must also bound the days (its
    `d`, or `t` for daily_users itself), or it would read every user-day of the app."""
    for statement in user_set_reads():
        plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + statement.text, statement.params)]
        user_days = [line for line in plan if re.match(r"(SEARCH|SCAN) (d|t) ", line + " ")]
        assert user_days, plan
        assert all(re.fullmatch(r"SEARCH (d|t) USING PRIMARY KEY \(app_id=\? AND day>\? AND day<\?\)", line)
                   for line in user_days), plan
