"""Pure dashboard helpers: settings, ranges, deltas, CSV."""
import csv
import io
from datetime import date, datetime, timezone

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


TODAY = date(2024, 11, 3)


@pytest.mark.parametrize("choice, params, interval", [
    ("Last 24 hours", {"days": "1", "tz": "UTC"}, "hour"),
    ("Last 7 days", {"from": "2024-10-28", "to": "2024-11-03", "tz": "UTC"}, "day"),
    ("Last 90 days", {"from": "2024-08-06", "to": "2024-11-03", "tz": "UTC"}, "day"),
])
def test_presets_are_whole_local_days_up_to_today_and_pick_the_bucket(choice, params, interval):
    assert periods.range_params(choice, "UTC", TODAY) == params
    assert periods.range_days(params) == periods.PRESETS[choice]
    assert periods.interval_for(params) == interval


def test_custom_range_is_inclusive_and_hourly_up_to_two_days():
    two_days = periods.range_params("Custom", "Europe/Berlin", TODAY, (date(2024, 5, 6), date(2024, 5, 7)))
    assert two_days == {"from": "2024-05-06", "to": "2024-05-07", "tz": "Europe/Berlin"}
    assert periods.interval_for(two_days) == "hour"
    three_days = periods.range_params("Custom", "UTC", TODAY, (date(2024, 5, 6), date(2024, 5, 8)))
    assert periods.interval_for(three_days) == "day"


def test_zone_is_the_setting_then_the_browser_then_utc():
    assert periods.zone_name("Asia/Tokyo", "Europe/Berlin") == "Asia/Tokyo"
    assert periods.zone_name("", "Europe/Berlin") == "Europe/Berlin"
    assert periods.zone_name("Mars/Olympus", None) == "UTC"
    assert config.resolve({"ODDLYTICS_API_URL": "u", "ODDLYTICS_API_KEY": "k"},
                          {"ODDLYTICS_TIMEZONE": "Asia/Tokyo"}).timezone == "Asia/Tokyo"


def test_today_and_times_are_local():
    evening = datetime(2024, 11, 3, 23, 30, tzinfo=timezone.utc)
    assert (periods.today_in("UTC", evening), periods.today_in("Asia/Tokyo", evening)) == (
        date(2024, 11, 3), date(2024, 11, 4))
    assert f"{periods.parse_time('2024-11-03T06:30:00.000Z', 'America/New_York'):%d %H:%M %Z}" == "03 01:30 EST"
    assert periods.range_label({"from": "2024-03-30T23:00:00Z", "to": "2024-03-31T22:00:00Z"}, "Europe/Berlin") == (
        "31 Mar 2024 00:00 → 01 Apr 2024 00:00 Europe/Berlin")


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
