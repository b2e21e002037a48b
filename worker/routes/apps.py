"""GET /apps: every app with its figures for the range, when it was first and last seen, and its settings."""
import debug_apps
from api.params import Scope
from api.web import ok
from rollups import purge, read
from sql import Sql
from tz import zones
from tz.timeutil import to_iso


async def list_apps(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    start, end = scope.range.start, scope.range.end
    # Release apps, or with debug=true the debug twins, listed under their app's id and settings.
    settings_of = Sql("substr(a.app_id, ?)", [len(debug_apps.PREFIX) + 1]) if scope.debug else Sql("a.app_id")
    apps_query = (Sql("""SELECT a.app_id AS app_id, a.first_seen AS first_seen, a.last_seen AS last_seen, a.events AS total_events,
  s.display_name AS display_name, s.icon_url AS icon_url
FROM apps a LEFT JOIN app_settings s ON s.app_id = """) + settings_of + " WHERE true" + scope.app_filter("a.app_id"))
    # Two D1 calls when there is nothing to fold (there were five): the fold state, the totals, the purge horizon and
    # the apps in one batch, then the distinct users if the totals do not say them.
    unfolded, (totals_result, horizon_result, apps_result) = await read.fold_tail_and(
        ctx, [read.counter_totals_query(scope, start, end, by_app=True), Sql(purge.HORIZON_SQL), apps_query])
    totals = read.totals_of(totals_result["rows"])
    counting = read.DistinctUsers(scope, start, end, totals, by_app=True).settle(purge.horizon_of(horizon_result["rows"]))
    users, approximate = counting.answer(await ctx.db.query(counting.query) if counting.query is not None else ())
    rows = apps_result["rows"]
    apps = []
    for row in rows:
        figures = totals.get(row["app_id"], {"events": 0, "sessions": 0})
        apps.append({"app_id": debug_apps.release_id(row["app_id"]), "events": figures["events"], "sessions": figures["sessions"],
                     "users": users.get(row["app_id"], 0), "first_seen": to_iso(row["first_seen"]),
                     "last_seen": to_iso(row["last_seen"]), "total_events": row["total_events"],
                     "display_name": row["display_name"], "icon_url": row["icon_url"]})
    # Most events in the range first, then the most recently seen.
    apps.sort(key=lambda app: (app["events"], app["last_seen"]), reverse=True)
    return ok({"range": scope.as_json(), "apps": apps, **read.freshness(unfolded, approximate)})
