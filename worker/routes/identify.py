"""POST /identify (INGEST_KEY): link an SDK's anonymous id to the user it identified (rollups/links.py)."""
from api.validation import parse_link_body
from api.web import check_content_type, ok
from errors import Conflict, NotFound, detail
from rollups import links

# {app_id, anonymous_id, user_id}: three ids of at most 255 characters, JSON-escaped.
MAX_BODY_BYTES = 8 * 1024


async def post_identify(ctx):
    if not ctx.settings.identify_links:
        # A 404, as from a worker older than links: the SDK drops the link instead of retrying it.
        raise NotFound("links are switched off on this worker (IDENTIFY_LINKS=off)")
    check_content_type(ctx.request.headers)
    app_id, anonymous_id, user_id = parse_link_body(await ctx.request.text())
    result = await links.link(ctx.db, ctx.now_ms, app_id, anonymous_id, user_id)
    if isinstance(result, str):
        raise Conflict(f"{result}; nothing was changed", [detail(None, "anonymous_id", result)])
    return ok(result)
