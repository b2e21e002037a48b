"""Merged users sketches of complete local days, kept in D1 (`unit_sketches`, migration 0019) by /stats/active.

Outside UTC a local day is 24 hourly sketches of two UTC days, and /stats/active merged 24 of them for every day
of its MAU window on every request: most of the worker's CPU for 30 days of active users in Berlin (~26 ms under
Pyodide, issue 16). A request that merged a complete local day stores the merge; later requests read that one
sketch (and D1 leaves the day's hourly sketches out of their reads). Only the local day still running, and days not
stored yet, are merged from hours: one new day a day at steady state.

Correctness does not depend on this module keeping up: a row is a pure function of the hourly and daily sketches
inside [lo, hi) of its scope, and triggers on `hourly` and `daily` (migration 0019) delete it whenever one of them
changes or goes (a fold step, a late event, a rebuild after an erasure, an app deleted), whichever code changes it.
A store is skipped when the fold state moved since the sketches were read (a fold or deletion in between, whose
trigger found nothing to delete yet): the same statement checks the version the read's batch saw.

Bounded: only units that ended within KEEP_DAYS of now are stored (at most KEEP_DAYS + 1 rows per scope and zone
offset; older ones are pruned when a scope stores), at most STORE_BATCH sketches (16 KB each when dense) a statement.
"""
import json

from rollups import hll
from sql import Sql
from tz.timeutil import DAY, HOUR

TABLES = ("unit_sketches",)
KEEP_DAYS = 93  # the dashboard's longest preset range (90 days) and its MAU window's reach before it
STORE_BATCH = 24  # dense sketches are 16,385 characters: ~400 KB a statement (D1: 2 MB a value)
ALL_RELEASE_APPS = ""  # no app id is empty (api/validation.py) ...
ALL_DEBUG_APPS = "debug:"  # ... so no debug twin is "debug:" (debug_apps.PREFIX + "")


def scope_key(scope):
    """The `scope` column of a read's units: its app, or every release app, or every debug twin."""
    if scope.app_id is not None:
        return scope.app_id
    return ALL_DEBUG_APPS if getattr(scope, "debug", False) else ALL_RELEASE_APPS


def keepable(start, end, now_s):
    """Whether a unit [start, end) (epoch seconds) may be stored: over (its last hour has begun before this one) and
    recent. A unit whose hours still get events is stored all the same: the fold's sketch update deletes it."""
    return end <= now_s - now_s % HOUR and end > now_s - KEEP_DAYS * DAY


def kept_column(key):
    """SQL of a `unit_ranges_of` row (json `value` [lo, hi, unit, sketch, unit lo, unit hi]): whether its unit's
    merge is stored (its hours' sketches are then not read)."""
    return Sql("(json_extract(value, '$[5]') IS NOT NULL AND EXISTS (SELECT 1 FROM unit_sketches AS c "
               "WHERE c.scope = ? AND c.hi = json_extract(value, '$[5]') AND c.lo = json_extract(value, '$[4]')))", [key])


def lookup(key, bounds):
    """The stored merges of units [[lo, hi], ...] (compacted: hll.compact_sql), as rows lo, hi, sketch, users."""
    return Sql("SELECT c.lo AS lo, c.hi AS hi, c.users AS users, " + hll.compact_sql("c.sketch") + " AS sketch "
               # CROSS JOIN keeps the units outside, a seek each: joined plainly, SQLite walked the scope's kept
               # rows and scanned the JSON list for each (a row read per pair: ~900 for 30 days).
               "FROM json_each(?) AS j "
               "CROSS JOIN unit_sketches AS c ON c.scope = ? AND c.hi = json_extract(j.value, '$[1]') "
               "AND c.lo = json_extract(j.value, '$[0]')", [json.dumps(bounds), key])


def kept_of(rows):
    """lookup's rows -> {(lo, hi): (sketch text, its estimate)}."""
    return {(row["lo"], row["hi"]): (row["sketch"], row["users"]) for row in rows}


def store(key, merges, version, now_s):
    """Statements storing [[lo, hi, sketch text, its estimate], ...] merged from the sketches read at fold state
    `version`, and pruning the scope's units older than KEEP_DAYS. Nothing is stored if the version moved since."""
    statements = [
        Sql("INSERT OR IGNORE INTO unit_sketches (scope, hi, lo, sketch, users) SELECT ?, json_extract(value, '$[1]'), "
            "json_extract(value, '$[0]'), json_extract(value, '$[2]'), json_extract(value, '$[3]') FROM json_each(?) "
            "WHERE (SELECT version FROM fold_state WHERE id = 1) = ?",
            [key, json.dumps(merges[i:i + STORE_BATCH]), version])
        for i in range(0, len(merges), STORE_BATCH)]
    statements.append(Sql("DELETE FROM unit_sketches WHERE scope = ? AND hi <= ?", [key, now_s - KEEP_DAYS * DAY]))
    return statements
