"""POST /track: validate, then store the events in one D1 transaction."""
import json

import debug_apps
from api import visitors
from api.ingest import store
from api.validation import parse_track_body
from api.web import check_content_type, ok


async def post_track(ctx):
    check_content_type(ctx.request.headers)
    text = await ctx.request.text()
    rows, batch_duplicates = parse_track_body(text, ctx.now_ms, ctx.request.cf_country)
    await count_daily_users(ctx, rows)
    stored = await store(ctx.db, rows)
    duplicates = batch_duplicates + len(rows) - stored
    return ok({"success": True, "count": stored, "duplicates": duplicates})


async def count_daily_users(ctx, rows):
    """Events without a user_id, of apps whose settings say `daily_users`, get the device's daily user id
    (api/visitors.py), as the Aptabase SDKs' events do. One lookup, only when such events are in the batch."""
    apps = sorted({debug_apps.release_id(row["app_id"]) for row in rows if row["user_id"] is None})
    if not apps:
        return
    found = await ctx.db.query("SELECT s.app_id AS app_id FROM json_each(?) AS j CROSS JOIN app_settings AS s "
                               "ON s.app_id = j.value WHERE s.daily_users = 1", json.dumps(apps, ensure_ascii=False))
    users = {row["app_id"]: await visitors.user_of(ctx.db, ctx.now_ms, row["app_id"], ctx.request) for row in found}
    for row in rows:
        if row["user_id"] is None:
            row["user_id"] = users.get(debug_apps.release_id(row["app_id"]))
