"""Issue 8's dashboard (AppTest against the real local worker): active users, the previous period, breakdowns,
sessions, funnels, retention, app and user pages, aliases and admin mode.

One crafted app (`deep`), hand-counted (days are UTC days before today, D = today 00:00 UTC):

    session  user  day      events (minute:second after the hour)              platform  version
    a1       u1    D-10 12h  Open 00:00, Signup 01:00 (group onboarding),       ios       1.0
                             Purchase 05:00 {plan: pro}
    b1       u2    D-10 13h  Open 00:00, Purchase 02:00 {plan: basic},          android   1.1
                             Signup 03:00 (group onboarding)  <- out of order
    c1       u3    D-9  09h  Open                                               web       -
    d1       u4    D-9  10h  Open                                               -         -
    d2       u4    D-7  10h  Signup 00:00 (group onboarding), Purchase 30:00    -         -
             {plan: pro}     <- 48 h after Open: outside a 1-day window, inside 7 days
    a2       u1    D-3  10h  Open 00:00, Open 01:00, Open 02:00                 ios       1.0

13 events, 6 sessions, 4 users. Funnel Open -> Signup -> Purchase by user: within 1 day 4, 2, 1 (u2's Purchase
came before its Signup; u4's Signup is 2 days late); within 7 days 4, 3, 2.
"""
import json
import threading
from datetime import date, timedelta
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from conftest import KEYS, Api, event
from test_dashboard import HOUR, go_to, iso, link_params, open_dashboard, screen_of, select_row, sent, shown_text
from dashboard import periods
from dashboard.text import literal
from scripts.devserver import Worker

# User pages are all-time over every app, and other tests send "u1" too: this module's users are its own.
RUN = uuid.uuid4().hex[:8]


def uid(name):
    return f"{name}-{RUN}"

DAY = 24 * HOUR


def at_day(days_ago, hour, minute=0, second=0):
    midnight = time.time() // DAY * DAY
    return iso(midnight - days_ago * DAY + hour * HOUR + minute * 60 + second)


def deep_events(app_id):
    ios = {"platform": "ios", "app_version": "1.0"}
    android = {"platform": "android", "app_version": "1.1"}
    onboarding = {"properties": {"group": "onboarding"}}
    rows = [
        ("Open", "a1", uid("u1"), at_day(10, 12), ios),
        ("Signup", "a1", uid("u1"), at_day(10, 12, 1), {**ios, **onboarding}),
        ("Purchase", "a1", uid("u1"), at_day(10, 12, 5), {**ios, "properties": {"plan": "pro"}}),
        ("Open", "b1", uid("u2"), at_day(10, 13), android),
        ("Purchase", "b1", uid("u2"), at_day(10, 13, 2), {**android, "properties": {"plan": "basic"}}),
        ("Signup", "b1", uid("u2"), at_day(10, 13, 3), {**android, **onboarding}),
        ("Open", "c1", uid("u3"), at_day(9, 9), {"platform": "web"}),
        ("Open", "d1", uid("u4"), at_day(9, 10), {}),
        ("Signup", "d2", uid("u4"), at_day(7, 10), onboarding),
        ("Purchase", "d2", uid("u4"), at_day(7, 10, 30), {"properties": {"plan": "pro"}}),
        ("Open", "a2", uid("u1"), at_day(3, 10), ios),
        ("Open", "a2", uid("u1"), at_day(3, 10, 1), ios),
        ("Open", "a2", uid("u1"), at_day(3, 10, 2), ios),
    ]
    return [event(app_id, name, session, user_id=user, timestamp=ts, **fields)
            for name, session, user, ts, fields in rows]


@pytest.fixture(scope="module")
def deep(api):
    app_id = f"deep-{int(time.time() * 1000) % 10**9}"
    assert api.track({"events": deep_events(app_id)}).json()["count"] == 13
    api.fold_all()
    return app_id


def click_with_rows(at, button_key, rows):
    """Click a button while rows stay selected: AppTest does not keep a dataframe's selection across runs (it
    does not know the widget), so send it again with the click, as the browser does."""
    at.button(key=button_key).click()
    states = at._tree.get_widget_states()
    for table, row in rows.items():
        state = states.widgets.add()
        state.id = at.dataframe[table].proto.id
        state.string_value = json.dumps({"selection": {"rows": [row], "columns": [], "cells": []}})
    at._run(states)
    assert not at.exception
    return at


def read(api, path, app_id, **params):
    return api.read(path, app_id=app_id, **sent("Last 30 days"), **params)


def metrics(at):
    return {m.label: m.value for m in at.metric}


# Overview


def test_overview_draws_the_previous_period_with_its_total(monkeypatch, worker, api, deep):
    assert api.track(event(deep, "Open", "old", user_id=uid("u9"), timestamp=at_day(40, 12))).status_code == 200
    api.fold_all()
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], app=deep)
    previous = api.read("/stats/timeline", app_id=deep, interval="day", **{**sent("Last 30 days"), **{
        "from": at_day(59, 0)[:10], "to": at_day(30, 0)[:10]}})["buckets"]
    assert sum(b["events"] for b in previous) == 1
    assert "previous period: 1 event (dotted)" in shown_text(at)
    layers = at.get("arrow_vega_lite_chart")[0].proto.spec
    assert '"Previous period"' in layers and "[2, 3]" in layers.replace(",", ", ").replace(",  ", ", ")


