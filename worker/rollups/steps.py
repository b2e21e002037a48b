"""Step sizes that follow what a step costs (issue 16: "shrink on any D1 error or slow statement").

Folding, deleting and purging go through the raw events in steps of events, one D1 transaction each. What a
step costs depends on the events, which a sender chooses: an erasure step of 5,000 events with 50 properties each
took 14 s locally where one of 5,000 plain events takes well under one. So the size of each kind of step is kept
in `meta` (`step:fold`, `step:erase`, `step:purge`) and set after every step from how long it took. A kind starts
at a size whose worst case stays within a few seconds (an erasure step of 1,000 events of 50 properties: ~2.8 s; a
fold step of 2,000 such events: ~1.4 s) and may grow to its maximum (5,000 for an erasure) while steps are fast:

- slower than the target: the next step is smaller in proportion (a step of 5,000 events that took 14 s against
  2 s makes the next one 714 events);
- refused by D1 (chunk.shrinking tried it a quarter as big until it passed): the next starts at the size that passed;
- a full-size step under a quarter of the target lets the next one double, up to the kind's maximum.

The clock is the Workers clock, which advances across I/O only: a step's time is the time D1 took. The target is
STEP_TARGET_MS (default 2,000; `steps.configure`, once per isolate, from the deployment's variables).
"""
import time

from rollups.chunk import shrinking
from sql import Sql

TARGET_MS = 2000
KINDS = ("fold", "erase", "purge")
_target_ms = TARGET_MS


def configure(target_ms):
    """The target of every step in this isolate (variables do not change within one)."""
    global _target_ms
    _target_ms = target_ms or TARGET_MS


def key(kind):
    assert kind in KINDS
    return f"step:{kind}"


def stored_sql(kind):
    """SQL: the size kept for `kind` (NULL: the default)."""
    return f"(SELECT CAST(value AS INTEGER) FROM meta WHERE key = '{key(kind)}')"


def store(kind, size):
    return Sql("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
               [key(kind), str(size)])


def next_size(stored, tried, used, done, elapsed_ms, maximum, target_ms=None):
    """The size of the next step. `stored`: the size kept; `tried`: the size this step started at (the kept size, or
    fewer when fewer events were left); `used`: the size that passed (smaller when D1 refused); `done`: the events it
    handled (fewer than `used` when fewer matched); `elapsed_ms`: how long it took, refusals included. Only a step that
    handled all it was given says that a bigger one would be fast too."""
    target_ms = target_ms or _target_ms
    if elapsed_ms > target_ms:
        basis = max(1, min(used, done))
        return max(1, min(used, int(basis * target_ms // elapsed_ms)))
    if used < tried:
        return used
    if done >= tried >= stored and elapsed_ms * 4 < target_ms:
        return min(maximum, stored * 2)
    return min(stored, maximum)


def size_sql(kind):
    """The size kept for `kind` as a statement (column `size`), for a caller's batch; `size_from` reads its rows."""
    return Sql(f"SELECT {stored_sql(kind)} AS size")


def size_from(rows):
    return int(rows[0]["size"]) if rows and rows[0]["size"] else None


async def size_of(db, kind):
    return size_from(await db.query(size_sql(kind)))


async def run(db, kind, step, maximum, initial=None, available=None, handled=None, stored=None):
    """`await step(size)` at the size kept for `kind` (`initial` while none is, at most `available`), shrinking while
    D1 refuses it, and the size kept for the next step. `handled(result)`: the events the step handled (default: as
    many as its size); `stored`: the kept size when the caller knows it (a later step of the same call: each query
    counts against D1's 50 per invocation on the Free plan). Returns (step's result, the size that passed, the size
    kept for the next step)."""
    stored = min(maximum, stored or await size_of(db, kind) or initial or maximum)
    tried = stored if available is None else max(1, min(stored, available))
    started = time.monotonic()
    result, used = await shrinking(step, tried)
    done = used if handled is None else handled(result)
    following = next_size(stored, tried, used, done, (time.monotonic() - started) * 1000, maximum)
    if following != stored:
        await db.run(store(kind, following))
    return result, used, following
