"""GET /stats/sessions and GET /stats/active on crafted data with hand-computed answers: Berlin's local day
2026-10-25 (25 hours: clocks go back at 01:00 UTC), sessions extended by late events, users returning after a
gap, first-seen moved by a late earlier event and by deletions, new users over all apps, and rows read on a
bigger set."""
import uuid

import pytest

from conftest import event
from consistency import all_events, assert_sessions_and_active_match_events

BERLIN_DAY = {"tz": "Europe/Berlin", "from": "2026-10-25", "to": "2026-10-25"}  # 2026-10-24T22:00Z..10-25T23:00Z
UTC_DAY = {"from": "2026-10-25", "to": "2026-10-25"}


def at(app_id, session, stamp, name="Tick", user=None):
    return event(app_id, name, session, timestamp=f"2026-10-{stamp}Z", event_id=uuid.uuid4().hex,
                 **({"user_id": user} if user else {}))


def sessions_figures(api, app_id, window):
    body = api.read("/stats/sessions", app_id=app_id, **window)
    histogram = {b["label"]: b["sessions"] for b in body["histogram"] if b["sessions"]}
    return ({name: body[name] for name in ("sessions", "events", "events_per_session", "one_event_sessions",
                                           "one_event_share", "median_duration_s", "p90_duration_s")},
            histogram, body.get("approximate_figures", []))


@pytest.fixture
def berlin_sessions(api, app_id):
    sent = [at(app_id, "s1", "24T22:30:00"), at(app_id, "s1", "24T22:30:04"),  # 00:30 CEST: local 25th, 4 s
            at(app_id, "s2", "25T00:30:00"),                                   # one event, 0 s
            at(app_id, "s3", "25T01:30:00"), at(app_id, "s3", "25T01:30:30"), at(app_id, "s3", "25T01:30:45"),  # 45 s
            at(app_id, "s4", "25T22:30:00"), at(app_id, "s4", "25T22:32:05"),  # 23:30 CET: still the 25th, 125 s
            at(app_id, "s5", "25T23:10:00")]                                   # 00:10 CET on the 26th
    assert api.track({"events": sent}).json()["count"] == len(sent)
    api.fold_all()
    return app_id


def test_sessions_of_a_25_hour_local_day(api, berlin_sessions):
    counts, histogram, estimated = sessions_figures(api, berlin_sessions, BERLIN_DAY)
    # s1..s4: lengths 0, 4, 45, 125 s. Median: rank 2 -> 4 s (exact); p90: rank 4 -> 125 s, in [120, 150): 135.
    assert counts == {"sessions": 4, "events": 8, "events_per_session": 2.0, "one_event_sessions": 1,
                      "one_event_share": 0.25, "median_duration_s": 4, "p90_duration_s": 135}
    assert histogram == {"0s": 1, "1-10s": 1, "30-60s": 1, "1-3m": 1}
    assert estimated == ["p90_duration_s"]
    # The UTC day holds s2..s5 instead: lengths 0, 0, 45, 125.
    counts, histogram, _ = sessions_figures(api, berlin_sessions, UTC_DAY)
    assert (counts["sessions"], counts["events"], counts["one_event_sessions"], counts["median_duration_s"]) == (4, 7, 2, 0)
    assert histogram == {"0s": 2, "30-60s": 1, "1-3m": 1}


def test_late_events_extend_sessions_and_deleting_a_first_event_shrinks_one(api, berlin_sessions):
    app_id = berlin_sessions
    late = [at(app_id, "s3", "25T01:20:00"),   # s3 starts 10 min earlier: 645 s, 4 events
            at(app_id, "s2", "25T00:30:07")]   # s2: 7 s, 2 events
    assert api.track({"events": late}).json()["count"] == 2
    api.fold_all()
    counts, histogram, estimated = sessions_figures(api, app_id, BERLIN_DAY)
    # Lengths 4, 7, 125, 645: median rank 2 -> 7 s; p90 rank 4 -> 645 s in [600, 750): 675.
    assert counts == {"sessions": 4, "events": 10, "events_per_session": 2.5, "one_event_sessions": 0,
                      "one_event_share": 0.0, "median_duration_s": 7, "p90_duration_s": 675}
    assert histogram == {"1-10s": 2, "1-3m": 1, "10-30m": 1} and estimated == ["p90_duration_s"]
    first = next(e for e in all_events(api, app_id) if e["timestamp"] == "2026-10-25T01:20:00.000Z")
    assert api.request("DELETE", f"/admin/events/{first['id']}").json()["deleted"]["events"] == 1
    counts, histogram, _ = sessions_figures(api, app_id, BERLIN_DAY)
    assert (counts["events"], counts["p90_duration_s"], histogram) == (9, 135, {"1-10s": 2, "30-60s": 1, "1-3m": 1})
    assert_sessions_and_active_match_events(api, app_id, UTC_DAY)