def test_overview_shows_active_users_and_a_year_calendar(monkeypatch, worker, api, deep):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], app=deep)
    active = read(api, "/stats/active", deep, interval="day")
    shown = metrics(at)
    assert (shown["Daily active users"], shown["Weekly active users"], shown["Monthly active users"]) == (
        str(active["dau"]), str(active["wau"]), str(active["mau"]))
    # Today nobody; in the last 7 days u1 (D-3); in the last 30 days all four (u9 is 40 days back).
    assert (active["dau"], active["wau"], active["mau"]) == (0, 1, 4)
    days = {b["date"]: (b["active"], b["new"]) for b in active["buckets"] if b["active"]}
    assert days == {at_day(10, 0)[:10]: (2, 2), at_day(9, 0)[:10]: (2, 2), at_day(7, 0)[:10]: (1, 0),
                    at_day(3, 0)[:10]: (1, 0)}
    assert "Daily active users, last 365 days" in [s.value for s in at.subheader]
    year = api.read("/stats/active", app_id=deep, interval="day", **periods.year_params(periods.today_in("UTC")))
    assert len(year["buckets"]) == 365
    # The calendar reads /stats/calendar: the same days and figures, days without users left out.
    calendar_days = api.read("/stats/calendar", app_id=deep, **periods.year_params(periods.today_in("UTC")))["days"]
    assert [(d["date"], d["active"], d["new"]) for d in calendar_days] == [
        (b["date"], b["active"], b["new"]) for b in year["buckets"] if b["active"]] != []
    assert f"{sum(b['active'] > 0 for b in year['buckets'])} days with active users" in shown_text(at)
    calendar = json.loads(at.get("arrow_vega_lite_chart")[-1].proto.spec)
    assert calendar["encoding"]["y"]["sort"][0] == "Sun" and calendar["mark"]["type"] == "rect"


# Breakdowns


def open_breakdown(monkeypatch, worker, app_id, by, key=KEYS["AUTH_KEY"]):
    at = open_dashboard(monkeypatch, worker.url, key, screen="Breakdowns", app=app_id)
    at.selectbox(key="breakdown_by").set_value(by).run()
    assert not at.exception
    return at


def test_breakdown_by_platform_matches_the_api_and_what_was_sent(monkeypatch, worker, api, deep):
    at = open_breakdown(monkeypatch, worker, deep, "Platform")
    table = at.dataframe[0].value
    rows = set(zip(table["value"], table["events"], table["sessions"], table["users"]))
    # Sent as "ios" and "android", stored as the SDKs spell them (issue 17).
    assert rows == {("iOS", 6, 2, 1), ("Android", 3, 1, 1), ("web", 1, 1, 1), ("(none)", 3, 2, 1)}
    body = read(api, "/stats/breakdown", deep, by="platform")
    assert rows == {(v["value"] or "(none)", v["events"], v["sessions"], v["users"]) for v in body["values"]}
    assert [round(s, 1) for s in table["share"]] == [round(v["share"] * 100, 1) for v in body["values"]]
    select_row(at, 0, 0)
    assert "cannot filter other screens" in at.info[0].value and "not by platform" in at.info[0].value


def test_breakdown_by_event_filters_the_events_screen(monkeypatch, worker, api, deep):
    at = open_breakdown(monkeypatch, worker, deep, "Event")
    table = at.dataframe[0].value
    assert list(zip(table["value"], table["events"])) == [("Open", 7), ("Purchase", 3), ("Signup", 3)]
    select_row(at, 0, 1)
    click_with_rows(at, "breakdown_show_events", {0: 1})
    assert screen_of(at) == "Events"  # the Events page opened (AppTest follows it, as the URL would)
    assert at.selectbox(key="explorer_event").value == "Purchase"
    assert at.sidebar.selectbox(key="app").value == deep  # the sidebar's choices survive the switch
    assert list(at.dataframe[0].value["event"]) == ["Purchase"] * 3
    assert link_params(at)["event"] == ["Purchase"]  # the filtered screen is a link too
    linked = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], link={"screen": "Events", "app": deep,
                                                                             "event": "Purchase"})
    assert list(linked.dataframe[0].value["event"]) == ["Purchase"] * 3


