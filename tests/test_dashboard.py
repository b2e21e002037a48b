"""Every dashboard screen (AppTest) against the real local worker, plus the error states.

The figures on screen must equal what the API returns for the same app and range, and what was sent.
"""
import json
import threading
import time
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_md5

from conftest import KEYS, ROOT, Api, event
from dashboard import api as dashboard_api
from dashboard import periods
from dashboard.text import literal
from scripts.devserver import Worker, free_port

APP = str(ROOT / "dashboard" / "app.py")
HOUR = 3600


def sent(choice, tz="UTC"):
    """The range parameters the dashboard sends for a sidebar choice today, in zone `tz`."""
    return periods.range_params(choice, tz, periods.today_in(tz))


def iso(seconds):
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def known(api):
    """One app: 6 events in 3 sessions by 2 users in the last 30 days, 2 events in the 30 days before."""
    app_id = f"dash-{int(time.time() * 1000) % 10**9}"
    now = time.time()
    # Session s1 sits inside one UTC hour (the last whole one), whatever the minute the tests run at.
    last_hour = now - now % HOUR - HOUR + 60
    sent = [
        event(app_id, "App Opened", "s1", user_id="alice", timestamp=iso(last_hour)),
        event(app_id, "Screen Viewed", "s1", user_id="alice", timestamp=iso(last_hour + 60)),
        event(app_id, "Purchase", "s1", user_id="alice", timestamp=iso(last_hour + 120)),
        event(app_id, "App Opened", "s2", user_id="bob", timestamp=iso(now - 26 * HOUR)),
        event(app_id, "Screen Viewed", "s2", user_id="bob", timestamp=iso(now - 26 * HOUR + 60)),
        event(app_id, "App Opened", "s3", timestamp=iso(now - 50 * HOUR)),
        event(app_id, "App Opened", "s0", user_id="alice", timestamp=iso(now - 40 * 24 * HOUR)),
        event(app_id, "Screen Viewed", "s0", user_id="alice", timestamp=iso(now - 40 * 24 * HOUR + 60)),
    ]
    assert api.track({"events": sent}).json()["count"] == 8
    return app_id


def go_to(at, screen):
    """Open a screen's page, as its link in the sidebar does (AppTest has no URL: a page is its hash, the md5
    of its URL path; `switch_page` wants a page file, and the screens are callables)."""
    at._page_hash = calc_md5(screen.lower())
    return at


def screen_of(at):
    """The screen shown (its title), and AppTest follows it: a browser's URL follows a page the app switched to
    (an old ?screen= link, Breakdowns -> Events), while AppTest would run its previous page again."""
    screen = at.title[0].value
    go_to(at, screen)
    return screen


def link_params(at):
    """The query of the sidebar's link to this view (what the address bar holds), as AppTest's query_params."""
    return parse_qs(urlsplit(at.sidebar.code[0].value).query)


def open_dashboard(monkeypatch, url, key, screen=None, app=None, range_choice=None, link=None):
    monkeypatch.setenv("ODDLYTICS_API_URL", url)
    monkeypatch.setenv("ODDLYTICS_API_KEY", key)
    dashboard_api.clear_cache()  # reads are cached per process; each test starts from the worker's state
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(link or {})
    at.run()
    if at.title and "screen" in (link or {}):
        screen_of(at)
    if app:
        at.selectbox(key="app").set_value(app)
    if screen:
        go_to(at, screen)
    if range_choice:
        at.selectbox(key="range").set_value(range_choice)
    at.run()
    assert not at.exception
    return at


def select_row(at, table, row):
    """Click a row of a selectable st.dataframe: AppTest has no API for it, so send the widget state the
    browser sends."""
    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id = at.dataframe[table].proto.id
    state.string_value = json.dumps({"selection": {"rows": [row], "columns": [], "cells": []}})
    at._run(states)
    assert not at.exception
    return at


def assert_error_page_keeps_title_sidebar_and_retry(at):
    assert at.title[0].value == "Overview"
    assert [link.label for link in at.sidebar.get("page_link")][0] == "Overview"
    assert at.button(key="retry").proto.label == "Retry"