@pytest.fixture
def berlin_users(api, app_id):
    sent = [at(app_id, "a", "20T10:00:00", user="u1"),                              # u1 first seen Tue 20th
            at(app_id, "b", "24T22:30:00", user="u1"), at(app_id, "c", "25T22:30:00", user="u1"),
            at(app_id, "d", "24T22:15:00", user="u2"),                              # local 25th 00:15 CEST
            at(app_id, "e", "26T08:00:00", user="u3"),
            at(app_id, "f", "10T12:00:00", user="u4"), at(app_id, "g", "26T09:00:00", user="u4"),  # after a gap
            at(app_id, "h", "24T12:00:00", user="u5"),
            at(app_id, "i", "01T12:00:00", user="u6")]                              # in the MAU window only
    assert api.track({"events": sent}).json()["count"] == len(sent)
    api.fold_all()
    return app_id


def active(api, app_id, **params):
    body = api.read("/stats/active", app_id=app_id, **params)
    assert body["approximate"] is False
    return ([(b["t"], b["date"], b["active"], b["new"], b["returning"]) for b in body["buckets"]],
            (body["dau"], body["wau"], body["mau"]))


BERLIN_DAYS = {"tz": "Europe/Berlin", "from": "2026-10-24", "to": "2026-10-26"}


def test_active_new_and_returning_per_berlin_day_and_week(api, berlin_users):
    buckets, windows = active(api, berlin_users, **BERLIN_DAYS)
    assert buckets == [("2026-10-23T22:00:00Z", "2026-10-24", 1, 1, 0),   # u5
                       ("2026-10-24T22:00:00Z", "2026-10-25", 2, 1, 1),   # u1 returns, u2 is new (25 hours)
                       ("2026-10-25T23:00:00Z", "2026-10-26", 2, 1, 1)]   # u3 new, u4 back after 16 days
    assert windows == (2, 5, 6)  # DAU on the 26th; WAU 20th-26th: u1..u5; MAU from 27 Sep: + u6
    utc_buckets, _ = active(api, berlin_users, **{"from": "2026-10-24", "to": "2026-10-26"})
    assert [b[2:] for b in utc_buckets] == [(3, 2, 1), (1, 0, 1), (2, 1, 1)]
    weeks, _ = active(api, berlin_users, interval="week", tz="Europe/Berlin", **{"from": "2026-10-19", "to": "2026-10-26"})
    assert weeks == [("2026-10-18T22:00:00Z", "2026-10-19", 3, 3, 0), ("2026-10-25T23:00:00Z", "2026-10-26", 2, 1, 1)]


def test_first_seen_moves_with_a_late_earlier_event_and_with_deletions(api, berlin_users):
    app_id = berlin_users
    assert api.track({"events": [at(app_id, "j", "22T12:00:00", user="u3")]}).json()["count"] == 1
    api.fold_all()
    buckets, _ = active(api, app_id, **BERLIN_DAYS)
    assert [b[2:] for b in buckets] == [(1, 1, 0), (2, 1, 1), (2, 0, 2)]  # u3 now returns on the 26th
    weeks, _ = active(api, app_id, interval="week", tz="Europe/Berlin", **{"from": "2026-10-19", "to": "2026-10-26"})
    assert [b[2:] for b in weeks] == [(4, 4, 0), (2, 0, 2)]
    late = next(e for e in all_events(api, app_id) if e["timestamp"] == "2026-10-22T12:00:00.000Z")
    assert api.request("DELETE", f"/admin/events/{late['id']}").json()["deleted"]["events"] == 1
    assert api.request("DELETE", "/admin/users/u2", params={"app_id": app_id}).json()["deleted"]["events"] == 1
    buckets, windows = active(api, app_id, **BERLIN_DAYS)
    assert [b[2:] for b in buckets] == [(1, 1, 0), (1, 0, 1), (2, 1, 1)] and windows == (2, 4, 5)
    assert_sessions_and_active_match_events(api, app_id, {"from": "2026-10-20", "to": "2026-10-26"})


