"""Retention against a dedicated worker with RETENTION_DAYS=30 (purges touch every app of its database)."""
import time
from datetime import datetime

import pytest

from conftest import KEYS, Api, event
from consistency import assert_rollups_match_events, remaining_events
from scripts.devserver import Worker

DAY = 86400
WINDOW = {"days": "60"}


@pytest.fixture(scope="module")
def retained(tmp_path_factory):
    server = Worker(tmp_path_factory.mktemp("retention"), variables={**KEYS, "RETENTION_DAYS": "30"})
    server.start()
    yield Api(server.url)
    server.stop()


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


def test_purge_removes_events_older_than_retention_days_and_their_rollups(emptied, app_id):
    seed(emptied, app_id, [40, 31, 29, 1])
    response = purge(emptied)
    assert response.status_code == 200
    body = response.json()
    assert (body["deleted"], body["complete"], body["days"]) == ({"events": 2, "apps": 0}, True, 30)
    left = assert_rollups_match_events(emptied, app_id, WINDOW)
    assert sorted(e["event"] for e in left) == ["E1", "E29"]


def test_purge_cutoff_is_the_hour_start_retention_days_ago(retained):
    before = time.time()
    cutoff = purge(retained).json()["cutoff"]
    cutoff_seconds = datetime.fromisoformat(cutoff.replace("Z", "+00:00")).timestamp()
    assert cutoff.endswith(":00:00.000Z")
    assert -60 <= before - 30 * DAY - cutoff_seconds < 3600  # the worker's clock may tick past an hour


def test_purging_again_removes_nothing(emptied, app_id):
    seed(emptied, app_id, [45, 2])
    assert purge(emptied).json()["deleted"]["events"] == 1
    assert purge(emptied).json()["deleted"] == {"events": 0, "apps": 0}
    assert len(assert_rollups_match_events(emptied, app_id, WINDOW)) == 1


def test_an_app_with_only_expired_events_disappears(emptied, app_id):
    user = f"gone-{app_id}"
    seed(emptied, app_id, [50, 35], user_id=user)
    assert purge(emptied).json()["deleted"] == {"events": 2, "apps": 1}
    assert emptied.read("/apps", app_id=app_id, days="3660")["apps"] == []
    assert emptied.read("/users", search=user, days="3660")["users"] == []


def test_explicit_days_overrides_the_variable(retained, app_id):
    seed(retained, app_id, [20, 5, 1])
    # Other tests' events between 7 and 30 days old go too: only this app's are asserted.
    assert purge(retained, days="7").json()["days"] == 7
    assert sorted(e["event"] for e in assert_rollups_match_events(retained, app_id, WINDOW)) == ["E1", "E5"]


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
