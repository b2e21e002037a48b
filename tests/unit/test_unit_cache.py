"""rollups/unit_cache.py: which local days' merges /stats/active keeps, and the triggers (schema.sql, migration 0019)
that forget a kept merge whenever a sketch it was merged from changes or goes. The triggers run on a real SQLite
with the project's schema. Pure: no worker."""
import json
from collections import namedtuple
from pathlib import Path

import pytest
import sqlean

import debug_apps
from rollups import unit_cache

SCHEMA = Path(__file__).resolve().parents[2] / "schema.sql"
HOUR, DAY = 3600, 86400
NOW = 1_796_680_000  # 2026-12-07, 21:06:40 UTC
THIS_HOUR = NOW - NOW % HOUR
Scope = namedtuple("Scope", "app_id debug")


def test_only_units_over_and_recent_are_kept():
    assert unit_cache.keepable(THIS_HOUR - DAY, THIS_HOUR, NOW)  # ended when this hour began
    assert not unit_cache.keepable(THIS_HOUR - DAY + HOUR, THIS_HOUR + HOUR, NOW)  # still running
    oldest = NOW - unit_cache.KEEP_DAYS * DAY
    assert unit_cache.keepable(oldest - DAY + HOUR, oldest + HOUR, NOW)
    assert not unit_cache.keepable(oldest - DAY, oldest, NOW)


def test_scopes_cannot_meet_an_app():
    assert unit_cache.scope_key(Scope("my-app", False)) == "my-app"
    # A debug read of one app reads its twin (api/params.Scope.app_id): a scope of its own.
    assert unit_cache.scope_key(Scope(debug_apps.twin("my-app"), True)) == "debug:my-app"
    assert unit_cache.scope_key(Scope(None, False)) == unit_cache.ALL_RELEASE_APPS == ""
    assert unit_cache.scope_key(Scope(None, True)) == unit_cache.ALL_DEBUG_APPS == debug_apps.twin("")


def test_a_store_goes_in_statements_of_bounded_size_and_prunes_the_scope():
    merges = [[THIS_HOUR - (i + 1) * DAY, THIS_HOUR - i * DAY, "r" + "A" * 16384, 1000] for i in range(50)]
    statements = unit_cache.store("app", merges, 7, NOW)
    inserts, prune = statements[:-1], statements[-1]
    assert [len(json.loads(s.params[1])) for s in inserts] == [24, 24, 2]
    assert all(s.params[0] == "app" and s.params[2] == 7 for s in inserts)
    assert all(len(s.params[1]) < 500_000 for s in inserts)  # D1: 2 MB a value
    assert prune.text.startswith("DELETE FROM unit_sketches") and tuple(prune.params) == ("app", NOW - unit_cache.KEEP_DAYS * DAY)


@pytest.fixture
def db():
    connection = sqlean.connect(":memory:")
    connection.executescript(SCHEMA.read_text())
    connection.execute("INSERT INTO fold_state (id, folded, version) VALUES (1, 0, 7) ON CONFLICT (id) DO UPDATE "
                       "SET version = 7")
    return connection


def run(db, statements):
    for statement in statements:
        db.execute(statement.text, statement.params)


def kept(db):
    return sorted(db.execute("SELECT scope, lo, hi FROM unit_sketches").fetchall())


# Berlin's local days in winter: 23:00 to 23:00 UTC. D is a UTC midnight.
D = THIS_HOUR - THIS_HOUR % DAY - 10 * DAY
BERLIN = [(D - DAY - HOUR, D - HOUR), (D - HOUR, D + DAY - HOUR), (D + DAY - HOUR, D + 2 * DAY - HOUR)]
UTC_DAY = (D, D + DAY)


def keep_all(db):
    merges = [[lo, hi, "s", 0] for lo, hi in [*BERLIN, UTC_DAY]]
    for scope in ("a", "b", "", "debug:"):
        run(db, unit_cache.store(scope, merges, 7, NOW))


