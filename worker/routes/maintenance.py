"""Rollup maintenance routes (AUTH_KEY only).

`POST /admin/fold` folds the unfolded tail now, a few chunks per call (the cron and every read route do the
same in smaller steps). `POST /admin/rebuild` empties every rollup and rewinds the fold watermark to 0, so
the rollups are rebuilt from the raw events by folding: call `POST /admin/fold` until `"complete": true`.
"""
from api.params import int_param
from api.web import ok
from rollups import fold


async def fold_now(ctx):
    chunks = int_param(ctx.query, "chunks", fold.CHUNKS_PER_CALL, 1, 10)
    unfolded, stale = await fold.catch_up(ctx.db, max_chunks=chunks)
    return ok({"success": True, "complete": not unfolded and not stale, "unfolded_events": unfolded,
               "stale_sketches": stale})


async def rebuild(ctx):
    await ctx.db.batch(fold.rebuild_statements())
    return ok({"success": True, "complete": False, "unfolded_events": (await fold.state(ctx.db)).unfolded,
               "next": "call POST /admin/fold until it answers \"complete\": true"})
