"""rollups/unit_cache.py: which local days' merges (and spans of days) /stats/active keeps, and the triggers (schema.sql,
migrations 0019 and 0020) that forget a kept merge whenever a sketch it was merged from changes or goes. The triggers run on a real SQLite
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
    # Spans: 30 local days of 25 hours fit the triggers' bound; longer units are never kept.
    assert unit_cache.keepable(THIS_HOUR - 30 * 25 * HOUR, THIS_HOUR, NOW)
    assert not unit_cache.keepable(THIS_HOUR - unit_cache.MAX_UNIT_SECONDS - HOUR, THIS_HOUR, NOW)
    # A span that ended before SPAN_KEEP_DAYS would be pruned by the store that keeps it: never kept.
    span_oldest = NOW - unit_cache.SPAN_KEEP_DAYS * DAY
    assert unit_cache.keepable(span_oldest - 7 * DAY + HOUR, span_oldest + HOUR, NOW)
    assert not unit_cache.keepable(span_oldest - 7 * DAY, span_oldest, NOW)


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
    assert prune.text.startswith("DELETE FROM unit_sketches") and tuple(prune.params) == (
        "app", NOW - unit_cache.SPAN_KEEP_DAYS * DAY, NOW - unit_cache.KEEP_DAYS * DAY, unit_cache.DAY_UNIT_SECONDS)


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
    statement = unit_cache.lookup("a", [[*unit, unit_cache.ALWAYS] for unit in BERLIN])
    plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + statement.text, statement.params)]
    assert plan[0].startswith("SCAN j") and plan[1] == "SEARCH c USING PRIMARY KEY (scope=? AND hi=? AND lo=?)", plan
    assert sorted((row[0], row[1]) for row in db.execute(statement.text, statement.params)) == sorted(BERLIN)
    # With spans, whether they are all kept is one more seek per span, once a statement (not correlated).
    statement = unit_cache.lookup("a", [[*unit, unit_cache.WHEN_SPAN_MISSING] for unit in BERLIN], [SPAN])
    plan = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + statement.text, statement.params)]
    assert sum("SEARCH k USING PRIMARY KEY (scope=? AND hi=? AND lo=?)" in line for line in plan) == 1, plan
    assert not any(line.startswith("CORRELATED") for line in plan), plan


# Thirty Berlin days ending with BERLIN[2]: a MAU window's span (its days merged together and kept).
SPAN = (BERLIN[2][1] - 30 * DAY, BERLIN[2][1])


def test_a_days_sketch_is_read_only_where_a_merge_needs_it(db):
    """A span's merge is read always; a day's when it is merged outside a span (ALWAYS), or inside spans that are not
    all kept (WHEN_SPAN_MISSING); never where its estimate is all a read needs."""
    run(db, unit_cache.store("a", [[lo, hi, f"s{lo}", 5] for lo, hi in BERLIN], 7, NOW))

    def looked_up(spans):
        flags = [unit_cache.ALWAYS, unit_cache.WHEN_SPAN_MISSING, unit_cache.NEVER]
        statement = unit_cache.lookup("a", [[*unit, flag] for unit, flag in zip(BERLIN, flags)], spans)
        rows = db.execute(statement.text, statement.params).fetchall()
        return unit_cache.kept_of([dict(zip(("lo", "hi", "users", "sketch"), row)) for row in rows])

    assert looked_up([SPAN]) == {BERLIN[0]: (f"s{BERLIN[0][0]}", 5), BERLIN[1]: (f"s{BERLIN[1][0]}", 5),
                                 BERLIN[2]: (None, 5)}  # the span is missing: the day inside it is merged here
    run(db, unit_cache.store("a", [[*SPAN, "sspan", 9]], 7, SPAN[1]))  # "now" the day after: not pruned
    assert looked_up([SPAN]) == {BERLIN[0]: (f"s{BERLIN[0][0]}", 5), BERLIN[1]: (None, 5), BERLIN[2]: (None, 5),
                                 SPAN: ("sspan", 9)}


def test_a_span_is_forgotten_when_any_hour_or_day_inside_it_changes(db):
    far_inside = SPAN[0] + 2 * DAY + HOUR  # 28 days before the span ends: past the 26 hours a day unit reaches
    whole_day = SPAN[0] + 3 * DAY - SPAN[0] % DAY  # a UTC day inside it
    run(db, unit_cache.store("a", [[*SPAN, "s", 0]], 7, SPAN[1]))
    db.execute("INSERT INTO hourly (app_id, hour, events, sessions, users, sketch) VALUES ('a', ?, 1, 1, 1, 's')",
               [SPAN[1] + HOUR])
    db.execute("UPDATE hourly SET sketch = 's1' WHERE app_id = 'a'")  # after the span: it stays
    assert kept(db) == [("a", *SPAN)]
    db.execute("INSERT INTO hourly (app_id, hour, events, sessions, users, sketch) VALUES ('a', ?, 1, 1, 1, 's')",
               [far_inside])
    db.execute("UPDATE hourly SET sketch = 's2' WHERE app_id = 'a' AND hour = ?", [far_inside])
    assert kept(db) == []
    run(db, unit_cache.store("a", [[*SPAN, "s", 0]], 7, SPAN[1]))
    db.execute("INSERT INTO daily (app_id, day, events, sessions, users, sketch) VALUES ('a', ?, 1, 1, 1, 's')",
               [whole_day])
    db.execute("DELETE FROM daily WHERE app_id = 'a'")
    assert kept(db) == []


def test_spans_are_pruned_sooner_than_days(db):
    old = THIS_HOUR - (unit_cache.SPAN_KEEP_DAYS + 1) * DAY
    merges = [[old - DAY, old, "s", 1], [old - 7 * DAY, old, "s", 1], [THIS_HOUR - 7 * DAY, THIS_HOUR, "s", 1]]
    run(db, unit_cache.store("a", merges, 7, NOW))
    # The old span goes; the old day and the recent span stay.
    assert kept(db) == sorted([("a", old - DAY, old), ("a", THIS_HOUR - 7 * DAY, THIS_HOUR)])