def block_children(at, key_part):
    """The elements inside containers whose key holds `key_part` (st.container(key=...): its block's id)."""
    found = []

    def walk(node, inside):
        proto = getattr(node, "proto", None)
        inside = inside or (type(node).__name__ == "Block" and key_part in getattr(proto, "id", ""))
        if inside:
            found.append(node)
        for child in getattr(node, "children", {}).values():
            walk(child, inside)

    walk(at._tree, False)
    return found


def shown_text(at):
    """Every string AppTest can see that Streamlit renders as Markdown or plain text (code blocks of the screen;
    the sidebar's link to the view holds the app id URL-encoded, in a code block too)."""
    parts = [e.value for kind in ("markdown", "caption", "error", "info", "warning", "title", "subheader")
             for e in getattr(at, kind)] + [e.value for e in at.main.code]
    parts += [e.label for e in at.expander] + [m.label for m in at.metric] + [m.value for m in at.metric]
    parts += [w.label for kind in ("selectbox", "text_input", "button", "date_input") for w in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def test_overview_kpis_match_api_and_sent(monkeypatch, worker, api, known):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], app=known)
    figures = api.read("/stats/overview", app_id=known, **sent("Last 30 days"))
    assert (figures["events"], figures["sessions"], figures["users"]) == (6, 3, 2)
    assert [(m.label, m.value) for m in at.metric][:4] == [
        ("Events", "6"), ("Sessions", "3"), ("Users", "2"), ("Events / session", "2.0")]
    # The previous 30 days hold 2 events in 1 session by 1 user.
    assert [m.delta for m in at.metric][:4] == ["+200.0%", "+200.0%", "+100.0%", "0.0%"]
    # No change is neutral: grey, and in a container whose arrow the page's style hides (not a green rise).
    from streamlit.proto.Metric_pb2 import Metric as MetricProto
    assert [m.proto.color for m in at.metric][:4] == [MetricProto.MetricColor.GREEN] * 3 + [
        MetricProto.MetricColor.GRAY]
    assert [m.label for m in block_children(at, "flat_delta_") if type(m).__name__ == "Metric"] == [
        "Events / session"]
    active = api.read("/stats/active", app_id=known, interval="day", **sent("Last 30 days"))
    assert [(m.label, m.value) for m in at.metric][4:] == [
        ("Daily active users", str(active["dau"])), ("Weekly active users", str(active["wau"])),
        ("Monthly active users", str(active["mau"]))]
    assert active["mau"] == 2  # alice and bob; s3 has no user id


def test_overview_top_events_heatmap_and_peak_match_api(monkeypatch, worker, api, known):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], app=known)
    top = at.dataframe[0].value
    assert list(zip(top["event"], top["count"], top["sessions"])) == [
        ("App Opened", 3, 3), ("Screen Viewed", 2, 2), ("Purchase", 1, 1)]
    assert [(e["event"], e["count"]) for e in api.read("/stats/events", app_id=known)["events"]] == [
        ("App Opened", 3), ("Screen Viewed", 2), ("Purchase", 1)]
    cells = api.read("/stats/heatmap", app_id=known, **sent("Last 30 days"))["cells"]
    busiest = max(cells, key=lambda c: c["events"])
    assert f"busiest: {busiest['weekday']} {busiest['hour']:02d}:00 with {busiest['events']} events" in shown_text(at)
    buckets = api.read("/stats/timeline", app_id=known, interval="day", **sent("Last 30 days"))["buckets"]
    peak = max(buckets, key=lambda b: b["events"])
    # Whole days: 30 buckets, today the last, so the first is not a partial day.
    assert (len(buckets), buckets[-1]["date"]) == (30, sent("Last 30 days")["to"])
    assert f"Per day · peak {peak['events']} events" in shown_text(at)


def test_overview_last_24_hours_uses_hour_buckets(monkeypatch, worker, api, known):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], app=known, range_choice="Last 24 hours")
    figures = api.read("/stats/overview", app_id=known, **sent("Last 24 hours"))
    assert [m.value for m in at.metric][:4] == [str(figures["events"]), "1", "1", "3.0"] == ["3", "1", "1", "3.0"]
    assert "Per hour · peak 3 events" in shown_text(at)


