"""Issue 18, hardening round 2: edge values and bounded reads, against the real worker (wrangler dev + local D1)."""
import time
from datetime import datetime, timezone

import pytest

from conftest import event, own_api

HOUR_MS = 3600 * 1000


def rows_read(response):
    return int(response.headers["x-d1-rows-read"])


def iso(ms):
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def epoch_ms(text):
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


# 5. Both intervals of /stats/active (and the calendar's days) allow ranges of 3,660 days, as the README says.
@pytest.mark.parametrize("route, interval", [("/stats/active", "week"), ("/stats/active", "day"),
                                             ("/stats/calendar", "day"), ("/stats/timeline", "day")])
def test_3660_days_are_allowed_for_every_day_and_week_interval(api, app_id, route, interval):
    response = api.get(route, params={"app_id": app_id, "interval": interval, "days": "3660"})
    assert response.status_code == 200, response.text


def test_a_range_past_3660_days_names_the_interval_asked_for(api, app_id):
    response = api.get("/stats/active", params={"app_id": app_id, "interval": "week", "days": "3662"})
    assert response.status_code == 400
    assert "interval=week" in response.json()["error"]
    assert [d["field"] for d in response.json()["details"]] == ["interval"]


# 6. Property keys with NUL and integers no 64-bit integer holds: decided once, at ingest.
@pytest.mark.parametrize("properties", [{"a\u0000b": 1}, {"ok": {"x\u0000": 1}}])
def test_a_property_key_with_nul_is_a_400_naming_it(api, app_id, properties):
    response = api.track(event(app_id, properties=properties))
    assert response.status_code == 400, response.text
    [problem] = response.json()["details"]
    assert problem["field"] == "properties" and "NUL" in problem["message"]
    assert api.read("/apps", app_id=app_id)["apps"] == []


def test_integers_past_64_bits_are_stored_as_their_digits_and_every_route_shows_the_same(api, app_id):
    huge, past_64_bits, fits = "9" * 400, 2**64, 2**62
    sent = {"huge": int(huge), "big": past_64_bits, "fits": fits, "nested": [-(2**70)]}
    assert api.track(event(app_id, "Bought", properties=sent)).json()["count"] == 1
    api.fold_all()
    [stored] = api.read("/events", app_id=app_id)["events"]
    assert stored["properties"] == {"huge": huge, "big": str(past_64_bits), "fits": fits, "nested": [str(-(2**70))]}

    def breakdown(key):
        return [v["value"] for v in api.read("/stats/breakdown", app_id=app_id, event="Bought",
                                             by=f"property:{key}")["values"]]

    assert breakdown("big") == [str(past_64_bits)]
    assert breakdown("fits") == [str(fits)]
    assert breakdown("huge") == [huge[:100]]  # breakdown values are cut to 100 characters, as any string


# 7. /suggest reads about `limit` rows; a user's per-app list comes in pages.
@pytest.fixture(scope="module")
def two_thousand_users(api):
    app = f"test-suggest-{time.time_ns()}"
    for batch in range(2):
        sent = [event(app, "Opened", f"s{batch}-{i}", user_id=f"user-{batch}-{i:04d}") for i in range(1000)]
        assert api.track({"events": sent}).json()["count"] == 1000
    api.fold_all()
    return app


@pytest.mark.parametrize("prefix, expected", [("zzz", []), ("user-1-09", [f"user-1-09{i:02d}" for i in range(10)]),
                                              ("user-0-0007", ["user-0-0007"])])
def test_suggesting_user_ids_of_an_app_reads_about_limit_rows(api, two_thousand_users, prefix, expected):
    response = api.get("/suggest", params={"field": "user_id", "prefix": prefix, "app_id": two_thousand_users})
    assert response.status_code == 200, response.text
    assert response.json()["values"] == expected
    assert rows_read(response) <= 10 + 5


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    """Tests that need many apps: other tests' bounds grow with the apps of the shared database."""
    with own_api(tmp_path_factory, "many-apps") as api:
        yield api


