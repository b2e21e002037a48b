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

Spans (migration 0020): a unit may also be several local days in a row that a read merges together, the complete days
of a WAU or MAU window or of a week bucket. A window's days merged once and kept are one sketch a later read decodes,
where it decoded one per day (and Pyodide moved each one's text from JS: issue 16); the day units inside a kept span
are then read for their estimates alone (`lookup`, `spans_kept`). A span is a unit like any other for the triggers:
any hour or day inside it changed deletes it.

Bounded: only units that ended within KEEP_DAYS of now are stored (at most KEEP_DAYS + 1 rows per scope and zone
offset; older ones are pruned when a scope stores), spans for SPAN_KEEP_DAYS (a window's span is new every day: older
ones only serve ranges that ended then), no unit longer than MAX_UNIT_SECONDS (the triggers' seek assumes it), at most
STORE_BATCH sketches (16 KB each when dense) a statement.
"""
import json

from rollups import hll
from sql import Sql
from tz.timeutil import DAY, HOUR

TABLES = ("unit_sketches",)
KEEP_DAYS = 93  # the dashboard's longest preset range (90 days) and its MAU window's reach before it
SPAN_KEEP_DAYS = 8  # a unit longer than a local day (a span) is pruned sooner: see the module's docstring
DAY_UNIT_SECONDS = 26 * HOUR  # a local day is at most 25 hours (+1 where a zone's offset is rounded): longer is a span
MAX_UNIT_SECONDS = 32 * DAY  # 30 local days of a MAU window (25 hours each at most) fit; migration 0020's triggers
STORE_BATCH = 24  # dense sketches are 16,385 characters: ~400 KB a statement (D1: 2 MB a value)
ALL_RELEASE_APPS = ""  # no app id is empty (api/validation.py) ...
ALL_DEBUG_APPS = "debug:"  # ... so no debug twin is "debug:" (debug_apps.PREFIX + "")


def scope_key(scope):
    """The `scope` column of a read's units: its app, or every release app, or every debug twin."""
    if scope.app_id is not None:
        return scope.app_id
    return ALL_DEBUG_APPS if getattr(scope, "debug", False) else ALL_RELEASE_APPS


def keepable(start, end, now_s):
    """Whether a unit [start, end) (epoch seconds) may be stored: over (its last hour has begun before this one),
    recent (a span: within SPAN_KEEP_DAYS, or the store's prune would delete it at once), and not longer than
    MAX_UNIT_SECONDS. A unit whose hours still get events is stored all the same: the fold's sketch update deletes
    it."""
    recent = now_s - (SPAN_KEEP_DAYS if end - start > DAY_UNIT_SECONDS else KEEP_DAYS) * DAY
    return end <= now_s - now_s % HOUR and end > recent and end - start <= MAX_UNIT_SECONDS


def kept_column(key):
    """SQL of a `unit_ranges_of` row (json `value` [lo, hi, unit, sketch, unit lo, unit hi]): whether its unit's
    merge is stored (its hours' sketches are then not read)."""
    return Sql("(json_extract(value, '$[5]') IS NOT NULL AND EXISTS (SELECT 1 FROM unit_sketches AS c "
               "WHERE c.scope = ? AND c.hi = json_extract(value, '$[5]') AND c.lo = json_extract(value, '$[4]')))", [key])


def spans_kept(key, spans):
    """SQL, true when every span [[lo, hi], ...] has its merge stored: then the day units inside them are not merged
    by the read (`lookup`, and the rollup read's `member` flag in routes/active.py). Not correlated with the rows
    around it: SQLite computes it once a statement."""
    if not spans:
        return Sql("0")
    return Sql("((SELECT COUNT(*) FROM json_each(?) AS s CROSS JOIN unit_sketches AS k ON k.scope = ? "
               "AND k.hi = json_extract(s.value, '$[1]') AND k.lo = json_extract(s.value, '$[0]')) = ?)",
               [json.dumps(spans), key, len(spans)])


# Which stored sketches a read needs (`lookup`): a span's always; a day's whose read merges it outside any span (or
# whose span is not stored: WHEN_SPAN_MISSING); a day's whose estimate is all the read needs, never.
ALWAYS, WHEN_SPAN_MISSING, NEVER = 1, 0, -1


def lookup(key, bounds, spans=()):
    """The stored merges of units [[lo, hi, ALWAYS | WHEN_SPAN_MISSING | NEVER], ...] and of `spans` [[lo, hi], ...],
    as rows lo, hi, users, sketch (compacted: hll.compact_sql; null where the read does not need it)."""
    wanted = [*bounds, *([lo, hi, ALWAYS] for lo, hi in spans)]
    return (Sql("SELECT c.lo AS lo, c.hi AS hi, c.users AS users, CASE WHEN json_extract(j.value, '$[2]') = 1 OR "
                "(json_extract(j.value, '$[2]') = 0 AND NOT ") + spans_kept(key, spans)
            + Sql(") THEN " + hll.compact_sql("c.sketch") + " END AS sketch "
                  # CROSS JOIN keeps the units outside, a seek each: joined plainly, SQLite walked the scope's kept
                  # rows and scanned the JSON list for each (a row read per pair: ~900 for 30 days).
                  "FROM json_each(?) AS j "
                  "CROSS JOIN unit_sketches AS c ON c.scope = ? AND c.hi = json_extract(j.value, '$[1]') "
                  "AND c.lo = json_extract(j.value, '$[0]')", [json.dumps(wanted), key]))


def kept_of(rows):
    """lookup's rows -> {(lo, hi): (sketch text or None, its estimate)}."""
    return {(row["lo"], row["hi"]): (row["sketch"], row["users"]) for row in rows}


def store(key, merges, version, now_s):
    """Statements storing [[lo, hi, sketch text, its estimate], ...] merged from the sketches read at fold state
    `version`, and pruning the scope's units older than KEEP_DAYS (spans: SPAN_KEEP_DAYS). Nothing is stored if the
    version moved since."""
    statements = [
        Sql("INSERT OR IGNORE INTO unit_sketches (scope, hi, lo, sketch, users) SELECT ?, json_extract(value, '$[1]'), "
            "json_extract(value, '$[0]'), json_extract(value, '$[2]'), json_extract(value, '$[3]') FROM json_each(?) "
            "WHERE (SELECT version FROM fold_state WHERE id = 1) = ?",
            [key, json.dumps(merges[i:i + STORE_BATCH]), version])
        for i in range(0, len(merges), STORE_BATCH)]
    statements.append(Sql("DELETE FROM unit_sketches WHERE scope = ? AND hi <= ? AND (hi <= ? OR hi - lo > ?)",
                          [key, now_s - SPAN_KEEP_DAYS * DAY, now_s - KEEP_DAYS * DAY, DAY_UNIT_SECONDS]))
    return statements
