"""Retention against a dedicated worker with RETENTION_DAYS=30 (purges touch every app of its database).

By default history survives: raw events and whatever names a user or a session go, the anonymous aggregates stay;
RETENTION_KEEPS_AGGREGATES=off deletes the aggregates with the events, as every other deletion does."""
import time
from datetime import datetime

import pytest

from conftest import KEYS, Api, event
from consistency import assert_rollups_match_events, remaining_events
from scripts.devserver import Worker

DAY = 86400
WINDOW = {"days": "60"}


@pytest.fixture(scope="module")
def retained_worker(tmp_path_factory):
    server = Worker(tmp_path_factory.mktemp("retention"), variables={**KEYS, "RETENTION_DAYS": "30"})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def retained(retained_worker):
    return Api(retained_worker.url)


def seed(api, app_id, ages_in_days, user_id="u1"):
    now = time.time()
    body = {"events": [event(app_id, f"E{age}", f"s{age}", user_id=user_id, timestamp=now - age * DAY)
                       for age in ages_in_days]}
    assert api.track(body).json()["count"] == len(ages_in_days)


def purge(api, **params):
    return api.post("/admin/purge", params=params)


@pytest.fixture
def emptied(retained):
    """The retention worker with nothing expired left over, so purge counts are this test's alone."""
    assert purge(retained).status_code == 200
    return retained


@pytest.fixture(scope="module")
def forgetful(tmp_path_factory):
    server = Worker(tmp_path_factory.mktemp("retention-off"),
                    variables={**KEYS, "RETENTION_DAYS": "30", "RETENTION_KEEPS_AGGREGATES": "off"})
    server.start()
    api = Api(server.url)
    assert purge(api).status_code == 200
    yield api
    server.stop()


def test_purge_removes_old_events_and_keeps_their_aggregates(emptied, app_id):
    seed(emptied, app_id, [40, 31, 29, 1])
    emptied.fold_all()
    before = emptied.read("/stats/overview", app_id=app_id, **WINDOW)
    response = purge(emptied)
    assert response.status_code == 200
    body = response.json()
    assert (body["deleted"], body["complete"], body["days"], body["aggregates_kept"]) == (
        {"events": 2, "apps": 0}, True, 30, True)
    assert sorted(e["event"] for e in remaining_events(emptied, app_id, WINDOW)) == ["E1", "E29"]
    after = emptied.read("/stats/overview", app_id=app_id, **WINDOW)
    assert (after["events"], after["sessions"]) == (before["events"], before["sessions"]) == (4, 4)
    # The user sets before the horizon are gone: distinct users over the window come from the sketches, declared.
    assert after["users"] == 1 and after["approximate"] is True and "users" in after["approximate_figures"]
    names = [e["event"] for e in emptied.read("/stats/events", app_id=app_id, **WINDOW)["events"]]
    assert sorted(names) == ["E1", "E29", "E31", "E40"]
    recent = emptied.read("/stats/overview", app_id=app_id, days="10")
    assert (recent["events"], recent["users"], recent["approximate"]) == (1, 1, False)


def test_purge_with_aggregates_off_removes_events_and_their_rollups(forgetful, app_id):
    seed(forgetful, app_id, [40, 31, 29, 1])
    body = purge(forgetful).json()
    assert (body["deleted"], body["complete"], body["aggregates_kept"]) == ({"events": 2, "apps": 0}, True, False)
    left = assert_rollups_match_events(forgetful, app_id, WINDOW)
    assert sorted(e["event"] for e in left) == ["E1", "E29"]


def test_purged_users_leave_no_trace_and_erasing_a_user_after_a_purge_removes_the_rest(emptied, retained_worker, app_id):
    from test_free_plan import rows_naming

    gone, kept = f"gone-{app_id}", f"kept-{app_id}"
    seed(emptied, app_id, [40, 35], user_id=gone)
    seed(emptied, app_id, [40, 3], user_id=kept)
    emptied.fold_all()
    purge(emptied)
    assert rows_naming(retained_worker, gone) == {}
    assert emptied.read("/users", search=gone, days="3660")["users"] == []
    assert [u["user_id"] for u in emptied.read("/users", search=kept, days="3660")["users"]] == [kept]
    assert emptied.request("DELETE", "/admin/users", key=KEYS["AUTH_KEY"], params={"user_id": kept}).status_code == 200
    assert rows_naming(retained_worker, kept) == {}


