"""Rollup maintenance routes (AUTH_KEY only).

`POST /admin/fold` folds the unfolded tail now, a few chunks per call, whatever FOLD_EVERY_MINUTES says (the cron
and every read route fold in smaller steps, and only what was received before the current fold interval).
`POST /admin/rebuild` empties every rollup and rewinds the fold watermark to 0, so the rollups are rebuilt from the
raw events by folding: call `POST /admin/fold` until `"complete": true`.
"""
from api import visitors
from api.params import int_param
from api.web import ok
from d1 import D1Error
from rollups import fold


async def delete_old_salts(db, now_ms):
    """Daily salts of past days go (api/visitors.py): then no hash of those days can be recomputed."""
    return int((await db.run(visitors.DELETE_OLD_SQL, visitors.day_of(now_ms))).get("changes", 0))


async def scheduled_fold(db, now_ms, settings, chunks=fold.CHUNKS_PER_CALL):
    """The cron's work every few minutes (entry.on_scheduled): fold what was received before the current fold
    interval (api/config.py: FOLD_EVERY_MINUTES; the runs inside an interval find nothing to fold once it is),
    drop yesterday's salt."""
    await delete_old_salts(db, now_ms)
    return await fold.try_catch_up(db, max_chunks=chunks, received_before=settings.fold_received_before(now_ms))


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