def test_a_store_is_skipped_when_the_fold_moved_since_its_reads(db):
    run(db, unit_cache.store("a", [[*BERLIN[0], "s", 0]], 6, NOW))
    assert kept(db) == []
    run(db, unit_cache.store("a", [[*BERLIN[0], "s", 0]], 7, NOW))
    assert kept(db) == [("a", *BERLIN[0])]


def test_a_changed_hour_forgets_the_units_holding_it_in_its_app_and_in_every_all_apps_scope(db):
    keep_all(db)
    db.execute("INSERT INTO hourly (app_id, hour, events, sessions, users, sketch) VALUES ('a', ?, 1, 1, 1, 's')",
               [D + 5 * HOUR])
    assert len(kept(db)) == 16  # an insert carries no sketch change: the fold writes sketches by UPDATE
    db.execute("UPDATE hourly SET sketch = 's1' WHERE app_id = 'a' AND hour = ?", [D + 5 * HOUR])
    # Berlin's second day and the UTC day hold 05:00 on D: gone for 'a', '' and 'debug:'; 'b' keeps all of its own.
    gone = {(scope, *unit) for scope in ("a", "", "debug:") for unit in (BERLIN[1], UTC_DAY)}
    assert set(kept(db)) == {(scope, *unit) for scope in ("a", "b", "", "debug:")
                             for unit in (*BERLIN, UTC_DAY)} - gone
    db.execute("UPDATE hourly SET events = 2, users = 0 WHERE app_id = 'a'")  # counts alone: no sketch changed
    assert len(kept(db)) == 10
    db.execute("DELETE FROM hourly WHERE app_id = 'a'")  # the hour goes: nothing more held it
    assert len(kept(db)) == 10


def test_the_last_hour_of_a_utc_day_belongs_to_the_next_local_day(db):
    keep_all(db)
    db.execute("INSERT INTO hourly (app_id, hour, events, sessions, users, sketch) VALUES ('b', ?, 1, 1, 1, 's')",
               [D - HOUR])
    db.execute("DELETE FROM hourly WHERE app_id = 'b' AND hour = ?", [D - HOUR])
    gone = {(scope, *BERLIN[1]) for scope in ("b", "", "debug:")}
    assert set(kept(db)) == {(s, *u) for s in ("a", "b", "", "debug:") for u in (*BERLIN, UTC_DAY)} - gone


def test_a_changed_day_forgets_only_the_units_that_hold_it_whole(db):
    keep_all(db)
    db.execute("INSERT INTO daily (app_id, day, events, sessions, users, sketch) VALUES ('a', ?, 1, 1, 1, 's')", [D])
    db.execute("UPDATE daily SET sketch = 's1' WHERE app_id = 'a' AND day = ?", [D])
    # Local days read the hours of D, never its daily row: only the UTC day goes.
    gone = {(scope, *UTC_DAY) for scope in ("a", "", "debug:")}
    assert set(kept(db)) == {(s, *u) for s in ("a", "b", "", "debug:") for u in (*BERLIN, UTC_DAY)} - gone
    db.execute("DELETE FROM daily WHERE app_id = 'a'")
    assert len(kept(db)) == 13


def test_kept_merges_are_found_by_a_seek_per_unit(db):
    """D1 bills every row a plan walks: joined plainly, SQLite walked the scope's kept rows and scanned the units' JSON
    list for each (30 days kept: ~900 rows read where 30 seeks read 30)."""
    keep_all(db)
    statement = unit_cache.lookup("a", [list(unit) for unit in BERLIN])
    plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + statement.text, statement.params)]
    assert plan[0].startswith("SCAN j") and plan[1] == "SEARCH c USING PRIMARY KEY (scope=? AND hi=? AND lo=?)", plan
    assert sorted((row[0], row[1]) for row in db.execute(statement.text, statement.params)) == sorted(BERLIN)
