"""GET /stats/active: active, new and returning users per local day or week (weeks start on Monday), and
DAU / WAU / MAU: users active in the range's last local day, and in the 7 and 30 local days ending with it
(up to the range's end, reaching before the range's start if need be).

Everything is counted over "units": the local days of [MAU window start or range start, range end), with
the day holding the range's start split there. Each unit reads whole UTC days from the daily rollups and
its remaining hours from the hourly ones (rollups.pieces); all units go in one bound JSON parameter per
query, so a request makes four queries whatever the number of buckets:
1. per unit, the user-buckets (`users` of hourly/daily) to read, to choose between
2. exact distinct users (their ids per unit from hourly_users/daily_users) while that reads at most
   rollups.EXACT_USERS_MAX rows, or else the units' HyperLogLog sketches, merged once per unit and then unit
   by unit into buckets and the DAU/WAU/MAU windows (declared approximate; a unit read from a single rollup
   row keeps that row's exact count);
3. new users per unit: first seen (in the app, or in any app without `app_id`) within it, always exact.
returning = active - new.
"""
import json
from collections import namedtuple

import hll
import rollups
import zones
from filters import Scope, choice_param
from fold import GRAINS
from localtime import date_label, hour_offset, local_midnight
from session_rollups import NEW_USER_ANY_TABLES, NEW_USER_TABLES
from sessions_stats import declare_estimates
from stats import check_bucket_count
from timeutil import DAY, HOUR, seconds_to_iso
from web import ok

WINDOWS = (("dau", 1), ("wau", 7), ("mau", 30))
MONDAY = 4 * DAY  # 1970-01-05, the first Monday of the epoch
RANGES = ("(SELECT json_extract(value, '$[0]') AS lo, json_extract(value, '$[1]') AS hi, "
          "json_extract(value, '$[2]') AS unit FROM json_each(?)) AS r")

Unit = namedtuple("Unit", "day start end in_range")


def day_spans(segments):
    """Zone segments [[from, to, offset]] -> [(day, start, end)]: the UTC hours of each local day, `day`
    being its local midnight in wall-clock seconds (the key the timeline groups hours by)."""
    spans = []
    for start, end, offset in segments:
        hour = start
        while hour < end:
            day = (hour + offset) - (hour + offset) % DAY
            stop = min(end, day + DAY - offset)
            if spans and spans[-1][0] == day and spans[-1][2] == hour:
                spans[-1] = (day, spans[-1][1], stop)
            else:
                spans.append((day, hour, stop))
            hour = stop
    return spans


def week_of(day):
    """A local day -> the Monday starting its week."""
    return day - (day - MONDAY) % (7 * DAY)


def local_day(zone, hour):
    wall = hour + hour_offset(zone.offset_at(hour))
    return wall - wall % DAY


def plan(scope):
    """The units to count, in order, and the range's last local day."""
    start, end = scope.range.start, scope.range.end
    last_day = local_day(scope.zone, end - HOUR)
    first_day = last_day - (WINDOWS[-1][1] - 1) * DAY
    lo = min(start, local_midnight(scope.zone, first_day))
    units = []
    for day, span_start, span_end in day_spans(scope.segments(lo, end)):
        cuts = [span_start, *([start] if span_start < start < span_end else []), span_end]
        units += [Unit(day, a, b, a >= start) for a, b in zip(cuts, cuts[1:])]
    return [u for u in units if u.in_range or u.day >= first_day], last_day


def unit_ranges(units):
    """{grain name: [[lo, hi, unit index], ...]}: the rollup rows each unit reads."""
    ranges = {grain.name: [] for grain in GRAINS}
    for index, unit in enumerate(units):
        for grain, lo, hi in rollups.pieces(unit.start, unit.end):
            ranges[grain.name].append([lo, hi, index])
    return ranges


def over_units(scope, ranges, select, table_of, per_app=True, only_users=False):
    """One query over both grains: `select` (columns of r and t) from table_of(grain) rows in each range
    (with users only, if `only_users`: the rows a deletion emptied keep an empty sketch)."""
    parts, params = [], []
    for grain in GRAINS:
        if not ranges[grain.name]:
            continue
        if per_app:
            source, source_params = rollups.app_source(scope)
            join = f"CROSS JOIN {source} CROSS JOIN {table_of(grain)} AS t ON t.app_id = a.app_id AND"
        else:
            source_params, join = [], f"CROSS JOIN {table_of(grain)} AS t ON"
        parts.append(f"SELECT r.unit AS unit, {select} FROM {RANGES} {join} t.{grain.column} >= r.lo "
                     f"AND t.{grain.column} < r.hi" + (" AND t.users > 0" if only_users else "") + " GROUP BY r.unit")
        params += [json.dumps(ranges[grain.name]), *source_params]
    return " UNION ALL ".join(parts), params


