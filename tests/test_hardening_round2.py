"""Issue 18, hardening round 2: edge values and bounded reads, against the real worker (wrangler dev + local D1)."""
import time
from datetime import datetime, timezone

import pytest

from conftest import KEYS, Api, event
from scripts.devserver import Worker

HOUR_MS = 3600 * 1000


def rows_read(response):
    return int(response.headers["x-d1-rows-read"])


def iso(ms):
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def epoch_ms(text):
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


# 5. Both intervals of /stats/active allow ranges of 3,660 days, as the README says.
@pytest.mark.parametrize("route, interval", [("/stats/active", "week"), ("/stats/active", "day"),
                                             ("/stats/timeline", "day")])
def test_3660_days_are_allowed_for_every_day_and_week_interval(api, app_id, route, interval):
    response = api.get(route, params={"app_id": app_id, "interval": interval, "days": "3660"})
    assert response.status_code == 200, response.text


def test_a_range_past_3660_days_names_the_interval_asked_for(api, app_id):
    response = api.get("/stats/active", params={"app_id": app_id, "interval": "week", "days": "3662"})
    assert response.status_code == 400
    assert "interval=week" in response.json()["error"]
    assert [d["field"] for d in response.json()["details"]] == ["interval"]
