"""Local days and hours over hourly rollups, cross-checked with CPython's zoneinfo."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from errors import BadRequest
from api.params import Scope
from tz.localtime import UTC, day_starts, hour_offset, local_midnight, offset_segments
from tz.timeutil import parse_range

NOW = 1_732_550_400_000  # 2024-11-25T16:00:00Z


class Zone:
    """zoneinfo behind the same `offset_at` the worker gets from Intl."""

    def __init__(self, name):
        self.name = name
        self.info = ZoneInfo(name)
        self.calls = 0

    def offset_at(self, seconds):
        self.calls += 1
        return int(datetime.fromtimestamp(seconds, tz=self.info).utcoffset().total_seconds())


def utc(text):
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


def local_day_starts(name, first_day, days):
    """What zoneinfo says: the UTC instant of each local midnight."""
    info = ZoneInfo(name)
    start = datetime.fromisoformat(first_day)
    return [int((start + timedelta(days=i)).replace(tzinfo=info).timestamp()) for i in range(days)]


def test_berlin_spring_forward_is_split_at_the_changing_hour():
    segments = offset_segments(Zone("Europe/Berlin"), utc("2024-03-29T23:00:00"), utc("2024-04-02T22:00:00"))
    assert segments == [[utc("2024-03-29T23:00:00"), utc("2024-03-31T01:00:00"), 3600],
                        [utc("2024-03-31T01:00:00"), utc("2024-04-02T22:00:00"), 7200]]


def test_new_york_fall_back_day_has_25_hours():
    zone = Zone("America/New_York")
    segments = offset_segments(zone, utc("2024-11-01T04:00:00"), utc("2024-11-06T05:00:00"))
    assert segments[1][0] == utc("2024-11-03T06:00:00")
    starts = [t for _, t in day_starts(segments)]
    assert starts == local_day_starts("America/New_York", "2024-11-01", 5)
    assert starts[3] - starts[2] == 25 * 3600


@pytest.mark.parametrize("name", ["Europe/Berlin", "America/New_York", "America/Los_Angeles", "Australia/Sydney",
                                  "Pacific/Auckland", "Asia/Tokyo"])
def test_local_days_over_a_year_match_zoneinfo(name):
    zone = Zone(name)
    first, last = local_day_starts(name, "2024-01-01", 367)[::366]
    starts = [t for _, t in day_starts(offset_segments(zone, first, last))]
    assert starts == local_day_starts(name, "2024-01-01", 366)
    assert zone.calls < 366 // 7 + 2 * 20  # a sample per week, and a few bisection steps per change


def test_every_hour_gets_its_local_wall_clock_hour():
    zone = Zone("Europe/Berlin")
    start, end = utc("2024-10-25T00:00:00"), utc("2024-10-29T00:00:00")
    for segment_start, segment_end, shift in offset_segments(zone, start, end):
        for hour in range(segment_start, segment_end, 3600):
            local = datetime.fromtimestamp(hour, tz=zone.info)
            assert datetime.fromtimestamp(hour + shift, tz=timezone.utc).replace(tzinfo=None) == local.replace(
                tzinfo=None)


def test_half_hour_zones_start_the_day_at_the_hour_containing_local_midnight():
    assert hour_offset(19800) == 21600 and hour_offset(20700) == 21600 and hour_offset(-12600) == -10800
    kolkata = Zone("Asia/Kolkata")
    assert local_midnight(kolkata, utc("2024-05-02T00:00:00")) == utc("2024-05-01T18:00:00")


def test_date_only_bounds_are_local_midnights():
    zone = Zone("America/Los_Angeles")
    assert parse_range({"from": "2024-11-02", "to": "2024-11-03"}, NOW, zone).as_json() == {
        "from": "2024-11-02T07:00:00Z", "to": "2024-11-04T08:00:00Z"}
    assert parse_range({"days": "7"}, NOW, zone) == parse_range({"days": "7"}, NOW)


def test_utc_is_the_default_and_one_segment():
    assert parse_range({"from": "2024-05-01", "to": "2024-05-03"}, NOW, UTC).as_json() == {
        "from": "2024-05-01T00:00:00Z", "to": "2024-05-04T00:00:00Z"}
    assert offset_segments(UTC, 0, 7200) == [[0, 7200, 0]]
    assert offset_segments(UTC, 7200, 7200) == []  # an empty range has no piece


def test_scope_names_tz_when_it_is_unknown():
    with pytest.raises(BadRequest) as error:
        Scope({"tz": "Mars/Olympus"}, NOW)
    assert error.value.details[0]["field"] == "tz"
    assert Scope({}, NOW).as_json()["tz"] == "UTC"
