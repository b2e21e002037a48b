"""Rate limits on POST /track, per client address and per app, before anything is stored.

The INGEST_KEY ships inside apps, so anyone can send events; each stored event costs about 4.5 D1 rows
written (Free: 100,000 a day). Counting is done by Workers Rate Limiting bindings (`ratelimit` in
wrangler.toml, also run by local wrangler): no D1 writes. Pure: a limiter is any `async (key) -> bool`
(True: within the limit); `entry.py` adapts the bindings.
"""
from api.validation import check_app_count, parse_json
from errors import BadRequest, TooManyRequests, detail

# The bindings count over 10 or 60 seconds and do not say when a key's window ends: the longest is safe.
RETRY_AFTER_SECONDS = 60


def app_ids(text):
    """The distinct app ids a /track body names, in order; none if it is not parseable, leaving the 400 to
    the handler."""
    try:
        body = parse_json(text)
    except BadRequest:
        return []
    events = body.get("events", [body]) if isinstance(body, dict) else []
    found = {}
    for event in events if isinstance(events, list) else []:
        app_id = event.get("app_id") if isinstance(event, dict) else None
        if isinstance(app_id, str) and app_id:
            found[app_id] = None
    return list(found)


def refusal(what, field):
    return TooManyRequests(f"too many events sent {what}; retry after {RETRY_AFTER_SECONDS} seconds",
                           [detail(None, field, "rate limit reached")], RETRY_AFTER_SECONDS)


async def check_ip(request, settings):
    """Raises TooManyRequests when the client address is over its limit (the App-Key routes' guard)."""
    per_ip = settings.track_limiters.get("ip")
    if per_ip is not None and not await per_ip(request.client_ip or "unknown"):
        raise refusal("from this address", "ip")


async def check_app(settings, app_id):
    """Raises TooManyRequests when the app is over its limit (an App-Key's app, known after the lookup)."""
    per_app = settings.track_limiters.get("app")
    if per_app is not None and not await per_app(app_id):
        raise refusal(f"for app {app_id[:60]!r}", "app_id")


async def check_track(request, settings):
    """Raises TooManyRequests when the client address or an app of the body is over its limit."""
    await check_ip(request, settings)
    per_app = settings.track_limiters.get("app")
    if per_app is not None:
        apps = app_ids(await request.text())
        # Every app of a body is charged (issue 18: ten decoys used to hide the eleventh): a body naming more
        # apps than a body may is refused before any of them is.
        check_app_count(len(apps))
        for app_id in apps:
            if not await per_app(app_id):
                raise refusal(f"for app {app_id[:60]!r}", "app_id")