def test_each_screen_is_a_page_and_an_old_screen_link_still_opens_its_screen(monkeypatch, worker, deep):
    # An old link (?screen=Funnels): the Funnels page, with the link's app and range; the query keeps those only.
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"],
                        link={"screen": "funnels", "app": deep, "range": "Last 7 days"})
    assert (at.title[0].value, at.sidebar.selectbox(key="app").value, at.sidebar.selectbox(key="range").value) == (
        "Funnels", deep, "Last 7 days")
    assert link_params(at) == {"app": [deep], "range": ["Last 7 days"]}
    # The sidebar: a link per screen (its own URL path), and the link to this view, as literal text.
    assert [link.proto.page for link in at.sidebar.get("page_link")] == [
        "", "breakdowns", "sessions", "funnels", "retention", "apps", "events", "users"]  # "": the root
    assert [c.value for c in at.sidebar.code] == [f"/funnels?app={deep}&range=Last+7+days"]
    # Another page keeps the sidebar's choices; the Overview's link is the root.
    go_to(at, "Sessions").run()
    assert (at.title[0].value, at.sidebar.selectbox(key="app").value) == ("Sessions", deep)
    assert [c.value for c in at.sidebar.code] == [f"/sessions?app={deep}&range=Last+7+days"]
    go_to(at, "Overview").run()
    assert [c.value for c in at.sidebar.code] == [f"/?app={deep}&range=Last+7+days"]
    # An unknown screen in an old link: the page of the URL (the Overview).
    assert open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], link={"screen": "Nope"}).title[0].value == "Overview"


def test_breakdown_offers_property_keys_and_groups(monkeypatch, worker, api, deep):
    keys = {p["key"]: p["events"] for p in read(api, "/stats/properties", deep)["properties"]}
    assert keys == {"plan": 3}  # group is a field of its own, not a property key
    at = open_breakdown(monkeypatch, worker, deep, "Property: plan")
    table = at.dataframe[0].value
    assert ("pro", 2) in set(zip(table["value"], table["events"])) and ("basic", 1) in set(
        zip(table["value"], table["events"]))
    at.selectbox(key="breakdown_by").set_value("Group").run()
    groups = set(zip(at.dataframe[0].value["value"], at.dataframe[0].value["events"]))
    assert groups == {("onboarding", 3), ("(none)", 10)}


def test_breakdown_users_are_marked_estimated_only_where_the_worker_says_so(monkeypatch, worker, api, deep):
    """Whole UTC days: exact users, plain column, no notice. In Berlin the worker counts users over whole UTC
    days and declares them: the column says so (each value "≈ n"), and no page-wide notice repeats it."""
    at = open_breakdown(monkeypatch, worker, deep, "Platform")
    assert "approximate_figures" not in read(api, "/stats/breakdown", deep, by="platform")
    assert "Estimated, not exact" not in shown_text(at)
    assert at.dataframe[0].proto.columns and '"Users"' in at.dataframe[0].proto.columns
    monkeypatch.setenv("ODDLYTICS_TIMEZONE", "Europe/Berlin")
    at = open_breakdown(monkeypatch, worker, deep, "Platform")
    berlin = api.read("/stats/breakdown", app_id=deep, by="platform", **sent("Last 30 days", "Europe/Berlin"))
    assert berlin["approximate_figures"] == ["users"] and not berlin.get("users_sampled")
    columns = json.loads(at.dataframe[0].proto.columns)
    assert columns["users"]["label"] == "Users (estimated)" and columns["users"]["type_config"]["format"] == "≈ %d"
    assert "whole UTC days" in columns["users"]["help"]
    assert "Estimated, not exact" not in shown_text(at)
    # A screen whose estimate is not marked in place keeps the notice (Sessions: the median duration).
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Sessions", app=deep)
    assert "Estimated, not exact: " in shown_text(at)


def test_breakdown_invites_a_selection_only_where_a_row_can_filter(monkeypatch, worker, deep):
    at = open_breakdown(monkeypatch, worker, deep, "Platform")
    assert "Select a row" not in shown_text(at)
    at.selectbox(key="breakdown_by").set_value("Event").run()
    assert "Select a row (the box at its left) to show that event's events" in shown_text(at)


# Sessions, funnels, retention


def test_sessions_panel_matches_the_api(monkeypatch, worker, api, deep):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Sessions", app=deep)
    body = read(api, "/stats/sessions", deep)
    assert (body["sessions"], body["events"], body["one_event_sessions"]) == (6, 13, 2)
    shown = metrics(at)
    assert shown["Sessions"] == "6" and shown["Events / session"] == "2.2" and shown["One-event sessions"] == "33.3%"
    assert shown["Median duration"] == shapes_duration(body["median_duration_s"])
    assert shown["90th percentile"] == shapes_duration(body["p90_duration_s"])
    # Durations above 10 s come from length buckets: the worker declares the median (120 s) an estimate.
    assert "median_duration_s" in body["approximate_figures"]
    assert "Estimated, not exact: " in shown_text(at) and "median duration" in shown_text(at)
    bars = at.get("arrow_vega_lite_chart")[0].proto
    assert sum(b["sessions"] for b in body["histogram"]) == 6 and "Session duration" in bars.spec


def shapes_duration(seconds):
    from dashboard.shapes import duration_text
    return duration_text(seconds)


def build_funnel(at, steps, within="1 day", by="User"):
    at.multiselect(key="funnel_steps").set_value(steps).run()
    at.selectbox(key="funnel_within").set_value(within).run()
    at.radio(key="funnel_by").set_value(by).run()
    assert not at.exception
    return at.dataframe[0].value


@pytest.mark.parametrize("within, by, counts", [("1 day", "User", [4, 2, 1]), ("7 days", "User", [4, 3, 2]),
                                                ("1 day", "Session", [5, 2, 1])])
