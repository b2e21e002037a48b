"""GET /users/{user_id} and GET /user?user_id=: one user's all-time figures, over all apps and per app.

Figures come from the `users` rollup (one row per user and app: exact, all-time): the totals are one aggregate
over the user's rows, and the per-app list is a page of `apps_limit` apps, most recently seen first, continued
with `apps_cursor` (an id sent by anyone to thousands of apps must not make an answer of megabytes). Each
request reads the user's rows about three times (the totals, and the page: a sorter bills its rows again).
Platforms and app versions are not rolled up per user: they are read from the user's newest SAMPLE_EVENTS events,
found through the user's newest marks and their sessions (rollups/marks.py, rollups/ranges.py), a bounded read
whatever the user's history. A user with more events than that gets `"approximate": true` with "platforms" and
"app_versions" in `approximate_figures` (values used only before the sample may be missing).
"""
import debug_apps
from api import cursor
from api.params import debug_param, int_param
from api.validation import stored_id
from api.web import ok
from errors import NotFound
from rollups import marks, purge, read
from rollups.ranges import BY_SESSION, MAX_MERGED, newest_ids
from sql import Sql
from tz.timeutil import to_iso

SAMPLE_EVENTS = 1000
# Event data chooses these values: a hostile sender could give one user a thousand versions.
MAX_VALUES = 50
APPS_PAGE, MAX_APPS_PAGE = 100, 1000


async def totals(db, user_id, debug):
    """Over release apps, or with `debug` the debug twins (debug_apps)."""
    return await db.first(
        Sql("SELECT COUNT(*) AS apps, SUM(events) AS events, SUM(sessions) AS sessions, MIN(first_seen) AS first_seen, "
            "MAX(last_seen) AS last_seen FROM users WHERE user_id = ? AND ", [user_id]) + debug_apps.condition("app_id", debug))


async def apps_page(db, user_id, debug, after, limit):
    """Up to `limit` + 1 of the user's apps (release ones, or debug twins), most recently seen first, after the
    cursor's (last_seen, stored app_id)."""
    where = Sql("user_id = ?", [user_id]) + " AND " + debug_apps.condition("app_id", debug)
    if after is not None:
        last_seen, app_id = after
        where += Sql(" AND (last_seen < ? OR (last_seen = ? AND app_id > ?))", [last_seen, last_seen, app_id])
    return await db.query("SELECT app_id, events, sessions, first_seen, last_seen FROM users WHERE " + where
                          + Sql(" ORDER BY last_seen DESC, app_id LIMIT ?", [limit + 1]))


async def recent_pairs(db, user_id, debug):
    """((platform, app_version, last used) of the user's newest SAMPLE_EVENTS events, most recent first; exact).

    The user's sessions come from their newest SAMPLE_EVENTS marks (rollups/marks.py), which cover every event at or
    after the oldest of them; as each mark is an event, the newest SAMPLE_EVENTS events are among those. Their ranges
    merge newest first (rollups/ranges.py). Past MAX_MERGED sessions, the MAX_MERGED most recently marked are read,
    and `exact` is False."""
    sessions_query = marks.sessions_of(user_id, app_condition=debug_apps.condition("m.app_id", debug),
                                       walk=SAMPLE_EVENTS)
    sessions = sorted(await db.query(sessions_query), key=lambda row: row["newest"], reverse=True)
    keys = [(row["app_id"], row["session_id"]) for row in sessions[:MAX_MERGED]]
    if not keys:
        return [], True
    newest = newest_ids(BY_SESSION, keys, Sql("user_id = ?", [user_id]), SAMPLE_EVENTS)
    pairs = await db.query("SELECT platform, app_version, MAX(ts) AS last_used FROM events WHERE id IN (" + newest
                           + ") GROUP BY platform, app_version ORDER BY last_used DESC, platform, app_version")
    return pairs, len(sessions) <= MAX_MERGED


def distinct_recent(pairs, column):
    """Non-null values of `column`, each once, most recently used first: (values, capped)."""
    values = list(dict.fromkeys(pair[column] for pair in pairs if pair[column] is not None))
    return values[:MAX_VALUES], len(values) > MAX_VALUES


def declared(unfolded, partial):
    """read.freshness, plus the value lists that do not cover every event of the user."""
    payload = read.freshness(unfolded)
    if partial:
        payload["approximate"] = True
        payload["approximate_figures"] = payload.get("approximate_figures", []) + partial
    return payload


async def user_detail(ctx, user_id):
    debug = debug_param(ctx.query)
    limit = int_param(ctx.query, "apps_limit", APPS_PAGE, 1, MAX_APPS_PAGE)
    text = ctx.query.get("apps_cursor")
    after = cursor.decode(text, (int, str), "apps_cursor") if text else None
    unfolded = await read.fold_tail(ctx)
    total = await totals(ctx.db, user_id, debug)
    if not total or not total["apps"]:
        raise NotFound("no events from this user (or they were erased, or not folded into the statistics yet)")
    apps = await apps_page(ctx.db, user_id, debug, after, limit)
    pairs, exact = await recent_pairs(ctx.db, user_id, debug)
    platforms, platforms_capped = distinct_recent(pairs, "platform")
    versions, versions_capped = distinct_recent(pairs, "app_version")
    sampled = total["events"] > SAMPLE_EVENTS or not exact
    partial = ([name for name, capped in (("platforms", platforms_capped), ("app_versions", versions_capped))
                if capped or sampled])
    shown = apps[:limit]
    return ok({
        "success": True,
        "user_id": user_id,
        "debug": debug,
        "first_seen": to_iso(total["first_seen"]),
        "last_seen": to_iso(total["last_seen"]),
        "events": total["events"],
        "sessions": total["sessions"],
        "platforms": platforms,
        "app_versions": versions,
        "apps": [{"app_id": debug_apps.release_id(app["app_id"]), "events": app["events"], "sessions": app["sessions"],
                  "first_seen": to_iso(app["first_seen"]), "last_seen": to_iso(app["last_seen"])} for app in shown],
        "apps_total": total["apps"],
        "apps_next_cursor": cursor.encode(shown[-1]["last_seen"], shown[-1]["app_id"]) if len(apps) > limit else None,
        **await purge.raw_since_json(ctx.db),
        **declared(unfolded, partial),
    })


async def get_user(ctx):
    return await user_detail(ctx, stored_id(ctx.params["user_id"], "user_id", "user_id"))


async def get_user_by_query(ctx):
    return await user_detail(ctx, stored_id(ctx.query.get("user_id"), "user_id", "user_id"))
