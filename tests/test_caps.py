"""Issue 16, item 5: caps on apps per deployment (`max_apps`) and event names per app (`max_event_names`).

A batch naming a new app or a new event name past its cap is refused whole, naming the setting; what is stored
keeps working; AUTH_KEY raises the caps (`PUT /settings/limits`), no other key can. A worker of its own with
the defaults (100 apps, 200 names per app): the shared worker runs with them raised (conftest.RAISED_CAPS).
"""
import pytest

from conftest import KEYS, event, own_api
from test_aptabase import aptabase_event, app_key, send


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    with own_api(tmp_path_factory, "caps", default_caps=True) as api:
        yield api


def rows(response):
    return int(response.headers["x-d1-rows-read"]), int(response.headers["x-d1-rows-written"])


def total_events(api, app_id, debug=False):
    api.fold_all()
    found = api.read("/apps", app_id=app_id, **({"debug": "true"} if debug else {}))["apps"]
    return found[0]["total_events"] if found else 0


def set_limits(api, key=KEYS["AUTH_KEY"], **limits):
    return api.request("PUT", "/settings/limits", key=key, json=limits)


def test_the_defaults_are_listed_to_any_reading_key(fresh):
    for key in (KEYS["AUTH_KEY"], KEYS["READ_KEY"]):
        answer = fresh.get("/settings/limits", key=key).json()
        assert answer["limits"] == answer["defaults"] == {"max_apps": 100, "max_event_names": 200}


def test_event_names_past_the_default_cap_are_refused_naming_the_setting(fresh):
    app_id = "names-app"
    assert fresh.track({"events": [event(app_id, f"Name {n:03d}") for n in range(200)]}).json()["count"] == 200
    # At the cap: known names keep coming in, folded or not.
    assert fresh.track({"events": [event(app_id, "Name 000"), event(app_id, "Name 199")]}).status_code == 200
    fresh.fold_all()
    assert fresh.track(event(app_id, "Name 042")).status_code == 200

    mixed = {"events": [event(app_id, "Name 001"), event(app_id, "Brand new"), event(app_id, "Name 002")]}
    refused = fresh.track(mixed)
    assert refused.status_code == 400, refused.text
    body = refused.json()
    assert "max_event_names" in body["error"] and "nothing was stored" in body["error"]
    assert [(d["index"], d["field"]) for d in body["details"]] == [(1, "event")]
    assert "max_event_names (200)" in body["details"][0]["message"]
    assert total_events(fresh, app_id) == 203  # the batch's known names were not stored either

    # A debug build's names are its twin's own (its own figures, its own 200).
    assert fresh.track(event(app_id, "Brand new", debug=True)).status_code == 200

    for key in (KEYS["INGEST_KEY"], KEYS["READ_KEY"]):
        assert set_limits(fresh, key, max_event_names=201).status_code == 403
    assert fresh.track(mixed).status_code == 400
    raised = set_limits(fresh, max_event_names=201)
    assert raised.status_code == 200 and raised.json()["limits"]["max_event_names"] == 201
    assert fresh.track(mixed).json()["count"] == 3
    assert fresh.track(event(app_id, "One more")).status_code == 400  # 201 of 201
    assert set_limits(fresh, max_event_names=None).json()["limits"]["max_event_names"] == 200  # the default again
    assert total_events(fresh, app_id) == 206


def test_new_apps_past_the_default_cap_are_refused_naming_the_setting(fresh):
    fresh.fold_all()
    held = len(fresh.read("/apps")["apps"])  # the app of the test above
    apps = [f"app-{n:03d}" for n in range(100 - held)]
    for start in range(0, len(apps), 8):  # ten app ids a body (twins included), the most one may name
        batch = [event(app) for app in apps[start:start + 8]]
        # A debug twin counts with its release app: sending both is one app.
        batch += [event(app, "Debug only", debug=True) for app in apps[start:start + 2]]
        assert fresh.track({"events": batch}).status_code == 200
    # A debug-only app is an app as well: the one past the cap is refused, debug or not.
    for body in ({"events": [event(apps[0]), event("app-new")]}, event("app-new", debug=True)):
        refused = fresh.track(body)
        assert refused.status_code == 403, refused.text
        assert "max_apps" in refused.json()["error"] and "nothing was stored" in refused.json()["error"]
        assert "max_apps (100)" in refused.json()["details"][0]["message"]
    assert total_events(fresh, apps[0]) == 1 and total_events(fresh, "app-new", debug=True) == 0

    # At the cap, every app keeps receiving events, its debug builds included, with new names too.
    assert fresh.track({"events": [event(apps[-1], "Something else"), event(apps[-1], debug=True)]}).status_code == 200

    # The Aptabase routes refuse the same way: a key for an app past the cap does not let its events in.
    key = app_key(fresh, "aptabase-app")
    refused = send(fresh.url, "/api/v0/events", [aptabase_event()], key)
    assert refused.status_code == 403 and "max_apps" in refused.json()["error"]

    for other in (KEYS["INGEST_KEY"], KEYS["READ_KEY"]):
        assert set_limits(fresh, other, max_apps=1000).status_code == 403
    assert set_limits(fresh, max_apps=101).json()["limits"]["max_apps"] == 101
    assert fresh.track(event("app-new")).json()["count"] == 1
    assert send(fresh.url, "/api/v0/events", [aptabase_event()], key).status_code == 403  # 101 of 101
    assert set_limits(fresh, max_apps=102).status_code == 200
    assert send(fresh.url, "/api/v0/events", [aptabase_event()], key).json()["count"] == 1
    assert total_events(fresh, "app-new") == 1


