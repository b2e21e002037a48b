"""Pure dashboard helpers: settings, ranges, deltas, CSV."""
import csv
import io
from datetime import date

import pytest

from dashboard import config, exports, periods


def test_settings_prefer_environment_over_secrets():
    settings = config.resolve({"ODDLYTICS_API_URL": "http://env/", "ODDLYTICS_API_KEY": "env-key"},
                              {"ODDLYTICS_API_URL": "http://secret", "ODDLYTICS_API_KEY": "secret-key"})
    assert (settings.url, settings.key) == ("http://env", "env-key")


def test_settings_fall_back_to_secrets_and_need_both():
    assert config.resolve({}, {"ODDLYTICS_API_URL": "http://s", "ODDLYTICS_API_KEY": "k"}).url == "http://s"
    assert config.resolve({"ODDLYTICS_API_URL": "http://s"}, {}) is None


def test_settings_repr_hides_the_key():
    assert "sekrit" not in repr(config.Settings("http://x", "sekrit"))


@pytest.mark.parametrize("choice, params, interval", [
    ("Last 24 hours", {"days": "1"}, "hour"),
    ("Last 7 days", {"days": "7"}, "day"),
    ("Last 90 days", {"days": "90"}, "day"),
])
def test_presets_become_days_and_pick_the_bucket(choice, params, interval):
    assert periods.range_params(choice) == params
    assert periods.interval_for(params) == interval


def test_custom_range_is_inclusive_and_hourly_up_to_two_days():
    two_days = periods.range_params("Custom", (date(2024, 5, 6), date(2024, 5, 7)))
    assert two_days == {"from": "2024-05-06", "to": "2024-05-07"}
    assert periods.interval_for(two_days) == "hour"
    assert periods.interval_for(periods.range_params("Custom", (date(2024, 5, 6), date(2024, 5, 8)))) == "day"


@pytest.mark.parametrize("current, previous, delta", [(6, 2, "+200.0%"), (1, 4, "-75.0%"), (3, 3, "+0.0%"),
                                                      (5, 0, None)])
def test_change_against_previous_period(current, previous, delta):
    assert periods.change(current, previous) == delta


def test_counts_and_ratios_format():
    assert (periods.count(12345), periods.ratio(5.06), periods.per_session(7, 0)) == ("12,345", "5.1", 0.0)


def test_events_csv_has_one_row_per_event_and_json_properties():
    events = [{"timestamp": "2024-05-06T09:00:00.000Z", "event": "Purchase", "app_id": "a", "session_id": "s",
               "user_id": None, "platform": "ios", "app_version": "1.0", "country": "DE",
               "properties": {"price": 4.99, "product": "Pro, yearly"}, "event_id": None, "received_at": "x"}]
    rows = list(csv.DictReader(io.StringIO(exports.events_csv(events))))
    assert rows == [{"timestamp": "2024-05-06T09:00:00.000Z", "event": "Purchase", "app_id": "a", "session_id": "s",
                     "user_id": "", "platform": "ios", "app_version": "1.0", "country": "DE",
                     "properties": '{"price": 4.99, "product": "Pro, yearly"}', "event_id": "", "received_at": "x"}]