def test_funnel_counts_match_the_api_and_the_hand_count(monkeypatch, worker, api, deep, within, by, counts):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Funnels", app=deep)
    assert "Pick at least 2 steps." in at.info[0].value
    table = build_funnel(at, ["Open", "Signup", "Purchase"], within, by)
    assert list(table["step"]) == ["1. Open", "2. Signup", "3. Purchase"]
    assert list(table["count"]) == counts
    params = [("step", s) for s in ("Open", "Signup", "Purchase")] + [
        ("within", {"1 day": "1d", "7 days": "7d"}[within]), ("by", by.lower()), ("app_id", deep),
        *sent("Last 30 days").items()]
    body = api.get("/stats/funnel", params=params).json()
    assert [s["count"] for s in body["steps"]] == counts
    assert [round(v, 1) for v in table["from_first"]] == [round(s["conversion_from_first"] * 100, 1)
                                                          for s in body["steps"]]


def test_funnel_window_from_the_first_step_or_the_step_before(monkeypatch, worker, api, app_id):
    """The issue's example: A, B 20 h later, C 40 h later, within 1 day. The screen says which rule it counts
    by and shows the API's figures for each."""
    sent_events = [event(app_id, name, "s1", user_id=uid("walker"), timestamp=at_day(3, 10) if name == "A" else
                         (at_day(2, 6) if name == "B" else at_day(1, 2))) for name in "ABC"]
    assert api.track({"events": sent_events}).json()["count"] == 3
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Funnels", app=app_id)
    assert at.radio(key="funnel_window").value == "the first step"
    assert list(build_funnel(at, ["A", "B", "C"])["count"]) == [1, 1, 0]
    assert "every step within 1 day of the first step" in shown_text(at)
    at.radio(key="funnel_window").set_value("the step before").run()
    assert list(at.dataframe[0].value["count"]) == [1, 1, 1]
    assert "every step within 1 day of the step before" in shown_text(at)
    params = [("step", s) for s in "ABC"] + [("app_id", app_id), *sent("Last 30 days").items()]
    assert [s["count"] for s in api.get("/stats/funnel", params=params).json()["steps"]] == [1, 1, 0]
    assert [s["count"] for s in api.get("/stats/funnel", params=params + [("window", "previous")]).json()[
        "steps"]] == [1, 1, 1]


def test_retention_grid_matches_the_api(monkeypatch, worker, api, deep):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Retention", app=deep)
    at.radio(key="retention_cohort").set_value("Day").run()
    body = read(api, "/stats/retention", deep, cohort="day", periods="14")
    sizes = {c["start"]: c["size"] for c in body["cohorts"] if c["size"]}
    assert sizes == {at_day(10, 0)[:10]: 2, at_day(9, 0)[:10]: 2}
    spec = at.get("arrow_vega_lite_chart")[0].proto.spec
    assert "Cohort size" in spec
    assert f"{sum(c['size'] for c in body['cohorts'])} users first seen in this range" in shown_text(at)


@pytest.fixture(scope="module")
def newcomers(api):
    """5 users first seen in the last two UTC days: 2 yesterday (one back today), 3 today."""
    app_id = f"new-{int(time.time() * 1000) % 10**9}"
    now = time.time()
    today = now - now % DAY
    earlier_today = today + (now - today) / 2  # before now, and today whatever the hour
    sent_events = [event(app_id, "Open", f"y{i}", user_id=uid(f"y{i}"), timestamp=iso(today - DAY + 3600 * (i + 1)))
                   for i in range(2)]
    sent_events += [event(app_id, "Open", f"t{i}", user_id=uid(f"t{i}"), timestamp=iso(earlier_today - i))
                    for i in range(3)]
    sent_events.append(event(app_id, "Open", "y0b", user_id=uid("y0"), timestamp=iso(earlier_today - 10)))
    assert api.track({"events": sent_events}).json()["count"] == 6
    api.fold_all()
    return app_id


def test_retention_shows_running_cohorts_with_their_size(monkeypatch, worker, api, newcomers):
    """Last 7 days: day cohorts by default; today's cohort (3 users) shows although no day of it is over, and
    each row says its size. Week cohorts (running ones included) show their users too, not "No users"."""
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Retention", app=newcomers,
                        range_choice="Last 7 days")
    assert at.radio(key="retention_cohort").value == "Day"
    body = api.read("/stats/retention", app_id=newcomers, cohort="day", periods="14", **sent("Last 7 days"))
    sizes = {c["start"]: c["size"] for c in body["cohorts"] if c["size"]}
    yesterday, today = at_day(1, 0)[:10], at_day(0, 0)[:10]
    assert sizes == {yesterday: 2, today: 3}
    assert "5 users first seen in this range, in 2 cohorts by day" in shown_text(at)
    data = chart_data(at.get("arrow_vega_lite_chart")[0])
    assert f"{yesterday} · 2 users" in data and f"{today} · 3 users" in data and "not over yet" in data
    assert not at.info  # not "No users with a user id in this range"
    at.radio(key="retention_cohort").set_value("Week").run()
    weeks = api.read("/stats/retention", app_id=newcomers, cohort="week", periods="8", week_start="sunday",
                     **sent("Last 7 days"))
    assert sum(c["size"] for c in weeks["cohorts"]) == 5
    # Weeks start on Sunday, as in the heatmap and the calendar.
    assert all(date.fromisoformat(c["start"]).weekday() == 6 for c in weeks["cohorts"])
    assert "weeks start on Sunday" in shown_text(at)
    # A week still running has no figure yet; on a Sunday yesterday's week is over and has its figure.
    for cohort in (c for c in weeks["cohorts"] if c["size"]):
        running = date.fromisoformat(cohort["start"]) + timedelta(days=7) > date.fromisoformat(today)
        assert (cohort["retained"][0] is None) == running, cohort
    assert not at.info and "5 users first seen in this range" in shown_text(at)
    data = chart_data(at.get("arrow_vega_lite_chart")[0])
    assert all(f"{c['start']} · {c['size']} users" in data for c in weeks["cohorts"] if c["size"])


