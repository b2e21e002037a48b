"""GET /stats/retention against the real worker: crafted first-seen days and returns, hand-computed cohorts."""
import pytest

from conftest import event

JUNE = {"from": "2024-06-01", "to": "2024-06-05"}  # [06-01, 06-06) UTC: five day cohorts

# (user, event name, timestamp). First seen = a user's first event.
DAYS = [
    ("a", "Open", "2024-06-01T08:00:00Z"), ("a", "Buy", "2024-06-02T08:00:00Z"), ("a", "Open", "2024-06-04T08:00:00Z"),
    ("b", "Open", "2024-06-01T23:59:00Z"),
    # c was first seen before the range: in no cohort.
    ("c", "Open", "2024-05-20T08:00:00Z"), ("c", "Open", "2024-06-02T08:00:00Z"),
    # d returns after a gap longer than the periods asked for.
    ("d", "Open", "2024-06-02T10:00:00Z"), ("d", "Open", "2024-06-02T23:00:00Z"), ("d", "Open", "2024-06-09T08:00:00Z"),
    # e is active after the range's end: following periods count whatever the range.
    ("e", "Buy", "2024-06-03T08:00:00Z"), ("e", "Open", "2024-06-05T08:00:00Z"), ("e", "Buy", "2024-06-06T08:00:00Z"),
    # f is first seen after the range.
    ("f", "Open", "2024-06-07T08:00:00Z"),
]

# Europe/Berlin falls back on Sunday 27 Oct 2024 (03:00 CEST -> 02:00 CET). Weeks start on Monday, local time.
BERLIN = [
    ("g", "Open", "2024-10-20T22:30:00Z"),  # Mon 21 Oct 00:30 CEST (UTC: Sunday 20, the week before)
    ("g", "Open", "2024-10-27T23:30:00Z"),  # Mon 28 Oct 00:30 CET (UTC: Sunday 27)
    ("h", "Open", "2024-10-27T22:30:00Z"),  # Sun 27 Oct 23:30 CET
    ("h", "Open", "2024-11-03T23:30:00Z"),  # Mon 4 Nov 00:30 CET (UTC: Sunday 3)
    ("i", "Open", "2024-10-28T12:00:00Z"),  # Mon 28 Oct
    ("i", "Open", "2024-11-10T22:59:00Z"),  # Sun 10 Nov 23:59 CET
    ("j", "Open", "2024-10-20T21:30:00Z"),  # Sun 20 Oct 23:30 CEST: before the range
    ("j", "Open", "2024-10-22T12:00:00Z"),
]


def send(api, app_id, rows):
    sent = [event(app_id, name, f"{user}-{stamp}", user_id=user, timestamp=stamp) for user, name, stamp in rows]
    assert api.track({"events": sent}).json()["count"] == len(sent)
    api.fold_all()
    return app_id


@pytest.fixture
def days_app(api, app_id):
    return send(api, app_id, DAYS)


@pytest.fixture
def berlin_app(api, app_id):
    return send(api, app_id, BERLIN)


def cohorts(api, app_id, **params):
    body = api.read("/stats/retention", app_id=app_id, **params)
    return [(c["start"], c["size"], c["retained_users"], c["retained"]) for c in body["cohorts"]]


def test_day_cohorts(api, days_app):
    assert cohorts(api, days_app, cohort="day", periods=4, **JUNE) == [
        ("2024-06-01", 2, [2, 1, 0, 1], [1.0, 0.5, 0.0, 0.5]),
        ("2024-06-02", 1, [1, 0, 0, 0], [1.0, 0.0, 0.0, 0.0]),
        ("2024-06-03", 1, [1, 0, 1, 1], [1.0, 0.0, 1.0, 1.0]),
        ("2024-06-04", 0, [0, 0, 0, 0], [None, None, None, None]),
        ("2024-06-05", 0, [0, 0, 0, 0], [None, None, None, None]),
    ]


def test_return_after_a_gap_counts_in_its_period(api, days_app):
    # d's return on 06-09 is period 7 of the 06-02 cohort.
    assert cohorts(api, days_app, cohort="day", periods=8, **JUNE)[1] == (
        "2024-06-02", 1, [1, 0, 0, 0, 0, 0, 0, 1], [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])


def test_event_filter_counts_only_that_event(api, days_app):
    # Cohorts stay "first seen (any event)"; activity is Buy only: a on 06-02, e on 06-03 and 06-06.
    body = api.read("/stats/retention", app_id=days_app, cohort="day", periods=4, event="Buy", **JUNE)
    assert body["event"] == "Buy"
    assert [(c["start"], c["size"], c["retained_users"]) for c in body["cohorts"][:3]] == [
        ("2024-06-01", 2, [0, 1, 0, 0]), ("2024-06-02", 1, [0, 0, 0, 0]), ("2024-06-03", 1, [1, 0, 0, 1])]


