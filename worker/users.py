"""GET /users: people seen in the range, with their figures, read from the hourly session rollup.

Only sessions that carry a user_id count. `events` are the events of the user's sessions, and
`first_seen`/`last_seen` are UTC hour starts: the rollup keeps hours, not instants.
"""
import cursor as cursors
import zones
from filters import Scope, int_param, text_param
from stats import SESSION_KEY
from timeutil import seconds_to_iso
from web import ok


def user_filter(scope, search):
    where, params = scope.where(scope.range.start, scope.range.end)
    where += " AND user_id IS NOT NULL"
    if search is not None:
        # instr, not LIKE: the search text is matched literally (no % or _ wildcards).
        where += " AND instr(lower(user_id), lower(?)) > 0"
        params.append(search)
    return where, params


async def list_users(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    limit = int_param(ctx.query, "limit", 50, 1, 1000)
    search = text_param(ctx.query, "search")
    after = text_param(ctx.query, "cursor", max_length=400)
    where, params = user_filter(scope, search)
    having, having_params = "", []
    if after is not None:
        last_hour, user_id = cursors.decode(after, (int, str))
        having = "HAVING last_hour < ? OR (last_hour = ? AND user_id > ?)"
        having_params = [last_hour, last_hour, user_id]
    rows = await ctx.db.query(
        f"""SELECT user_id, SUM(events) AS events, COUNT(DISTINCT {SESSION_KEY}) AS sessions,
  COUNT(DISTINCT app_id) AS apps, MIN(hour) AS first_hour, MAX(hour) AS last_hour
FROM hourly_sessions WHERE {where} GROUP BY user_id {having}
ORDER BY last_hour DESC, user_id LIMIT ?""",
        *params, *having_params, limit + 1,
    )
    total = await ctx.db.first(f"SELECT COUNT(DISTINCT user_id) AS n FROM hourly_sessions WHERE {where}", *params)
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = cursors.encode(last["last_hour"], last["user_id"])
    users = [
        {"user_id": r["user_id"], "events": r["events"], "sessions": r["sessions"], "apps": r["apps"],
         "first_seen": seconds_to_iso(r["first_hour"]), "last_seen": seconds_to_iso(r["last_hour"])}
        for r in rows[:limit]
    ]
    return ok({"range": scope.as_json(), "search": search, "total": total["n"], "users": users,
               "next_cursor": next_cursor})
