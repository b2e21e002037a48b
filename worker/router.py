"""The route table, authentication, CORS, and the one place errors become JSON responses."""
import traceback
from urllib.parse import unquote

from api.auth import ADMIN, INGEST, READ, authorize
from api.web import Response
from errors import (
    ApiError,
    BadRequest,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
    detail,
)

CORS_HEADERS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, POST, PUT, DELETE, OPTIONS",
    "access-control-allow-headers": "Content-Type, X-API-KEY, Authorization, App-Key",
    "access-control-max-age": "86400",
}


class Context:
    """What a handler gets: the request, the database, the clock, the deployment's settings."""

    def __init__(self, request, db, now_ms, settings, params=None):
        self.request = request
        self.db = db
        self.now_ms = now_ms
        self.settings = settings
        self.params = params or {}

    @property
    def query(self):
        return self.request.query


class Route:
    """`max_body_bytes`: the most of an upload the handler may read; 0, the default, reads none."""

    def __init__(self, method, pattern, handler, scope, max_body_bytes=0, guard=None):
        self.method = method
        self.segments = pattern.strip("/").split("/") if pattern != "/" else []
        self.handler = handler
        self.scope = scope
        self.max_body_bytes = max_body_bytes
        # `async guard(request, settings)`: runs after authentication, before the handler (rate limits).
        self.guard = guard

    def match(self, path):
        return self.match_parts(path_parts(path))

    def match_parts(self, parts):
        """`parts`: the request path split once (path_parts); {name: value} of the pattern's parameters, or None."""
        if len(parts) != len(self.segments):
            return None
        params = {}
        for segment, part in zip(self.segments, parts):
            if segment.startswith("{"):
                if not part:
                    return None
                params[segment[1:-1]] = unquote(part)
            elif segment != part:
                return None
        return params


def path_parts(path):
    return path.strip("/").split("/") if path != "/" else []


class RouteTable(list):
    """The routes in order, indexed by their first segment: a request is matched against the few routes that can
    match instead of all ~50 (under Pyodide a Python step costs ~3x CPython's, and every request pays the lookup)."""

    def __init__(self, routes):
        super().__init__(routes)
        self.by_first = {}
        for route in self:
            first = route.segments[0] if route.segments else ""
            self.by_first.setdefault(None if first.startswith("{") else first, []).append(route)

    def candidates(self, parts):
        """The routes that may match `parts`, in table order."""
        exact = self.by_first.get(parts[0] if parts else "", [])
        wildcard = self.by_first.get(None)
        return sorted(exact + wildcard, key=self.index) if wildcard else exact


def build_routes():
    # Imported here so pure modules (and their unit tests) don't pull in the D1 runtime.
    from api.ratelimit import check_ip, check_track
    from api.validation import MAX_BODY_BYTES
    from routes import (
        active,
        admin,
        apps,
        aptabase,
        breakdown,
        events,
        funnel,
        health,
        heatmap,
        identify,
        maintenance,
        retention,
        script,
        sessions,
        settings,
        stats,
        suggest,
        track,
        user,
        users,
    )

    return RouteTable([
        Route("GET", "/health", health.get_health, None),
        Route("GET", "/script.js", script.get_script, None),
        Route("DELETE", "/admin/events/{id}", admin.delete_event, ADMIN),
        Route("DELETE", "/admin/users/{user_id}", admin.delete_user, ADMIN),
        Route("DELETE", "/admin/users", admin.delete_user_by_query, ADMIN),
        Route("DELETE", "/admin/apps/{app_id}", admin.delete_app, ADMIN),
        Route("DELETE", "/admin/apps", admin.delete_app_by_query, ADMIN),
        Route("POST", "/admin/purge", admin.purge, ADMIN),
        Route("POST", "/admin/fold", maintenance.fold_now, ADMIN),
        Route("POST", "/admin/cron", maintenance.cron, ADMIN),
        Route("POST", "/admin/rebuild", maintenance.rebuild, ADMIN),
        Route("POST", "/track", track.post_track, INGEST, max_body_bytes=MAX_BODY_BYTES, guard=check_track),
        # The SDK's identify: its body names one app, charged like a /track body's (api/ratelimit.py).
        Route("POST", "/identify", identify.post_identify, INGEST, max_body_bytes=identify.MAX_BODY_BYTES,
              guard=check_track),
        # The Aptabase protocol: authenticated by the App-Key header in the handler (scope None: no API key).
        Route("POST", "/api/v0/event", aptabase.post_event, None, max_body_bytes=MAX_BODY_BYTES, guard=check_ip),
        Route("POST", "/api/v0/events", aptabase.post_events, None, max_body_bytes=MAX_BODY_BYTES, guard=check_ip),
        Route("GET", "/apps", apps.list_apps, READ),
        Route("GET", "/stats/overview", stats.overview, READ),
        Route("GET", "/stats/timeline", stats.timeline, READ),
        Route("GET", "/stats/events", stats.top_events, READ),
        Route("GET", "/events", events.list_events, READ),
        Route("GET", "/users", users.list_users, READ),
        Route("GET", "/suggest", suggest.suggest, READ),
        Route("GET", "/stats/heatmap", heatmap.heatmap, READ),
        Route("GET", "/stats/breakdown", breakdown.breakdown, READ),
        Route("GET", "/stats/properties", breakdown.properties, READ),
        Route("GET", "/stats/groups", breakdown.groups, READ),
        Route("GET", "/users/{user_id}", user.get_user, READ),
        Route("GET", "/user", user.get_user_by_query, READ),
        *settings_routes(settings),
        Route("GET", "/stats/funnel", funnel.stats_funnel, READ),
        Route("GET", "/stats/retention", retention.stats_retention, READ),
        Route("GET", "/stats/sessions", sessions.sessions, READ),
        Route("GET", "/stats/active", active.active, READ),
        Route("GET", "/stats/calendar", active.calendar, READ),
    ])