@pytest.mark.parametrize("tz", ["Asia/Kathmandu", "America/Los_Angeles"])
def test_configured_zone_is_sent_and_shown(monkeypatch, worker, api, known, tz):
    monkeypatch.setenv("ODDLYTICS_TIMEZONE", tz)
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], app=known, range_choice="Last 7 days")
    params = sent("Last 7 days", tz)
    assert f"{params['from']} → {params['to']} · {tz}" in shown_text(at)
    figures = api.read("/stats/overview", app_id=known, **params)
    assert [m.value for m in at.metric][:3] == [str(figures["events"]), str(figures["sessions"]),
                                                str(figures["users"])] == ["6", "3", "2"]
    assert figures["range"]["tz"] == tz
    cells = api.read("/stats/heatmap", app_id=known, **params)["cells"]
    busiest = max(cells, key=lambda c: c["events"])
    assert f"hour ({tz}) · busiest: {busiest['weekday']} {busiest['hour']:02d}:00" in shown_text(at)
    buckets = api.read("/stats/timeline", app_id=known, interval="day", **params)["buckets"]
    assert [b["date"] for b in buckets][::6] == [params["from"], params["to"]]


def test_events_show_in_the_configured_zone(monkeypatch, worker, api, known):
    monkeypatch.setenv("ODDLYTICS_TIMEZONE", "Asia/Kathmandu")
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Events", app=known)
    newest = api.read("/events", app_id=known, **sent("Last 30 days", "Asia/Kathmandu"))["events"][0]
    shown = at.dataframe[0].value["timestamp"].iloc[0]
    assert "Time (Asia/Kathmandu)" in str(at.dataframe[0].proto)
    assert (str(shown.tz), shown.isoformat()) == (
        "Asia/Kathmandu", periods.parse_time(newest["timestamp"], "Asia/Kathmandu").isoformat())


def test_custom_range_is_honoured(monkeypatch, worker, known):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], app=known, range_choice="Custom")
    day = datetime.fromtimestamp(time.time() - 40 * 24 * HOUR, tz=timezone.utc).date()
    at.date_input(key="custom_range").set_value((day, day)).run()
    assert [m.value for m in at.metric][:3] == ["2", "1", "1"]


def test_apps_screen_matches_api(monkeypatch, worker, api, known):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Apps", app=known)
    row = at.dataframe[0].value.iloc[0]
    listed = api.read("/apps", app_id=known, **sent("Last 30 days"))["apps"][0]
    assert (row["app_id"], row["events"], row["sessions"], row["users"], row["total_events"]) == (
        known, listed["events"], listed["sessions"], listed["users"], listed["total_events"]) == (known, 6, 3, 2, 8)
    assert sum(row["trend"]) == 6


def test_events_explorer_lists_filters_and_prepares_csv(monkeypatch, worker, known):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Events", app=known)
    table = at.dataframe[0].value
    assert list(table["event"]) == ["Purchase", "Screen Viewed", "App Opened", "Screen Viewed", "App Opened",
                                    "App Opened"]
    at.text_input(key="explorer_user").input("bob").run()
    assert list(at.dataframe[0].value["session_id"]) == ["s2", "s2"]
    at.selectbox(key="explorer_event").set_value("Screen Viewed").run()
    assert list(at.dataframe[0].value["user_id"]) == ["bob"]
    at.button(key="explorer_prepare_csv").click().run()
    assert at.get("download_button")[0].proto.label == "Download 1 event as CSV"


def test_events_explorer_pages_with_cursor(monkeypatch, worker, api, app_id):
    now = time.time()
    sent = [event(app_id, f"E{i:02d}", "s", timestamp=iso(now - i * 60)) for i in range(30)]
    assert api.track({"events": sent}).json()["count"] == 30
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Events", app=app_id)
    at.selectbox(key="explorer_page_size").set_value(25).run()
    assert list(at.dataframe[0].value["event"]) == [f"E{i:02d}" for i in range(25)]
    at.button(key="explorer_pager_older").click().run()
    assert list(at.dataframe[0].value["event"]) == [f"E{i:02d}" for i in range(25, 30)]
    assert at.button(key="explorer_pager_older").disabled
    at.button(key="explorer_pager_newer").click().run()
    assert list(at.dataframe[0].value["event"])[0] == "E00"


