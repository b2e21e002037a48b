"""Reading the rollups: which rows a range needs, and the figures summed from them.

A range [start, end) of whole UTC hours is read as whole UTC days from `daily*` tables with the hours
at either end from `hourly*` tables, so a 30-day range reads about 30 + 46 rows per app, not 720.
All-app reads go app by app (`apps` first, then each app's key range): every rollup is keyed by app.
"""
from collections import namedtuple

import debug_apps
from rollups import fold, hll, purge
from rollups.grains import DAILY, HOURLY, bounded
from rollups.raw_events import EVENT_APPS
from sql import Sql
from tz.timeutil import DAY, HOUR

# Below this many user-buckets, distinct users are counted exactly from daily_users (hourly_users: their hours).
EXACT_USERS_MAX = 3000


def pieces(start, end):
    """[start, end) in whole hours -> [(grain, lo, hi)]: whole UTC days in the middle, hours at the ends."""
    first_day = -(-start // DAY) * DAY
    last_day = end - end % DAY
    if first_day >= last_day:
        return [(HOURLY, start, end)] if start < end else []
    parts = [(HOURLY, start, first_day)] if start < first_day else []
    parts.append((DAILY, first_day, last_day))
    if last_day < end:
        parts.append((HOURLY, last_day, end))
    return parts


def app_source(scope, raw=False):
    """FROM item yielding the apps to read (`a.app_id`): the scoped one, or every app: of the rollups, or with
    `raw` of the raw events (so events not folded yet count too)."""
    if scope.app_id is not None:
        return Sql("(SELECT ? AS app_id) AS a", [scope.app_id])
    # Release apps, or with `debug` their debug twins (debug_apps): debug events never mix with release ones.
    return (f"(SELECT x.app_id AS app_id FROM {EVENT_APPS if raw else 'apps'} AS x WHERE "
            + debug_apps.condition("x.app_id", getattr(scope, "debug", False)) + ") AS a")


def union(scope, start, end, select, table_of, extra_on=""):
    """UNION ALL over the pieces of [start, end): `select` names columns of `t`, `table_of(grain)` the table,
    `extra_on` (text or Sql) adds to the join's condition."""
    parts = [f"SELECT a.app_id AS app_id, {select} FROM " + app_source(scope)
             + f" CROSS JOIN {table_of(grain)} AS t ON t.app_id = a.app_id" + extra_on
             + Sql(f" AND t.{grain.column} >= ? AND t.{grain.column} < ?", [lo, hi])
             + bounded(table_of(grain), "t", lo, hi)
             for grain, lo, hi in pieces(start, end)]
    return Sql.join(" UNION ALL ", parts) if parts else Sql("SELECT NULL AS app_id WHERE false")


async def folded_at_least(db, scope, start, end, column, table_of, extra_on="", hourly_only=False):
    """SUM of `column` (of `t`) over the rollup rows of the whole UTC hours inside [start, end): what folded events
    alone put there, so at most what a walk of the raw events or per-user rows over [start, end) reads. A walk
    that would pass its cap is refused from this first, for a few rows instead of the walk's 20,001.
    `hourly_only`: for columns that do not add up over hours (users per hour are user-hours, per day user-days)."""
    lo, hi = -(-start // HOUR) * HOUR, end - end % HOUR
    if lo >= hi:
        return 0
    if hourly_only:
        rows = (f"SELECT {column} AS n FROM " + app_source(scope) + f" CROSS JOIN {table_of(HOURLY)} AS t "
                "ON t.app_id = a.app_id" + extra_on + Sql(" AND t.hour >= ? AND t.hour < ?", [lo, hi]))
    else:
        rows = union(scope, lo, hi, f"{column} AS n", table_of, extra_on)
    row = await db.first("SELECT SUM(n) AS n FROM (" + rows + ")")
    return (row["n"] if row else 0) or 0


def counter_totals_query(scope, start, end, by_app=False):
    """Events, sessions and user-buckets over [start, end) (per app with `by_app`), for a caller's batch (`totals_of`
    reads its rows).

    Beside the sums, `exact_rows`: about what counting the range's users exactly would read (DistinctUsers). A whole
    day's users are its daily_users rows, one per user; the users of hours at either end are read from the whole
    days holding them, a daily_users row and an element of its hours JSON per user-hour (the view hourly_users:
    json_each elements are billed as rows read), so those pieces read every hour of their day here and count twice
    the day's user-hours. Counting the range's own user-hours instead made the last 24 hours of a 1,000-user app
    read ~5,000 rows while deciding on at most EXACT_USERS_MAX (issue 16: 263k of the reference day's rows read, at
    some hours of the day)."""
    parts = []
    for grain, lo, hi in pieces(start, end):
        if grain is DAILY:
            parts.append(union(scope, lo, hi, "t.events AS events, t.sessions AS sessions, t.users AS users, "
                                              "t.users AS exact_rows", lambda grain: grain.counters))
            continue
        # The whole days holding the piece: one, or two for a range of hours across midnight (pieces).
        first_day, end_day = lo - lo % DAY, -(-hi // DAY) * DAY
        inside = "t.hour >= r.lo AND t.hour < r.hi"
        parts.append(f"SELECT a.app_id AS app_id, CASE WHEN {inside} THEN t.events ELSE 0 END AS events, "
                     f"CASE WHEN {inside} THEN t.sessions ELSE 0 END AS sessions, "
                     f"CASE WHEN {inside} THEN t.users ELSE 0 END AS users, 2 * t.users AS exact_rows FROM "
                     + app_source(scope) + Sql(" CROSS JOIN (SELECT ? AS lo, ? AS hi) AS r", [lo, hi])
                     + Sql(f" CROSS JOIN {HOURLY.counters} AS t ON t.app_id = a.app_id AND t.hour >= ? AND t.hour < ?",
                           [first_day, end_day]))
    rows_in_range = Sql.join(" UNION ALL ", parts) if parts else Sql(
        "SELECT NULL AS app_id, 0 AS events, 0 AS sessions, 0 AS users, 0 AS exact_rows WHERE false")
    group = "app_id" if by_app else "NULL"
    return (f"SELECT {group} AS app_id, SUM(events) AS events, SUM(sessions) AS sessions, SUM(users) AS users, "
            "SUM(exact_rows) AS exact_rows FROM (" + rows_in_range + ") GROUP BY 1")


def totals_of(rows):
    return {row["app_id"]: {"events": row["events"] or 0, "sessions": row["sessions"] or 0,
                            "user_buckets": row["users"] or 0, "exact_rows": row["exact_rows"] or 0}
            for row in rows if row["events"]}


class DistinctUsers:
    """How distinct users over [start, end) are counted, decided from the totals and, only where the exact path is
    open, the purge horizon (`needs_horizon`; then `decide(horizon)`): `query` (None when the totals answer alone),
    and `answer(rows)` turning its rows into ({app_id or None: users}, approximate). Apart from D1, so a route can
    batch the queries of several periods into one call (each D1 call costs the worker ~1-2 ms of CPU under Pyodide).

    Exact (COUNT DISTINCT over hourly_users/daily_users) while that reads at most EXACT_USERS_MAX rows and the range
    starts after the purge horizon, or when the range is one whole UTC day of one app; otherwise merged HyperLogLog
    sketches (error <= 2%, declared)."""

    def __init__(self, scope, start, end, totals, by_app=False):
        self.scope, self.start, self.end, self.totals = scope, start, end, totals
        self.group = "app_id" if by_app else "NULL"
        self.query = None
        buckets = sum(t["user_buckets"] for t in totals.values())
        exact_rows = sum(t["exact_rows"] for t in totals.values())
        parts = pieces(start, end)
        if buckets == 0:
            self.kind = "zero"
        elif (scope.app_id is not None or by_app) and len(parts) == 1 and parts[0][0] is DAILY \
                and parts[0][2] - parts[0][1] == DAY:
            self.kind = "one day"
        elif exact_rows <= EXACT_USERS_MAX:
            self.kind = "exact unless purged"
        else:
            self.decide(None)

    @property
    def needs_horizon(self):
        return self.kind == "exact unless purged"

    def settle(self, horizon):
        """Decide with the purge horizon where the exact path is open; otherwise the choice stands."""
        return self.decide(horizon) if self.needs_horizon else self

    def decide(self, horizon):
        """`horizon`: the purge horizon (purge.horizon), or None to count by sketches."""
        scope, start, end = self.scope, self.start, self.end
        if horizon is not None and start >= horizon:
            self.kind = "exact"
            user_ids = union(scope, start, end, "t.user_id AS user_id", lambda grain: grain.users)
            self.query = (f"SELECT {self.group} AS app_id, COUNT(DISTINCT user_id) AS users FROM (" + user_ids
                          + ") GROUP BY 1")
        else:
            self.kind = "sketch"
            self.query = sketches_query(scope, start, end, self.group == "app_id")
        return self

    def answer(self, rows=()):
        totals = self.totals
        if self.kind == "zero":
            return {key: 0 for key in totals}, False
        if self.kind == "one day":
            return {key: t["user_buckets"] for key, t in totals.items()}, False
        if self.kind == "exact":
            counts = {row["app_id"]: row["users"] for row in rows}
            return {key: counts.get(key, 0) for key in totals}, False
        texts = {}
        for row in rows:
            texts.setdefault(row["app_id"], []).append(row["sketch"])
        sketches = {app_id: hll.Sketch().merge_all(stored, dense_from=hll.DENSE_FROM) for app_id, stored in texts.items()}
        return {key: sketches[key].estimate() if key in sketches else 0 for key in totals}, True


def sketches_query(scope, start, end, by_app=False):
    """The users sketches of [start, end) (DistinctUsers' "sketch" path), for a caller that batches it before the
    totals decide: a few rows per day, each already read by the totals."""
    with_users = union(scope, start, end, f"{hll.compact_sql('t.sketch')} AS sketch", lambda grain: grain.counters,
                       " AND t.users > 0")
    return f"SELECT {'app_id' if by_app else 'NULL'} AS app_id, sketch FROM (" + with_users + ")"


class Pending(namedtuple("Pending", "unfolded stale fold_every_minutes version", defaults=(None,))):
    """What a read found not folded: events (by id), whether sketches are stale, and how often events are folded;
    `version`: the fold state's version the read's own batch saw (None where a fold ran before the reads), which a
    write derived from those reads checks (rollups/unit_cache.py)."""


async def fold_tail(ctx, known=None):
    """Fold a bounded part of the tail received before the current fold interval (api/config.py) before reading:
    the cron folds the same, so a read adds no fold step of its own. `known`: the fold state's row (READ_STATE_SQL)
    when the caller read it already. Returns a Pending."""
    unfolded, stale = await fold.try_catch_up(ctx.db, received_before=ctx.settings.fold_received_before(ctx.now_ms),
                                              known=known)
    return Pending(unfolded, stale, ctx.settings.fold_every_minutes)


async def fold_tail_and(ctx, statements):
    """`fold_tail`, then `statements` (the route's first reads, which must not depend on anything but the rollups):
    in one D1 call when there is nothing to fold, the common case between folds, where they took two or more (the
    state, with an interval the cut's binary search, then the reads; each D1 call costs the worker 1-3 ms of CPU
    under Pyodide). The batch is one transaction, so its reads see the state it read. When there is something to
    fold, the fold runs as in `fold_tail` and the statements are read again after it (their rows are paid twice then:
    once per fold interval at the default). Returns (Pending, results)."""
    received_before = ctx.settings.fold_received_before(ctx.now_ms)
    results = await ctx.db.batch([Sql(fold.READ_STATE_SQL), *statements])
    row = results[0]["rows"][0]
    current = fold.state_of(row)
    if fold.nothing_to_fold(current, row["next_received"], received_before):
        return Pending(current.unfolded, current.stale, ctx.settings.fold_every_minutes, current.version), results[1:]
    pending = await fold_tail(ctx, known=row)
    return pending, await ctx.db.batch(statements)


def freshness(pending, users_approximate=None):
    """The `approximate` declaration of a response: users estimated from sketches, or events not folded in
    yet (every figure may be short of them). Sketches a deletion left stale only matter where sketches are
    used, and those figures are declared approximate already."""
    unfolded = pending.unfolded
    figures = (["users"] if users_approximate else []) + (["all"] if unfolded else [])
    payload = {"approximate": bool(figures)}
    if figures:
        payload["approximate_figures"] = figures
    if unfolded:
        payload["unfolded_events"] = unfolded
        if pending.fold_every_minutes:
            # The dashboard says when they will count: events received in an interval are folded after it ends.
            payload["fold_every_minutes"] = pending.fold_every_minutes
    return payload


def declare_estimates(freshness_payload, estimated):
    """freshness(...) with the response's estimated figures named in `approximate_figures`."""
    if not estimated:
        return freshness_payload
    return {**freshness_payload, "approximate": True,
            "approximate_figures": [*estimated, *freshness_payload.get("approximate_figures", [])]}