def test_breakdown_users_do_not_reach_before_the_horizon(emptied, app_id):
    seed(emptied, app_id, [40, 2])
    emptied.fold_all()
    purge(emptied)
    old = emptied.read("/stats/breakdown", app_id=app_id, by="event", **WINDOW)
    assert {v["value"]: (v["events"], v["users"]) for v in old["values"]} == {"E40": (1, None), "E2": (1, None)}
    assert "users_since" in old
    recent = emptied.read("/stats/breakdown", app_id=app_id, by="event", days="10")
    assert [(v["value"], v["events"], v["users"]) for v in recent["values"]] == [("E2", 1, 1)]
    assert "users_since" not in recent


def test_purge_cutoff_is_the_hour_start_retention_days_ago(retained):
    before = time.time()
    cutoff = purge(retained).json()["cutoff"]
    cutoff_seconds = datetime.fromisoformat(cutoff.replace("Z", "+00:00")).timestamp()
    assert cutoff.endswith(":00:00.000Z")
    assert -60 <= before - 30 * DAY - cutoff_seconds < 3600  # the worker's clock may tick past an hour


def test_purging_again_removes_nothing(emptied, app_id):
    seed(emptied, app_id, [45, 2])
    emptied.fold_all()
    assert purge(emptied).json()["deleted"]["events"] == 1
    assert purge(emptied).json()["deleted"] == {"events": 0, "apps": 0}
    assert len(remaining_events(emptied, app_id, WINDOW)) == 1


def test_an_app_with_only_expired_events_keeps_its_history(emptied, app_id):
    user = f"gone-{app_id}"
    seed(emptied, app_id, [50, 35], user_id=user)
    emptied.fold_all()
    assert purge(emptied).json()["deleted"] == {"events": 2, "apps": 0}
    assert [a["events"] for a in emptied.read("/apps", app_id=app_id, days="3660")["apps"]] == [2]
    assert emptied.read("/users", search=user, days="3660")["users"] == []


def test_an_app_with_only_expired_events_disappears_with_aggregates_off(forgetful, app_id):
    user = f"gone-{app_id}"
    seed(forgetful, app_id, [50, 35], user_id=user)
    assert purge(forgetful).json()["deleted"] == {"events": 2, "apps": 1}
    assert forgetful.read("/apps", app_id=app_id, days="3660")["apps"] == []
    assert forgetful.read("/users", search=user, days="3660")["users"] == []


def test_explicit_days_overrides_the_variable(retained, app_id):
    seed(retained, app_id, [20, 5, 1])
    # Other tests' events between 7 and 30 days old go too: only this app's are asserted.
    assert purge(retained, days="7").json()["days"] == 7
    assert sorted(e["event"] for e in remaining_events(retained, app_id, WINDOW)) == ["E1", "E5"]


@pytest.mark.parametrize("days", ["0", "-1", "abc", "1.5", "²", "1" * 5000, "99999999"], ids=lambda v: v[:20])
def test_malformed_days_are_400_and_delete_nothing(retained, app_id, days):
    seed(retained, app_id, [40])
    response = purge(retained, days=days)
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "days"
    assert len(remaining_events(retained, app_id, WINDOW)) == 1


def test_purge_without_retention_days_is_a_400_that_deletes_nothing(api, app_id):
    # The session worker has no RETENTION_DAYS; never pass `days` to it (it holds every test's events).
    assert api.track(event(app_id, timestamp="2020-01-01T00:00:00Z")).status_code == 200
    response = api.post("/admin/purge")
    assert response.status_code == 400
    assert "RETENTION_DAYS" in response.json()["error"]
    assert len(remaining_events(api, app_id, {"from": "2020-01-01", "to": "2020-01-01"})) == 1