def test_users_screen_lists_searches_and_shows_activity(monkeypatch, worker, api, known):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Users", app=known)
    table = at.dataframe[0].value
    listed = api.read("/users", app_id=known, **sent("Last 30 days"))["users"]
    # Users seen in the range, with all-time figures: alice's 2 events from 40 days ago count.
    assert list(zip(table["user_id"], table["events"], table["sessions"])) == [
        (u["user_id"], u["events"], u["sessions"]) for u in listed] == [("alice", 5, 2), ("bob", 2, 1)]
    assert "Select a row above" in at.info[0].value
    select_row(at, 0, 1)
    assert [(m.label, m.value) for m in at.metric][:2] == [("Events", "2"), ("Sessions", "1")]
    at.text_input(key="users_search").input("ALI").run()
    assert list(at.dataframe[0].value["user_id"]) == ["alice"]
    assert "1 user whose id contains `ALI` with a user id seen in this range" in shown_text(at)


def test_users_cards_match_the_row_and_events_table_matches_the_events_screen(monkeypatch, worker, api, known):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Users", app=known)
    select_row(at, 0, 0)
    row = api.read("/users", app_id=known, **sent("Last 30 days"))["users"][0]
    first, last = (periods.parse_time(row[k]) for k in ("first_seen", "last_seen"))
    assert [m.value for m in at.metric] == [str(row["events"]), str(row["sessions"]),
                                            f"{first.day} {first:%b %Y, %H:%M}", f"{last.day} {last:%b %Y, %H:%M}"]
    assert "D MMM YYYY, HH:mm" in str(at.dataframe[0].proto.columns)  # the table's precision
    user_events, screen_events = at.dataframe[-1], open_dashboard(
        monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Events", app=known).dataframe[0]
    assert list(user_events.value.columns) == list(screen_events.value.columns)
    assert json.loads(user_events.proto.columns) == json.loads(screen_events.proto.columns)


def test_refresh_button_reads_new_events(monkeypatch, worker, api, app_id):
    assert api.track(event(app_id)).status_code == 200
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], app=app_id)
    assert at.metric[0].value == "1"
    assert api.track(event(app_id, "Purchase")).status_code == 200
    assert at.run().metric[0].value == "1"  # cached
    at.button(key="refresh").click().run()
    assert at.metric[0].value == "2"


def test_key_is_never_shown(monkeypatch, worker, known):
    for screen in ("Overview", "Apps", "Events", "Users"):
        at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen=screen, app=known)
        assert KEYS["AUTH_KEY"] not in shown_text(at)


def test_unreachable_worker_names_the_url(monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"
    at = open_dashboard(monkeypatch, url, KEYS["AUTH_KEY"])
    assert at.error[0].value == f"**Cannot reach the Oddlytics worker at `{url}`**: nothing answered at that address."
    assert "ConnectionError" not in shown_text(at)
    assert_error_page_keeps_title_sidebar_and_retry(at)


def test_wrong_key_says_so_without_showing_it(monkeypatch, worker):
    at = open_dashboard(monkeypatch, worker.url, "definitely-not-the-key")
    assert "did not accept the API key" in at.error[0].value
    assert_error_page_keeps_title_sidebar_and_retry(at)
    assert "definitely-not-the-key" not in shown_text(at)


def test_api_error_shows_the_workers_message(monkeypatch, worker):
    at = open_dashboard(monkeypatch, worker.url, KEYS["INGEST_KEY"])
    assert at.error[0].value == "**The worker did not accept this request:** `this key may not read data`"
    assert_error_page_keeps_title_sidebar_and_retry(at)


@pytest.fixture(scope="module")
def empty_worker(tmp_path_factory):
    with Worker(tmp_path_factory.mktemp("empty-d1"), variables={"AUTH_KEY": "empty-key"}) as server:
        yield server


def test_no_events_yet_shows_first_curl_command(monkeypatch, empty_worker):
    at = open_dashboard(monkeypatch, empty_worker.url, "empty-key")
    assert "No events yet" in at.info[0].value
    command = at.main.code[0].value
    assert f"curl -X POST {empty_worker.url}/track" in command and "X-API-KEY: <your AUTH_KEY>" in command
    assert "empty-key" not in shown_text(at)
    # The command works: sent with the real key, the event is stored.
    assert Api(empty_worker.url, "empty-key").track({"event": "App Opened", "app_id": "my-app",
                                                     "session_id": "session-1"}).status_code == 200


HOSTILE_APP = "[Session expired - sign in](https://evil.example/login)"
HOSTILE_USER = "![x](https://evil.example/pixel.png)"
HOSTILE_EVENT = "**Pay now** :red[here] $x$"


def test_event_data_is_shown_as_literal_text_on_every_screen(monkeypatch, worker, api):
    assert api.track(event(HOSTILE_APP, HOSTILE_EVENT, "s-hostile", user_id=HOSTILE_USER)).status_code == 200
    for screen in ("Overview", "Apps", "Events", "Users"):
        at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen=screen, app=HOSTILE_APP)
        shown = shown_text(at)
        if screen == "Users":
            select_row(at, 0, 0)
            assert f"Events of {literal(HOSTILE_USER)}, newest first" in [e.label for e in at.expander]
            # The user id to copy: a code block, shown verbatim (never Markdown).
            assert [c.value for c in at.main.code] == [HOSTILE_USER]
            shown = shown_text(at).replace(f"\n{HOSTILE_USER}\n", "\n")
        assert literal(HOSTILE_APP) in shown
        # Outside code spans, none of it remains: no live link, image or Streamlit directive.
        for value in (HOSTILE_APP, HOSTILE_USER, HOSTILE_EVENT):
            shown = shown.replace(literal(value), "")
        assert "evil.example" not in shown and ":red[" not in shown, screen


