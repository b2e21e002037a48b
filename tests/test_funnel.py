"""GET /stats/funnel against the real worker: crafted users and sessions with hand-computed funnels."""
import pytest

from conftest import KEYS, Api, event
from scripts.devserver import Worker

JUNE = {"from": "2024-06-01", "to": "2024-06-02"}  # [06-01 00:00, 06-03 00:00) UTC
OPEN_BROWSE_BUY = {"steps": "Open,Browse,Buy"}


def at(name, session_id, user_id, stamp):
    fields = {"user_id": user_id} if user_id else {}
    return name, session_id, fields, stamp


JOURNEYS = [
    # u1 completes in s1; a second session s7 the next day opens and browses.
    at("Open", "s1", "u1", "2024-06-01T10:00:00Z"), at("Browse", "s1", "u1", "2024-06-01T10:05:00Z"),
    at("Add, to cart", "s1", "u1", "2024-06-01T10:10:00Z"), at("Buy", "s1", "u1", "2024-06-01T10:20:00Z"),
    at("Open", "s7", "u1", "2024-06-02T14:00:00Z"), at("Browse", "s7", "u1", "2024-06-02T14:01:00Z"),
    # u2 browses before opening: out of order, so only the first step.
    at("Browse", "s2", "u2", "2024-06-01T09:00:00Z"), at("Open", "s2", "u2", "2024-06-01T09:10:00Z"),
    at("Buy", "s2", "u2", "2024-06-01T09:20:00Z"),
    # u3 buys 25 h after entering: outside 1d.
    at("Open", "s3", "u3", "2024-06-01T11:00:00Z"), at("Browse", "s3", "u3", "2024-06-01T11:30:00Z"),
    at("Buy", "s3", "u3", "2024-06-02T12:00:00Z"),
    # u4 opens twice: enters at the first; buys 110 min after entering (inside 1d, outside 1h).
    at("Open", "s4", "u4", "2024-06-01T08:00:00Z"), at("Open", "s4", "u4", "2024-06-01T08:30:00Z"),
    at("Browse", "s4", "u4", "2024-06-01T08:50:00Z"), at("Buy", "s4", "u4", "2024-06-01T09:50:00Z"),
    # u5 opens and browses in the same millisecond (Browse stored after Open: a higher id).
    at("Open", "s5", "u5", "2024-06-01T12:00:00Z"), at("Browse", "s5", "u5", "2024-06-01T12:00:00Z"),
    at("Buy", "s5", "u5", "2024-06-01T12:01:00Z"),
    # No user: counted by session only.
    at("Open", "s6", None, "2024-06-01T15:00:00Z"), at("Browse", "s6", None, "2024-06-01T15:10:00Z"),
    at("Buy", "s6", None, "2024-06-01T15:15:00Z"),
    # u8 opened before the range; u9 after it: neither enters.
    at("Open", "s8", "u8", "2024-05-31T23:00:00Z"), at("Browse", "s8", "u8", "2024-06-01T00:10:00Z"),
    at("Open", "s9", "u9", "2024-06-03T01:00:00Z"), at("Browse", "s9", "u9", "2024-06-03T01:05:00Z"),
    # u10 enters late in the range and buys after it, inside the window.
    at("Open", "s10", "u10", "2024-06-02T23:30:00Z"), at("Browse", "s10", "u10", "2024-06-02T23:40:00Z"),
    at("Buy", "s10", "u10", "2024-06-03T00:10:00Z"),
]


@pytest.fixture
def shop(api, app_id):
    sent = [event(app_id, name, session_id, timestamp=stamp, **fields) for name, session_id, fields, stamp in JOURNEYS]
    assert api.track({"events": sent}).json()["count"] == len(sent)
    return app_id


def funnel(api, app_id, **params):
    return api.read("/stats/funnel", app_id=app_id, **JUNE, **params)


def figures(body):
    return [(s["event"], s["count"], s["conversion_from_first"], s["conversion_from_previous"],
             s["median_s_from_previous"]) for s in body["steps"]]


def test_by_user_within_a_day(api, shop):
    body = funnel(api, shop, **OPEN_BROWSE_BUY)
    # Entered: u1 u2 u3 u4 u5 u10. Browse after Open: u1 300 s, u3 1800, u4 3000, u5 0, u10 600.
    # Buy after Browse within 1d of entering: u1 900, u4 3600, u5 60, u10 1800.
    assert figures(body) == [("Open", 6, 1.0, 1.0, None), ("Browse", 5, 0.8333, 0.8333, 600),
                             ("Buy", 4, 0.6667, 0.8, 1350)]
    assert (body["within"], body["by"], body["approximate"], body["sampled"]) == ("1d", "user", False, None)
    assert (body["range"]["from"], body["range"]["app_id"]) == ("2024-06-01T00:00:00Z", shop)