def test_a_range_over_30_days_starts_with_week_cohorts(monkeypatch, worker, newcomers):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Retention", app=newcomers,
                        range_choice="Last 90 days")
    assert at.radio(key="retention_cohort").value == "Week"


def test_a_refused_setting_shows_the_workers_reason(monkeypatch, worker, api, app_id):
    assert api.track(event(app_id, "Open", "s1")).status_code == 200
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Apps", app=app_id)
    select_row(at, 0, 0)
    at.text_input(key=f"app_icon_{app_id}").input("http://cdn.example/icon.png")
    click_with_rows(at, f"app_settings_save_{app_id}", {0: 0})
    refused = api.request("PUT", "/settings/apps", params={"app_id": app_id},
                          json={"display_name": None, "icon_url": "http://cdn.example/icon.png"}).json()
    reason = next(d["message"] for d in refused["details"] if d["field"] == "icon_url")
    assert [e.value for e in at.error] == [f"The worker refused: {literal(refused['error'])} · "
                                           f"{literal('icon_url: ' + reason)}"]
    assert "https://" in reason


# Apps and users


def test_app_page_lists_every_event_name_by_group(monkeypatch, worker, api, deep):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Apps", app=deep)
    select_row(at, 0, 0)
    table = at.dataframe[1].value
    assert list(zip(table["group"], table["event"], table["count"])) == [
        ("onboarding", "Signup", 3), ("(no group)", "Open", 7), ("(no group)", "Purchase", 3)]
    groups = read(api, "/stats/groups", deep)["groups"]
    assert [(g["group"], g["events"]) for g in groups] == [("onboarding", 3), (None, 10)]


def test_user_page_folds_repeats_shows_properties_and_filters_by_app(monkeypatch, worker, api, deep):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Users", app=deep)
    listed = [u["user_id"] for u in read(api, "/users", deep)["users"]]
    users_table = next(i for i, d in enumerate(at.dataframe) if "users_table" in d.proto.id)
    select_row(at, users_table, listed.index(uid("u1")))
    assert [c.value for c in at.main.code] == [uid("u1")]
    detail = api.read("/user", user_id=uid("u1"))
    assert (detail["events"], detail["sessions"], detail["platforms"], detail["app_versions"]) == (
        6, 2, ["iOS"], ["1.0"])
    shown = metrics(at)
    assert (shown["Events"], shown["Sessions"]) == ("6", "2")
    labels = [e.label for e in at.expander]
    assert any(f"{literal('Open')} · 3× within 5 min" in label for label in labels)
    assert any(label.endswith(f"{literal('Purchase')} · app {literal(deep)}") for label in labels)
    assert {"plan": "pro"} in [json.loads(j.proto.body) for j in at.json]  # the properties viewer
    apps = at.dataframe[1].value
    assert list(zip(apps["app_id"], apps["events"])) == [(deep, 6)]
    select_row(at, 1, 0)
    click_with_rows(at, "user_filter_app", {1: 0})
    assert at.selectbox(key="app").value == deep


def in_page_order(node):
    """Element kinds top to bottom (depth first), a dataframe named by its key's stem: "Dataframe:users_table"."""
    found = []
    for child in getattr(node, "children", {}).values():
        kind = type(child).__name__
        if kind == "Dataframe":
            key = str(child.proto.id).split("-")[-1] if "-" in str(child.proto.id) else ""
            found.append(f"Dataframe:{key.rsplit('_', 1)[0]}" if key else kind)
        elif kind not in ("Block", "Column", "Expander", "SpecialBlock", "Tab"):
            found.append(kind)
        found += in_page_order(child)
    return found