async def per_unit(db, scope, ranges, select, table_of, **options):
    sql, params = over_units(scope, ranges, select, table_of, **options)
    return await db.query(sql, *params) if sql else []


class ActiveUsers:
    """Distinct users over groups of units: exact id sets, or sketches (see the module's docstring)."""

    def __init__(self, units):
        self.units = units
        self.rows = [0] * len(units)  # rollup rows with users, per unit
        self.user_rows = [0] * len(units)  # their users summed: exact when rows == 1
        self.sets = None
        self.sketches = None

    async def load(self, db, scope, ranges):
        for row in await per_unit(db, scope, ranges, "SUM(t.users) AS user_rows, SUM(t.users > 0) AS rows",
                                  lambda grain: grain.counters):
            self.rows[row["unit"]] += row["rows"] or 0
            self.user_rows[row["unit"]] += row["user_rows"] or 0
        if sum(self.user_rows) <= rollups.EXACT_USERS_MAX:
            self.sets = [set() for _ in self.units]
            for row in await per_unit(db, scope, ranges, "json_group_array(DISTINCT t.user_id) AS users",
                                      lambda grain: grain.users):
                self.sets[row["unit"]].update(json.loads(row["users"]))
            return
        self.sketches = [hll.Sketch() for _ in self.units]
        # One row per unit and grain: converting rows to Python costs per row under Pyodide.
        for row in await per_unit(db, scope, ranges, "json_group_array(t.sketch) AS sketches",
                                  lambda grain: grain.counters, only_users=True):
            self.sketches[row["unit"]].merge_all(json.loads(row["sketches"]))

    def count(self, indexes):
        """(distinct users over the units, exact)."""
        if self.sets is not None:
            return len(set().union(*(self.sets[i] for i in indexes))), True
        if len(indexes) == 1 and self.rows[indexes[0]] <= 1:
            return self.user_rows[indexes[0]], True
        return hll.Sketch().merge_sketches([self.sketches[i] for i in indexes]).estimate(), False

    def windows(self, last_day):
        """{"dau"|"wau"|"mau": (users, exact)}, merging each unit once: day by day back from the last."""
        figures, merged, taken = {}, hll.Sketch(), []
        by_age = sorted(range(len(self.units)), key=lambda i: -self.units[i].day)
        for name, days in WINDOWS:
            window = [i for i in by_age if self.units[i].day > last_day - days * DAY]
            if self.sets is not None or len(window) == 1:
                figures[name] = self.count(window)
                continue
            merged.merge_sketches([self.sketches[i] for i in window[len(taken):]])
            taken = window
            figures[name] = merged.estimate(), False
        return figures


async def new_users(db, scope, ranges):
    """{unit index: new users}: first seen in the app, or in any app when no app is asked for."""
    if scope.app_id is None:
        rows = await per_unit(db, scope, ranges, "SUM(t.users) AS users", lambda g: NEW_USER_ANY_TABLES[g.name],
                              per_app=False)
    else:
        rows = await per_unit(db, scope, ranges, "SUM(t.users) AS users", lambda g: NEW_USER_TABLES[g.name])
    counts = {}
    for row in rows:
        counts[row["unit"]] = counts.get(row["unit"], 0) + row["users"]
    return counts


def buckets_of(units, interval):
    """[(bucket key, [unit indexes])] for the units in the range, in order."""
    grouped = {}
    for index, unit in enumerate(units):
        if unit.in_range:
            grouped.setdefault(unit.day if interval == "day" else week_of(unit.day), []).append(index)
    return list(grouped.items())


async def active(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    interval = choice_param(ctx.query, "interval", ("day", "week"), "day")
    check_bucket_count(scope, "day")
    unfolded = await rollups.fold_tail(ctx)
    units, last_day = plan(scope)
    users = ActiveUsers(units)
    await users.load(ctx.db, scope, unit_ranges(units))
    new_by_unit = await new_users(ctx.db, scope, unit_ranges([u if u.in_range else u._replace(end=u.start)
                                                               for u in units]))
    estimated, buckets = set(), []
    for key, indexes in buckets_of(units, interval):
        count, exact = users.count(indexes)
        new = sum(new_by_unit.get(i, 0) for i in indexes)
        count = max(count, new)  # an estimate below the exact new users would make returning negative
        if not exact:
            estimated |= {"active", "returning"}
        buckets.append({"t": seconds_to_iso(local_midnight(scope.zone, key)), "date": date_label(key),
                        "active": count, "new": new, "returning": count - new})
    windows = users.windows(last_day)
    estimated |= {name for name, (_, exact) in windows.items() if not exact}
    order = ["active", "returning", *(name for name, _ in WINDOWS)]
    return ok({"interval": interval, "buckets": buckets, **{name: value for name, (value, _) in windows.items()},
               "range": scope.as_json(),
               **declare_estimates(rollups.freshness(unfolded), [name for name in order if name in estimated])})