def settings_routes(handlers):
    """Aliases and app settings: ids in the path, or in the query string for ids a path cannot carry."""
    body = handlers.MAX_BODY_BYTES
    routes = [Route("GET", "/settings/apps", handlers.list_apps, READ),
              Route("GET", "/settings/aliases", handlers.list_aliases, READ),
              Route("GET", "/settings/limits", handlers.get_limits, READ),
              Route("PUT", "/settings/limits", handlers.put_limits, ADMIN, max_body_bytes=body),
              Route("POST", "/settings/limits", handlers.put_limits, ADMIN, max_body_bytes=body),
              Route("POST", "/settings/apps/{app_id}/app-key", handlers.post_app_key, ADMIN),
              Route("POST", "/settings/app-key", handlers.post_app_key, ADMIN)]
    for path in ("/settings/apps/{app_id}", "/settings/apps"):
        routes += [Route("PUT", path, handlers.put_app, ADMIN, max_body_bytes=body),
                   Route("POST", path, handlers.put_app, ADMIN, max_body_bytes=body),
                   Route("DELETE", path, handlers.delete_app, ADMIN)]
    for path in ("/settings/aliases/{app_id}/{event_name}", "/settings/aliases"):
        routes += [Route("PUT", path, handlers.put_alias, ADMIN, max_body_bytes=body),
                   Route("POST", path, handlers.put_alias, ADMIN, max_body_bytes=body),
                   Route("DELETE", path, handlers.delete_alias, ADMIN)]
    return routes


def resolve(routes, method, path):
    """(route, params) for a request: `routes` a RouteTable (build_routes), or any list of Routes."""
    parts = path_parts(path)
    allowed = []
    for route in routes.candidates(parts) if isinstance(routes, RouteTable) else routes:
        params = route.match_parts(parts)
        if params is None:
            continue
        if route.method == method:
            return route, params
        allowed.append(route.method)
    if allowed:
        raise MethodNotAllowed(f"{method} is not allowed on {path}; use {', '.join(sorted(set(allowed)))}", allowed)
    raise NotFound(f"no route for {path}")


def error_response(error):
    payload = {"success": False, "error": error.message, "details": error.details}
    headers = {"allow": ", ".join(sorted(set(error.allowed)))} if isinstance(error, MethodNotAllowed) else {}
    return Response(error.status, payload, {**headers, **error.headers})


async def handle(routes, request, db, now_ms, settings):
    if request.method == "OPTIONS":
        response = Response(204)
    else:
        try:
            response = await dispatch(routes, request, db, now_ms, settings)
        except ApiError as error:
            response = error_response(error)
        except Exception as error:  # noqa: BLE001 - the last line of defence must catch everything
            response = unexpected_error_response(error)
    if request.body is not None:
        # Only /track and /identify read an upload, and at most its cap; whatever is left is dropped unread.
        await request.body.discard()
    response.headers.update(CORS_HEADERS)
    return response


async def dispatch(routes, request, db, now_ms, settings):
    route, params = resolve(routes, request.method, request.path)
    if route.scope is not None:
        authorize(request.headers, settings.keys, route.scope)
    if route.scope == ADMIN:
        refuse_empty_parameters(request.query)
    request.max_body_bytes = route.max_body_bytes
    if route.guard is not None:
        await route.guard(request, settings)
    return await route.handler(Context(request, db, now_ms, settings, params))


def refuse_empty_parameters(query):
    """On a destructive route an empty parameter is a mistake (an unset shell variable), never "all"."""
    empty = sorted(name for name, value in query.items() if value == "")
    if empty:
        raise BadRequest(f"empty parameter on a destructive route: {', '.join(empty)[:200]}",
                         [detail(None, name[:60], "must not be empty; leave it out instead") for name in empty[:20]])


def unexpected_error_response(error):
    from d1 import D1Error

    if isinstance(error, D1Error) and ("no such table" in error.reason or "no such index" in error.reason):
        return error_response(ServiceUnavailable(
            "the database schema is not up to date: run `npx wrangler d1 migrations apply oddlytics-db --remote` "
            "(or `python3 scripts/migrate.py --remote`)"
        ))
    print("oddlytics: unexpected error:", "".join(traceback.format_exception(error))[-2000:])
    return Response(500, {"success": False, "error": "internal error; see the worker's logs"})
