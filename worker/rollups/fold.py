"""Folding raw events into the rollups, off the ingest path.

Ingest only inserts events (routes/track.py). Every event with `id <= fold_state.folded` is counted in the
rollups; the rest, the tail, is folded in chunks of ids by `catch_up`, which read routes call before
reading (bounded), the cron calls, and `POST /admin/fold` exposes. A chunk is one D1 transaction: it
adds the chunk's events to every rollup family and advances `folded`, or does nothing at all.

Sketches need Python (hashing), so a fold reads a snapshot first (rollups/sketches.py), computes, and
commits only onto that snapshot: its first statement is the guard of rollups/chunk.py.
"""
from collections import namedtuple

from d1 import D1Error
from rollups import activity, catalog, counters, dims, sessions, sketches, steps, unit_cache, users
from rollups.chunk import folding, guard, lost_race, release
from sql import Sql

# At most this many ids a step; fewer while steps are slow (rollups/steps.py). Reads fold one step before they
# read, so a smaller first step would leave more of a fresh tail out of what they serve.
CHUNK = 2000
# The cron folds this many chunks per run (routes/maintenance.scheduled_work): one, so a run stays within one step's
# CPU; every 5 minutes that is up to 24,000 events an hour.
CHUNKS_PER_CALL = 1
# D1 allows 50 calls per invocation on the Free plan. A step makes up to STEP_CALLS (the sketches' snapshot, the
# batch, the step size when it changes; a refused step makes two more per try, smaller); a call folds no further step
# that would pass CALL_BUDGET (`POST /admin/fold?chunks=10` made up to 54 before the state after a step was derived).
STEP_CALLS = 3
CALL_BUDGET = 44
# Every table a rebuild empties (POST /admin/rebuild): each family's own. The kept merges first: emptying `hourly` and
# `daily` then finds none for their triggers to delete.
TABLES = (*unit_cache.TABLES, *catalog.TABLES, *sessions.TABLES, *counters.TABLES, *users.TABLES, *sketches.TABLES, *dims.TABLES,
          *activity.TABLES)

STATE_COLUMNS = """folded, version, (SELECT MAX(id) FROM events) AS last_id,
  EXISTS (SELECT 1 FROM stale_sketches) AS stale"""
STATE_SQL = f"SELECT {STATE_COLUMNS} FROM fold_state WHERE id = 1"

# The last id received before a time (?1, epoch ms), by a binary search over ids: two rows read per halving, ~34
# for a tail of 100,000 (the recursive table may not be read in a subquery, so the probe is written twice).
# Ids grow with receipt (INTEGER PRIMARY KEY: the largest + 1); where clocks of two isolates disagree by a moment
# the cut lands a few events early or late, which changes only when they are counted, never a figure.
# A probe takes the first id at or after the middle, so deleted ids (gaps) do not stop the search.
CUT_SQL = """WITH RECURSIVE search(low, high) AS (
  SELECT CAST(?2 AS INTEGER), CAST(?3 AS INTEGER)
  UNION ALL
  SELECT CASE WHEN (SELECT received_at FROM events WHERE id >= (low + high + 1) / 2 ORDER BY id LIMIT 1) < ?1
           THEN (low + high + 1) / 2 ELSE low END,
         CASE WHEN (SELECT received_at FROM events WHERE id >= (low + high + 1) / 2 ORDER BY id LIMIT 1) < ?1
           THEN high ELSE (low + high + 1) / 2 - 1 END
  FROM search WHERE low < high)
SELECT MAX(low) AS cut FROM search"""


# STATE_SQL and the receipt time of the first event not folded yet, for a read that batches its own first statements
# with it (rollups/read.fold_tail_and): ids grow with receipt, so when that event arrived after the fold interval
# began, no unfolded event came before it and the read has nothing to fold. One more row read: a primary-key seek.
READ_STATE_SQL = f"""SELECT {STATE_COLUMNS},
  (SELECT received_at FROM events WHERE id > fold_state.folded ORDER BY id LIMIT 1) AS next_received
FROM fold_state WHERE id = 1"""


class FoldState(namedtuple("FoldState", "folded version last_id stale")):
    @property
    def unfolded(self):
        """Events not counted yet, by id (an upper bound: ids have gaps)."""
        return max(self.last_id - self.folded, 0)


def state_of(row):
    return FoldState(row["folded"], row["version"], row["last_id"] or 0, bool(row["stale"]))


async def state(db):
    """One query, so a read route with nothing to fold or rebuild pays one row or two."""
    return state_of(await db.first(STATE_SQL))


def nothing_to_fold(current, next_received, received_before=None):
    """Whether `catch_up(received_before=...)` would find nothing to do: no stale sketch to rebuild, and no event to
    fold, or (with an interval) the first unfolded one, `next_received` (epoch ms), received after it began."""
    if current.stale:
        return False
    if not current.unfolded:
        return True
    return received_before is not None and next_received is not None and next_received >= received_before