def test_week_cohorts_across_berlin_fall_back(api, berlin_app):
    params = {"cohort": "week", "periods": 3, "from": "2024-10-21", "to": "2024-11-03"}
    body = api.read("/stats/retention", app_id=berlin_app, tz="Europe/Berlin", **params)
    assert (body["range"]["from"], body["range"]["to"]) == ("2024-10-20T22:00:00Z", "2024-11-03T23:00:00Z")
    assert [(c["start"], c["size"], c["retained_users"], c["retained"]) for c in body["cohorts"]] == [
        ("2024-10-21", 2, [2, 1, 1], [1.0, 0.5, 0.5]),
        ("2024-10-28", 1, [1, 1, 0], [1.0, 1.0, 0.0]),
    ]
    # The same events in UTC weeks: g was first seen the week before, h came back on a Sunday.
    assert cohorts(api, berlin_app, **params) == [
        ("2024-10-21", 1, [1, 1, 0], [1.0, 1.0, 0.0]),
        ("2024-10-28", 1, [1, 1, 0], [1.0, 1.0, 0.0]),
    ]


def test_week_cohorts_may_start_on_sunday(api, days_app):
    """week_start=sunday (the dashboard's weeks, as its date picker's): 1 June 2024 was a Saturday, so a and b
    (first seen 06-01) are the week of Sunday 26 May; d (Sunday 06-02) and e (06-03) the next. a came back on
    06-02/04, d on 06-09."""
    body = api.read("/stats/retention", app_id=days_app, cohort="week", periods=2, week_start="sunday", **JUNE)
    assert body["week_start"] == "sunday"
    assert [(c["start"], c["size"], c["retained_users"]) for c in body["cohorts"]] == [
        ("2024-05-26", 2, [2, 1]), ("2024-06-02", 2, [2, 1])]
    monday = api.read("/stats/retention", app_id=days_app, cohort="week", periods=2, **JUNE)
    assert monday["week_start"] == "monday" and [c["start"] for c in monday["cohorts"]] == ["2024-05-27", "2024-06-03"]


def test_periods_not_yet_complete_are_null(api, app_id):
    assert api.track(event(app_id, "Open", "now", user_id="n")).json()["count"] == 1  # stamped now
    api.fold_all()
    body = api.read("/stats/retention", app_id=app_id, cohort="day", periods=3, days=2)
    # Today's cohort holds n, and today is not over yet: no period of it is complete.
    assert (body["cohorts"][-1]["size"], body["cohorts"][-1]["retained_users"]) == (1, [None, None, None])
    assert body["cohorts"][-1]["retained"] == [None, None, None]


@pytest.mark.parametrize("params, field", [
    ({"cohort": "month"}, "cohort"),
    ({"cohort": "day", "periods": "32"}, "periods"),
    ({"cohort": "week", "periods": "27"}, "periods"),
    ({"periods": "0"}, "periods"),
    ({"cohort": "day", "days": "101"}, "cohort"),
    ({"cohort": "week", "week_start": "friday"}, "week_start"),
])
def test_bad_parameters_are_400(api, params, field):
    response = api.get("/stats/retention", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["details"][0]["field"] == field


def test_rows_read_stay_within_the_documented_bound(api, app_id):
    """200 users over 10 days: the activity walk reads each user-day once, then one json_each row and one
    users row per user active in the range."""
    rows = []
    for user in range(200):
        for day in range(1 + user % 3):
            rows.append((f"u{user}", "Open", f"2024-07-{1 + (user + 4 * day) % 10:02d}T08:00:00Z"))
    send(api, app_id, rows)
    response = api.get("/stats/retention", params={"app_id": app_id, "cohort": "day", "periods": "3",
                                                   "from": "2024-07-01", "to": "2024-07-10"})
    assert response.status_code == 200, response.text
    assert sum(c["size"] for c in response.json()["cohorts"]) == 200
    user_days = len(set(rows))
    # Documented: walked rows + 2 per candidate (json_each, users) + a few for the app and the fold state, + a
    # counters row per day walked (13 here), whose user counts refuse an oversized walk before it starts.
    assert int(response.headers["x-d1-rows-read"]) <= user_days + 2 * 200 + 10 + 13


def test_a_walk_past_the_cap_is_refused_with_a_400(api, app_id):
    """More than 20,000 rows of `event=` in the read span: a 400 naming the range, nothing partial."""
    for day in range(21):
        sent = [event(app_id, "Ping", f"s{day}", user_id=f"u{i}", timestamp=f"2024-08-{day + 1:02d}T10:00:00Z",
                      event_id=f"{day}-{i}") for i in range(1000)]
        assert api.track({"events": sent}).json()["count"] == 1000
    api.fold_all()
    params = {"app_id": app_id, "cohort": "day", "periods": "2", "event": "Ping"}
    response = api.get("/stats/retention", params={**params, "from": "2024-08-01", "to": "2024-08-21"})
    assert response.status_code == 400, response.text
    # One app is chosen already: the answer does not ask for one.
    assert "shorter range" in response.json()["error"] and "one app" not in response.json()["error"]
    assert int(response.headers["x-d1-rows-read"]) <= 20_001 + 10
    # One day and the next: 2,000 Pings by 1,000 users, all first seen on 1 August and back on the 2nd.
    one_day = api.read("/stats/retention", **params, **{"from": "2024-08-01", "to": "2024-08-01"})
    assert [(c["start"], c["size"], c["retained_users"]) for c in one_day["cohorts"]] == [("2024-08-01", 1000, [1000, 1000])]
