"""GET /suggest?field=session_id|user_id&prefix=P: ids that start with P, for the explorer's filters.

Read through the primary keys of the `sessions` (app_id, session_id) and `users` (user_id, app_id) rollups:
a prefix is one key range, so a request reads about `limit` rows per app (sessions) or `limit` rows plus the
other apps' rows of the same users (users), whatever the number of ids.
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
    else:
        app_filter = scope.app_filter("x.app_id")
        rows = await ctx.db.query(
            Sql(f"SELECT DISTINCT x.user_id AS id FROM users x WHERE {match.format('user_id')}", bounds) + app_filter
            + Sql("\nORDER BY id LIMIT ?", [limit]))
    return ok({"field": field, "prefix": prefix, "app_id": scope.as_json()["app_id"], "debug": scope.debug,
               "values": [row["id"] for row in rows], **read.freshness(pending)})
