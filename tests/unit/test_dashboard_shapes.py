"""Pure dashboard shapes for issue 8's screens: breakdown rows, calendar cells, funnels, retention, repeats."""
from datetime import date

from dashboard import periods, shapes


def test_breakdown_names_null_and_other_and_gives_shares_in_percent():
    body = {"values": [{"value": "ios", "events": 6, "sessions": 3, "users": 2, "share": 0.6},
                       {"value": None, "events": 3, "sessions": 1, "users": 0, "share": 0.3}],
            "other": {"values": 4, "events": 1, "share": 0.1}, "total": {"events": 10}}
    frame = shapes.breakdown_frame(body)
    assert list(frame["value"]) == ["ios", "(none)", "Other (4 values)"]
    assert list(frame["events"]) == [6, 3, 1]
    assert [round(s, 1) for s in frame["share"]] == [60.0, 30.0, 10.0]
    assert frame["sessions"].isna().tolist() == [False, False, True]


def test_breakdown_without_other():
    body = {"values": [{"value": "1.0", "events": 2, "sessions": 1, "users": 1, "share": 1.0}], "other": None,
            "total": {"events": 2}}
    assert list(shapes.breakdown_frame(body)["value"]) == ["1.0"]


def test_calendar_puts_days_in_sunday_weeks_and_weekday_rows():
    # 2026-11-01 is a Sunday: the Saturday before is in the previous week's column.
    days = [{"date": d, "active": n, "new": n - 1} for d, n in
            (("2026-10-31", 1), ("2026-11-01", 2), ("2026-11-07", 3), ("2026-11-08", 4))]
    cells = shapes.calendar_frame(days, date(2026, 10, 31), date(2026, 11, 8))
    assert list(cells["date"])[:3] == ["2026-10-31", "2026-11-01", "2026-11-02"] and len(cells) == 9
    assert list(cells["week"]) == ["2026-10-25"] + ["2026-11-01"] * 7 + ["2026-11-08"]
    assert list(cells["weekday"])[::7] == ["Sat", "Sat"] and list(cells["weekday"])[1] == "Sun"
    # Days the worker left out (no users) are empty cells of the grid, not missing ones.
    assert list(cells["active"]) == [1, 2, 0, 0, 0, 0, 0, 3, 4]
    assert list(cells["new"]) == [0, 1, 0, 0, 0, 0, 0, 2, 3]


def test_previous_period_is_drawn_bucket_by_bucket_at_the_current_times():
    current = [{"t": "2026-11-02T00:00:00Z", "events": 5}, {"t": "2026-11-03T00:00:00Z", "events": 1}]
    previous = [{"t": "2026-10-31T00:00:00Z", "events": 7}, {"t": "2026-11-01T00:00:00Z", "events": 0}]
    assert shapes.previous_overlay(current, previous) == [
        {"t": "2026-11-02T00:00:00Z", "previous": 7}, {"t": "2026-11-03T00:00:00Z", "previous": 0}]


def test_previous_params_are_the_same_number_of_whole_days_before():
    params = {"from": "2026-10-25", "to": "2026-10-31", "tz": "Europe/Berlin"}
    assert periods.previous_params(params, {}) == {"from": "2026-10-18", "to": "2026-10-24", "tz": "Europe/Berlin"}
    rolling = {"days": "1", "tz": "UTC"}
    assert periods.previous_params(rolling, {"from": "A", "to": "B"}) == {"from": "A", "to": "B", "tz": "UTC"}
    assert periods.year_params(date(2026, 11, 26)) == {"from": "2025-11-27", "to": "2026-11-26", "tz": "UTC"}


def test_funnel_frame_numbers_steps_and_keeps_percentages():
    frame = shapes.funnel_frame([
        {"event": "A", "count": 4, "conversion_from_first": 1.0, "conversion_from_previous": 1.0,
         "median_s_from_previous": None},
        {"event": "B", "count": 1, "conversion_from_first": 0.25, "conversion_from_previous": 0.25,
         "median_s_from_previous": 35}])
    assert list(frame["step"]) == ["1. A", "2. B"]
    assert list(frame["from_first"]) == [100.0, 25.0]


def test_shares_are_computed_from_the_counts_not_the_rounded_api_shares():
    """4 of 21 is 19.05%: the API sends 0.1905, which shown with one decimal would say 19.1%."""
    frame = shapes.funnel_frame([
        {"event": "A", "count": 21, "conversion_from_first": 1.0, "conversion_from_previous": 1.0},
        {"event": "B", "count": 8, "conversion_from_first": 0.381, "conversion_from_previous": 0.381},
        {"event": "C", "count": 4, "conversion_from_first": 0.1905, "conversion_from_previous": 0.5}])
    assert [f"{v:.1f}" for v in frame["from_first"]] == ["100.0", "38.1", "19.0"]
    assert [f"{v:.1f}" for v in frame["from_previous"]] == ["100.0", "38.1", "50.0"]
    body = {"values": [{"value": "x", "events": 4, "sessions": 1, "users": 1, "share": 0.1905}], "other": None,
            "total": {"events": 21}}
    assert f"{shapes.breakdown_frame(body)['share'][0]:.1f}" == "19.0"
    cells = shapes.retention_frame([{"start": "2026-11-02", "size": 21, "retained": [1.0, 0.1905],
                                     "retained_users": [21, 4]}])
    assert f"{cells['share'][1]:.1f}" == "19.0" and list(cells["label"]) == ["100", "19"]


