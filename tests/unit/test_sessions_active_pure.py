"""Pure parts of GET /stats/sessions and GET /stats/active: quantiles from length buckets, the local days and
weeks active users are counted over, and migration 0004 running exactly the backfill the worker defines."""
import json
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from routes.active import day_spans, layout, plan, read_end, week_of
from rollups import unit_cache
from api.params import Scope
from rollups.activity import LENGTH_BOUNDS, backfill_statements, length_bucket
from routes.sessions import figures, quantile

ROOT = Path(__file__).resolve().parents[2]
NOW_MS = 1_795_000_000_000  # 2026-11-18


class Zone:
    def __init__(self, name):
        self.name, self.info = name, ZoneInfo(name)

    def offset_at(self, seconds):
        return int(datetime.fromtimestamp(seconds, tz=self.info).utcoffset().total_seconds())


def utc(text):
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


def iso(seconds):
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M")


def test_quantiles_are_exact_under_ten_seconds_and_interpolated_in_their_bucket_beyond():
    assert quantile({0: 1, 4: 1, 40: 1, 120: 1}, 4, 0.5) == (4, True)  # rank 2 of 4
    assert quantile({0: 1, 4: 1, 40: 1, 120: 1}, 4, 0.9) == (135, False)  # rank 4, alone in [120, 150)
    assert quantile({600: 4}, 4, 0.5) == (656, False)  # rank 2 of 4 in [600, 750): 600 + 150 * 1.5 / 4
    assert quantile({86400: 3}, 3, 0.9) == (86400, False)  # the open bucket gives its lower bound


def test_figures_and_histogram_from_length_buckets():
    result, estimated = figures({0: (6, 6, 6), 5: (2, 5, 0), 12: (1, 3, 0), 3600: (1, 16, 0)})
    assert (result["sessions"], result["events"], result["events_per_session"]) == (10, 30, 3.0)
    assert (result["one_event_sessions"], result["one_event_share"]) == (6, 0.6)
    # p90: rank 9 of 10, alone in [12, 15): the middle of the bucket, 13.5, rounded half to even.
    assert (result["median_duration_s"], result["p90_duration_s"], estimated) == (0, 14, ["p90_duration_s"])
    assert [(b["label"], b["sessions"]) for b in result["histogram"]] == [
        ("0s", 6), ("1-10s", 2), ("10-30s", 1), ("30-60s", 0), ("1-3m", 0), ("3-10m", 0), ("10-30m", 0),
        ("30-60m", 0), ("≥ 1h", 1)]
    empty, none_estimated = figures({})
    assert (empty["sessions"], empty["median_duration_s"], empty["events_per_session"], none_estimated) == (0, None, None, [])


@pytest.mark.parametrize("seconds,bucket", [(0, 0), (0.999, 0), (9.5, 9), (10, 10), (11, 10), (599, 450),
                                            (3600, 3600), (10 ** 6, 86400)])
def test_length_buckets_in_sql(seconds, bucket):
    import sqlite3

    assert sqlite3.connect(":memory:").execute(f"SELECT {length_bucket(str(int(seconds * 1000)))}").fetchone()[0] == bucket
    assert LENGTH_BOUNDS == tuple(sorted(set(LENGTH_BOUNDS)))


def test_berlin_local_days_across_fall_back_have_25_hours():
    zone = Zone("Europe/Berlin")
    scope = Scope({"from": "2026-10-24", "to": "2026-10-26", "tz": "Europe/Berlin"}, NOW_MS, lambda name: zone)
    spans = day_spans(scope.segments())
    assert [(iso(day), iso(start), iso(end)) for day, start, end in spans] == [
        ("2026-10-24T00:00", "2026-10-23T22:00", "2026-10-24T22:00"),
        ("2026-10-25T00:00", "2026-10-24T22:00", "2026-10-25T23:00"),
        ("2026-10-26T00:00", "2026-10-25T23:00", "2026-10-26T23:00")]


def test_units_reach_thirty_local_days_back_and_split_the_day_the_range_starts_in():
    zone = Zone("Europe/Berlin")
    scope = Scope({"from": "2026-10-25T12:00:00Z", "to": "2026-10-26"}, NOW_MS, lambda name: zone)
    units, last_day = plan(scope)
    assert iso(last_day) == "2026-10-26T00:00"
    assert (iso(units[0].day), iso(units[0].start), units[0].in_range) == ("2026-09-27T00:00", "2026-09-26T22:00", False)
    assert len({u.day for u in units}) == 30
    in_range = [(iso(u.day), iso(u.start), iso(u.end)) for u in units if u.in_range]
    assert in_range == [("2026-10-25T00:00", "2026-10-25T12:00", "2026-10-25T23:00"),
                        ("2026-10-26T00:00", "2026-10-25T23:00", "2026-10-26T23:00")]
    assert [(iso(u.start), iso(u.end)) for u in units if not u.in_range][-1] == ("2026-10-24T22:00", "2026-10-25T12:00")