def test_lowering_a_cap_refuses_only_what_is_new(fresh):
    apps_over = "app-098"  # two names already: past a cap of one, and still receiving them
    assert set_limits(fresh, max_apps=5, max_event_names=1).status_code == 200
    try:
        assert fresh.track({"events": [event("app-001"), event(apps_over, "Something else")]}).status_code == 200
        assert fresh.track(event("app-001", "Another")).status_code == 400
        assert fresh.track(event("app-never-seen")).status_code == 403
    finally:
        assert set_limits(fresh, max_apps=None, max_event_names=None).status_code == 200


@pytest.mark.parametrize("limits", [{"max_apps": 0}, {"max_apps": 100_001}, {"max_event_names": 1.5},
                                    {"max_event_names": True}, {"max_apps": "200"}, {"apps": 5}, {}])
def test_a_cap_must_be_a_whole_number_from_1_to_the_ceiling(fresh, limits):
    response = set_limits(fresh, **limits)
    assert response.status_code == 400, response.text
    assert response.json()["details"]


def test_the_check_costs_a_row_read_per_distinct_event_name_of_the_batch(fresh):
    """Measured: a 25-event /track of 5 known names read 77 rows before the caps and 82 with them (written 125). Since
    sessions are found through spans (rollups/spans.py) the insert reads ~8 rows per event (api/ingest.INSERT_SQL:
    its window and its materialized first copies are billed as rows read), and the user marks' check after it
    (api/ingest.INGEST_FIX_SQL) ~3 per session and user of the batch, and the session cap's count
    (api/session_cap.py) a span per request that stored events in the session before: here each event is a session
    of its own, 25 of them, each sent once before (written: the row, the name index, and a span and a mark each,
    100)."""
    body = {"events": [event("app-002", f"Steady {n % 5}", f"s{n}", user_id="u", properties={"plan": "pro"})
                       for n in range(25)]}
    assert fresh.track(body).status_code == 200
    fresh.fold_all()
    read, written = rows(fresh.track(body))
    assert read <= 9 * 25 + 5 + 3 + 3 * 25 + 25 and written <= 100


def test_erasing_an_app_frees_its_place_once_its_debug_twin_is_gone_too(fresh):
    fresh.fold_all()
    held = len(fresh.read("/apps")["apps"])
    assert held > 100 and set_limits(fresh, max_apps=held).status_code == 200
    try:
        assert fresh.track(event("after-erasure-1")).status_code == 403
        assert fresh.request("DELETE", "/admin/apps/app-002").status_code == 200  # no debug twin
        assert fresh.track(event("after-erasure-1")).status_code == 200
        assert fresh.request("DELETE", "/admin/apps/app-000").status_code == 200
        assert fresh.track(event("after-erasure-2")).status_code == 403  # debug:app-000 still holds the place
        assert fresh.request("DELETE", "/admin/apps", params={"app_id": "debug:app-000"}).status_code == 200
        assert fresh.track(event("after-erasure-2")).status_code == 200
    finally:
        assert set_limits(fresh, max_apps=None).status_code == 200


def test_a_session_past_its_cap_of_events_is_refused_and_a_new_session_is_not(api, app_id):
    """A session holds at most MAX_SESSION_EVENTS events (api/session_cap.py): every read of a session, and every
    fold step that sees it, reads it whole. A request into a session at the cap is refused whole (400, each of its
    events of that session named); the same events in a new session are stored. What a session holds is counted
    from its spans: one index entry per request that stored events in it."""
    from api.session_cap import MAX_SESSION_EVENTS

    batches = MAX_SESSION_EVENTS // 1000
    for batch in range(batches):
        body = {"events": [event(app_id, "Tick", "long", timestamp=1_714_556_400 + batch * 1000 + n)
                           for n in range(1000)]}
        assert api.track(body).json()["count"] == 1000
    over = api.track({"events": [event(app_id, "Tick", "other", timestamp=1_714_566_500),
                                 event(app_id, "Tick", "long", timestamp=1_714_566_501),
                                 event(app_id, "Tick", "long", timestamp=1_714_566_502)]})
    assert over.status_code == 400, over.text
    body = over.json()
    assert [(d["index"], d["field"]) for d in body["details"]] == [(1, "session_id"), (2, "session_id")]
    assert f"{MAX_SESSION_EVENTS:,} events" in body["error"] and "nothing was stored" in body["error"]
    # Counting the long session read its spans: one per request, not one per event.
    assert rows(over)[0] <= 3 * batches, rows(over)
    assert total_events(api, app_id) == MAX_SESSION_EVENTS
    assert api.track(event(app_id, "Tick", "next", timestamp=1_714_566_501)).json()["count"] == 1
    assert total_events(api, app_id) == MAX_SESSION_EVENTS + 1