def test_within_an_hour(api, shop):
    # u4 buys 110 min after entering and u3 the next day: out. u10's Buy, 40 min in, is after the range: in.
    assert figures(funnel(api, shop, within="1h", **OPEN_BROWSE_BUY)) == [
        ("Open", 6, 1.0, 1.0, None), ("Browse", 5, 0.8333, 0.8333, 600), ("Buy", 3, 0.5, 0.6, 900)]


def test_window_from_the_previous_step(api, shop):
    # Each step within 1 h of the one before: u4's Buy 60 min after its Browse is in (110 min after entering,
    # out above); u3's Buy the next day is out; u10's Buy after the range is in.
    body = funnel(api, shop, within="1h", window="previous", **OPEN_BROWSE_BUY)
    assert figures(body) == [("Open", 6, 1.0, 1.0, None), ("Browse", 5, 0.8333, 0.8333, 600),
                             ("Buy", 4, 0.6667, 0.8, 1350)]
    assert (body["window"], funnel(api, shop, **OPEN_BROWSE_BUY)["window"]) == ("previous", "first")


def test_the_issue_19_example_under_both_window_rules(api, app_id):
    """A at 10:00, B 20 h later, C 40 h later, within 1 day: [1, 1, 0] from the first step, [1, 1, 1] from
    the step before."""
    sent = [event(app_id, name, "s1", user_id="u1", timestamp=stamp) for name, stamp in
            (("A", "2024-06-01T10:00:00Z"), ("B", "2024-06-02T06:00:00Z"), ("C", "2024-06-03T02:00:00Z"))]
    assert api.track({"events": sent}).json()["count"] == 3
    counts = {window: [s["count"] for s in api.read("/stats/funnel", app_id=app_id, steps="A,B,C", window=window,
                                                    **{"from": "2024-06-01", "to": "2024-06-01"})["steps"]]
              for window in ("first", "previous")}
    assert counts == {"first": [1, 1, 0], "previous": [1, 1, 1]}


def test_by_session_counts_sessions_without_users(api, shop):
    # Sessions s1-s7 and s10 enter; s7 (u1's second session) and s6 (no user) count on their own.
    assert figures(funnel(api, shop, by="session", **OPEN_BROWSE_BUY)) == [
        ("Open", 8, 1.0, 1.0, None), ("Browse", 7, 0.875, 0.875, 600), ("Buy", 5, 0.625, 0.7143, 900)]


def test_repeated_step_name(api, shop):
    # Open then Open again: u4 30 min later; u1 28 h later (s7), inside 7d only.
    assert figures(funnel(api, shop, steps="Open,Open"))[1] == ("Open", 1, 0.1667, 0.1667, 1800)
    assert figures(funnel(api, shop, steps="Open,Open", within="7d"))[1] == ("Open", 2, 0.3333, 0.3333, 51300)


def test_repeated_step_parameter_allows_commas_in_names(api, shop):
    response = api.get("/stats/funnel", params=[("app_id", shop), *JUNE.items(), ("step", "Open"),
                                                 ("step", "Add, to cart")])
    assert response.status_code == 200, response.text
    assert figures(response.json()) == [("Open", 6, 1.0, 1.0, None), ("Add, to cart", 1, 0.1667, 0.1667, 600)]


def test_all_apps_merge_a_users_events_across_apps(api, app_id):
    """Without app_id every app is read; names unique to this test keep other tests' apps out of it."""
    opened, browsed = f"Open-{app_id}", f"Browse-{app_id}"
    sent = [event(app_id, opened, "a1", user_id="cross", timestamp="2024-06-01T10:00:00Z"),
            event(app_id + "-b", browsed, "b1", user_id="cross", timestamp="2024-06-01T10:02:00Z"),
            event(app_id, browsed, "a1", user_id="cross", timestamp="2024-06-01T10:04:00Z")]
    assert api.track({"events": sent}).json()["count"] == 3
    steps = f"{opened},{browsed}"
    # A user spans apps: Browse 2 min after Open (in the other app). A session does not: 4 min.
    assert figures(api.read("/stats/funnel", **JUNE, steps=steps))[1] == (browsed, 1, 1.0, 1.0, 120)
    assert figures(api.read("/stats/funnel", **JUNE, steps=steps, by="session"))[1] == (browsed, 1, 1.0, 1.0, 240)