def test_purge_needs_the_admin_key(retained, app_id):
    seed(retained, app_id, [40])
    assert retained.post("/admin/purge", key=KEYS["READ_KEY"]).status_code == 403
    assert retained.post("/admin/purge", key=KEYS["INGEST_KEY"]).status_code == 403
    assert len(remaining_events(retained, app_id, WINDOW)) == 1


RAW_ROUTES = (("/stats/funnel", {"steps": "E40,E2"}), ("/stats/retention", {"cohort": "day", "periods": "3"}),
              ("/events", {}))


def raw_reads(api, app_id, user_id):
    """What every route that reads raw events (or the per-user rows that go with them) answers for this app."""
    answers = {path: api.read(path, app_id=app_id, **params, **WINDOW) for path, params in RAW_ROUTES}
    answers["/user"] = api.read("/user", user_id=user_id)
    return answers


def test_routes_reading_raw_events_say_how_far_back_they_reach(retained, app_id):
    user = f"raw-{app_id}"
    seed(retained, app_id, [40, 2], user_id=user)
    retained.fold_all()
    purged = purge(retained)
    assert purged.status_code == 200
    cutoff = datetime.fromisoformat(purged.json()["cutoff"].replace("Z", "+00:00")).timestamp() * 1000
    for path, body in raw_reads(retained, app_id, user).items():
        # The latest purge's cutoff (another test may have purged this database with a shorter period since).
        assert body["raw_since_ms"] >= cutoff, path
        assert body["raw_since"] == datetime.utcfromtimestamp(body["raw_since_ms"] / 1000).strftime(
            "%Y-%m-%dT%H:%M:%S.000Z"), path
    # What is left starts after it: the funnel's first step went with the raw events.
    funnel = retained.read("/stats/funnel", app_id=app_id, steps="E40,E2", **WINDOW)
    assert [s["count"] for s in funnel["steps"]] == [0, 0]


def test_raw_since_is_null_where_nothing_was_ever_purged(api, app_id):
    # The session worker has no RETENTION_DAYS and is never purged.
    user = f"raw-{app_id}"
    seed(api, app_id, [40, 2], user_id=user)
    api.fold_all()
    for path, body in raw_reads(api, app_id, user).items():
        assert (body["raw_since"], body["raw_since_ms"]) == (None, None), path


def test_raw_since_with_aggregates_off_too(forgetful, app_id):
    user = f"raw-{app_id}"
    seed(forgetful, app_id, [40, 2], user_id=user)
    cutoff = purge(forgetful).json()["cutoff"]
    for path, body in raw_reads(forgetful, app_id, user).items():
        assert body["raw_since"] >= cutoff, path  # ISO strings of one format order as the times do


def test_raw_since_costs_a_few_rows_read(retained, api, app_id):
    """One lookup of two `meta` rows by its primary key: the same read of the same events costs a purged worker a
    few rows more than one never purged (measured: 1 to 3)."""
    for server in (retained, api):
        seed(server, app_id, [2], user_id=f"raw-{app_id}")
        server.fold_all()
    purge(retained)
    for path, params in RAW_ROUTES:
        counts = [int(server.get(path, params={"app_id": app_id, **params, "days": "10"}).headers["x-d1-rows-read"])
                  for server in (retained, api)]
        print(path, "rows read, purged and never purged:", counts)
        assert counts[0] <= counts[1] + 4, (path, counts)


def seed_one_request(api, app_id, user_id, sessions):
    """{session: [ages in days]} sent in one request: each session's newest event carries the user's mark there."""
    now = time.time()
    body = {"events": [event(app_id, f"E{age}", session, user_id=user_id, timestamp=now - age * DAY)
                       for session, ages in sessions.items() for age in ages]}
    assert api.track(body).json()["count"] == len(body["events"])