def test_new_users_over_all_apps_are_first_seen_in_any_app(api):
    # 2003 (Berlin's spring forward was 30 March): no other test has data there, so "all apps" is ours alone.
    a, b = (f"test-{uuid.uuid4().hex[:12]}" for _ in range(2))
    sent = [event(a, "Opened", "s1", user_id="early", timestamp="2003-03-25T10:00:00Z"),
            event(b, "Opened", "s2", user_id="early", timestamp="2003-03-27T10:00:00Z"),
            event(b, "Opened", "s3", user_id="later", timestamp="2003-03-27T11:00:00Z"),
            event(b, "Opened", "s4", user_id="later", timestamp="2003-03-30T01:30:00Z")]  # 03:30 CEST
    assert api.track({"events": sent}).json()["count"] == 4
    api.fold_all()
    window = {"from": "2003-03-25", "to": "2003-03-30", "tz": "Europe/Berlin"}
    everyone = api.read("/stats/active", **window)
    assert [(b["date"], b["active"], b["new"], b["returning"]) for b in everyone["buckets"]] == [
        ("2003-03-25", 1, 1, 0), ("2003-03-26", 0, 0, 0), ("2003-03-27", 2, 1, 1), ("2003-03-28", 0, 0, 0),
        ("2003-03-29", 0, 0, 0), ("2003-03-30", 1, 0, 1)]
    assert (everyone["dau"], everyone["wau"], everyone["mau"], everyone["approximate"]) == (1, 2, 2, False)
    app_b = api.read("/stats/active", app_id=b, **window)
    assert [(b["active"], b["new"]) for b in app_b["buckets"]][2] == (2, 2)  # both are new to app b
    # Erased from app a, "early" is first seen on the 27th, in app b; without app b, nobody is left.
    assert api.request("DELETE", "/admin/users/early", params={"app_id": a}).json()["deleted"]["events"] == 1
    everyone = api.read("/stats/active", **window)
    assert [(b["active"], b["new"]) for b in everyone["buckets"]] == [(0, 0), (0, 0), (2, 2), (0, 0), (0, 0), (1, 0)]
    assert api.request("DELETE", f"/admin/apps/{b}").json()["deleted"]["events"] == 3
    everyone = api.read("/stats/active", **window)
    assert [(b["active"], b["new"]) for b in everyone["buckets"]] == [(0, 0)] * 6 and everyone["mau"] == 0


def test_many_users_read_bounded_rows_and_declare_estimates(api, app_id):
    users, days = 4000, 30
    sent = [event(app_id, "Opened", f"s{i}", user_id=f"user-{i}",
                  timestamp=f"2025-01-{1 + i % days:02d}T{i % 24:02d}:{i % 60:02d}:00Z") for i in range(users)]
    for start in range(0, users, 1000):
        assert api.track({"events": sent[start:start + 1000]}).json()["count"] == 1000
    api.fold_all()
    window = {"app_id": app_id, "from": "2025-01-01", "to": "2025-01-30"}
    reply = api.get("/stats/active", params=window)
    body = reply.json()
    # 4,000 user-days is past the exact limit: sketches, except single-row days, which keep their exact count.
    assert [b["active"] for b in body["buckets"]] == [134] * 10 + [133] * 20 and body["dau"] == 133
    assert body["approximate_figures"] == ["wau", "mau"]
    assert abs(body["wau"] - 7 * 133) <= 0.02 * 7 * 133 and abs(body["mau"] - users) <= 0.02 * users
    # Per query (2: users and sketches, new users) and local day: its range (a JSON element, the app) and its
    # row. Before subqueries per day replaced a join grouped by day, this read 420.
    assert int(reply.headers["x-d1-rows-read"]) <= 2 * 30 * 3 + 50
    berlin = api.get("/stats/active", params={**window, "tz": "Europe/Berlin"})
    assert berlin.json()["approximate"] is True
    assert int(berlin.headers["x-d1-rows-read"]) <= 2 * 30 * (24 + 2) + 50  # local days read hours
    # Days outside the DAU/WAU/MAU windows and weeks are counted from their one rollup row, their sketches not read
    # (routes/active.sketch_wanted): a range to the end of March shows January's days as exactly, its windows empty.
    # Local days hold several rows: their sketches are read all the same, and merge to the same estimates.
    later = api.read("/stats/active", **{**window, "to": "2025-03-31"})
    assert [b["active"] for b in later["buckets"][:30]] == [134] * 10 + [133] * 20 and later["mau"] == 0
    assert later["approximate_figures"] == ["wau", "mau"]  # merged windows, of empty sketches here
    berlin_later = api.read("/stats/active", **{**window, "to": "2025-03-31", "tz": "Europe/Berlin"})
    assert berlin_later["buckets"][:30] == berlin.json()["buckets"] and berlin_later["mau"] == 0
    assert berlin_later["approximate_figures"] == ["active", "returning", "wau", "mau"]
    lengths = api.get("/stats/sessions", params=window)
    assert lengths.json()["sessions"] == users and lengths.json()["one_event_sessions"] == users
    assert int(lengths.headers["x-d1-rows-read"]) <= 30 * 2 + 50  # a row per day and length bucket


