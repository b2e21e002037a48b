"""POST /track: validate, then store the events in one D1 transaction."""
from api.ingest import store
from api.validation import parse_track_body
from api.web import check_content_type, ok


async def post_track(ctx):
    check_content_type(ctx.request.headers)
    text = await ctx.request.text()
    rows, batch_duplicates = parse_track_body(text, ctx.now_ms, ctx.request.cf_country)
    stored = await store(ctx.db, rows)
    duplicates = batch_duplicates + len(rows) - stored
    return ok({"success": True, "count": stored, "duplicates": duplicates})
