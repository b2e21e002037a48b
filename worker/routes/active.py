"""GET /stats/active: active, new and returning users per local day or week (weeks start on Monday), and
DAU / WAU / MAU: users active in the range's last local day, and in the 7 and 30 local days ending with it
(up to the range's end, reaching before the range's start if need be).

Everything is counted over "units": the local days of [MAU window start or range start, range end), with
the day holding the range's start split there. Each unit reads whole UTC days from the daily rollups and
its remaining hours from the hourly ones (read.pieces); all units go in one bound JSON parameter per
query, so a request makes three or four queries in two or three D1 calls whatever the number of buckets (1 and 3
go in one batch with the fold state and the purge horizon: read.fold_tail_and):
1. per unit, its user-buckets (`users` of hourly/daily) and their HyperLogLog sketches;
2. if at most read.EXACT_USERS_MAX user-buckets in all, their ids (hourly_users/daily_users): exact
   distinct users; otherwise the sketches, merged once per unit and then unit by unit into buckets and the
   DAU/WAU/MAU windows (declared approximate; a unit read from a single rollup row keeps its exact count). Merges of
   complete local days, and of each window's or week's complete days (spans), are kept in D1 (rollups/unit_cache.py);
3. new users per unit: first seen (in the app, or in any app without `app_id`) within it, always exact.
returning = active - new.

GET /stats/calendar: active and new users per UTC day, for the dashboard's year calendar, which shows nothing else:
read from the daily rollups alone, without the windows' sketches and without a Python step per day (see `calendar`).
"""
import json
from collections import namedtuple
from functools import lru_cache

from api.params import Scope, check_bucket_count, choice_param
from api.web import ok, ok_with_json
from rollups import hll, purge, read, unit_cache
from rollups.grains import GRAINS, bounded
from sql import Sql
from tz import zones
from tz.localtime import date_label, hour_offset, local_midnight, offset_segments
from tz.timeutil import DAY, HOUR, seconds_to_iso

WINDOWS = (("dau", 1), ("wau", 7), ("mau", 30))
MONDAY = 4 * DAY  # 1970-01-05, the first Monday of the epoch


def unit_ranges_of(ranges, kept_key=None):
    """FROM item `r`: the bound [[lo, hi, unit, sketch wanted, unit lo, unit hi, span member], ...] of one grain (a
    list, or its JSON text: Layout); with `kept_key` (a unit_cache scope), `kept`: whether the row's unit has its merge
    stored (unit lo and hi are null where none may be); `member`: whether its unit is merged only inside spans."""
    kept = unit_cache.kept_column(kept_key) if kept_key is not None else Sql("0")
    text = ranges if isinstance(ranges, str) else json.dumps(ranges)
    return (Sql("(SELECT json_extract(value, '$[0]') AS lo, json_extract(value, '$[1]') AS hi, "
                "json_extract(value, '$[2]') AS unit, json_extract(value, '$[3]') AS sketch, "
                "COALESCE(json_extract(value, '$[6]'), 0) AS member, ")
            + kept + Sql(" AS kept FROM json_each(?)) AS r", [text]))

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
    return plan_of(scope.zone, scope.range.start, scope.range.end)


def plan_of(zone, start, end):
    last_day = local_day(zone, end - HOUR)
    first_day = last_day - (WINDOWS[-1][1] - 1) * DAY
    lo = min(start, local_midnight(zone, first_day))
    units = []
    for day, span_start, span_end in day_spans(offset_segments(zone, lo, end)):
        cuts = [span_start, *([start] if span_start < start < span_end else []), span_end]
        units += [Unit(day, a, b, a >= start) for a, b in zip(cuts, cuts[1:])]
    return [u for u in units if u.in_range or u.day >= first_day], last_day


def unit_ranges(units, wanted=None, keepable=frozenset(), members=frozenset(), hour=None):
    """{grain name: [[lo, hi, unit index, sketch wanted (0 or 1), unit lo, unit hi, span member (0 or 1)], ...]}: the
    rollup rows each unit reads. `wanted(unit)`: whether its sketch is read even when a single row counts its users
    (default: always); `keepable`: the indexes of units whose merge may be stored (unit_cache; unit lo and hi are
    null for the others); `members`: the indexes of units merged only inside spans (Layout); `hour`: the current UTC hour (read_end)."""
    ranges = {grain.name: [] for grain in GRAINS}
    for index, unit in enumerate(units):
        flag = 1 if wanted is None or wanted(unit) else 0
        bounds = [unit.start, unit.end] if index in keepable else [None, None]
        member = 1 if index in members else 0
        end = unit.end if hour is None or unit.end <= unit.start else read_end(unit.end, hour)
        for grain, lo, hi in read.pieces(unit.start, end):
            ranges[grain.name].append([lo, hi, index, flag, *bounds, member])
    return ranges


