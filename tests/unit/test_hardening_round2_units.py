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
