"""POST /api/v0/event and /api/v0/events: the Aptabase protocol, so every Aptabase SDK (Swift, Kotlin,
Flutter, React Native, Electron, Tauri, .NET, Unity, web) sends to Oddlytics with the host set to the worker.

The `App-Key` header is the only credential: public (it ships inside apps), write-only, for its one app. It
fixes the app id (the body cannot name another), reads nothing, and is looked up on every request, so a
rotated key stops working at once. Events become the rows `/track` stores (api/aptabase.py maps them).
"""
from api import aptabase, visitors
from api.ingest import store
from api.ratelimit import check_app
from api.web import check_content_type, ok

async def app_of_key(db, key):
    row = await db.first("SELECT app_id FROM app_keys WHERE app_key = ?", key)
    if row is None:
        raise aptabase.unknown_key()
    return row["app_id"]


async def ingest(ctx, single):
    request = ctx.request
    app_id = await app_of_key(ctx.db, aptabase.app_key(request.headers))
    await check_app(ctx.settings, app_id)
    check_content_type(request.headers)
    text = await request.text()
    user_agent = request.headers.get("user-agent") or ""
    # The SDKs send no user id: each event's user is the device's daily hash in this app (api/visitors.py).
    user_id = await visitors.user_of(ctx.db, ctx.now_ms, app_id, request)
    rows, dropped = aptabase.parse_body(text, single, ctx.now_ms, app_id, request.cf_country, user_id,
                                        aptabase.web_client(user_agent))
    stored = await store(ctx.db, rows)
    payload = {"success": True, "count": stored}
    if dropped:
        payload.update({"dropped": len({problem["index"] for problem in dropped}), "details": dropped})
    return ok(payload)


async def post_event(ctx):
    return await ingest(ctx, single=True)


async def post_events(ctx):
    return await ingest(ctx, single=False)