@pytest.fixture
def key_catcher():
    """A server on another host name that records the headers it gets, and one that redirects to it."""
    received = []

    class Catcher(BaseHTTPRequestHandler):
        def do_GET(self):
            received.append(dict(self.headers))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"apps": []}')

        def log_message(self, *args):
            pass

    catcher = ThreadingHTTPServer(("127.0.0.1", 0), Catcher)
    target = f"http://localhost:{catcher.server_port}/elsewhere"

    class Redirector(Catcher):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()

    redirector = ThreadingHTTPServer(("127.0.0.1", 0), Redirector)
    for server in (catcher, redirector):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{redirector.server_port}", target, received
    for server in (catcher, redirector):
        server.shutdown()
        server.server_close()


def test_a_redirect_is_reported_and_the_key_never_follows_it(monkeypatch, key_catcher):
    url, target, received = key_catcher
    at = open_dashboard(monkeypatch, url, KEYS["AUTH_KEY"])
    assert received == []
    assert at.error[0].value == f"**The worker URL `{url}` redirects to `{target}`.**"
    assert_error_page_keeps_title_sidebar_and_retry(at)


def test_apps_trend_of_an_app_without_events_in_the_range_has_a_valid_scale(monkeypatch, worker, api, app_id):
    # The README's example event: only in 2024, so every bucket of the last 30 days is 0.
    assert api.track(event(app_id, timestamp="2024-03-20T10:00:00Z")).status_code == 200
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Apps", app=app_id)
    assert set(at.dataframe[0].value.iloc[0]["trend"]) == {0}
    scale = json.loads(at.dataframe[0].proto.columns)["trend"]["type_config"]
    assert scale["y_min"] == 0 and scale["y_max"] >= 1


def test_a_custom_range_survives_a_link(monkeypatch, worker, known):
    day = datetime.fromtimestamp(time.time() - 40 * 24 * HOUR, tz=timezone.utc).date().isoformat()
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"],
                        link={"app": known, "range": "Custom", "from": day, "to": day})
    assert [m.value for m in at.metric][:3] == ["2", "1", "1"]
    assert f"{day} → {day}" in shown_text(at)
    assert (link_params(at)["from"], link_params(at)["to"]) == ([day], [day])


def test_picking_custom_dates_puts_them_in_the_link_and_tomorrow_is_not_offered(monkeypatch, worker, known):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], app=known, range_choice="Custom")
    today = periods.today_in("UTC")
    assert at.date_input(key="custom_range").max == today
    day = datetime.fromtimestamp(time.time() - 40 * 24 * HOUR, tz=timezone.utc).date()
    at.date_input(key="custom_range").set_value((day, day)).run()
    assert (link_params(at)["range"], link_params(at)["from"], link_params(at)["to"]) == (
        ["Custom"], [day.isoformat()], [day.isoformat()])


