"""GET /users/{user_id} and GET /user?user_id=: one user's all-time figures, over all apps and per app.

Figures come from the `users` rollup (one row per user and app: exact, all-time), so the request reads one
row per app the user has events in. Platforms and app versions are not rolled up per user: they are read
from the user's newest SAMPLE_EVENTS events through `events_user_ts (user_id, ts)`, a bounded index walk
whatever the user's history. A user with more events than that gets `"approximate": true` with
"platforms" and "app_versions" in `approximate_figures` (values used only before the sample may be missing).
"""
import debug_apps
from api.params import debug_param
from api.validation import stored_id
from api.web import ok
from errors import NotFound
from rollups import read
from sql import Sql
from tz.timeutil import to_iso

SAMPLE_EVENTS = 1000
# Event data chooses these values: a hostile sender could give one user a thousand versions.
MAX_VALUES = 50


async def per_app_figures(db, user_id, debug):
    """Release apps, or with `debug` the debug twins (debug_apps), listed under their app's id."""
    rows = await db.query(
        Sql("SELECT app_id, events, sessions, first_seen, last_seen FROM users WHERE user_id = ? AND ", [user_id])
        + debug_apps.condition("app_id", debug) + " ORDER BY last_seen DESC, app_id")
    return [{**row, "app_id": debug_apps.release_id(row["app_id"])} for row in rows]


async def recent_pairs(db, user_id, debug):
    """(platform, app_version, last used) of the user's newest SAMPLE_EVENTS events, most recent first."""
    return await db.query(
        Sql("""SELECT platform, app_version, MAX(ts) AS last_used FROM (SELECT platform, app_version, ts FROM events
  INDEXED BY events_user_ts WHERE user_id = ? AND """, [user_id]) + debug_apps.condition("app_id", debug)
        + Sql(""" ORDER BY ts DESC LIMIT ?)
GROUP BY platform, app_version ORDER BY last_used DESC, platform, app_version""", [SAMPLE_EVENTS]))


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
    unfolded = await read.fold_tail(ctx)
    apps = await per_app_figures(ctx.db, user_id, debug)
    if not apps:
        raise NotFound("no events from this user (or they were erased, or not folded into the statistics yet)")
    events = sum(app["events"] for app in apps)
    pairs = await recent_pairs(ctx.db, user_id, debug)
    platforms, platforms_capped = distinct_recent(pairs, "platform")
    versions, versions_capped = distinct_recent(pairs, "app_version")
    sampled = events > SAMPLE_EVENTS
    partial = ([name for name, capped in (("platforms", platforms_capped), ("app_versions", versions_capped))
                if capped or sampled])
    return ok({
        "success": True,
        "user_id": user_id,
        "debug": debug,
        "first_seen": to_iso(min(app["first_seen"] for app in apps)),
        "last_seen": to_iso(max(app["last_seen"] for app in apps)),
        "events": events,
        "sessions": sum(app["sessions"] for app in apps),
        "platforms": platforms,
        "app_versions": versions,
        "apps": [{"app_id": app["app_id"], "events": app["events"], "sessions": app["sessions"],
                  "first_seen": to_iso(app["first_seen"]), "last_seen": to_iso(app["last_seen"])} for app in apps],
        **declared(unfolded, partial),
    })


async def get_user(ctx):
    return await user_detail(ctx, stored_id(ctx.params["user_id"], "user_id", "user_id"))


async def get_user_by_query(ctx):
    return await user_detail(ctx, stored_id(ctx.query.get("user_id"), "user_id", "user_id"))
