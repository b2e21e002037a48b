"""The README's first steps against the real worker: send the seed's example event, read it back."""
from conftest import event

SEED_EXAMPLE = {
    "event": "App Opened",
    "app_id": "my-awesome-app",
    "session_id": "user-session-123",
    "timestamp": "2024-03-20T10:00:00Z",
}


def test_health_needs_no_key(api):
    response = api.get("/health", key=None)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "schema_version": 3}


def test_seed_example_is_stored_and_readable(api):
    response = api.track(SEED_EXAMPLE)
    assert response.status_code == 200
    assert response.json() == {"success": True, "count": 1, "duplicates": 0}
    listed = api.read("/events", app_id="my-awesome-app", **{"from": "2024-03-20", "to": "2024-03-20"})
    assert [(e["event"], e["session_id"], e["timestamp"]) for e in listed["events"]] == [
        ("App Opened", "user-session-123", "2024-03-20T10:00:00.000Z")
    ]
    overview = api.read("/stats/overview", app_id="my-awesome-app", **{"from": "2024-03-20", "to": "2024-03-20"})
    assert (overview["events"], overview["sessions"], overview["apps"]) == (1, 1, 1)


def test_event_without_timestamp_shows_in_default_overview(api, app_id):
    assert api.track(event(app_id)).status_code == 200
    overview = api.read("/stats/overview", app_id=app_id)
    assert (overview["events"], overview["sessions"], overview["users"]) == (1, 1, 0)
