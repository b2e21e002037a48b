"""GET /suggest?field=session_id|user_id&prefix=P: ids that start with P, for the explorer's filters.

Read through the primary key of the `sessions` rollup (app_id, session_id) app by app: about `limit` rows per
app. User ids: with `app_id`, one range of `users_app_user (app_id, user_id)`; without it, the primary key of
`users` (user_id, app_id) seeking from one id to the next, so a user of many apps costs one step, not a row per
app: about `limit` rows with `app_id` and 2 × `limit` without (a step is also a row of the recursive query's
queue), whatever the number of ids or apps.
"""
from api.params import Scope, choice_param, int_param, text_param
from api.web import ok
from errors import BadRequest, detail
from rollups import read
from sql import Sql
from tz import zones

# Sorts after every character a prefix can be followed by (UTF-8 of U+10FFFF is the largest code point).
AFTER_EVERYTHING = "\U0010ffff"


def prefix_param(query):
    prefix = text_param(query, "prefix")
    if prefix is None:
        raise BadRequest("'prefix' is required: the first characters of the id", [detail(None, "prefix", "required")])
    return prefix


async def suggest(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    field = choice_param(ctx.query, "field", ("session_id", "user_id"), "user_id")
    prefix = prefix_param(ctx.query)
    limit = int_param(ctx.query, "limit", 10, 1, 50)
    pending = await read.fold_tail(ctx)
    bounds = [prefix, prefix + AFTER_EVERYTHING, len(prefix), prefix]
    match = "x.{0} >= ? AND x.{0} < ? AND substr(x.{0}, 1, ?) = ?"
    if field == "session_id":
        rows = await ctx.db.query(
            "SELECT DISTINCT s.session_id AS id FROM " + read.app_source(scope) + Sql(f""" CROSS JOIN sessions s
  ON s.app_id = a.app_id AND s.session_id IN (SELECT x.session_id FROM sessions x WHERE x.app_id = a.app_id
    AND {match.format("session_id")} ORDER BY x.session_id LIMIT ?)
ORDER BY id LIMIT ?""", [*bounds, limit, limit]))
    elif scope.app_id is not None:
        rows = await ctx.db.query(Sql(
            f"SELECT x.user_id AS id FROM users AS x INDEXED BY users_app_user WHERE x.app_id = ? "
            f"AND {match.format('user_id')} ORDER BY x.user_id LIMIT ?", [scope.app_id, *bounds, limit]))
    else:
        # DISTINCT over the primary key would read a row per app of each user: each step seeks past every row
        # of the id before (one row read), `limit` steps at most. No ORDER BY: a sorter bills its rows again.
        rows = await ctx.db.query(Sql(
            """WITH RECURSIVE found (id, n) AS (
  SELECT (SELECT x.user_id FROM users AS x WHERE x.user_id >= ? AND x.user_id < ? ORDER BY x.user_id LIMIT 1), 1
  UNION ALL SELECT (SELECT x.user_id FROM users AS x WHERE x.user_id > found.id AND x.user_id < ?
    ORDER BY x.user_id LIMIT 1), found.n + 1 FROM found WHERE found.id IS NOT NULL AND found.n < ?)
SELECT id FROM found WHERE id IS NOT NULL""",
            [prefix, prefix + AFTER_EVERYTHING, prefix + AFTER_EVERYTHING, limit]))
        # Each step's id is above the one before; UTF-8 (SQLite's order) and code points (Python's) agree.
        rows = sorted((row for row in rows if row["id"].startswith(prefix)), key=lambda row: row["id"])
        # (Over every app the walk cannot skip debug twins' users: their ids may be suggested, never their figures.)
    return ok({"field": field, "prefix": prefix, "app_id": scope.as_json()["app_id"], "debug": scope.debug,
               "values": [row["id"] for row in rows], **read.freshness(pending)})