@pytest.mark.parametrize("keep", [True, False], ids=["aggregates-kept", "aggregates-off"])
def test_a_purge_leaves_every_remaining_event_of_a_user_findable(request, keep, app_id):
    """A user's events are found through marks (worker/rollups/marks.py): a purge takes unmarked events before marked
    ones, so what it leaves is still found by user, from any day on, and an erasure then removes it all."""
    from consistency import assert_users_events_found

    api = request.getfixturevalue("emptied" if keep else "forgetful")
    seed_one_request(api, app_id, "walker", {"straddling": [40, 31, 29, 1], "expired": [45, 33]})
    api.fold_all()
    assert purge(api).json()["deleted"]["events"] == 4
    left = remaining_events(api, app_id, WINDOW)
    assert sorted(e["event"] for e in left) == ["E1", "E29"]
    assert_users_events_found(api, app_id, left, {"days": "20"})
    assert api.request("DELETE", "/admin/users", key=KEYS["AUTH_KEY"], params={"user_id": "walker"}).json()[
        "deleted"]["events"] == 2
    assert remaining_events(api, app_id, WINDOW) == []


@pytest.fixture(scope="module")
def slow_purges(tmp_path_factory):
    """RETENTION_DAYS=30, and every step counts as slow (STEP_TARGET_MS=1 ms): each makes the next smaller."""
    server = Worker(tmp_path_factory.mktemp("retention-slow"),
                    variables={**KEYS, "RETENTION_DAYS": "30", "STEP_TARGET_MS": "1"})
    server.start()
    yield Api(server.url)
    server.stop()


def cron(api, **params):
    response = api.post("/admin/cron", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_purge_the_daily_run_leaves_unfinished_goes_on_in_the_cron_runs_after_it(slow_purges, app_id):
    """The daily cron run purges one step (at most 20,000 events, fewer while steps are slow). An app with more
    expired events than that used to fall behind for good: one step a day. Now the runs every few minutes go on,
    a step each, until one finishes, except that a run with something to fold folds first."""
    api = slow_purges
    seed(api, app_id, [40, 41, 42, 43, 44], user_id="first")
    assert cron(api)["ran"] == "fold"  # nothing pending, no retention run: the cron folds
    api.fold_all()
    # The first purge step (all 5) takes more than 1 ms: the next is smaller in proportion.
    first = cron(api, retention="1")
    assert first["ran"] == "purge" and first["deleted"]["events"] == 5 and first["complete"], first
    assert cron(api)["ran"] == "fold"  # finished: nothing pending
    seed(api, app_id, list(range(31, 61)), user_id="second")
    seed(api, app_id, [1, 2, 3], user_id="kept")
    api.fold_all()
    before = api.read("/stats/overview", app_id=app_id, **WINDOW)
    runs = [cron(api, retention="1")]
    assert runs[0]["ran"] == "purge" and not runs[0]["complete"] and 0 < runs[0]["deleted"]["events"] < 30, runs
    # While the purge is pending, a run with something to fold folds (the figures never wait on a long purge).
    seed(api, app_id, [0], user_id="kept")
    assert cron(api)["ran"] == "fold"
    while not runs[-1]["complete"]:
        runs.append(cron(api))
        assert runs[-1]["ran"] == "purge" and len(runs) <= 40, runs  # pending, nothing to fold: a purge step
    assert sum(run["deleted"]["events"] for run in runs) == 30 and len(runs) > 1, runs
    assert cron(api)["ran"] == "fold"  # the purge finished: the runs fold again
    assert sorted(e["user_id"] for e in remaining_events(api, app_id, WINDOW)) == ["kept"] * 4
    after = api.read("/stats/overview", app_id=app_id, **WINDOW)  # the aggregates stay
    # 39 events, less the one 60 days old: the window starts at midnight 59 days ago.
    assert (after["events"], after["sessions"]) == (before["events"] + 1, before["sessions"] + 1) == (38, 38)
    recent = api.read("/stats/overview", app_id=app_id, days="10")
    assert (recent["events"], recent["users"], recent["approximate"]) == (4, 1, False)
