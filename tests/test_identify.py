"""POST /identify and the SDK's identify: an anonymous id's events move to the identified user, so one person who
used the app before signing in counts as one user (issue 19, item 9). Every figure stays what the raw events say."""
import uuid

import pytest

from conftest import KEYS, event
from consistency import ALL_TIME, all_events, assert_rollups_match_events, assert_sessions_and_active_match_events

INGEST = KEYS["INGEST_KEY"]


def link(api, app_id, anonymous_id, user_id, **extra):
    return api.post("/identify", key=INGEST, json={"app_id": app_id, "anonymous_id": anonymous_id,
                                                   "user_id": user_id, **extra})


def stamp(minutes_ago):
    from datetime import datetime, timedelta, timezone
    moment = datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def send(api, events):
    for start in range(0, len(events), 1000):
        response = api.track({"events": events[start:start + 1000]}, key=INGEST)
        assert response.status_code == 200, response.text


def users_of(api, app_id):
    api.fold_all()
    overview = api.read("/stats/overview", app_id=app_id, **ALL_TIME)
    listed = {u["user_id"]: u["events"] for u in api.read("/users", app_id=app_id, limit=1000, **ALL_TIME)["users"]}
    return overview["users"], listed


def test_track_identify_track_counts_one_user(api, app_id):
    anonymous = str(uuid.uuid4())
    send(api, [event(app_id, "App Opened", "s1", user_id=anonymous, timestamp=stamp(10)),
               event(app_id, "Viewed", "s1", user_id=anonymous, timestamp=stamp(9))])
    api.fold_all()
    assert users_of(api, app_id) == (1, {anonymous: 2})
    response = link(api, app_id, anonymous, "u-42")
    assert response.status_code == 200, response.text
    assert response.json()["moved"] == 2 and response.json()["complete"] is True
    send(api, [event(app_id, "Exported", "s1", user_id="u-42", timestamp=stamp(8))])
    assert users_of(api, app_id) == (1, {"u-42": 3})
    assert_rollups_match_events(api, app_id, ALL_TIME)
