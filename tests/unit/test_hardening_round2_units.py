"""Issue 18, hardening round 2: the pure rules behind each fix (CPython, no worker)."""
import asyncio
import json

import pytest

from api import params, ratelimit
from api.config import Settings
from api.validation import parse_track_body
from api.web import Request
from errors import BadRequest, TooManyRequests
from routes import settings
from tz.timeutil import DAY, parse_event_time

NOW = 1_732_550_400_000


def event(app_id="a", **fields):
    return {"event": "e", "app_id": app_id, "session_id": "s", **fields}


# 5. Bucket limits are about the span of the range, and name the interval asked for.
@pytest.mark.parametrize("interval", ["day", "week"])
def test_3660_days_fit_in_day_buckets_however_the_range_is_aligned(interval):
    scope = params.Scope({"days": "3660"}, NOW + 1234567)
    params.check_bucket_count(scope, "day", interval)
    with pytest.raises(BadRequest) as raised:
        params.check_bucket_count(params.Scope({"days": "3661"}, NOW + 1234567), "day", interval)
    assert f"interval={interval}" in raised.value.message


def test_hour_buckets_still_stop_at_31_days():
    params.check_bucket_count(params.Scope({"days": "31"}, NOW + 1234567), "hour")
    with pytest.raises(BadRequest):
        params.check_bucket_count(params.Scope({"days": "32"}, NOW + 1234567), "hour")


# 8. Future timestamps: stored as the moment of receipt.
@pytest.mark.parametrize("value", [(NOW + 1) / 1000, (NOW + 2 * 3600 * 1000) / 1000, (NOW + 30 * DAY * 1000) / 1000,
                                   "9999-12-31T23:59:59Z", 10**12, "2999-01-01"])
def test_a_timestamp_after_receipt_is_the_moment_of_receipt(value):
    assert parse_event_time(value, NOW) == (NOW, None)


def test_past_timestamps_are_kept_and_impossible_ones_still_refused():
    assert parse_event_time((NOW - 5000) / 1000, NOW) == (NOW - 5000, None)
    assert parse_event_time(NOW / 1000, NOW) == (NOW, None)
    assert parse_event_time("1999-12-31T23:59:59Z", NOW)[1]
    assert parse_event_time(float("inf"), NOW)[1]
    assert parse_event_time(-(10**400), NOW)[1]
