"""Admin routes (AUTH_KEY only): delete one event, a user's data, an app's data; run retention now.

Users and apps are named in the path or, for ids the runtime would rewrite in a path (`.`, `..`
are normalised away even percent-encoded), in the query string: every id `/track` accepts is erasable.
"""
from api.params import int_param, text_param
from api.validation import stored_id
from api.web import ok
from errors import BadRequest, NotFound, detail
from limits import MAX_BIND_INT, ascii_int
from rollups import erasure, links
from rollups.purge import purge_expired
from tz.timeutil import MAX_DAYS, to_iso


def id_from_query(ctx, field):
    return stored_id(ctx.query.get(field), field, field)


async def delete_event(ctx):
    raw = ctx.params["id"]
    event_id = ascii_int(raw, 16)
    if event_id is None or not 1 <= event_id <= MAX_BIND_INT:
        raise BadRequest("event id must be a whole number (the `id` field of GET /events)",
                         [detail(None, "id", f"got {raw[:40]!r}")])
    result = await erasure.erase(ctx.db, erasure.by_id(event_id))
    if not result["deleted"]["events"]:
        raise NotFound(f"no event with id {raw}")
    return ok(result)


async def erase_user(ctx, user_id):
    app_id = text_param(ctx.query, "app_id")
    result = await erasure.erase(ctx.db, erasure.by_user(user_id, app_id))
    await ctx.db.batch(links.forget(app_id=app_id, user_id=user_id))  # which anonymous ids were theirs
    return ok(result)


async def delete_user(ctx):
    return await erase_user(ctx, stored_id(ctx.params["user_id"], "user_id", "user_id"))


async def delete_user_by_query(ctx):
    return await erase_user(ctx, id_from_query(ctx, "user_id"))


async def erase_app(ctx, app_id):
    result = await erasure.erase(ctx.db, erasure.by_app(app_id))
    await ctx.db.batch(links.forget(app_id=app_id))
    return ok(result)


async def delete_app(ctx):
    return await erase_app(ctx, stored_id(ctx.params["app_id"], "app_id", "app_id"))


async def delete_app_by_query(ctx):
    return await erase_app(ctx, id_from_query(ctx, "app_id"))


async def purge(ctx):
    days = int_param(ctx.query, "days", ctx.settings.retention_days, 1, MAX_DAYS)
    if days is None:
        raise BadRequest("no retention period: set the RETENTION_DAYS variable or pass ?days=N",
                         [detail(None, "days", "required when RETENTION_DAYS is not set")])
    result = await purge_expired(ctx.db, ctx.now_ms, days, ctx.settings.retention_keeps_aggregates)
    cutoff = result.pop("cutoff_ms")
    return ok({**result, "days": days, "cutoff": to_iso(cutoff)})
