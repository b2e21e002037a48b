"""The reference app of the Free-plan day (bench/reference.py): the workload the issue describes."""
from datetime import date

from bench.freeplan import day_starts
from bench.reference import (APP_ID, DAILY_USERS, FUNNEL_STEPS, GROUPS, MONTHLY_USERS, PLATFORMS, SCREENS,
                             VERSIONS, ReferenceApp, visit_paths)

START = 1_767_225_600  # 2026-01-01T00:00:00Z


def test_a_day_is_3000_sessions_of_1000_users_sent_one_request_each_in_time_order():
    requests = ReferenceApp().day(START)
    events = [e for request in requests for e in request]
    assert len(requests) == 3000 and 20_000 <= len(events) <= 22_000
    assert len({e["user_id"] for e in events}) == DAILY_USERS
    assert all(len({e["session_id"] for e in request}) == 1 for request in requests)
    firsts = [request[0]["timestamp"] for request in requests]
    assert firsts == sorted(firsts) and START <= firsts[0] and firsts[-1] < START + 86400
    assert {e["app_id"] for e in events} == {APP_ID}
    assert len({e["event"] for e in events}) == 8 and {e["event"] for e in events if "group" in e["properties"]} == set(GROUPS)
    assert {e["platform"] for e in events} == set(PLATFORMS) and {e["app_version"] for e in events} == set(VERSIONS)
    assert {e["properties"]["screen"] for e in events} == set(SCREENS)
    assert {tuple(sorted(e["properties"])) for e in events} <= {("plan", "screen", "variant"),
                                                                 ("group", "plan", "screen", "variant")}


def test_a_week_draws_its_daily_users_from_3000_monthly_ones_the_same_every_run():
    app, again = ReferenceApp(), ReferenceApp()
    week = [app.day(START + day * 86400) for day in range(7)]
    users = {e["user_id"] for day in week for request in day for e in request}
    assert DAILY_USERS < len(users) <= MONTHLY_USERS
    assert week[0][:3] == again.day(START)[:3]


def test_the_days_end_at_this_hour_so_a_purge_of_six_days_takes_exactly_the_first():
    starts = day_starts(START + 5 * 3600 + 1234)
    assert len(starts) == 7 and starts[-1] + 86400 == START + 5 * 3600
    assert starts[0] == START + 5 * 3600 - 7 * 86400


def test_a_visit_reads_what_the_dashboard_screens_read_with_their_defaults():
    paths = visit_paths(date(2026, 1, 31))
    routes = [path.split("?")[0] for path in paths]
    for route in ("/stats/overview", "/stats/active", "/stats/timeline", "/stats/events", "/stats/heatmap",
                  "/stats/properties", "/stats/breakdown", "/stats/sessions", "/stats/funnel", "/stats/retention",
                  "/users", "/events"):
        assert route in routes
    assert all(f"app_id={APP_ID}" in path for path in paths if not path.startswith("/apps"))
    funnel = next(path for path in paths if path.startswith("/stats/funnel"))
    assert [part.split("=")[1].replace("+", " ") for part in funnel.split("&") if part.startswith("step=")] == FUNNEL_STEPS
    assert "from=2026-01-02" in paths[0] and "to=2026-01-31" in paths[0]