def test_a_link_opens_a_user_page(monkeypatch, worker, api, deep):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"],
                        link={"screen": "Users", "app": deep, "user": uid("u4")})
    assert [c.value for c in at.main.code] == [uid("u4")] and metrics(at)["Events"] == "3"
    assert link_params(at)["user"] == [uid("u4")]
    # The page opens at the top, above the users table (which follows it, last).
    order = in_page_order(at.main)
    assert order.index("Code") < order.index("Dataframe:users_table")
    # Picking another row shows that user instead (below the list, as a pick does), not both pages.
    listed = [u["user_id"] for u in read(api, "/users", deep)["users"]]
    users_table = next(i for i, d in enumerate(at.dataframe) if "users_table" in d.proto.id)
    select_row(at, users_table, listed.index(uid("u1")))
    assert [c.value for c in at.main.code] == [uid("u1")]
    assert in_page_order(at.main).index("Dataframe:users_table") < in_page_order(at.main).index("Code")
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"],
                        link={"screen": "Users", "app": deep, "user": uid("u4")})
    at.button(key="users_close_linked").click().run()
    assert not at.main.code and "Select a row above" in at.info[0].value


# Admin mode


def admin_buttons(at):
    return [b.key for b in at.button if b.key and ("delete" in b.key)]


def test_read_key_shows_no_admin_controls(monkeypatch, worker, deep):
    at = open_dashboard(monkeypatch, worker.url, KEYS["READ_KEY"], screen="Users", app=deep)
    select_row(at, 0, 0)
    assert admin_buttons(at) == [] and "Admin" not in [s.value for s in at.subheader]
    at = open_dashboard(monkeypatch, worker.url, KEYS["READ_KEY"], screen="Apps", app=deep)
    select_row(at, 0, 0)
    assert admin_buttons(at) == [] and not at.tabs
    at = open_dashboard(monkeypatch, worker.url, KEYS["READ_KEY"], screen="Events", app=deep)
    assert "Admin:" not in shown_text(at)


def test_admin_deletes_a_users_data_in_one_app_after_saying_exactly_what(monkeypatch, worker, api, app_id):
    other = f"{app_id}-other"
    sent_events = [event(app_id, "Open", "s1", user_id=uid("victim"), timestamp=at_day(2, 9, m)) for m in range(3)]
    assert api.track({"events": sent_events + [event(other, "Open", "s9", user_id=uid("victim"))]}).status_code == 200
    api.fold_all()
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Users", app=app_id)
    select_row(at, 0, 0)
    row = [a["app_id"] for a in api.read("/user", user_id=uid("victim"))["apps"]].index(app_id)
    select_row(at, 1, row)
    click_with_rows(at, f"delete_user_{uid('victim')}_{app_id}_ask", {1: row})
    assert at.warning[0].value.startswith(f"**This deletes 3 events of user {literal(uid('victim'))} in app "
                                          f"{literal(app_id)}**")
    click_with_rows(at, f"delete_user_{uid('victim')}_{app_id}_yes", {1: row})
    assert "Deleted 3 events." in [s.value for s in at.success]
    assert api.read("/events", app_id=app_id)["events"] == []
    assert len(api.read("/events", app_id=other)["events"]) == 1


def test_admin_cancel_deletes_nothing(monkeypatch, worker, api, app_id):
    assert api.track(event(app_id, "Open", "s1", user_id=uid("keep"))).status_code == 200
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Apps", app=app_id)
    select_row(at, 0, 0)
    click_with_rows(at, f"delete_app_{app_id}_ask", {0: 0})
    assert f"**This deletes app {literal(app_id)}: all 1 event it ever sent" in at.warning[0].value
    click_with_rows(at, f"delete_app_{app_id}_no", {0: 0})
    assert not at.warning and len(api.read("/events", app_id=app_id)["events"]) == 1


def test_admin_deletes_one_event(monkeypatch, worker, api, app_id):
    assert api.track({"events": [event(app_id, "Keep", "s1", timestamp=at_day(1, 9)),
                                 event(app_id, "Mistake", "s1", timestamp=at_day(1, 10))]}).status_code == 200
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Events", app=app_id)
    select_row(at, 0, 0)  # newest first: Mistake
    doomed = api.read("/events", app_id=app_id)["events"][0]
    click_with_rows(at, f"delete_event_{doomed['id']}_ask", {0: 0})
    assert f"**This deletes 1 event: {literal('Mistake')}" in at.warning[0].value
    # Its time as the table shows it, in the viewer's zone (UTC under AppTest), named.
    when = periods.parse_time(doomed["timestamp"], "UTC")
    assert f"of {when.day} {when:%b %Y, %H:%M:%S} (UTC)" in at.warning[0].value
    click_with_rows(at, f"delete_event_{doomed['id']}_yes", {0: 0})
    assert [e["event"] for e in api.read("/events", app_id=app_id)["events"]] == ["Keep"]


def test_deleting_an_app_says_afterwards_what_went(monkeypatch, worker, api, app_id):
    assert api.track({"events": [event(app_id, "Open", f"s{i}") for i in range(2)]}).json()["count"] == 2
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Apps", app=app_id)
    select_row(at, 0, 0)
    click_with_rows(at, f"delete_app_{app_id}_ask", {0: 0})
    click_with_rows(at, f"delete_app_{app_id}_yes", {0: 0})
    assert api.read("/events", app_id=app_id)["events"] == []
    assert [s.value for s in at.success] == [f"Deleted app {literal(app_id)}: 2 events. Its display name, icon "
                                             "and aliases stay."]


