"""GET /users: people seen in the range, most recently seen first, from the `users` rollup (one row per user
and app). Figures are all-time: events, sessions, apps, first and last seen.

A user counts as seen in the range when their first and last event in some app bracket it, which is exact
for ranges that reach the present (the dashboard's) and may include, for a range in the past, someone active
before and after it but not within it: such responses say `"approximate": true`.

A page reads about apps x limit rows through (app_id, last_seen), whatever the number of users; `search`
(a substring) has to look at every user of the range.
"""

from api import cursor as cursors
from api.params import Scope, int_param, text_param
from api.web import ok_with_rows
from rollups import purge, read
from sql import Sql
from tz import zones
from tz.timeutil import HOUR, MS, iso_ms_sql


def candidate_filter(scope, search, after):
    """Users of `users x` seen in the range, matching the search, after the cursor."""
    condition = Sql("x.last_seen >= ? AND x.first_seen < ?", [scope.range.start * MS, scope.range.end * MS])
    if search is not None:
        # instr, not LIKE: the search text is matched literally (no % or _ wildcards).
        condition += Sql(" AND instr(lower(x.user_id), lower(?)) > 0", [search])
    if after is not None:
        condition += Sql(" AND (x.last_seen < ? OR (x.last_seen = ? AND x.user_id > ?))", [after[0], after[0], after[1]])
    return condition


def candidates_query(scope, search, after, limit):
    """The limit + 1 users seen last (before the cursor), by their last event over the scope's apps: (user_id,
    last_seen) pairs. Per app, its limit + 1 users seen last (apps x limit index rows), then per candidate its
    last event over all apps (the users primary key starts with user_id). Picking the page in SQL keeps what
    Python receives, and the ids bound again for their figures, at limit + 1 users: every app's candidates, ids of
    up to 255 characters each, were past D1's 2 MB per value with 100 apps."""
    where = candidate_filter(scope, search, after)
    page_after = Sql("")
    if after is not None:
        page_after = Sql(" WHERE (c.last_seen < ? OR (c.last_seen = ? AND c.user_id > ?))", [after[0], after[0], after[1]])
    # The (limit + 1)-th last_seen of each app, then that app's index range down to it.
    return (
        """WITH floors AS (SELECT a.app_id AS app_id, (SELECT x.last_seen FROM users x
    WHERE x.app_id = a.app_id AND """ + where + Sql(" ORDER BY x.last_seen DESC LIMIT 1 OFFSET ?) AS floor FROM ", [limit])
        + read.app_source(scope) + """),
ids AS (SELECT DISTINCT x.user_id FROM floors f CROSS JOIN users x
  ON x.app_id = f.app_id AND x.last_seen >= COALESCE(f.floor, 0) AND """ + where + """),
c AS (SELECT i.user_id AS user_id, (SELECT MAX(y.last_seen) FROM users y WHERE y.user_id = i.user_id"""
        + scope.app_filter("y.app_id") + ") AS last_seen FROM ids i)\nSELECT c.user_id, c.last_seen FROM c" + page_after
        + Sql(" ORDER BY c.last_seen DESC, c.user_id LIMIT ?", [limit + 1]))


async def list_users(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    limit = int_param(ctx.query, "limit", 50, 1, 1000)
    search = text_param(ctx.query, "search")
    after_text = text_param(ctx.query, "cursor", max_length=cursors.MAX_LENGTH)
    after = cursors.decode(after_text, (int, str)) if after_text is not None else None
    # One D1 call when there is nothing to fold and the total is counted from sketches or a search: the fold state, the
    # page with its figures, and the total's statements (its sketches read before the totals decide, as the
    # overview's); a second only for a total counted exactly. Each D1 call costs the worker ~1-2 ms of CPU under
    # Pyodide: the list made two or three.
    total_first = total_statements(scope, search)
    unfolded, first = await read.fold_tail_and(ctx, [page_query(scope, search, after, limit), *total_first])
    counting = total_counting(scope, search, [result["rows"] for result in first[1:3]])
    if counting is not None and counting.kind == "sketch":
        counted = first[3]["rows"]
    elif counting is not None and counting.query is not None:
        counted = (await ctx.db.batch([counting.query]))[0]["rows"]
    else:
        counted = ()
    figures = {row["user_id"]: row for row in first[0]["rows"]}
    # Ordered by the user's last event over all apps; one already listed on an earlier page (because
    # another app saw them later) is not listed again.
    ordered = sorted(figures, key=lambda user: (-figures[user]["last_seen"], user))
    if after is not None:
        ordered = [user for user in ordered if (-figures[user]["last_seen"], user) > (-after[0], after[1])]
    page, next_cursor = ordered[:limit], None
    if len(ordered) > limit:
        next_cursor = cursors.encode(figures[page[-1]]["last_seen"], page[-1])
    total, approximate = total_answer(first[1]["rows"], counting, counted)
    past_range = scope.range.end * MS < ctx.now_ms - HOUR * MS
    return ok_with_rows({"range": scope.as_json(), "search": search, "total": total, "next_cursor": next_cursor,
                         **read.freshness(unfolded, approximate or past_range)},
                        "users", [figures[user]["user"] for user in page])


def page_query(scope, search, after, limit):
    """The page's candidates (candidates_query), each with the figures the page orders by and the user as the page
    shows it, built by D1 (json_object: per-row work stays out of Pyodide, see routes/events.EVENT_JSON): a user's
    rows of the scope's apps, read for the limit + 1 candidates only (the candidates are picked, sorted and cut
    before the figures: a LIMIT subquery)."""
    figures = (f"""(SELECT json_object('user_id', u.user_id, 'events', SUM(u.events), 'sessions', SUM(u.sessions),
  'apps', COUNT(*), 'first_seen', {iso_ms_sql('MIN(u.first_seen)')}, 'last_seen', {iso_ms_sql('MAX(u.last_seen)')})
  FROM users AS u WHERE u.user_id = p.user_id""" + scope.app_filter("u.app_id") + ")")
    return ("SELECT p.user_id AS user_id, p.last_seen AS last_seen, " + figures + " AS user FROM ("
            + candidates_query(scope, search, after, limit) + ") AS p")


def total_statements(scope, search):
    """The first statements of the total: users seen in the range (the counters' totals, the purge horizon and the
    sketches, for the distinct-users figure), or with a search, the matching users counted."""
    if search is None:
        return [read.counter_totals_query(scope, scope.range.start, scope.range.end), Sql(purge.HORIZON_SQL),
                read.sketches_query(scope, scope.range.start, scope.range.end)]
    return [Sql("SELECT COUNT(DISTINCT x.user_id) AS n FROM ") + read.app_source(scope)
            + " CROSS JOIN users x ON x.app_id = a.app_id AND " + candidate_filter(scope, search, None)]


def total_counting(scope, search, rows):
    """read.DistinctUsers for the total without a search (its query, if any, goes in the second call); None with one."""
    if search is not None:
        return None
    totals_rows, horizon_rows = rows
    return read.DistinctUsers(scope, scope.range.start, scope.range.end,
                              read.totals_of(totals_rows)).settle(purge.horizon_of(horizon_rows))


def total_answer(first_rows, counting, rows):
    """(total, approximate)."""
    if counting is None:
        return first_rows[0]["n"], False
    users, approximate = counting.answer(rows)
    return users.get(None, 0), approximate