def test_merged_local_days_are_kept_and_forgotten_whenever_their_hours_change(api, app_id):
    """Berlin's local days merge hourly sketches of two UTC days; a request keeps each complete day's merge, and the
    merge of the days of its WAU and MAU windows (spans: rollups/unit_cache.py), and the next reads them. Every figure
    stays the HyperLogLog estimate of the very users active that local day or window (computed here with the worker's
    hll), before and after the merges are kept, after a late event in a kept day, an erasure, and the app's
    deletion."""
    from datetime import date, datetime, time as clock, timedelta, timezone
    from zoneinfo import ZoneInfo

    from rollups import hll

    berlin = ZoneInfo("Europe/Berlin")
    # Kept: complete, within 93 days of now, and the windows' spans within unit_cache.SPAN_KEEP_DAYS.
    days = [date.today() - timedelta(days=3), date.today() - timedelta(days=2)]

    def stamp(day, hour, minute=0):  # a local Berlin time as the UTC timestamp /track takes
        local = datetime.combine(day, clock(hour, minute), berlin)
        return local.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    # 1,600 users, each on one of the two days at 00:30 (in the UTC day before) and 13:30: 3,200 user-hours, past
    # the exact path's 3,000 (read.EXACT_USERS_MAX), so the units' sketches are merged.
    active_on = {day: {f"kept-{i}" for i in range(1600) if i % 2 == index} for index, day in enumerate(days)}
    sent = [event(app_id, "Opened", f"s-{user}", user_id=user, timestamp=stamp(day, hour, 30), event_id=uuid.uuid4().hex)
            for day, users in active_on.items() for user in sorted(users) for hour in (0, 13)]
    for start in range(0, len(sent), 1000):
        assert api.track({"events": sent[start:start + 1000]}).json()["count"] == len(sent[start:start + 1000])
    api.fold_all()
    window = {"app_id": app_id, "tz": "Europe/Berlin", "from": days[0].isoformat(), "to": days[1].isoformat()}

    def estimate(users):
        return hll.Sketch().add_all(hll.user_register(u) for u in users).estimate()

    def expected(new_by_day):
        """(per day: date, active, new), WAU, MAU: a day's active users are never fewer than its new ones."""
        buckets = [(day.isoformat(), max(estimate(active_on[day]), new_by_day[day]), new_by_day[day]) for day in days]
        everyone = set().union(*active_on.values())
        return buckets, estimate(everyone), estimate(everyone)

    def read():
        reply = api.get("/stats/active", params=window)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert "active" in body["approximate_figures"]
        return (([(b["date"], b["active"], b["new"]) for b in body["buckets"]], body["wau"], body["mau"]),
                int(reply.headers["x-d1-rows-written"]))

    first, written = read()
    assert first == expected({day: 800 for day in days})
    assert written == 4  # the two local days' merges are kept, and the spans of the WAU and MAU windows
    again, written = read()
    assert again == first and written == 0  # read from the kept merges, nothing merged again

    # A late event in a kept day: its hour's sketch changes, the day's merge goes with it (a trigger on `hourly`), and
    # so do both windows' spans (a stale span would keep WAU and MAU short of the late user).
    active_on[days[1]].add("late-user")
    late = event(app_id, "Opened", "s-late", user_id="late-user", timestamp=stamp(days[1], 18, 30),
                 event_id=uuid.uuid4().hex)
    assert api.track({"events": [late]}).json()["count"] == 1
    api.fold_all()
    after_late, written = read()
    assert after_late == expected({days[0]: 800, days[1]: 801}) and written == 3  # the second day and both spans
    assert read() == (after_late, 0)

    # An erasure rebuilds the user's hours' sketches: their days' merges go too.
    assert api.request("DELETE", "/admin/users/kept-0", params={"app_id": app_id}).json()["deleted"]["events"] == 2
    active_on[days[0]].discard("kept-0")
    # The first read rebuilds the stale sketches (the rows it writes are theirs) and keeps nothing: its reads may
    # predate the rebuild. The next keeps the first day's merge again, and both spans, only them: the second day holds
    # no hour of the user's, and no whole UTC day (a day's row is read only by a unit holding it whole).
    (after_erasure, _), (again, written_again), third = read(), read(), read()
    assert after_erasure == again == third[0] == expected({days[0]: 799, days[1]: 801})
    assert written_again == 3 and third[1] == 0

    # The app deleted: its rollup rows go, and with them every merge kept for it.
    deleted, complete = 0, False
    while not complete:  # in steps, each its own request
        reply = api.request("DELETE", f"/admin/apps/{app_id}").json()
        deleted, complete = deleted + reply["deleted"]["events"], reply["complete"]
    assert deleted == len(sent) + 1 - 2
    gone = api.read("/stats/active", **window)
    assert [(b["active"], b["new"]) for b in gone["buckets"]] == [(0, 0), (0, 0)] and gone["mau"] == 0


