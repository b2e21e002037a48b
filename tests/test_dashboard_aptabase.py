"""Issue 17 in the dashboard (AppTest against the real local worker): the Release/Debug switch, an app page's
App-Key with each SDK's init for this worker, and the note on daily visitors."""
import time

import requests

from conftest import KEYS, event
from test_dashboard import link_params, open_dashboard, select_row


def metrics(at):
    return {m.label: m.value for m in at.metric}


def test_the_builds_switch_reads_debug_events_apart(monkeypatch, worker, api, app_id):
    """Also: an app whose users all have ids of their own shows no daily-visitor note."""
    now = time.time()
    batch = [event(app_id, "open", "s1", user_id="r1", timestamp=now - 600),
             event(app_id, "buy", "s1", user_id="r1", timestamp=now - 500),
             event(app_id, "crash", "s9", user_id="d1", debug=True, timestamp=now - 400)]
    assert api.track({"events": batch}).json()["count"] == 3
    api.fold_all()
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], app=app_id)
    assert at.sidebar.radio(key="builds").value == "Release"
    assert metrics(at)["Events"] == "2"
    assert not any("daily visitors" in c.value for c in at.caption)
    at.sidebar.radio(key="builds").set_value("Debug").run()
    assert not at.exception
    assert metrics(at)["Events"] == "1" and metrics(at)["Users"] == "1"
    assert "debug builds" in at.caption[0].value
    assert link_params(at)["builds"] == ["Debug"]
    # A link keeps the choice.
    linked = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], link={"app": app_id, "builds": "Debug"})
    assert metrics(linked)["Events"] == "1"


def test_an_app_page_gives_its_app_key_and_the_sdks_init_for_this_worker(monkeypatch, worker, api, app_id):
    assert api.track(event(app_id, "open", "s1")).status_code == 200
    api.fold_all()
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Apps", app=app_id)
    select_row(at, 0, 0)
    at.button(key=f"app_key_create_{app_id}").click().run()
    assert not at.exception
    key = api.read("/settings/apps", app_id=app_id)["apps"][0]["app_key"]
    assert key and key.startswith("A-SH-")
    codes = [c.value for c in at.main.code]
    assert codes[0] == key
    labels = [c.value for c in at.caption]
    for sdk in ("Swift", "Kotlin", "Flutter", "React Native", "Web (npm)", "Web page"):
        assert sdk in labels
    assert all(key in code and worker.url in code for code in codes[1:]) and len(codes) == 7
    # Replacing asks first, then the new key is shown and the old one stops working.
    at.button(key=f"rotate_key_{app_id}_ask").click().run()
    at.button(key=f"rotate_key_{app_id}_yes").click().run()
    assert not at.exception
    rotated = api.read("/settings/apps", app_id=app_id)["apps"][0]["app_key"]
    assert rotated != key and at.main.code[0].value == rotated


def test_a_read_only_key_sees_no_app_key_controls(monkeypatch, worker, api, app_id):
    assert api.track(event(app_id, "open", "s1")).status_code == 200
    api.fold_all()
    at = open_dashboard(monkeypatch, worker.url, KEYS["READ_KEY"], screen="Apps", app=app_id)
    select_row(at, 0, 0)
    assert not [b for b in at.button if str(b.key).startswith("app_key_create")]


def test_daily_visitors_are_explained_where_they_are_listed(monkeypatch, worker, api, app_id):
    key = api.post(f"/settings/apps/{app_id}/app-key").json()["app_key"]
    body = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60)),
            "sessionId": str(int(time.time()) * 10**8 + 1), "eventName": "visit",
            "systemProps": {"osName": "iOS", "sdkVersion": "aptabase-swift@0.3.11"}}
    assert requests.post(api.url + "/api/v0/event", json=body, headers={"App-Key": key}, timeout=30).status_code == 200
    api.fold_all()
    overview = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], app=app_id)
    assert metrics(overview)["Users"] == "1" and any("daily visitors" in c.value for c in overview.caption)
    at = open_dashboard(monkeypatch, worker.url, KEYS["AUTH_KEY"], screen="Users", app=app_id)
    assert any("daily visitors" in c.value for c in at.caption)
    select_row(at, 0, 0)
    assert at.main.code[0].value.startswith("daily:")
    assert sum("daily visitors" in c.value for c in at.caption) >= 2
