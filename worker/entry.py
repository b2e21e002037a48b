"""Cloudflare Python Worker entry point: adapt the JS request, route it, adapt the response back.

Runtime: workerd 1.20241106 with Pyodide 0.26 (compatibility_date 2024-11-01). Only `on_fetch`
is wired under local `wrangler dev`; `on_scheduled` runs in production only.
"""
import time
from urllib.parse import urlsplit

from js import Object, WritableStream
from js import Response as JsResponse
from pyodide.ffi import to_js

import router
from api import config
from api.web import Request, StreamBody
from d1 import Database
from rollups import steps

ROUTES = router.build_routes()


def _binding_limiter(binding):
    """A Workers Rate Limiting binding -> `async (key) -> bool`, True while the key is within its limit."""
    async def within_limit(key):
        outcome = await binding.limit(to_js({"key": key}, dict_converter=Object.fromEntries))
        return bool(outcome.success)

    return within_limit


def _headers(js_headers):
    # One conversion across the FFI rather than two per header.
    return Object.fromEntries(js_headers).to_py()


_settings = None


def _settings_of(env):
    """Secrets and variables do not change within an isolate (changing them deploys a new version)."""
    global _settings
    if _settings is None:
        _settings = config.from_env(env, _binding_limiter)
        steps.configure(_settings.step_target_ms)
    return _settings


def _is_local(url):
    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


def _country(js_request):
    # Local wrangler's request.cf is a placeholder (country "US" for every request): no country, not a false one.
    if _is_local(js_request.url):
        return None
    cf = getattr(js_request, "cf", None)
    return getattr(cf, "country", None) if cf else None


def _leftover_sink(url):
    """Under local wrangler (a loopback address) an unread upload is dropped into a JS sink; see StreamBody."""
    if _is_local(url):
        return lambda: WritableStream.new()
    return None


async def on_fetch(js_request, env):
    headers = _headers(js_request.headers)
    request = Request(
        js_request.method,
        js_request.url,
        headers,
        StreamBody(js_request.body, _leftover_sink(js_request.url)) if js_request.body else None,
        _country(js_request),
        # Set by Cloudflare's edge (and by local wrangler): the client address, used only for rate limits.
        headers.get("cf-connecting-ip"),
    )
    db = Database(env.DB)
    response = await router.handle(ROUTES, request, db, int(time.time() * 1000), _settings_of(env))
    # What this request cost against the D1 quota (Free: 5M rows read, 100k written per day).
    response.headers["x-d1-rows-read"] = str(db.rows_read)
    response.headers["x-d1-rows-written"] = str(db.rows_written)
    # D1 calls made (a batch is one): the Free plan allows 50 per invocation.
    response.headers["x-d1-calls"] = str(db.calls)
    # Milliseconds D1 spent executing them (meta.duration): not the worker's CPU, though locally on its thread.
    response.headers["x-d1-duration-ms"] = f"{db.duration_ms:.3f}"
    # A dict would become a JS Map, which the Response constructor rejects: pass header pairs.
    return JsResponse.new(response.body or None, status=response.status, headers=list(response.headers.items()))


RETENTION_CRON = "17 3 * * *"


async def on_scheduled(event, env, ctx):
    """The cron triggers (production only), one step of work each (routes/maintenance.scheduled_work): every few
    minutes fold the unfolded tail into the rollups, or go on with a purge the daily run left unfinished; daily,
    apply RETENTION_DAYS (no variable, no deletion)."""
    from routes.maintenance import scheduled_work

    db = Database(env.DB)
    settings = _settings_of(env)
    retention_run = getattr(event, "cron", None) == RETENTION_CRON
    print("oddlytics: cron:", await scheduled_work(db, int(time.time() * 1000), settings, retention_run))