async def fold_bound(db, current, received_before=None):
    """The last id a fold may count: every id while `received_before` is None, else the last id received before it
    (why folds wait for their interval: api/config.py, FOLD_EVERY_MINUTES)."""
    if received_before is None or not current.unfolded:
        return current.last_id
    row = await db.first(CUT_SQL, received_before, current.folded, current.last_id)
    return min(current.last_id, row["cut"] if row and row["cut"] is not None else current.folded)


def chunk_statements(folded, version, upto, hashes, sketch_updates):
    """One fold step, in order: families that read the old sessions, session_users, users and
    user-buckets come before the families that change them."""
    chunk = folding(folded, upto)
    hashes = Sql("?", [hashes])
    return [
        guard(folded, version),
        *counters.fold_counts(chunk),
        *dims.fold(chunk, hashes),  # reads the old sessions
        *activity.fold(chunk),  # reads the old sessions and users
        *counters.fold_user_buckets(chunk, hashes),
        *users.fold(chunk),  # reads the old session_users
        *sessions.fold(chunk),
        *catalog.fold(chunk),
        *sketch_updates,
        *release(upto),
    ]


async def fold_chunk(db, folded, version, upto):
    """Fold events (folded, upto] in one transaction. False if another writer came first (nothing done)."""
    hashes, sketch_updates = await sketches.fold_step(db, folded, upto)
    try:
        await db.batch(chunk_statements(folded, version, upto, hashes, sketch_updates))
    except D1Error as error:
        if lost_race(error):
            return False
        raise
    return True


async def catch_up(db, max_chunks=1, received_before=None, known=None, known_size=None):
    """Rebuild stale sketches, then fold up to `max_chunks` chunks of the tail (of the size rollups/steps.py keeps),
    only events received before `received_before` (epoch ms) when given (the fold interval's start: api/config.py).
    `known`: READ_STATE_SQL's row when the caller read it in its own batch (one D1 call fewer), with `known_size`
    the step size (steps.size_sql) if it read that too. Returns (events still unfolded (by id), whether stale
    sketches remain).

    A step of live traffic makes two D1 calls (the sketches' snapshot, the batch), three when its size changes: each
    costs the worker 1-3 ms of CPU under Pyodide. The state after a step is derived, not read again: the batch
    moved `folded` to its end and `version` by one, or failed as a whole."""
    size = known_size  # the step size, read with the state (a row of meta) or by the first step
    if known is None:
        state_result, size_result = await db.batch([Sql(READ_STATE_SQL), steps.size_sql("fold")])
        known, size = state_result["rows"][0], steps.size_from(size_result["rows"])
    current = state_of(known)
    if nothing_to_fold(current, known["next_received"], received_before):
        # The common case between folds: no cut to search for (CUT_SQL, one more D1 call).
        return current.unfolded, current.stale
    for _ in range(2):  # hours, then the days built from them
        if not current.stale or not await sketches.rebuild_stale(db, current.folded, current.version):
            break
        current = await state(db)
    bound = await fold_bound(db, current, received_before)
    for _ in range(max_chunks):
        if current.folded >= bound or db.calls + STEP_CALLS > CALL_BUDGET:
            break
        done, used, size = await fold_span(db, current, bound, size)
        # Lost to another writer (nothing done): read what it left.
        current = current._replace(folded=current.folded + used, version=current.version + 1) if done \
            else await state(db)
    return current.unfolded, current.stale


async def fold_span(db, current, bound, size=None):
    """Fold the next ids up to `bound`, as many as the fold's step size (rollups/steps.py), fewer while D1 refuses:
    a refused or slow fold would stop or slow every read route, which folds first. Returns (whether the step was
    done: False if another writer came first, the ids it covered, the size of the next step)."""
    return await steps.run(db, "fold", lambda size: fold_chunk(db, current.folded, current.version,
                                                               current.folded + size),
                           CHUNK, available=bound - current.folded, stored=size)


async def try_catch_up(db, max_chunks=1, received_before=None, known=None, known_size=None):
    """`catch_up` for callers that can go on without it (reads, deletions): a step D1 refuses even at one
    event is logged and left for the cron, and what is folded is served, with how much is not."""
    try:
        return await catch_up(db, max_chunks, received_before, known, known_size)
    except D1Error as error:
        print("oddlytics: fold step refused:", str(error)[:500])
        current = await state(db)
        return current.unfolded, current.stale


def rebuild_statements():
    """Empty every rollup and rewind the watermark: folding then rebuilds them from the raw events."""
    return [*(Sql(f"DELETE FROM {table}") for table in TABLES),
            Sql("UPDATE fold_state SET folded = 0, version = version + 1 WHERE id = 1")]
