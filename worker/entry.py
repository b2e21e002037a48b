"""Cloudflare Python Worker entry point: adapt the JS request, route it, adapt the response back.

Runtime: workerd 1.20241106 with Pyodide 0.26 (compatibility_date 2024-11-01). Only `on_fetch`
is wired under local `wrangler dev`; `on_scheduled` runs in production only.
"""
import time

from js import Response as JsResponse

import router
import settings as settings_module
from d1 import Database
from web import Request

ROUTES = router.build_routes()


def _headers(js_headers):
    return {pair[0]: pair[1] for pair in js_headers.entries()}


def _country(js_request):
    cf = getattr(js_request, "cf", None)
    return getattr(cf, "country", None) if cf else None


async def _drain_body(js_request):
    # Read into a JS buffer (never converted to Python): local wrangler's proxy stalls the
    # response to a request whose upload was left unread, and ReadableStream.cancel() did not help.
    if not js_request.bodyUsed:
        try:
            await js_request.arrayBuffer()
        except Exception:  # noqa: BLE001 - a broken upload must not cost the client its answer
            pass


async def on_fetch(js_request, env):
    request = Request(
        js_request.method,
        js_request.url,
        _headers(js_request.headers),
        js_request.text,
        _country(js_request),
        lambda: _drain_body(js_request),
    )
    db = Database(env.DB)
    response = await router.handle(ROUTES, request, db, int(time.time() * 1000), settings_module.from_env(env))
    # What this request cost against the D1 quota (Free: 5M rows read, 100k written per day).
    response.headers["x-d1-rows-read"] = str(db.rows_read)
    response.headers["x-d1-rows-written"] = str(db.rows_written)
    # A dict would become a JS Map, which the Response constructor rejects: pass header pairs.
    return JsResponse.new(response.body or None, status=response.status, headers=list(response.headers.items()))


RETENTION_CRON = "17 3 * * *"


async def on_scheduled(event, env, ctx):
    """The cron triggers (production only): every few minutes fold the unfolded tail into the rollups;
    daily, also apply RETENTION_DAYS (no variable, no deletion)."""
    from maintenance import scheduled_fold
    from retention import purge_expired

    db = Database(env.DB)
    print("oddlytics: fold:", await scheduled_fold(db))
    retention_days = settings_module.from_env(env).retention_days
    if retention_days and getattr(event, "cron", None) == RETENTION_CRON:
        result = await purge_expired(db, int(time.time() * 1000), retention_days)
        print("oddlytics: retention purge:", result)