def test_the_running_local_day_reads_on_to_the_end_of_its_utc_day_whose_later_hours_are_still_empty():
    hour = utc("2026-11-18T20:00:00")
    assert read_end(utc("2026-11-18T23:00:00"), hour) == utc("2026-11-19T00:00:00")  # Berlin's day: its daily row
    assert read_end(utc("2026-11-18T21:00:00"), hour) == utc("2026-11-18T21:00:00")  # ends within the next hour
    assert read_end(utc("2026-11-18T20:00:00"), hour) == utc("2026-11-18T20:00:00")  # over
    assert read_end(utc("2026-11-19T00:00:00"), hour) == utc("2026-11-19T00:00:00")  # a UTC day already


def test_a_layout_keeps_the_complete_days_of_each_window_as_one_span():
    """30 days in Berlin ending with the running day: the WAU and MAU windows' complete days are spans (the running
    day is merged alone); the days inside spans bring their sketches only while a span is not kept."""
    zone = Zone("Europe/Berlin")
    now_s = utc("2026-11-18T20:30:00")
    scope = Scope({"from": "2026-10-20", "to": "2026-11-18", "tz": "Europe/Berlin"}, now_s * 1000, lambda name: zone)
    shape = layout(zone, scope.range.start, scope.range.end, "day", now_s - now_s % 3600)
    running = len(shape.units) - 1
    assert iso(shape.units[running].start) == "2026-11-17T23:00" and running not in shape.keepable
    spans = sorted((iso(span.lo), iso(span.hi), len(span.members)) for span in shape.spans.values())
    assert spans == [("2026-10-19T22:00", "2026-11-17T23:00", 29), ("2026-11-11T23:00", "2026-11-17T23:00", 6)]
    assert shape.span_bounds == sorted([span.lo, span.hi] for span in shape.spans.values())
    # Every kept day is inside the MAU window's span: read for its estimate, its sketch only while a span is missing.
    assert {flag for _, _, flag in shape.kept_bounds} == {unit_cache.WHEN_SPAN_MISSING}
    # The running day reads an hour of the 17th and the 18th's daily row (read_end), not 21 hourly rows.
    rows = {grain: [row for row in json.loads(text) if row[2] == running] for grain, text in shape.ranges.items() if text}
    assert [(iso(lo), iso(hi)) for lo, hi, *_ in rows["hour"]] == [("2026-11-17T23:00", "2026-11-18T00:00")]
    assert [(iso(lo), iso(hi)) for lo, hi, *_ in rows["day"]] == [("2026-11-18T00:00", "2026-11-19T00:00")]
    assert len(shape.buckets) == 30 and shape.buckets[-1][:2] == ("2026-11-17T23:00:00Z", "2026-11-18")
    assert layout(zone, scope.range.start, scope.range.end, "day", now_s - now_s % 3600) is shape  # kept per isolate


def test_long_ranges_are_laid_out_again_rather_than_kept():
    """A 10-year layout is ~1 MB of JSON texts: kept 64 times it would fill most of an isolate's 128 MB."""
    zone = Zone("Europe/Berlin")
    hour = utc("2026-11-18T20:00:00")
    start, end = utc("2016-11-20T00:00:00"), utc("2026-11-18T00:00:00")
    assert layout(zone, start, end, "week", hour) is not layout(zone, start, end, "week", hour)
    year = end - 365 * 86400
    assert layout(zone, year, end, "week", hour) is layout(zone, year, end, "week", hour)


def test_weeks_start_on_monday():
    assert iso(week_of(utc("2026-10-25T00:00:00"))) == "2026-10-19T00:00"  # a Sunday
    assert iso(week_of(utc("2026-10-26T00:00:00"))) == "2026-10-26T00:00"  # a Monday


def test_migration_0004_runs_exactly_the_backfill():
    def normal(sql):
        return " ".join(sql.split())

    migration = normal((ROOT / "migrations" / "0004_sessions_active.sql").read_text())
    for statement in backfill_statements():
        assert normal(statement) + ";" in migration


def test_bulk_merges_equal_merging_one_by_one():
    import math
    import random

    from rollups import hll

    rng = random.Random(5)
    texts = [hll.Sketch().add_all(hll.user_register(f"u{rng.randrange(5000)}") for _ in range(n)).encode()
             for n in (0, 3, 30, 90, 400, 2000)] + ["", None]
    one_by_one = hll.Sketch()
    for text in texts:
        one_by_one.merge(text)
    bulk = hll.Sketch().merge_all(texts[:4]).merge_sketches([hll.Sketch().merge_all(texts[4:]), hll.Sketch()])
    assert (bulk.sparse, bulk.dense, bulk.registers()) == (one_by_one.sparse, one_by_one.dense, one_by_one.registers())
    sparse_only = hll.Sketch().merge_all(texts[:4])
    zeros = sparse_only.registers().count(0)  # counted from the sparse entries alone, as from the registers:
    assert not sparse_only.dense and sparse_only.estimate() == round(hll.M * math.log(hll.M / zeros))
    assert hll.Sketch().merge_all([]).estimate() == 0