def test_empty_cells_read_as_a_dash(monkeypatch, worker, api, app_id):
    """No display name, no platform or user: "—", not a grey "None"."""
    assert api.track(event(app_id, "Open", "s1")).status_code == 200
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Events", app=app_id)
    row = at.dataframe[0].value.iloc[0]
    assert (row["user_id"], row["platform"], row["app_version"], row["country"]) == ("—",) * 4
    from dashboard import shapes
    import pandas as pd
    frame = shapes.with_dashes(pd.DataFrame({"display_name": ["Habits", None]}), ("display_name",))
    assert list(frame["display_name"]) == ["Habits", "—"]


def test_admin_sets_a_display_name_icon_and_alias_shown_everywhere(monkeypatch, worker, api, app_id):
    assert api.track(event(app_id, "scr_v", "s1")).status_code == 200
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Apps", app=app_id)
    select_row(at, 0, 0)
    at.text_input(key=f"app_name_{app_id}").input("[Habits](https://evil.example)")
    at.text_input(key=f"app_icon_{app_id}").input("https://cdn.example/icon.png")
    click_with_rows(at, f"app_settings_save_{app_id}", {0: 0})
    assert not at.exception
    settings = {a["app_id"]: a for a in api.read("/settings/apps")["apps"]}[app_id]
    assert (settings["display_name"], settings["icon_url"]) == ("[Habits](https://evil.example)",
                                                                "https://cdn.example/icon.png")
    assert at.selectbox(key="app").format_func(app_id) == f"[Habits](https://evil.example) ({app_id})"
    assert f"{literal('[Habits](https://evil.example)')} ({literal(app_id)})" in at.caption[0].value
    at.text_input(key=f"alias_text_{app_id}").input("Screen viewed")
    click_with_rows(at, f"alias_save_{app_id}", {0: 0})
    assert {(a["event_name"], a["alias"]) for a in api.read("/settings/aliases", app_id=app_id)["aliases"]} == {
        ("scr_v", "Screen viewed")}
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], app=app_id)
    assert list(at.dataframe[0].value["event"]) == ["Screen viewed (scr_v)"]
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Events", app=app_id)
    assert at.selectbox(key="explorer_event").options == ["Any event", "Screen viewed (scr_v)"]
    # Aliases everywhere (issue 19): the Events table shows the alias with the real name; the CSV keeps the name.
    assert list(at.dataframe[0].value["event"]) == ["Screen viewed (scr_v)"]
    from dashboard import exports
    assert exports.events_csv(api.read("/events", app_id=app_id)["events"]).splitlines()[1].split(",")[1] == "scr_v"


def chart_data(chart):
    """A chart's spec and its datasets' bytes, as text (Streamlit moves an Altair chart's data out of the spec)."""
    proto = chart.proto
    return proto.spec + "".join(d.data.data.decode("utf-8", "replace") for d in proto.datasets) + (
        proto.data.data.decode("utf-8", "replace") if proto.HasField("data") else "")


def test_aliases_show_on_the_funnel_and_the_user_page(monkeypatch, worker, api, app_id):
    user = uid("aliased")
    assert api.track({"events": [event(app_id, "paywall_shown", "s1", user_id=user, timestamp=at_day(1, 9)),
                                 event(app_id, "buy", "s1", user_id=user, timestamp=at_day(1, 9, 5))]}).status_code == 200
    assert api.request("PUT", "/settings/aliases", params={"app_id": app_id, "event_name": "paywall_shown"},
                   json={"alias": "Paywall Shown"}).status_code == 200
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Funnels", app=app_id)
    table = build_funnel(at, ["paywall_shown", "buy"])
    assert list(table["step"]) == ["1. Paywall Shown (paywall_shown)", "2. buy"]
    assert "1. Paywall Shown (paywall_shown)" in chart_data(at.get("arrow_vega_lite_chart")[0])
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], link={"screen": "Users", "app": app_id, "user": user})
    labels = [e.label for e in at.expander]
    assert any(literal("Paywall Shown (paywall_shown)") in label for label in labels)
    assert not any(literal("paywall_shown") in label for label in labels)
    events = next(d.value for d in at.dataframe if "event" in d.value.columns)
    assert "Paywall Shown (paywall_shown)" in list(events["event"])


# A worker older than this dashboard


@pytest.fixture
def old_worker(worker):
    """The worker as it was before issue 8: the new routes answer the router's 404."""
    new_routes = ("/stats/breakdown", "/stats/properties", "/stats/groups", "/stats/sessions", "/stats/active",
                  "/stats/funnel", "/stats/retention", "/users/", "/settings/")

    class OldWorker(BaseHTTPRequestHandler):
        def answer(self):
            path = self.path.split("?")[0]
            if path.startswith(new_routes) or path == "/user":
                status, body = 404, b'{"success": false, "error": "no route for ' + path.encode() + b'", "details": []}'
            else:
                upstream = requests.request(self.command, worker.url + self.path, timeout=30,
                                            headers={"X-API-KEY": self.headers["X-API-KEY"]})
                status, body = upstream.status_code, upstream.content
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_DELETE = answer

        def log_message(self, *args):
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), OldWorker)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{proxy.server_port}"
    proxy.shutdown()
    proxy.server_close()


