"""POST /identify and the SDK's identify: an anonymous id's events move to the identified user, so one person who
used the app before signing in counts as one user (issue 19, item 9). Every figure stays what the raw events say."""
import uuid
from datetime import datetime, timedelta, timezone

from oddlytics import Backoff, Client

from conftest import KEYS, event
from consistency import (ALL_TIME, all_events, assert_rollups_match_events, assert_sessions_and_active_match_events)

INGEST = KEYS["INGEST_KEY"]
NOW = datetime.now(timezone.utc)
# The last 40 whole UTC days up to tomorrow: every event these tests send, the oldest older than LINK_DAYS.
WINDOW = {"from": (NOW - timedelta(days=40)).strftime("%Y-%m-%d"), "to": (NOW + timedelta(days=1)).strftime("%Y-%m-%d")}


def link(api, app_id, anonymous_id, user_id, key=INGEST, **extra):
    return api.post("/identify", key=key, json={"app_id": app_id, "anonymous_id": anonymous_id,
                                                "user_id": user_id, **extra})


def stamp(minutes_ago):
    return (NOW - timedelta(minutes=minutes_ago)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def send(api, events):
    for start in range(0, len(events), 1000):
        response = api.track({"events": events[start:start + 1000]}, key=INGEST)
        assert response.status_code == 200, response.text


def users_of(api, app_id):
    """(users in the overview, {user: events} from /users, active users today) over WINDOW."""
    api.fold_all()
    overview = api.read("/stats/overview", app_id=app_id, **WINDOW)
    listed = {u["user_id"]: u["events"] for u in api.read("/users", app_id=app_id, limit=1000, **WINDOW)["users"]}
    active = api.read("/stats/active", app_id=app_id, interval="day", **WINDOW)["buckets"]
    return overview["users"], listed, max(b["active"] for b in active)


def make_client(api, app_id, tmp_path):
    return Client(api.url, INGEST, app_id, persist_path=tmp_path / "queue.db", flush_interval=3600,
                  backoff=Backoff(0.05, 0.1))


def test_the_readme_example_counts_one_user_when_identify_comes_after_events_were_sent(api, app_id, tmp_path):
    client = make_client(api, app_id, tmp_path)
    anonymous = client.user_id
    opened = client.track("App Opened")
    assert client.flush(timeout=30)  # sent under the anonymous id before the person signs in
    api.fold_all()
    assert users_of(api, app_id) == (1, {anonymous: 1}, 1)
    client.identify("u-42")
    exported = client.track("Exported", {"format": "csv", "rows": 1200})
    assert client.flush(timeout=30)
    assert client.stats["linked"] == 1
    client.close()
    assert users_of(api, app_id) == (1, {"u-42": 2}, 1)
    # The user page and the user's events show what they did before signing in.
    user = api.read("/users/u-42")
    mine = [a for a in user["apps"] if a["app_id"] == app_id]
    assert mine[0]["events"] == 2
    events = {e["event_id"]: e for e in all_events(api, app_id)}
    assert set(events) == {opened, exported} and {e["user_id"] for e in events.values()} == {"u-42"}
    assert api.get("/users/" + anonymous).status_code == 404
    assert_rollups_match_events(api, app_id, WINDOW)
    assert_sessions_and_active_match_events(api, app_id, WINDOW)


def test_the_readme_example_counts_one_user_when_everything_was_still_queued(api, app_id, tmp_path):
    with make_client(api, app_id, tmp_path) as client:
        client.track("App Opened")
        client.identify("u-42")
        client.track("Exported")
        assert client.flush(timeout=30)
    assert users_of(api, app_id) == (1, {"u-42": 2}, 1)


def test_a_link_moves_folded_and_unfolded_events_and_every_figure_stays_consistent(api, app_id):
    anonymous, stranger = str(uuid.uuid4()), str(uuid.uuid4())
    send(api, [
        event(app_id, "App Opened", "s1", user_id=anonymous, timestamp=stamp(60 * 50), platform="iOS",
              properties={"plan": "free"}),
        event(app_id, "Viewed", "s1", user_id=anonymous, timestamp=stamp(60 * 49), properties={"plan": "free"}),
        event(app_id, "Viewed", "s1", user_id="other", timestamp=stamp(60 * 49 - 1)),  # someone in the same session
        event(app_id, "App Opened", "s2", user_id=stranger, timestamp=stamp(60 * 30)),
        event(app_id, "App Opened", "s3", user_id="u-7", timestamp=stamp(60 * 24 * 3)),  # the user, elsewhere
    ])
    api.fold_all()
    send(api, [  # not folded yet when the link comes
        event(app_id, "Viewed", "s4", user_id=anonymous, timestamp=stamp(20), properties={"plan": "pro"}),
        event(app_id, "Paid", "s4", timestamp=stamp(19)),
    ])
    response = link(api, app_id, anonymous, "u-7")
    assert response.status_code == 200, response.text
    assert {k: response.json()[k] for k in ("moved", "complete", "moved_total")} == \
        {"moved": 3, "complete": True, "moved_total": 3}
    send(api, [event(app_id, "Paid", "s4", user_id="u-7", timestamp=stamp(18))])
    overview_users, listed, _ = users_of(api, app_id)
    assert (overview_users, listed) == (3, {"u-7": 5, "other": 1, stranger: 1})
    assert_rollups_match_events(api, app_id, WINDOW)
    assert_sessions_and_active_match_events(api, app_id, WINDOW)


def test_moved_events_keep_their_event_ids_so_a_late_retry_is_still_a_duplicate(api, app_id):
    anonymous = str(uuid.uuid4())
    original = event(app_id, "App Opened", "s1", user_id=anonymous, timestamp=stamp(5), event_id="e-1")
    send(api, [original])
    before = all_events(api, app_id)
    assert link(api, app_id, anonymous, "u-1").json()["moved"] == 1
    after = all_events(api, app_id)
    assert [(e["event_id"], e["user_id"]) for e in after] == [("e-1", "u-1")] and after[0]["id"] > before[0]["id"]
    retried = api.track({"events": [original]}, key=INGEST).json()
    assert (retried["count"], retried["duplicates"]) == (0, 1)
    assert users_of(api, app_id)[:2] == (1, {"u-1": 1})


def test_a_second_link_is_harmless_and_a_link_to_someone_else_is_refused(api, app_id):
    anonymous = str(uuid.uuid4())
    send(api, [event(app_id, "App Opened", "s1", user_id=anonymous, timestamp=stamp(5)),
               event(app_id, "Viewed", "s1", user_id=anonymous, timestamp=stamp(4))])
    assert link(api, app_id, anonymous, "u-1").json()["moved"] == 2
    figures = users_of(api, app_id)
    again = link(api, app_id, anonymous, "u-1")
    assert again.status_code == 200 and again.json()["moved"] == 0 and again.json()["moved_total"] == 2
    assert int(again.headers["x-d1-rows-written"]) == 0
    assert users_of(api, app_id) == figures == (1, {"u-1": 2}, 1)
    # Events the anonymous id still sends (an older SDK, a queue the link overtook) follow on a repeat.
    send(api, [event(app_id, "Late", "s1", user_id=anonymous, timestamp=stamp(3))])
    assert link(api, app_id, anonymous, "u-1").json()["moved"] == 1
    elsewhere = link(api, app_id, anonymous, "u-2")
    assert elsewhere.status_code == 409 and "another user" in elsewhere.json()["error"]
    assert users_of(api, app_id) == (1, {"u-1": 3}, 1)
    assert_rollups_match_events(api, app_id, WINDOW)


def test_the_cap_holds_newest_first_and_old_events_stay_anonymous(api, app_id):
    from rollups.links import LINK_DAYS, MAX_MOVED
    anonymous = str(uuid.uuid4())
    old = [event(app_id, "Old", f"old{i}", user_id=anonymous, timestamp=stamp(60 * 24 * (LINK_DAYS + 2) + i))
           for i in range(3)]
    recent = [event(app_id, "Recent", f"r{i // 50}", user_id=anonymous, timestamp=stamp(60 * 24 * 20 - i))
              for i in range(MAX_MOVED + 5)]
    send(api, old + recent)
    api.fold_all()
    first = link(api, app_id, anonymous, "u-9").json()
    assert (first["moved"], first["moved_total"], first["complete"]) == (MAX_MOVED, MAX_MOVED, False)
    assert link(api, app_id, anonymous, "u-9").json()["moved"] == 0  # the cap is per anonymous id, not per call
    events = all_events(api, app_id)
    kept = sorted(e["timestamp"] for e in events if e["user_id"] == anonymous)
    moved = sorted(e["timestamp"] for e in events if e["user_id"] == "u-9")
    assert len(kept) == 8 and len(moved) == MAX_MOVED and max(kept) < min(moved)
    assert users_of(api, app_id)[:2] == (2, {"u-9": MAX_MOVED, anonymous: 8})
    assert_rollups_match_events(api, app_id, WINDOW)


def test_a_link_leaves_crowded_sessions_and_all_but_the_newest_sessions_alone(api, app_id):
    from rollups.links import MAX_SESSION_EVENTS, MAX_SESSIONS
    anonymous = str(uuid.uuid4())
    crowd = [event(app_id, "Crowd", "busy", user_id=f"c{i % 10}", timestamp=stamp(2000 + i))
             for i in range(MAX_SESSION_EVENTS)]
    send(api, crowd + [event(app_id, "In a crowd", "busy", user_id=anonymous, timestamp=stamp(60))])
    send(api, [event(app_id, "Own", f"own{i}", user_id=anonymous, timestamp=stamp(1000 - i))
               for i in range(MAX_SESSIONS + 2)])
    api.fold_all()
    moved = link(api, app_id, anonymous, "u-3").json()
    assert moved["moved"] == MAX_SESSIONS and moved["complete"] is True
    left = [e for e in all_events(api, app_id) if e["user_id"] == anonymous]
    assert sorted(e["session_id"] for e in left) == ["busy", "own0", "own1"]  # the crowded one, the 2 oldest
    assert_rollups_match_events(api, app_id, WINDOW)


def test_only_anonymous_ids_can_be_linked_and_only_with_the_ingest_or_admin_key(api, app_id):
    send(api, [event(app_id, "App Opened", "s1", user_id="u-42", timestamp=stamp(5))])
    refused = link(api, app_id, "u-42", "attacker")
    assert refused.status_code == 400 and refused.json()["details"][0]["field"] == "anonymous_id"
    same = str(uuid.uuid4())
    assert link(api, app_id, same, same).status_code == 400
    assert link(api, app_id, str(uuid.uuid4()), "").status_code == 400
    assert link(api, app_id, str(uuid.uuid4()), "u-1", key=KEYS["READ_KEY"]).status_code == 403
    assert link(api, app_id, str(uuid.uuid4()), "u-1", key=None).status_code == 401
    assert api.post("/identify", key=INGEST, data="{", headers={"Content-Type": "application/json"}).status_code == 400
    assert link(api, app_id, str(uuid.uuid4()), "u-1", key=KEYS["AUTH_KEY"]).status_code == 200
    assert users_of(api, app_id)[:2] == (1, {"u-42": 1})


def test_an_identified_users_uuid_is_never_moved_as_if_it_were_anonymous(api, app_id):
    anonymous, member = str(uuid.uuid4()), str(uuid.uuid4())  # an app whose own user ids are UUIDs
    send(api, [event(app_id, "App Opened", "s1", user_id=anonymous, timestamp=stamp(6)),
               event(app_id, "Paid", "s1", user_id=member, timestamp=stamp(5))])
    assert link(api, app_id, anonymous, member).json()["moved"] == 1
    stolen = link(api, app_id, member, "attacker")
    assert stolen.status_code == 409 and "identified user" in stolen.json()["error"]
    assert users_of(api, app_id)[:2] == (1, {member: 2})


def test_erasing_the_user_forgets_their_links(api, app_id):
    anonymous = str(uuid.uuid4())
    send(api, [event(app_id, "App Opened", "s1", user_id=anonymous, timestamp=stamp(5))])
    assert link(api, app_id, anonymous, "u-5").json()["moved"] == 1
    erased = api.request("DELETE", "/admin/users", params={"user_id": "u-5", "app_id": app_id}, key=KEYS["AUTH_KEY"])
    assert erased.status_code == 200 and erased.json()["deleted"]["events"] == 1
    # No trace of which anonymous id was theirs: the id is free again.
    assert link(api, app_id, anonymous, "u-6").status_code == 200
    # Erasing the anonymous id itself forgets its link too (the id is nowhere in the database afterwards).
    erased = api.request("DELETE", "/admin/users", params={"user_id": anonymous}, key=KEYS["AUTH_KEY"])
    assert erased.status_code == 200
    assert link(api, app_id, anonymous, "u-8").status_code == 200


def test_links_switched_off_answer_404_and_the_sdk_drops_its_link(tmp_path_factory, tmp_path):
    from conftest import Api
    from scripts.devserver import Worker
    server = Worker(tmp_path_factory.mktemp("links-off"), variables={**KEYS, "IDENTIFY_LINKS": "off"})
    try:
        server.start()
        api, app_id = Api(server.url), "links-off"
        off = link(api, app_id, str(uuid.uuid4()), "u-1")
        assert off.status_code == 404 and "IDENTIFY_LINKS=off" in off.json()["error"]
        with Client(api.url, INGEST, app_id, persist_path=tmp_path / "q.db", flush_interval=3600,
                    backoff=Backoff(0.05, 0.1)) as client:
            anonymous = client.user_id
            client.track("App Opened")
            assert client.flush(timeout=30)
            client.identify("u-1")
            client.track("Exported")
            assert client.flush(timeout=30)  # the refused link does not hold the queue up
            assert (client.stats["linked"], client.stats["rejected"], client.stats["stored"]) == (0, 1, 2)
        assert users_of(api, app_id)[:2] == (2, {anonymous: 1, "u-1": 1})  # as before links
    finally:
        server.stop()
