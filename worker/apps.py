"""GET /apps: every app with its figures for the range and when it was first and last seen."""
import zones
from filters import Scope
from timeutil import to_iso
from web import ok


async def list_apps(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    where, params = scope.where(scope.range.start, scope.range.end)
    app_filter, app_params = ("WHERE a.app_id = ?", [scope.app_id]) if scope.app_id else ("", [])
    rows = await ctx.db.query(
        f"""WITH e AS (SELECT app_id, SUM(events) AS events FROM hourly_events WHERE {where} GROUP BY app_id),
s AS (SELECT app_id, COUNT(DISTINCT session_id) AS sessions, COUNT(DISTINCT user_id) AS users
      FROM hourly_sessions WHERE {where} GROUP BY app_id)
SELECT a.app_id, COALESCE(e.events, 0) AS events, COALESCE(s.sessions, 0) AS sessions,
       COALESCE(s.users, 0) AS users, a.first_seen, a.last_seen, a.events AS total_events
FROM apps a LEFT JOIN e ON e.app_id = a.app_id LEFT JOIN s ON s.app_id = a.app_id
{app_filter} ORDER BY events DESC, a.last_seen DESC""",
        *params, *params, *app_params,
    )
    for row in rows:
        row["first_seen"] = to_iso(row["first_seen"])
        row["last_seen"] = to_iso(row["last_seen"])
    return ok({"range": scope.as_json(), "apps": rows})
