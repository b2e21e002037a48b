"""Rollup maintenance routes (AUTH_KEY only).

`POST /admin/fold` folds the unfolded tail now, a few chunks per call, whatever FOLD_EVERY_MINUTES says (the cron
and every read route fold in smaller steps, and only what was received before the current fold interval).
`POST /admin/rebuild` empties every rollup and rewinds the fold watermark to 0, so the rollups are rebuilt from the
raw events by folding: call `POST /admin/fold` until `"complete": true`.
`POST /admin/cron[?retention=1]` does what one cron invocation does (entry.on_scheduled; cron triggers do not fire
under local `wrangler dev`), the daily retention run with `retention=1`.
"""
from api import visitors
from api.params import int_param
from api.web import ok
from d1 import D1Error
from rollups import fold, purge, steps
from sql import Sql


def old_salts(now_ms):
    """Daily salts of past days go (api/visitors.py): then no hash of those days can be recomputed."""
    return Sql(visitors.DELETE_OLD_SQL, [visitors.day_of(now_ms)])


def changes_of(meta):
    """Rows a statement changed, from D1's meta."""
    return int(meta.get("changes", 0))


async def delete_old_salts(db, now_ms):
    return changes_of(await db.run(old_salts(now_ms)))


async def scheduled_work(db, now_ms, settings, retention_run=False):
    """One cron invocation (entry.on_scheduled), one step of work: the daily retention run (`retention_run`) purges
    a step; every other run drops yesterday's salt and folds a step of what was received before the current fold
    interval (api/config.py: FOLD_EVERY_MINUTES; the runs inside an interval find nothing to fold once it is), or,
    when there is nothing to fold and the last purge left expired events behind (purge.PENDING_SQL), purges a step
    more. The fold comes first, so a long purge (a first one over years of history) never holds the figures back by
    more than a fold interval. One step per invocation keeps each within one step's CPU (the Free plan's limit is
    per invocation); the runs every 5 minutes fold up to 24,000 events an hour. The salts, the marker, the fold
    state and the fold's and the purge's step sizes are read in one D1 call (a row of meta each)."""
    salts, pending, state, size, purge_size = await db.batch([
        old_salts(now_ms), Sql(purge.PENDING_SQL), Sql(fold.READ_STATE_SQL), steps.size_sql("fold"),
        steps.size_sql("purge")])
    row = state["rows"][0]
    received_before = settings.fold_received_before(now_ms)
    nothing_to_fold = fold.nothing_to_fold(fold.state_of(row), row["next_received"], received_before)
    was_pending = purge.pending_of(pending["rows"])
    if settings.retention_days and (retention_run or (was_pending and nothing_to_fold)):
        result = await purge.purge_expired(db, now_ms, settings.retention_days, settings.retention_keeps_aggregates,
                                           received_before, known=row, known_size=steps.size_from(purge_size["rows"]))
        if result["complete"] == was_pending:  # the marker changes: one D1 call more
            await db.run(purge.mark_pending(result["complete"]))
        return {"ran": "purge", "complete": result["complete"], "deleted": result["deleted"]}
    unfolded, stale = await fold.try_catch_up(db, max_chunks=fold.CHUNKS_PER_CALL, received_before=received_before,
                                              known=row, known_size=steps.size_from(size["rows"]))
    return {"ran": "fold", "unfolded_events": unfolded, "stale_sketches": stale,
            "salts_deleted": changes_of(salts["meta"])}


async def cron(ctx):
    """`POST /admin/cron[?retention=1]`: one cron invocation now, as `scheduled_work` does it."""
    retention_run = int_param(ctx.query, "retention", 0, 0, 1) == 1
    return ok({"success": True, **await scheduled_work(ctx.db, ctx.now_ms, ctx.settings, retention_run)})


async def fold_now(ctx):
    chunks = int_param(ctx.query, "chunks", fold.CHUNKS_PER_CALL, 1, 10)
    salts_deleted = await delete_old_salts(ctx.db, ctx.now_ms)
    try:
        unfolded, stale = await fold.catch_up(ctx.db, max_chunks=chunks)
    except D1Error as error:
        # Refused even at one event: say so (reads go on serving what is folded).
        current = await fold.state(ctx.db)
        return ok({"success": False, "complete": False, "unfolded_events": current.unfolded,
                   "stale_sketches": current.stale, "salts_deleted": salts_deleted,
                   "error": f"D1 refused a fold step of one event: {error.reason[:300]}"})
    return ok({"success": True, "complete": not unfolded and not stale, "unfolded_events": unfolded,
               "stale_sketches": stale, "salts_deleted": salts_deleted})


async def rebuild(ctx):
    await ctx.db.batch(fold.rebuild_statements())
    return ok({"success": True, "complete": False, "unfolded_events": (await fold.state(ctx.db)).unfolded,
               "next": "call POST /admin/fold until it answers \"complete\": true"})
