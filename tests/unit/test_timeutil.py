import pytest

from errors import BadRequest
from tz.timeutil import Range, parse_event_time, parse_range, to_iso

NOW = 1_732_550_400_000  # 2024-11-25T16:00:00Z
HOUR_MS = 3_600_000


@pytest.mark.parametrize("value,expected", [
    ("2024-03-20T10:00:00Z", 1_710_928_800_000),
    ("2024-03-20T12:00:00+02:00", 1_710_928_800_000),
    ("2024-03-20T10:00:00", 1_710_928_800_000),
    ("2024-03-20T10:00:00.250Z", 1_710_928_800_250),
    (1_710_928_800, 1_710_928_800_000),
    (1_710_928_800.5, 1_710_928_800_500),
    (None, NOW),
    # After the moment of receipt (issue 18): that moment.
    (NOW / 1000 + 25 * 3600, NOW),
    (10**20, NOW),
])
def test_event_time_accepts(value, expected):
    assert parse_event_time(value, NOW) == (expected, None)


@pytest.mark.parametrize("value", [
    "1999-12-31T23:59:59Z", True, "20 March", "", [], float("nan"), -(10**20),
])
def test_event_time_rejects(value):
    ms, problem = parse_event_time(value, NOW)
    assert ms is None and problem


def test_event_time_is_never_after_its_receipt():
    assert parse_event_time((NOW + 23 * HOUR_MS) / 1000, NOW) == (NOW, None)


def test_to_iso():
    assert to_iso(1_710_928_800_250) == "2024-03-20T10:00:00.250Z"


def test_default_range_is_thirty_days_ending_after_the_current_hour():
    assert parse_range({}, NOW + 5) == Range(1_729_962_000, 1_732_554_000)


def test_days_range():
    assert parse_range({"days": "1"}, NOW - 1).as_json() == {"from": "2024-11-24T16:00:00Z", "to": "2024-11-25T16:00:00Z"}


def test_date_only_to_includes_that_day_and_from_is_floored_to_the_hour():
    assert parse_range({"from": "2024-05-01T09:30:00Z", "to": "2024-05-03"}, NOW).as_json() == {
        "from": "2024-05-01T09:00:00Z", "to": "2024-05-04T00:00:00Z"}


def test_previous_period_has_equal_length():
    assert Range(100 * 3600, 130 * 3600).previous() == Range(70 * 3600, 100 * 3600)


@pytest.mark.parametrize("query", [
    {"days": "0"}, {"days": "-3"}, {"days": "1.5"}, {"from": "2024-13-01"},
    {"from": "2024-05-02", "to": "2024-05-01"}, {"days": "3", "to": "2024-05-01"},
])
def test_bad_ranges(query):
    with pytest.raises(BadRequest):
        parse_range(query, NOW)


def test_dates_by_arithmetic_match_datetime_from_1900_to_9999():
    import random
    from datetime import datetime, timezone

    from tz.localtime import date_label
    from tz.timeutil import seconds_to_iso, to_iso

    rng = random.Random(16)
    edges = [-2208988800, -1, 0, 1, 951782400, 951868800, 4107542400, 253402297200, 253402300799]
    for seconds in edges + [rng.randrange(-2208988800, 253402300800) for _ in range(20000)]:
        moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
        assert seconds_to_iso(seconds) == moment.strftime("%Y-%m-%dT%H:%M:%SZ"), seconds
        assert date_label(seconds) == moment.strftime("%Y-%m-%d"), seconds
        ms = seconds * 1000 + rng.randrange(1000)
        assert to_iso(ms) == moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z", ms