def read_end(end, hour):
    """Where a unit ending at `end` may read rollup rows up to, `hour` being the current UTC hour: a unit ending at
    least an hour after this one reads on to the end of its last UTC day, whose hours from `end` on hold nothing yet
    (no stored event is ever in the future: tz.timeutil.parse_event_time). The local day running east of UTC then
    reads its UTC day's daily row where it read its hours and merged their sketches on every request (Berlin at 21:00
    UTC: 2 rows instead of 23). Exact all the same: the rows read beyond `end` are empty."""
    return -(-end // DAY) * DAY if end >= hour + 2 * HOUR else end


def sketch_wanted(interval, last_day):
    """Units whose sketches are merged further: every unit of week buckets, and the units of the DAU/WAU/MAU windows.
    Any other unit is a day bucket on its own, counted from its one rollup row when it has one: a year of days read
    365 dense sketches (16 KB each for Pyodide to move and decode) where the windows merge 30."""
    oldest = last_day - (WINDOWS[-1][1] - 1) * DAY
    return lambda unit: interval == "week" or unit.day >= oldest


def over_units(scope, ranges, aggregate, table_of, per_app=True, kept_key=None):
    """One query over both grains: per range, `aggregate` (SQL text or an Sql fragment, over `t`, and `r`:
    unit_ranges_of) of table_of(grain)'s rows in it, as `value`. A subquery per range rather than a join grouped by
    unit: D1 bills a GROUP BY's sorted rows as rows read again."""
    parts = []
    for grain in GRAINS:
        if not ranges[grain.name]:
            continue
        if per_app:
            rows = read.app_source(scope) + f" CROSS JOIN {table_of(grain)} AS t ON t.app_id = a.app_id AND"
        else:
            rows = Sql(f"{table_of(grain)} AS t WHERE")
        parts.append(Sql("SELECT r.unit AS unit, (SELECT ") + aggregate + " FROM " + rows
                     + f" t.{grain.column} >= r.lo AND t.{grain.column} < r.hi"
                     + bounded(table_of(grain), "t", "r.lo", "r.hi") + ") AS value FROM "
                     + unit_ranges_of(ranges[grain.name], kept_key))
    # No rows to read (no unit reaches a rollup row): a statement all the same, so a batch keeps its shape.
    return Sql.join(" UNION ALL ", parts) if parts else Sql("SELECT NULL AS unit, NULL AS value WHERE false")


async def per_unit(db, scope, ranges, aggregate, table_of, **options):
    """[(unit index, value)], a unit appearing once per grain it reads."""
    return unit_values(await db.query(over_units(scope, ranges, aggregate, table_of, **options)))


def users_and_sketches(spans_kept):
    """Per unit: its user-buckets, the rows holding them, and their sketches (rows a deletion emptied keep an empty
    sketch): in one pass, sketches included, because the exact path is only taken when they are few. A unit's
    sketches are left out where its merge is stored (`r.kept`: unit_cache), and where one row counts it and nothing
    merges it further: no window or week (`sketch_wanted`), or only spans whose merges are all stored (`r.member` and
    `spans_kept`: unit_cache.spans_kept)."""
    return (Sql("json_array(COALESCE(SUM(t.users), 0), COUNT(*) FILTER (WHERE t.users > 0), "
                "CASE WHEN NOT r.kept AND (COUNT(*) FILTER (WHERE t.users > 0) > 1 OR (r.sketch AND NOT (r.member AND ")
            + spans_kept + f"))) THEN json(json_group_array({hll.compact_sql('t.sketch')}) FILTER (WHERE t.users > 0)) "
            "ELSE json_array() END)")


def unit_sketch(texts):
    """A unit's stored sketches merged, made dense past hll.DENSE_FROM entries (the windows and week buckets merge it
    again: dense sketches merge in one SWAR step, where sparse ones sort every entry each time; CPython, 30 units of
    1,000 users: 20.7 ms sparse, 7.8 dense). A unit without users (most of a year's days, for a young app) merges
    nothing."""
    return hll.Sketch().merge_all(texts, dense_from=hll.DENSE_FROM) if texts else hll.Sketch()


Span = namedtuple("Span", "lo hi members")  # complete local days merged together and kept (unit_cache)


class ActiveUsers:
    """Distinct users over groups of units: exact id sets, or sketches (see the module's docstring)."""

    def __init__(self, units, kept=None, spans=None):
        """`kept`: {(unit start, unit end): (stored merge or None, its estimate)} (unit_cache.kept_of); `spans`:
        {group's unit indexes: Span} (Layout)."""
        self.units = units
        self.rows = [0] * len(units)  # rollup rows with users, per unit
        self.user_rows = [0] * len(units)  # their users summed: exact when rows == 1
        self.sketch_texts = [[] for _ in units]
        self.kept = kept or {}
        self.spans = spans or {}
        self.merged = set()  # units whose sketch was merged from several rollup rows here: worth storing
        self.new_spans = {}  # (lo, hi) -> a span's Sketch merged here from its units: worth storing
        self.estimates = {}  # unit index -> its sketch's estimate (stored, or computed once here)
        self.sets = None
        self.sketches = {}  # unit index -> its Sketch, built when first needed (sketch)

    def sketch(self, index):
        if index not in self.sketches:
            self.sketches[index] = self.sketch_of(index)
        return self.sketches[index]

    def sketch_of(self, index):
        """A unit's sketch: its stored merge (unit_cache), else its rollup rows' sketches merged here."""
        unit = self.units[index]
        stored = self.kept.get((unit.start, unit.end))
        if stored is not None:
            if stored[0] is None:  # Layout's flags say which stored merges a read needs: this one was not read
                raise RuntimeError(f"the stored merge of unit {index} was not read")
            self.estimates[index] = stored[1]
            return hll.Sketch().merge(stored[0])
        texts = self.sketch_texts[index]
        if len(texts) > 1:
            self.merged.add(index)
        return unit_sketch(texts)

    def merges_to_store(self, keepable):
        """[[start, end, sketch text, its estimate]] of the units (`keepable`: the indexes unit_cache may store) and
        spans merged here."""
        days = [[self.units[i].start, self.units[i].end, self.sketches[i].encode(), self.estimate(i)]
                for i in sorted(self.merged) if i in keepable]
        return days + [[lo, hi, sketch.encode(), sketch.estimate()] for (lo, hi), sketch in self.new_spans.items()]

    def estimate(self, index):
        """A unit's sketch's estimate, computed once (stored with its merge: unit_cache)."""
        if index not in self.estimates:
            stored = self.kept.get((self.units[index].start, self.units[index].end))
            self.estimates[index] = stored[1] if stored is not None else self.sketch(index).estimate()
        return self.estimates[index]

    async def load(self, db, scope, ranges, unit_rows, horizon):
        """`unit_rows`: [[unit index, [user-buckets, rows with users, sketches]]] of `users_query` (`packed`, read in
        the route's first batch); `horizon`: the purge horizon."""
        for unit, (user_rows, rows, sketches) in unit_rows:
            self.user_rows[unit] += user_rows
            self.rows[unit] += rows
            self.sketch_texts[unit] += sketches
        # The user sets are gone before the purge horizon: sketches then (rollups/purge.py).
        if sum(self.user_rows) <= read.EXACT_USERS_MAX and min(u.start for u in self.units) >= horizon:
            self.sets = [set() for _ in self.units]
            for unit, value in await per_unit(db, scope, ranges, "json_group_array(DISTINCT t.user_id)",
                                              lambda grain: grain.users):
                self.sets[unit].update(json.loads(value))

    def count(self, indexes):
        """(distinct users over the units `indexes` (a tuple), exact)."""
        if self.sets is not None:
            return len(set().union(*(self.sets[i] for i in indexes))), True
        if len(indexes) == 1 and self.rows[indexes[0]] <= 1:
            return self.user_rows[indexes[0]], True
        if len(indexes) == 1:  # a unit's sketch as it is: a merge of one would sort its entries again
            return self.estimate(indexes[0]), False
        span = self.spans.get(indexes)
        if span is not None and len(span.members) == len(indexes) and (span.lo, span.hi) in self.kept:
            return self.kept[(span.lo, span.hi)][1], False  # the group is one stored span: its estimate
        return self.group_sketch(indexes, span).estimate(), False

    def group_sketch(self, indexes, span):
        """The units' sketches merged: the part inside `span` (or None) as its stored merge, or merged here (and
        then worth storing), the rest unit by unit."""
        merged, rest = hll.Sketch(), indexes
        if span is not None:
            stored = self.kept.get((span.lo, span.hi))
            if stored is not None:
                merged.merge(stored[0])
            else:
                part = self.new_spans.get((span.lo, span.hi))
                if part is None:
                    part = hll.Sketch().merge_sketches([self.sketch(i) for i in span.members])
                    self.new_spans[(span.lo, span.hi)] = part
                merged.merge_sketches([part])
            rest = [i for i in indexes if i not in span.members]
        return merged.merge_sketches([self.sketch(i) for i in rest])

    def windows(self, last_day):
        """{"dau"|"wau"|"mau": (users, exact)}: each window's units counted together, through its span."""
        return {name: self.count(window) for name, window in window_units(self.units, last_day)}


def window_units(units, last_day):
    """[("dau"|"wau"|"mau", (unit indexes))]: the units of the local days each window ends with (`last_day`)."""
    return [(name, tuple(i for i, unit in enumerate(units) if unit.day > last_day - days * DAY))
            for name, days in WINDOWS]


def users_query(scope, ranges, kept_key=None, spans=()):
    """Per unit, its user-buckets, rows with users and their sketches (users_and_sketches), without the sketches of
    units whose merge is stored under `kept_key` (unit_cache), nor of units merged only inside `spans` ([[lo, hi]])
    when all of those are stored."""
    spans_kept = unit_cache.spans_kept(kept_key, spans) if kept_key is not None else Sql("0")
    return over_units(scope, ranges, users_and_sketches(spans_kept), lambda grain: grain.counters, kept_key=kept_key)


def new_users_query(scope, ranges):
    """Per unit, new users: first seen in the app, or in any app when no app is asked for. The any-app rollup counts
    release apps only; over every debug twin, new users are summed app by app."""
    per_app = scope.app_id is not None or getattr(scope, "debug", False)
    table_of = (lambda grain: grain.new_users) if per_app else (lambda grain: grain.new_users_any)
    return over_units(scope, ranges, "COALESCE(SUM(t.users), 0)", table_of, per_app=per_app)


def unit_values(rows):
    """An `over_units` query's rows -> [(unit index, value)], a unit appearing once per grain it reads."""
    return [(row["unit"], row["value"]) for row in rows]


def packed(query, json_values=False):
    """An `over_units` query as one row, `units`: the JSON text [[unit index, value], ...] (`json_values`: the values
    are JSON texts, embedded as JSON). Pyodide converts a D1 row into Python field by field: a row per unit and grain
    (120 for 30 local days, twice) cost more than parsing one text in C."""
    value = "json(value)" if json_values else "value"
    return Sql(f"SELECT json_group_array(json_array(unit, {value})) AS units FROM (") + query + ")"


def packed_values(rows):
    """A `packed` query's rows -> [[unit index, value]]."""
    return json.loads(rows[0]["units"])


def new_users(unit_rows):
    """{unit index: new users} from new_users_query's [(unit, users)]."""
    counts = {}
    for unit, users in unit_rows:
        counts[unit] = counts.get(unit, 0) + users
    return counts


def buckets_of(units, interval):
    """[(bucket key, [unit indexes])] for the units in the range, in order."""
    grouped = {}
    for index, unit in enumerate(units):
        if unit.in_range:
            grouped.setdefault(unit.day if interval == "day" else week_of(unit.day), []).append(index)
    return list(grouped.items())


# What a request derives from its zone, range, interval and the current hour alone: kept per isolate.
Layout = namedtuple("Layout", "units last_day ranges new_ranges keepable kept_bounds spans span_bounds buckets")
LAYOUTS_KEPT = 64  # the dashboard asks a handful of ranges
# Longer ranges (up to 3,660 days: ~1 MB of JSON texts each) are laid out again on every request: 64 of them kept
# would hold ~64 MB of an isolate's 128 MB. A year and its MAU window is ~100 KB.
LAYOUT_KEPT_DAYS = 400


def layout(zone, start, end, interval, hour):
    """kept_layout's Layout, kept per isolate for ranges up to LAYOUT_KEPT_DAYS."""
    if end - start > LAYOUT_KEPT_DAYS * DAY:
        return kept_layout.__wrapped__(zone, start, end, interval, hour)
    return kept_layout(zone, start, end, interval, hour)


@lru_cache(maxsize=LAYOUTS_KEPT)
def kept_layout(zone, start, end, interval, hour):
    """The units of [start, end) in `zone` (plan_of); their rollup ranges as JSON texts (all of them with their
    sketches' flags, storable bounds and span membership; the in-range ones for new users); the indexes of the units
    unit_cache may store at `hour` (the current UTC hour) and their bounds with the lookup's flag; the spans ({group's
    unit indexes: Span}, and their bounds); the buckets as (t, date, unit indexes).

    Kept per isolate (a bounded LRU): the dashboard asks for the same ranges again and again, and building these was
    ~2 ms of Python a request for 30 local days under Pyodide (a Python step costs ~3x CPython's there; issue 16)."""
    units, last_day = plan_of(zone, start, end)
    keepable = frozenset(i for i, unit in enumerate(units) if unit_cache.keepable(unit.start, unit.end, hour))
    buckets = buckets_of(units, interval)
    # Groups merged further: the WAU and MAU windows, and week buckets. The stored part of each (its complete recent
    # days, in a row) is a span; a unit merged outside any span needs its own sketch.
    groups = [window for _, window in window_units(units, last_day) if len(window) > 1]
    groups += [tuple(indexes) for _, indexes in buckets if interval == "week" and len(indexes) > 1]
    spans, merged_alone = {}, set()
    for group in groups:
        storable = [i for i in group if i in keepable]
        contiguous = all(units[a].end == units[b].start for a, b in zip(storable, storable[1:]))
        if len(storable) > 1 and contiguous and unit_cache.keepable(units[storable[0]].start,
                                                                    units[storable[-1]].end, hour):
            spans[group] = Span(units[storable[0]].start, units[storable[-1]].end, frozenset(storable))
            merged_alone.update(i for i in group if i not in spans[group].members)
        else:
            merged_alone.update(group)
    members = frozenset(i for span in spans.values() for i in span.members) - merged_alone
    ranges = unit_ranges(units, sketch_wanted(interval, last_day), keepable, members, hour)
    new_ranges = unit_ranges([u if u.in_range else u._replace(end=u.start) for u in units], hour=hour)
    wanted = {**{i: unit_cache.WHEN_SPAN_MISSING for i in members}, **{i: unit_cache.ALWAYS for i in merged_alone}}
    kept_bounds = [[units[i].start, units[i].end, wanted.get(i, unit_cache.NEVER)] for i in sorted(keepable)]
    span_bounds = sorted({(span.lo, span.hi) for span in spans.values()})
    labelled = tuple((seconds_to_iso(local_midnight(zone, key)), date_label(key), tuple(indexes))
                     for key, indexes in buckets)
    return Layout(tuple(units), last_day, encoded(ranges), encoded(new_ranges), keepable, kept_bounds, spans,
                  [list(bounds) for bounds in span_bounds], labelled)


def encoded(ranges):
    """unit_ranges' lists as the JSON texts bound to the queries ("" for a grain without rows)."""
    return {name: json.dumps(rows) if rows else "" for name, rows in ranges.items()}


async def active(ctx):
    scope = Scope(ctx.query, ctx.now_ms, zones.resolve)
    interval = choice_param(ctx.query, "interval", ("day", "week"), "day")
    check_bucket_count(scope, "day", interval)
    now_s = ctx.now_ms // 1000
    shape = layout(scope.zone, scope.range.start, scope.range.end, interval, now_s - now_s % HOUR)
    cache_key = unit_cache.scope_key(scope)
    # One D1 call when there is nothing to fold (two with exact user sets, one more when merges are stored): the fold
    # state, the units' user-buckets and sketches, the purge horizon, the new users and the stored merges in one batch.
    unfolded, (unit_result, horizon_result, new_result, kept_result) = await read.fold_tail_and(
        ctx, [packed(users_query(scope, shape.ranges, cache_key, shape.span_bounds), json_values=True),
              Sql(purge.HORIZON_SQL), packed(new_users_query(scope, shape.new_ranges)),
              unit_cache.lookup(cache_key, shape.kept_bounds, shape.span_bounds)])
    users = ActiveUsers(shape.units, unit_cache.kept_of(kept_result["rows"]), shape.spans)
    await users.load(ctx.db, scope, shape.ranges, packed_values(unit_result["rows"]),
                     purge.horizon_of(horizon_result["rows"]))
    new_by_unit = new_users(packed_values(new_result["rows"]))
    estimated, buckets = set(), []
    for t, date, indexes in shape.buckets:
        count, exact = users.count(indexes)
        new = sum(new_by_unit.get(i, 0) for i in indexes)
        count = max(count, new)  # an estimate below the exact new users would make returning negative
        if not exact:
            estimated |= {"active", "returning"}
        buckets.append({"t": t, "date": date, "active": count, "new": new, "returning": count - new})
    windows = users.windows(shape.last_day)
    estimated |= {name for name, (_, exact) in windows.items() if not exact}
    if users.sets is None and unfolded.version is not None:
        merges = users.merges_to_store(shape.keepable)
        if merges:
            await ctx.db.batch(unit_cache.store(cache_key, merges, unfolded.version, now_s))
    order = ["active", "returning", *(name for name, _ in WINDOWS)]
    return ok({"interval": interval, "buckets": buckets, **{name: value for name, (value, _) in windows.items()},
               "range": scope.as_json(),
               **read.declare_estimates(read.freshness(unfolded), [name for name in order if name in estimated])})


# One app's calendar, built by D1 as one JSON text: each day's `users` is exact (a day's distinct users, kept by the
# fold), and Pyodide moves one string instead of converting a row per day (a year of days cost ~30 ms of the
# worker's CPU as /stats/active buckets; issue 16). Days without users are left out.
CALENDAR_ONE_APP_SQL = (
    "SELECT json_group_array(json_object('date', date(t.day, 'unixepoch'), 'active', t.users, 'new', "
    "COALESCE((SELECT n.users FROM daily_new_users AS n WHERE n.app_id = t.app_id AND n.day = t.day), 0))) AS days "
    "FROM daily AS t WHERE t.app_id = ? AND t.day >= ? AND t.day < ? AND t.users > 0")


def calendar_all_apps_queries(scope, lo, hi):
    """Every app's days: per day its users, rows and (several apps) their sketches; and its new users (first seen in
    any app: the any-app rollup counts release apps, so debug twins are summed app by app)."""
    users = (Sql("SELECT t.day AS day, SUM(t.users) AS users, COUNT(*) AS rows, "
                 f"CASE WHEN COUNT(*) > 1 THEN json_group_array({hll.compact_sql('t.sketch')}) END AS sketches FROM ")
             + read.app_source(scope)
             + Sql(" CROSS JOIN daily AS t ON t.app_id = a.app_id AND t.day >= ? AND t.day < ? AND t.users > 0 "
                   "GROUP BY t.day", [lo, hi]))
    if scope.debug:
        new = (Sql("SELECT t.day AS day, SUM(t.users) AS users FROM ") + read.app_source(scope)
               + Sql(" CROSS JOIN daily_new_users AS t ON t.app_id = a.app_id AND t.day >= ? AND t.day < ? "
                     "GROUP BY t.day", [lo, hi]))
    else:
        new = Sql("SELECT day, users FROM daily_new_users_any WHERE day >= ? AND day < ?", [lo, hi])
    return [users, new]


def calendar_days(user_rows, new_rows):
    """([{date, active, new}], estimated): a day of one app's row is exact; a day of several apps merges their
    sketches (declared)."""
    new_by_day = {row["day"]: row["users"] for row in new_rows}
    days, estimated = [], False
    for row in user_rows:
        users, new = row["users"], new_by_day.get(row["day"], 0)
        if row["rows"] > 1:
            users = max(unit_sketch(json.loads(row["sketches"])).estimate(), new)
            estimated = True
        days.append({"date": date_label(row["day"]), "active": users, "new": new})
    return days, estimated


async def calendar(ctx):
    """GET /stats/calendar: {"days": [{"date", "active", "new"}], ...} for every UTC day the range touches that has
    users, in order. UTC days only: they are the daily rollup rows (a local day would merge 24 hourly sketches)."""
    scope = Scope(ctx.query, ctx.now_ms)  # zones: only UTC (a 400 naming `tz` otherwise)
    check_bucket_count(scope, "day")
    lo, hi = scope.range.start - scope.range.start % DAY, scope.range.end
    if scope.app_id is not None:
        unfolded, (result,) = await read.fold_tail_and(ctx, [Sql(CALENDAR_ONE_APP_SQL, [scope.app_id, lo, hi])])
        return ok_with_json({"range": scope.as_json(), **read.freshness(unfolded)}, "days", result["rows"][0]["days"])
    unfolded, (user_result, new_result) = await read.fold_tail_and(ctx, calendar_all_apps_queries(scope, lo, hi))
    days, estimated = calendar_days(user_result["rows"], new_result["rows"])
    return ok({"range": scope.as_json(), **read.declare_estimates(read.freshness(unfolded), ["active"] if estimated else []),
               "days": days})
