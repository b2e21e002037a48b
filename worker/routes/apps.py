"""GET /apps: every app with its figures for the range, when it was first and last seen, and its settings."""
from api.params import Scope
from api.web import ok
from rollups import read
from tz import zones
from tz.timeutil import to_iso


async def list_apps(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    unfolded = await read.fold_tail(ctx)
    start, end = scope.range.start, scope.range.end
    totals = await read.counter_totals(ctx.db, scope, start, end, by_app=True)
    users, approximate = await read.distinct_users(ctx.db, scope, start, end, totals, by_app=True)
    app_filter, app_params = ("WHERE a.app_id = ?", [scope.app_id]) if scope.app_id else ("", [])
    rows = await ctx.db.query(
        f"""SELECT a.app_id, a.first_seen, a.last_seen, a.events AS total_events, s.display_name, s.icon_url
FROM apps a LEFT JOIN app_settings s ON s.app_id = a.app_id {app_filter}""", *app_params)
    apps = []
    for row in rows:
        figures = totals.get(row["app_id"], {"events": 0, "sessions": 0})
        apps.append({"app_id": row["app_id"], "events": figures["events"], "sessions": figures["sessions"],
                     "users": users.get(row["app_id"], 0), "first_seen": to_iso(row["first_seen"]),
                     "last_seen": to_iso(row["last_seen"]), "total_events": row["total_events"],
                     "display_name": row["display_name"], "icon_url": row["icon_url"]})
    # Most events in the range first, then the most recently seen.
    apps.sort(key=lambda app: (app["events"], app["last_seen"]), reverse=True)
    return ok({"range": scope.as_json(), "apps": apps, **read.freshness(unfolded, approximate)})