def test_the_calendar_is_active_and_new_users_per_utc_day_as_the_series_says(api):
    # June 2005: no other test has data there, so "all apps" is ours alone.
    a, b = (f"test-{uuid.uuid4().hex[:12]}" for _ in range(2))
    sent = [event(a, "Opened", "s1", user_id="x", timestamp="2005-06-01T10:00:00Z"),
            event(a, "Opened", "s2", user_id="y", timestamp="2005-06-01T23:30:00Z"),
            event(b, "Opened", "s3", user_id="x", timestamp="2005-06-03T08:00:00Z"),
            event(a, "Opened", "s4", user_id="x", timestamp="2005-06-03T09:00:00Z"),
            event(b, "Opened", "s5", user_id="z", timestamp="2005-06-03T10:00:00Z")]
    assert api.track({"events": sent}).json()["count"] == 5
    api.fold_all()
    window = {"from": "2005-05-30", "to": "2005-06-05"}

    def calendar(**params):
        body = api.read("/stats/calendar", **window, **params)
        return [(d["date"], d["active"], d["new"]) for d in body["days"]], body["approximate"]

    def series(**params):
        return [(b["date"], b["active"], b["new"]) for b in
                api.read("/stats/active", **window, **params)["buckets"] if b["active"]]

    assert calendar(app_id=a) == ([("2005-06-01", 2, 2), ("2005-06-03", 1, 0)], False)
    assert calendar(app_id=b) == ([("2005-06-03", 2, 2)], False)  # x is new to app b
    # All apps: x once on the 3rd (two apps' sketches merged: declared), z the only new user of any app there.
    assert calendar() == ([("2005-06-01", 2, 2), ("2005-06-03", 2, 1)], True)
    for app_id in (a, b, None):
        assert calendar(**({"app_id": app_id} if app_id else {}))[0] == series(**({"app_id": app_id} if app_id else {}))
    # Erased from app a, x is first seen on the 3rd, in app b.
    assert api.request("DELETE", "/admin/users/x", params={"app_id": a}).json()["deleted"]["events"] == 2
    assert calendar(app_id=a) == ([("2005-06-01", 1, 1)], False)
    assert calendar() == ([("2005-06-01", 1, 1), ("2005-06-03", 2, 2)], False) and calendar()[0] == series()
    # UTC days only: they are the daily rollup rows.
    refused = api.request("GET", "/stats/calendar", params={**window, "tz": "Europe/Berlin"})
    assert refused.status_code == 400 and "UTC days" in refused.json()["error"]
    assert api.read("/stats/calendar", app_id=a, tz="utc", **window)["days"] == [
        {"date": "2005-06-01", "active": 1, "new": 1}]
