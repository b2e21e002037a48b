"""What every rollup family's fold and erase statements share: the chunk of events they work on, as the CTE
`chunk`, the sessions the chunk moves, and the guard that makes a fold commit only onto what it read."""
from d1 import D1Error
from sql import Sql

# A step D1 refuses is retried this many times smaller: 2,000 events reach one in 6 tries.
SHRINK = 4

# The fold watermark: events with an id up to it are counted in the rollups.
FOLDED = "(SELECT folded FROM fold_state WHERE id = 1)"


def folding(folded, upto):
    """The events a fold step counts: ids (folded, upto]."""
    return Sql("chunk AS (SELECT * FROM events WHERE id > ? AND id <= ?)", [folded, upto])


# The events of given sessions, through their spans (schema.sql, session_events; rollups/spans.py). The view names
# its index, not left to the planner: for `(app_id, session_id) IN (SELECT ...)` the SQLite of workerd (3.47)
# searched `events_app_ts` (since dropped) by app_id alone and filtered, reading every event of the app (deleting one
# event of a 20,000-event app read 293,370 rows); any index that starts with app_id invites the same plan.
SESSION_EVENTS = "session_events"


def events_where(condition, source="events"):
    """The events a fixed SQL condition selects (erasure's conditions bind nothing); `source`: `events`, or
    SESSION_EVENTS for a condition on the sessions."""
    return Sql(f"chunk AS (SELECT * FROM {source} WHERE {condition})")


# Each session of the chunk with its known start (old_ts, NULL if new) and its start once the chunk is in.
MOVES_CTE = """chunk_sessions AS (SELECT app_id, session_id, MIN(ts) AS first_ts FROM chunk GROUP BY app_id, session_id),
moves AS (SELECT cs.app_id, cs.session_id, s.first_ts AS old_ts, MIN(cs.first_ts, COALESCE(s.first_ts, cs.first_ts)) AS new_ts
  FROM chunk_sessions cs LEFT JOIN sessions s ON s.app_id = cs.app_id AND s.session_id = cs.session_id)"""


# A counter family's hour and day rows go into this view in one statement (schema.sql): its trigger adds each row
# to the table its `target` names. One INSERT writes one table, and each statement pays again for reading the
# chunk and what it derives from it (sessions, users): one statement per family instead of one per grain.
COUNTS_FOLD = "counts_fold"


def into_counts(columns, selects):
    """`INSERT INTO counts_fold (target, <columns>)` of the UNION ALL of `selects` (one per grain)."""
    return f"INSERT INTO {COUNTS_FOLD} (target, {columns})\n" + "\nUNION ALL ".join(selects)


def moved(grain):
    """SQL on `moves m`: the session is new, or its start moved to another bucket of `grain`."""
    return f"(m.old_ts IS NULL OR {grain.bucket('m.new_ts')} != {grain.bucket('m.old_ts')})"


# Optimistic concurrency without a lock: the first statement of a fold's batch fails fold_guard's CHECK when
# `folded` or `version` changed since the fold read its snapshot, which rolls the whole batch back.
def guard(folded, version):
    return Sql("INSERT INTO fold_guard (ok) SELECT folded = ? AND version = ? FROM fold_state WHERE id = 1",
               [folded, version])


def release(folded):
    return [Sql("DELETE FROM fold_guard"),
            Sql("UPDATE fold_state SET folded = MAX(folded, ?), version = version + 1 WHERE id = 1", [folded])]


def lost_race(error):
    """A D1Error from a guarded batch: another fold or a deletion came first (nothing was done)."""
    return "CHECK constraint failed" in error.reason


class Erasing:
    """The SQL conditions an erasure step's statements share, once its events are pinned in `erase_chunk`
    (they bind nothing: the selection's values are bound once, by the pinning statement)."""

    gone_ids = "SELECT id FROM erase_chunk"
    gone = f"id IN ({gone_ids})"
    # The part of the chunk the rollups hold: only folded events were counted.
    counted = f"{gone} AND id <= {FOLDED}"
    touched_sessions = f"(app_id, session_id) IN (SELECT app_id, session_id FROM events WHERE {counted})"
    # What stays of the touched sessions, as the fold's `chunk`: their remaining counted events.
    remaining = events_where(f"{touched_sessions} AND id <= {FOLDED} AND id NOT IN ({gone_ids})", SESSION_EVENTS)
    # The counted events that go, as the fold's `chunk`.
    going = events_where(counted)


async def shrinking(step, size):
    """`await step(size)`, and while D1 refuses it (a value past 2 MB, a statement past its limits or time), a
    quarter as big, down to one: anyone with the ingest key could otherwise make a fold, an erasure or a purge
    fail for ever. Returns (step's result, the size that passed)."""
    while True:
        try:
            return await step(size), size
        except D1Error:
            if size == 1:
                raise
            size = max(1, size // SHRINK)
