"""Rollup maintenance routes (AUTH_KEY only), and what the cron runs.

`POST /admin/fold` folds the unfolded tail now, a few chunks per call (the cron and every read route do the
same in smaller steps). `POST /admin/rebuild` empties every rollup and rewinds the fold watermark to 0, so
the rollups are rebuilt from the raw events by folding: call `POST /admin/fold` until `"complete": true`.
"""
import fold
import session_rollups
from d1 import Statement
from filters import int_param
from web import ok

ROLLUP_TABLES = ("apps", "event_names", "sessions", "session_events", "session_users", "hourly", "daily", "hourly_names",
                 "daily_names", "hourly_users", "daily_users", "users", "stale_sketches", "dim_values", "hourly_dims",
                 "daily_dims", "session_dims", "daily_dim_users",
                 *session_rollups.TABLES)
# Each chunk is one batch of ~20 statements; D1 Free allows 50 queries per invocation.
FOLD_CHUNKS_PER_CALL = 2


async def fold_now(ctx):
    chunks = int_param(ctx.query, "chunks", FOLD_CHUNKS_PER_CALL, 1, 10)
    unfolded, stale = await fold.catch_up(ctx.db, max_chunks=chunks)
    return ok({"success": True, "complete": not unfolded and not stale, "unfolded_events": unfolded,
               "stale_sketches": stale})


async def rebuild(ctx):
    statements = [Statement(f"DELETE FROM {table}") for table in ROLLUP_TABLES]
    statements.append(Statement("UPDATE fold_state SET folded = 0, version = version + 1 WHERE id = 1"))
    await ctx.db.batch(statements)
    return ok({"success": True, "complete": False, "unfolded_events": (await fold.state(ctx.db)).unfolded,
               "next": "call POST /admin/fold until it answers \"complete\": true"})


async def scheduled_fold(db, chunks=FOLD_CHUNKS_PER_CALL):
    return await fold.catch_up(db, max_chunks=chunks)