@pytest.mark.parametrize("screen, route", [("Breakdowns", "/stats/properties"), ("Sessions", "/stats/sessions"),
                                           ("Retention", "/stats/retention")])
def test_a_worker_without_the_new_routes_names_the_route_it_lacks(monkeypatch, old_worker, deep, screen, route):
    at = open_dashboard(monkeypatch, old_worker, KEYS["AUTH_KEY"], screen=screen, app=deep)
    assert at.info[0].value.startswith(f"This needs a newer worker: the one configured has no {literal(route)} route")
    assert not at.error


def test_an_old_worker_still_shows_the_overview_and_a_users_activity(monkeypatch, old_worker, deep):
    at = open_dashboard(monkeypatch, old_worker, KEYS["AUTH_KEY"], app=deep)
    assert metrics(at)["Events"] == "13" and "Daily active users" not in metrics(at)
    assert literal("/stats/active") in at.info[0].value
    at = open_dashboard(monkeypatch, old_worker, KEYS["AUTH_KEY"], screen="Funnels", app=deep)
    build = at.multiselect(key="funnel_steps").set_value(["Open", "Signup"]).run()
    assert literal("/stats/funnel") in build.info[0].value
    at = open_dashboard(monkeypatch, old_worker, KEYS["AUTH_KEY"], screen="Users", app=deep)
    select_row(at, 0, 0)
    assert literal("/user") in at.info[0].value and metrics(at)["Events"]


HOSTILE_EVENT = "[Pay now](https://evil.example/pay) :red[x]"
HOSTILE_VALUE = "![p](https://evil.example/pixel.png)"


def test_event_data_is_literal_on_the_new_screens(monkeypatch, worker, api, app_id):
    sent_events = [event(app_id, HOSTILE_EVENT, "s1", user_id=uid("h"), platform=HOSTILE_VALUE,
                         properties={"group": HOSTILE_VALUE, HOSTILE_VALUE: HOSTILE_VALUE},
                         timestamp=at_day(1, 9, m)) for m in range(2)]
    assert api.track({"events": sent_events}).status_code == 200
    api.fold_all()
    for screen, act in [("Breakdowns", lambda at: at.selectbox(key="breakdown_by").set_value("Platform").run()),
                        ("Apps", lambda at: select_row(at, 0, 0)),
                        ("Users", lambda at: select_row(at, 0, 0))]:
        at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen=screen, app=app_id)
        act(at)
        assert not at.exception
        shown = shown_text(at) + "\n".join(e.label for e in at.expander)
        for value in (HOSTILE_EVENT, HOSTILE_VALUE, app_id):
            shown = shown.replace(literal(value), "")
        assert "evil.example" not in shown and ":red[" not in shown, screen


# Issue 16 item 4: screens that read raw events say how far back the retention period lets them reach.
RAW_NOTE = "Raw events are kept since"


@pytest.fixture(scope="module")
def purged(tmp_path_factory):
    """A worker of its own whose retention (30 days) has deleted an event 40 days old (purges touch every app)."""
    with Worker(tmp_path_factory.mktemp("purged") / "d1", variables={**KEYS, "RETENTION_DAYS": "30"}) as server:
        api = Api(server.url)
        app_id = f"purged-{RUN}"
        ages = {"Open": [40, 2], "Buy": [40, 2]}
        sent = [event(app_id, name, f"s{age}", user_id=uid(f"p{age}"), timestamp=at_day(age, 10, minute))
                for minute, (name, days) in enumerate(ages.items()) for age in days]
        assert api.track({"events": sent}).json()["count"] == 4
        api.fold_all()
        cutoff = api.post("/admin/purge").json()["cutoff"]
        yield server, app_id, cutoff


def raw_notes(at):
    return [c.value for c in at.caption if RAW_NOTE in c.value]


@pytest.mark.parametrize("screen", ["Events", "Funnels", "Retention", "Users"])
def test_screens_reading_raw_events_say_how_far_back_after_a_purge(monkeypatch, purged, screen):
    server, app_id, cutoff = purged
    at = open_dashboard(monkeypatch, server.url, KEYS["AUTH_KEY"], screen=screen, app=app_id,
                        range_choice="Last 90 days")
    if screen == "Funnels":
        at.multiselect(key="funnel_steps").set_value(["Open", "Buy"]).run()
    if screen == "Users":
        select_row(at, 0, 0)
    since = periods.parse_time(cutoff, "UTC")
    assert raw_notes(at) == [f":material/history: {RAW_NOTE} {since:%d %b %Y, %H:%M} (UTC): this screen reaches back "
                             "that far (the retention period deletes older ones; totals elsewhere keep them)."]
    # A range that starts after the cutoff reaches no further back than the events kept: no note.
    at.selectbox(key="range").set_value("Last 7 days").run()
    if screen == "Users":
        select_row(at, 0, 0)
    assert not at.exception and raw_notes(at) == []


def test_no_raw_events_note_where_nothing_was_purged(monkeypatch, worker, deep):
    for screen in ("Events", "Retention"):
        at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen=screen, app=deep,
                            range_choice="Last 90 days")
        assert raw_notes(at) == [], screen
