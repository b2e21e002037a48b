"""Rollup maintenance routes (AUTH_KEY only).

`POST /admin/fold` folds the unfolded tail now, a few chunks per call (the cron and every read route do the
same in smaller steps). `POST /admin/rebuild` empties every rollup and rewinds the fold watermark to 0, so
the rollups are rebuilt from the raw events by folding: call `POST /admin/fold` until `"complete": true`.
"""
from api.params import int_param
from api.web import ok
from d1 import D1Error
from rollups import fold


async def fold_now(ctx):
    chunks = int_param(ctx.query, "chunks", fold.CHUNKS_PER_CALL, 1, 10)
    try:
        unfolded, stale = await fold.catch_up(ctx.db, max_chunks=chunks)
    except D1Error as error:
        # Refused even at one event: say so (reads go on serving what is folded).
        current = await fold.state(ctx.db)
        return ok({"success": False, "complete": False, "unfolded_events": current.unfolded,
                   "stale_sketches": current.stale, "error": f"D1 refused a fold step of one event: {error.reason[:300]}"})
    return ok({"success": True, "complete": not unfolded and not stale, "unfolded_events": unfolded,
               "stale_sketches": stale})


async def rebuild(ctx):
    await ctx.db.batch(fold.rebuild_statements())
    return ok({"success": True, "complete": False, "unfolded_events": (await fold.state(ctx.db)).unfolded,
               "next": "call POST /admin/fold until it answers \"complete\": true"})