def test_a_new_app_is_in_the_picker_of_the_next_page_load(monkeypatch, worker, api, app_id):
    first = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"])
    assert app_id not in first.selectbox(key="app").options
    assert api.track(event(app_id)).status_code == 200
    reloaded = AppTest.from_file(APP, default_timeout=60).run()  # a page reload: a new session, same process
    assert app_id in reloaded.selectbox(key="app").options
    linked = AppTest.from_file(APP, default_timeout=60)
    linked.query_params["app"] = app_id
    assert linked.run().caption[0].value.startswith(f"`{app_id}` · ")


def test_top_events_show_other_and_every_name(monkeypatch, worker, api, app_id):
    now = time.time()
    sent = [event(app_id, f"E{n:02d}", f"s{n}-{i}", timestamp=iso(now - HOUR)) for n in range(12) for i in range(12 - n)]
    assert api.track({"events": sent}).json()["count"] == 78
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], app=app_id)
    top = at.dataframe[0].value
    assert list(top["event"]) == [f"E{n:02d}" for n in range(10)] + ["Other (2 event names)"]
    assert list(top["count"])[-1] == 2 + 1 and round(top["share"].sum()) == 100
    assert [e.label for e in at.expander] == ["All 12 event names"]
    assert list(at.dataframe[1].value["event"]) == [f"E{n:02d}" for n in range(12)]
    columns = json.loads(at.dataframe[0].proto.columns)
    assert [columns[name]["width"] for name in ("event", "count", "sessions", "share")] == ["medium", 80, 80, 80]


def test_timeline_draws_real_counts_marks_the_running_day_and_has_a_legend(monkeypatch, worker, known):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], app=known)
    spec = at.get("arrow_vega_lite_chart")[0].proto.spec
    assert "monotone" not in spec and '"format": ",d"' in spec.replace('":",', '": ",')
    layers = json.loads(spec)["layer"]
    dashed = [layer for layer in layers if isinstance(layer["mark"], dict) and layer["mark"].get("strokeDash") == [5, 4]]
    assert len(dashed) == 1 and dashed[0]["encoding"]["color"]["legend"]["orient"] == "top"
    assert "the current day is still running (dashed)" in shown_text(at)


def test_events_explorer_suggests_ids_by_prefix_and_counts_before_the_csv(monkeypatch, worker, known):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Events", app=known)
    assert "Matching these filters in this range: 6 events." in shown_text(at)
    at.text_input(key="explorer_session").input("s").run()
    assert at.selectbox(key="explorer_session_match").options == ["s0", "s1", "s2", "s3"]
    at.text_input(key="explorer_session").input("").run()
    at.text_input(key="explorer_user").input("LIC").run()
    assert "No user id starts with" in shown_text(at)
    at.text_input(key="explorer_user").input("ali").run()
    assert at.selectbox(key="explorer_user_match").options == ["alice"]
    assert set(at.dataframe[0].value["user_id"]) == {"alice"}
    assert "The worker keeps no count for these filters in this range" in shown_text(at)
    at.selectbox(key="explorer_event").set_value("Purchase").run()
    assert "The worker keeps no count for these filters in this range" in shown_text(at)
    at.text_input(key="explorer_user").input("").run()
    assert "Matching these filters in this range: 1 event." in shown_text(at)
    at.button(key="explorer_prepare_csv").click().run()
    assert at.get("progress")[0].proto.text == "Fetched 1 of 1 event"
    assert at.get("download_button")[0].proto.label == "Download 1 event as CSV"


def test_user_activity_chart_shows_whole_event_names(monkeypatch, worker, known):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Users", app=known)
    select_row(at, 0, 0)
    spec = json.loads(at.get("arrow_vega_lite_chart")[0].proto.spec)
    assert spec["encoding"]["y"]["axis"]["labelLimit"] == 0


def test_heatmap_weeks_start_on_sunday_like_the_date_picker(monkeypatch, worker, known):
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], app=known)
    heatmap = json.loads(at.get("arrow_vega_lite_chart")[1].proto.spec)
    assert heatmap["encoding"]["y"]["sort"][0] == "Sun"