def test_funnel_steps_show_their_alias_with_the_real_name():
    frame = shapes.funnel_frame([{"event": "paywall_shown", "count": 2}, {"event": "buy", "count": 1}],
                                {"paywall_shown": "Paywall Shown"})
    assert list(frame["step"]) == ["1. Paywall Shown (paywall_shown)", "2. buy"]
    assert list(frame["event"]) == ["paywall_shown", "buy"]


def test_retention_frame_keeps_running_periods_and_cohorts_with_their_size():
    frame = shapes.retention_frame([{"start": "2026-11-02", "size": 4, "retained": [1.0, 0.5, None],
                                     "retained_users": [4, 2, None]}])
    assert list(zip(frame["period"], frame["share"].fillna(-1), frame["users"].fillna(-1), frame["state"])) == [
        (0, 100.0, 4, "over"), (1, 50.0, 2, "over"), (2, -1, -1, "not over yet")]
    assert set(frame["cohort"]) == {"2026-11-02 · 4 users"}


def test_a_cohort_still_in_its_first_period_shows_and_empty_cohorts_do_not():
    """A week cohort of the last 7 days: not over yet, but its users are there (the grid said "No users")."""
    frame = shapes.retention_frame([{"start": "2026-11-30", "size": 21, "retained": [None, None],
                                     "retained_users": [None, None]},
                                    {"start": "2026-12-01", "size": 0, "retained": [None], "retained_users": [None]},
                                    {"start": "2026-12-04", "size": 1, "retained": [None],
                                     "retained_users": [None]}])
    assert list(dict.fromkeys(frame["cohort"])) == ["2026-11-30 · 21 users", "2026-12-04 · 1 user"]
    assert set(frame["label"]) == {"…"} and set(frame["state"]) == {"not over yet"}


def test_durations_read_as_people_say_them():
    assert [shapes.duration_text(s) for s in (None, 0, 59, 60, 95, 3600, 3725)] == [
        "–", "0 s", "59 s", "1 min", "1 min 35 s", "1 h 0 min", "1 h 2 min"]


def stamp(seconds):
    return f"2026-11-02T10:{seconds // 60:02d}:{seconds % 60:02d}Z"


def test_repeats_of_one_event_in_one_session_within_5_minutes_fold():
    events = [{"event": name, "app_id": "a", "session_id": session, "timestamp": stamp(at)} for name, session, at in
              [("Tap", "s", 400), ("Tap", "s", 300), ("Tap", "s", 200), ("Tap", "s", 100),  # 400..100: 300 s
               ("Tap", "s", 99),  # 301 s after the newest of that run: a new run
               ("Tap", "t", 98),  # another session
               ("Open", "t", 97)]]
    runs = shapes.fold_repeats(events)
    assert [(r["event"], len(r["events"])) for r in runs] == [("Tap", 4), ("Tap", 1), ("Tap", 1), ("Open", 1)]
    assert [shapes.run_label(r) for r in runs] == ["4× within 5 min", "", "", ""]


def test_only_https_icons_are_shown():
    assert shapes.https_icon("https://cdn.example/icon.png") == "https://cdn.example/icon.png"
    for url in ("http://x.example/i.png", "javascript:alert(1)", "data:image/png;base64,AA", "/icon.png",
                "https://", None, 42):
        assert shapes.https_icon(url) is None


def test_app_and_event_labels_keep_the_real_name_visible():
    assert shapes.app_label("habit", {"habit": "Habit Tracker"}) == "Habit Tracker (habit)"
    assert shapes.app_label("habit", {"habit": None}) == "habit"
    assert shapes.event_label("screen_view", {"screen_view": "Screen viewed"}) == "Screen viewed (screen_view)"
    assert shapes.event_label("tap", {}) == "tap"


def test_groups_frame_lists_every_name_under_its_group_with_shares_of_the_apps_events():
    groups = [{"group": "onboarding", "events": 5,
               "events_by_name": [{"event": "signup", "events": 3}, {"event": "welcome", "events": 2}]},
              {"group": None, "events": 5, "events_by_name": [{"event": "tap", "events": 5}]}]
    events = [{"event": "tap", "count": 5}, {"event": "signup", "count": 3}, {"event": "welcome", "count": 2}]
    frame = shapes.groups_frame(groups, events, {"signup": "Signed up"})
    assert list(zip(frame["group"], frame["event"], frame["count"], frame["share"])) == [
        ("onboarding", "Signed up (signup)", 3, 30.0), ("onboarding", "welcome", 2, 20.0),
        ("(no group)", "tap", 5, 50.0)]


def test_groups_frame_without_groups_puts_every_name_under_no_group():
    frame = shapes.groups_frame([], [{"event": "tap", "count": 1}])
    assert list(frame["group"]) == ["(no group)"]


def test_groups_past_the_cap_are_not_mistaken_for_events_without_a_group():
    groups = [{"group": None, "other": True, "events": 2, "events_by_name": [{"event": "x", "events": 2}]},
              {"group": None, "events": 1, "events_by_name": [{"event": "y", "events": 1}]}]
    frame = shapes.groups_frame(groups, [{"event": "x", "count": 2}, {"event": "y", "count": 1}])
    assert list(zip(frame["group"], frame["event"])) == [("Other groups", "x"), ("(no group)", "y")]


def test_funnel_nobody_entered_keeps_conversions_empty():
    frame = shapes.funnel_frame([{"event": "A", "count": 0, "conversion_from_first": None,
                                  "conversion_from_previous": None, "median_s_from_previous": None}])
    assert frame["from_first"].isna().all()


def test_icon_and_name_columns_go_when_no_app_has_one():
    import pandas as pd
    frame = pd.DataFrame([{"icon": None, "app_id": "a", "display_name": "A"}])
    assert list(shapes.without_empty(frame).columns) == ["app_id", "display_name"]