@pytest.mark.parametrize("params, field", [
    ({"steps": "Open"}, "steps"),
    ({"steps": "A,B,C,D,E,F,G"}, "steps"),
    ({"steps": "Open,,Buy"}, "steps"),
    ({"steps": "Open,Buy", "within": "2d"}, "within"),
    ({"steps": "Open,Buy", "by": "device"}, "by"),
    ({"steps": "Open,Buy", "window": "last"}, "window"),
    ({}, "step"),
])
def test_bad_parameters_are_400(api, shop, params, field):
    response = api.get("/stats/funnel", params={"app_id": shop, **params})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["success"] is False and body["details"][0]["field"] == field


def test_steps_and_step_together_are_400(api, shop):
    response = api.get("/stats/funnel", params=[("steps", "Open,Buy"), ("step", "Open"), ("step", "Buy")])
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "steps"


def test_rows_read_stay_within_the_per_step_bound(api, app_id):
    """Each distinct step name is read once through its index range: rows read = its events (+ 1 per
    query for the app), whatever else the app holds."""
    sent = []
    for i in range(300):
        stamp = f"2024-06-01T{i // 60:02d}:{i % 60:02d}:00Z"
        sent += [event(app_id, "Open", f"s{i}", user_id=f"u{i}", timestamp=stamp),
                 event(app_id, "Noise", f"s{i}", user_id=f"u{i}", timestamp=stamp),
                 event(app_id, "Noise", f"s{i}", user_id=f"u{i}", timestamp=stamp)]
        if i % 3 == 0:
            sent.append(event(app_id, "Buy", f"s{i}", user_id=f"u{i}", timestamp=stamp))
    assert api.track({"events": sent}).json()["count"] == 1000
    response = api.get("/stats/funnel", params={"app_id": app_id, **JUNE, "steps": "Open,Buy,Open"})
    assert response.status_code == 200, response.text
    assert [s["count"] for s in response.json()["steps"]] == [300, 100, 0]
    # Documented bound: per distinct step name at most 20,001 index rows; here 300 + 100 rows; and `raw_since`,
    # meta's two purge keys (a few rows).
    assert response.json()["raw_since"] is None  # the session worker is never purged
    assert int(response.headers["x-d1-rows-read"]) <= 300 + 100 + 2 * 2 + 4


def test_a_step_past_the_cap_is_refused_with_a_400(api, app_id):
    """More than 20,000 events of one step name in the range: a 400 naming the range, nothing partial."""
    for batch in range(21):
        sent = [event(app_id, "Tap", f"s{batch}", timestamp=f"2024-06-01T{batch:02d}:00:00Z",
                      event_id=f"{batch}-{i}") for i in range(1000)]
        assert api.track({"events": sent}).json()["count"] == 1000
    response = api.get("/stats/funnel", params={"app_id": app_id, **JUNE, "steps": "Tap,Tap", "by": "session"})
    assert response.status_code == 400, response.text
    # One app is chosen already: the answer does not ask for one.
    assert "shorter range" in response.json()["error"] and "one app" not in response.json()["error"]
    assert int(response.headers["x-d1-rows-read"]) <= 20_001 + 2
    hour = api.get("/stats/funnel", params={"app_id": app_id, "from": "2024-06-01T00:00:00Z",
                                            "to": "2024-06-01T01:00:00Z", "steps": "Tap,Tap", "by": "session",
                                            "within": "1h"})
    assert hour.status_code == 200, hour.text
    assert [s["count"] for s in hour.json()["steps"]] == [1, 1]



@pytest.fixture(scope="module")
def own_database(tmp_path_factory):
    """A worker with a database of its own: the data below must not reach the shared database's fold."""
    server = Worker(tmp_path_factory.mktemp("long-ids"), variables=KEYS)
    server.start()
    yield Api(server.url)
    server.stop()


def test_ids_past_two_megabytes_of_json_still_answer(own_database, app_id):
    """2,000 users with 255-character ids of control characters at one instant: 3 MB of JSON in one time
    slice, past D1's limit per value (SQLITE_TOOBIG). The walk is read again as plain rows: exact, and at
    most twice the rows."""
    for batch in range(5):
        sent = [event(app_id, "Long", f"s{batch}-{i}", user_id="\x01" * 250 + f"{batch}{i:04d}",
                      timestamp="2024-06-01T10:00:00Z") for i in range(400)]
        assert own_database.track({"events": sent}).json()["count"] == 400
    response = own_database.get("/stats/funnel", params={"app_id": app_id, **JUNE, "steps": "Long,Long"})
    assert response.status_code == 200, response.text
    assert [s["count"] for s in response.json()["steps"]] == [2000, 0]
    assert int(response.headers["x-d1-rows-read"]) <= 2 * 2001 + 2