def test_suggesting_user_ids_over_every_app_reads_about_limit_rows(own, app_id):
    api = own
    # Three users, each in 150 apps: DISTINCT over the primary key would read 450 rows for three ids.
    users = [f"{app_id}-user-{n}" for n in range(3)]
    sent = [event(f"{app_id}-{a}", "Opened", "s1", user_id=user) for a in range(150) for user in users]
    for start in range(0, len(sent), 30):  # ten apps a body
        assert api.track({"events": sent[start:start + 30]}).status_code == 200
    api.fold_all()
    response = api.get("/suggest", params={"field": "user_id", "prefix": f"{app_id}-user-", "limit": "2"})
    assert response.json()["values"] == users[:2]
    assert rows_read(response) <= 2 * 2 + 6  # a row per step, and its row in the recursive query's queue
    response = api.get("/suggest", params={"field": "user_id", "prefix": f"{app_id}-user-"})
    assert response.json()["values"] == users
    assert rows_read(response) <= 2 * (3 + 1) + 6


def test_a_users_per_app_list_comes_in_pages(own, app_id):
    api = own
    user = f"{app_id}-everywhere"
    sent = [event(f"{app_id}-{a:03d}", "Opened", "s1", user_id=user, timestamp=f"2024-05-01T10:{a % 60:02d}:00Z")
            for a in range(250)]
    for start in range(0, len(sent), 10):
        assert api.track({"events": sent[start:start + 10]}).status_code == 200
    api.fold_all()
    first = api.read("/user", user_id=user)
    assert (first["events"], first["sessions"], first["apps_total"]) == (250, 250, 250)
    assert len(first["apps"]) == 100 and first["apps_next_cursor"]
    listed = first["apps"]
    cursor = first["apps_next_cursor"]
    while cursor:
        page = api.read("/user", user_id=user, apps_cursor=cursor)
        assert page["events"] == 250 and len(page["apps"]) <= 100
        listed += page["apps"]
        cursor = page["apps_next_cursor"]
    assert sorted(a["app_id"] for a in listed) == sorted(f"{app_id}-{a:03d}" for a in range(250))
    seen = [(a["last_seen"], a["app_id"]) for a in listed]
    assert seen == sorted(seen, key=lambda s: (-epoch_ms(s[0]), s[1]))  # most recently seen first, throughout
    small = api.read("/user", user_id=user, apps_limit="7")
    assert len(small["apps"]) == 7 and small["apps"] == listed[:7]
    assert api.get("/user", params={"user_id": user, "apps_cursor": "nope"}).status_code == 400
    assert api.get("/user", params={"user_id": user, "apps_limit": "0"}).status_code == 400


# 8. Events from the future: a timestamp later than the moment of receipt is stored as that moment.
@pytest.mark.parametrize("ahead_ms", [2 * HOUR_MS, 3 * 24 * HOUR_MS])
def test_an_event_stamped_ahead_is_stored_at_its_arrival_and_read_at_once(api, app_id, ahead_ms):
    before = int(time.time() * 1000)
    user = f"{app_id}-u1"
    response = api.track(event(app_id, user_id=user, timestamp=iso(before + ahead_ms)))
    assert response.status_code == 200, response.text
    after = int(time.time() * 1000)
    [stored] = api.read("/events", app_id=app_id)["events"]
    assert before - 1000 <= epoch_ms(stored["timestamp"]) <= after
    assert stored["timestamp"] == stored["received_at"]
    api.fold_all()
    assert api.read("/stats/overview", app_id=app_id)["events"] == 1  # the default range ends now
    [app] = api.read("/apps", app_id=app_id)["apps"]
    assert epoch_ms(app["last_seen"]) <= after
    assert epoch_ms(api.read("/user", user_id=user)["last_seen"]) <= after


def test_an_event_stamped_a_few_seconds_behind_keeps_its_time(api, app_id):
    stamp = int(time.time() * 1000) - 5000
    assert api.track(event(app_id, timestamp=iso(stamp))).status_code == 200
    [stored] = api.read("/events", app_id=app_id)["events"]
    assert epoch_ms(stored["timestamp"]) == stamp
