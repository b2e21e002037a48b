"""Issue 17: the Aptabase protocol on the real local worker: App-Keys, the exact requests of the Swift, Kotlin,
Flutter and Tauri SDKs (tests/fixtures/aptabase/), debug builds apart on every read route, daily visitors."""
import json
import random
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from conftest import KEYS, Api, event
from route_table import load_routes

FIXTURES = Path(__file__).parent / "fixtures" / "aptabase"


def app_key(api, app_id, rotate=False):
    response = api.post(f"/settings/apps/{quote(app_id, safe='')}/app-key",
                        params={"rotate": "true"} if rotate else None)
    assert response.status_code == 200, response.text
    assert response.json()["app_id"] == app_id
    return response.json()["app_key"]


def stamp(seconds, digits):
    text = datetime.fromtimestamp(int(seconds), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return text + ("." + "123456789"[:digits] if digits else "") + "Z"


def session_id(seconds):
    return str(int(seconds) * 10**8 + random.randrange(10**8))


def fixture_request(name, key, at, session):
    """(method, path, headers, body bytes) of a fixture, its placeholders filled."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    for placeholder, value in {"{{APP_KEY}}": key, "{{SESSION}}": session, "{{TS_S}}": stamp(at, 0),
                               "{{TS_US}}": stamp(at, 6), "{{TS_NS}}": stamp(at, 9)}.items():
        text = text.replace(placeholder, value)
    head, _, body = text.partition("\n\n")
    request_line, *header_lines = head.split("\n")
    method, path, _ = request_line.split(" ")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return method, path, headers, body[:-1].encode("utf-8") if body.endswith("\n") else body.encode("utf-8")


def send(url, path, body, key, **headers):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return requests.post(url + path, data=data, timeout=30,
                         headers={"Content-Type": "application/json", "App-Key": key, **headers})


def aptabase_event(name="opened", at=None, debug=False, **fields):
    at = time.time() - 60 if at is None else at
    return {"timestamp": stamp(at, 3), "sessionId": session_id(at), "eventName": name,
            "systemProps": {"isDebug": debug, "osName": "iOS", "osVersion": "17.4", "locale": "en-US",
                            "appVersion": "1.0.0", "appBuildNumber": "1", "sdkVersion": "aptabase-swift@0.3.11"},
            "props": {}, **fields}


def stored(api, app_id, debug=False):
    api.fold_all()
    return api.read("/events", app_id=app_id, debug=str(debug).lower(), limit=100)["events"]


# --- App-Keys -----------------------------------------------------------------------------------------

def test_app_key_is_created_once_listed_and_rotated(api, app_id):
    key = app_key(api, app_id)
    assert key.startswith("A-SH-") and len(key) == 15 and key[5:].isdigit()
    assert app_key(api, app_id) == key
    listed = api.read("/settings/apps", app_id=app_id)["apps"]
    assert listed == [{"app_id": app_id, "display_name": None, "icon_url": None, "daily_users": False, "app_key": key}]
    assert send(api.url, "/api/v0/event", aptabase_event("before"), key).status_code == 200

    rotated = app_key(api, app_id, rotate=True)
    assert rotated != key and rotated.startswith("A-SH-")
    old = send(api.url, "/api/v0/event", aptabase_event("after rotation"), key)
    assert old.status_code == 404 and "App-Key" in old.text
    assert send(api.url, "/api/v0/event", aptabase_event("with the new key"), rotated).status_code == 200
    assert sorted(e["event"] for e in stored(api, app_id)) == ["before", "with the new key"]


def test_only_the_admin_key_issues_app_keys(api, app_id):
    for key, status in ((KEYS["READ_KEY"], 403), (KEYS["INGEST_KEY"], 403), (None, 401)):
        assert api.post(f"/settings/apps/{app_id}/app-key", key=key).status_code == status
    assert api.read("/settings/apps", app_id=app_id)["apps"] == []
    assert api.post("/settings/app-key", params={"app_id": app_id, "rotate": "yes"}).status_code == 400
    assert api.post("/settings/app-key", params={"app_id": "debug:" + app_id}).status_code == 400
    assert api.post("/settings/app-key", params={"app_id": "a" * 250}).status_code == 400  # its twin must fit
    # Ids a path cannot carry go in the query string, as on the other settings routes.
    assert api.post("/settings/app-key", params={"app_id": ".."}).json()["app_key"].startswith("A-SH-")


def test_unknown_malformed_or_missing_key_stores_nothing(api, app_id):
    app_key(api, app_id)
    body = [aptabase_event("never stored")]
    for key, status in (("A-SH-0000000000", 404), ("A-EU-1234567890", 404), ("not a key", 404), ("", 401)):
        response = send(api.url, "/api/v0/events", body, key)
        assert response.status_code == status, (key, response.text)
        assert response.json()["success"] is False and response.json()["error"]
    assert stored(api, app_id) == []


def test_an_app_key_reads_nothing_and_writes_to_its_app_only(api, app_id):
    key = app_key(api, app_id)
    other = f"other-{app_id}"
    for path in ("/stats/overview", "/events", "/apps", "/settings/apps"):
        assert requests.get(api.url + path, headers={"App-Key": key}, timeout=30).status_code == 401
        assert Api(api.url, key=key).get(path).status_code == 401
    # Not a /track key either, whichever header carries it.
    assert Api(api.url, key=key).track(event(other)).status_code == 401
    assert requests.post(api.url + "/track", json=event(other), headers={"App-Key": key}, timeout=30).status_code == 401
    # The body cannot name another app: the key fixes it.
    assert send(api.url, "/api/v0/event", {**aptabase_event("mine"), "app_id": other, "appId": other},
                key).status_code == 200
    assert [e["app_id"] for e in stored(api, app_id)] == [app_id]
    assert stored(api, other) == []


def test_cors_preflight_allows_the_app_key_header_from_any_origin(api):
    for path in ("/api/v0/event", "/api/v0/events"):
        response = requests.options(api.url + path, timeout=30, headers={
            "Origin": "https://example.com", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "app-key,content-type"})
        assert response.status_code in (200, 204)
        assert response.headers["access-control-allow-origin"] == "*"
        allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
        assert {"app-key", "content-type"} <= allowed
        assert "POST" in response.headers["access-control-allow-methods"]
    answer = send(api.url, "/api/v0/event", aptabase_event(), "A-SH-0000000000", Origin="https://example.com")
    assert answer.headers["access-control-allow-origin"] == "*"


# --- The SDKs' exact requests --------------------------------------------------------------------------

def system(props, **expected):
    return {key: value for key, value in props.items() if key.startswith("$")} == expected


def test_swift_sdk_request(api, app_id):
    at, session = time.time() - 30, session_id(time.time() - 600)
    method, path, headers, body = fixture_request("swift.http", app_key(api, app_id), at, session)
    assert (method, path) == ("POST", "/api/v0/events") and b"Home\\/Main" in body
    response = requests.post(api.url + path, data=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "count": 2}
    rows = {e["event"]: e for e in stored(api, app_id)}
    assert set(rows) == {"app_started", "screen_viewed"}
    screen = rows["screen_viewed"]
    assert (screen["platform"], screen["app_version"], screen["session_id"]) == ("iOS", "1.2.0", session)
    assert screen["timestamp"] == stamp(at, 0).replace("Z", ".000Z")
    assert screen["user_id"].startswith("daily:") and screen["user_id"] == rows["app_started"]["user_id"]
    assert {k: v for k, v in screen["properties"].items() if not k.startswith("$")} == {
        "screen": "Home/Main", "count": 3, "ratio": 0.5, "premium": True}
    assert system(screen["properties"], **{"$os_version": "17.4", "$locale": "en-us", "$app_build_number": "42",
                                           "$sdk_version": "aptabase-swift@0.3.11", "$device_model": "iPhone15,2"})
    assert rows["app_started"]["properties"]["$sdk_version"] == "aptabase-swift@0.3.11"


def test_kotlin_sdk_request_of_a_debug_build(api, app_id):
    method, path, headers, body = fixture_request("kotlin.http", app_key(api, app_id), time.time() - 5, "")
    assert (method, path) == ("POST", "/api/v0/event")
    response = requests.post(api.url + path, data=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert stored(api, app_id) == []  # isDebug: true
    [row] = stored(api, app_id, debug=True)
    assert (row["event"], row["platform"], row["app_version"]) == ("checkout_started", "Android", "2.0.1")
    assert row["session_id"] == "5f0c2a4e-8d1b-4c3a-9e7f-1a2b3c4d5e6f"
    assert row["properties"] == {"plan": "pro/yearly", "seats": 5, "$os_version": "14", "$locale": "en",
                                 "$app_build_number": "201", "$sdk_version": "aptabase-kotlin@0.0.8",
                                 "$device_model": "Pixel 7"}


def test_flutter_sdk_request(api, app_id):
    session = session_id(time.time() - 60)
    method, path, headers, body = fixture_request("flutter.http", app_key(api, app_id), time.time() - 20, session)
    assert b"}, {" in body  # Dart's List.toString() between the JSON objects
    response = requests.post(api.url + path, data=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    rows = {e["event"]: e for e in stored(api, app_id)}
    assert set(rows) == {"level_completed", "app_paused"}
    assert rows["level_completed"]["properties"]["level"] == 7
    assert rows["level_completed"]["properties"]["perfect"] is False
    assert rows["app_paused"]["properties"] == {"$os_version": "13", "$locale": "en-us", "$app_build_number": "31",
                                                "$sdk_version": "aptabase_flutter@0.4.1"}
    assert {(r["platform"], r["app_version"], r["session_id"]) for r in rows.values()} == {("Android", "3.1.0", session)}


def test_tauri_sdk_request(api, app_id):
    session = session_id(time.time() - 60)
    method, path, headers, body = fixture_request("tauri.http", app_key(api, app_id), time.time() - 10, session)
    response = requests.post(api.url + path, data=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    [row] = stored(api, app_id)
    assert (row["event"], row["platform"], row["app_version"]) == ("document_saved", "Ubuntu", "0.9.0")
    assert row["properties"] == {"format": "markdown", "words": 1200, "$os_version": "24.04", "$locale": "en-us",
                                 "$engine_name": "WebKitGTK", "$engine_version": "2.44.1",
                                 "$sdk_version": "tauri-plugin-aptabase@1.2.0"}


# --- What is accepted, what is refused -----------------------------------------------------------------

def test_a_batch_keeps_its_valid_events_and_says_what_it_dropped(api, app_id):
    key = app_key(api, app_id)
    old = aptabase_event("too old", at=time.time() - 2 * 86400)
    response = send(api.url, "/api/v0/events", [aptabase_event("fine"), old, aptabase_event("")], key)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert (payload["count"], payload["dropped"]) == (1, 2)
    assert {(d["index"], d["field"]) for d in payload["details"]} == {(1, "timestamp"), (2, "eventName")}
    assert [e["event"] for e in stored(api, app_id)] == ["fine"]
    # Nothing valid: a 400, nothing stored. One event alone: a 400 too.
    assert send(api.url, "/api/v0/events", [old], key).status_code == 400
    assert send(api.url, "/api/v0/event", old, key).status_code == 400
    assert [e["event"] for e in stored(api, app_id)] == ["fine"]


@pytest.mark.parametrize("change, field", [
    ({"systemProps": {"osName": "iOS"}}, "systemProps.sdkVersion"),
    ({"systemProps": None}, "systemProps"),
    ({"eventName": "x" * 61}, "eventName"),
    ({"sessionId": "x" * 37}, "sessionId"),
    ({"sessionId": str((int(time.time()) - 8 * 86400) * 10**8)}, "sessionId"),
    ({"sessionId": None}, "sessionId"),
    ({"timestamp": "yesterday"}, "timestamp"),
    ({"timestamp": 1700000000}, "timestamp"),
    ({"props": [1, 2]}, "props"),
    ({"props": "not json"}, "props"),
    ({"props": {"": 1}}, "props"),
    ({"props": {"k" * 41: 1}}, "props"),
    ({"props": {"big": "1e400"}}, "properties"),  # the number written out, not the string
])
def test_invalid_events_are_a_400_that_stores_nothing(api, app_id, change, field):
    key = app_key(api, app_id)
    body = json.dumps({**aptabase_event("bad"), **change}).replace('"1e400"', "1e400")
    response = send(api.url, "/api/v0/event", body, key)
    assert response.status_code == 400, response.text
    assert field in {detail["field"] for detail in response.json()["details"]}
    assert stored(api, app_id) == [] and stored(api, app_id, debug=True) == []


def test_bodies_that_are_not_events_are_a_4xx(api, app_id):
    key = app_key(api, app_id)
    assert send(api.url, "/api/v0/events", [aptabase_event()] * 26, key).status_code == 400
    assert send(api.url, "/api/v0/events", [], key).status_code == 400
    assert send(api.url, "/api/v0/events", aptabase_event(), key).status_code == 400
    assert send(api.url, "/api/v0/event", [aptabase_event()], key).status_code == 400
    assert send(api.url, "/api/v0/event", b"{not json", key).status_code == 400
    assert send(api.url, "/api/v0/event", json.dumps(aptabase_event()), key,
                **{"Content-Type": "text/plain"}).status_code == 415
    assert stored(api, app_id) == []


def test_what_is_accepted_as_aptabase_accepts_it(api, app_id):
    key = app_key(api, app_id)
    now = time.time()
    events = [
        # A future time is clamped to now; a numeric session id; props as a JSON string; nested values as markers.
        aptabase_event("future", at=now + 3 * 3600, sessionId=int(now) * 10**8 + 12345678,
                       props=json.dumps({"n": 1.5, "list": [1], "object": {"a": 1}, "none": None})),
        # No osName: a browser (the web SDK), named from the User-Agent, which is not kept.
        {**aptabase_event("web"), "systemProps": {"locale": "pt_BR", "isDebug": None, "appVersion": "",
                                                  "sdkVersion": "aptabase-web@0.5.0"}, "props": None},
    ]
    chrome = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")
    response = send(api.url, "/api/v0/events", events, key, **{"User-Agent": chrome})
    assert response.json() == {"success": True, "count": 2}
    rows = {e["event"]: e for e in stored(api, app_id)}
    future = rows["future"]
    assert future["session_id"] == str(int(now) * 10**8 + 12345678)
    assert datetime.fromisoformat(future["timestamp"].replace("Z", "+00:00")).timestamp() <= time.time()
    assert {k: v for k, v in future["properties"].items() if not k.startswith("$")} == {
        "n": 1.5, "list": "[Array]", "object": "{Object}", "none": ""}
    web = rows["web"]
    assert (web["platform"], web["app_version"]) == ("web", None)
    assert web["properties"] == {"$os_name": "macOS", "$engine_name": "Chrome", "$engine_version": "131.0.0.0",
                                 "$locale": "pt-br", "$sdk_version": "aptabase-web@0.5.0"}


def test_platform_names_are_one_row_whatever_their_case(api, app_id):
    events = [event(app_id, "open", f"s{i}", platform=name) for i, name in enumerate(
        ["ios", "iOS", "IOS", "android", "Android", "macos", "Darwin", "web", "Haiku"])]
    assert api.track({"events": events}).json()["count"] == 9
    api.fold_all()
    values = {row["value"]: row["events"] for row in
              api.read("/stats/breakdown", app_id=app_id, by="platform")["values"]}
    assert values == {"iOS": 3, "Android": 2, "macOS": 2, "web": 1, "Haiku": 1}


# --- Debug builds apart ---------------------------------------------------------------------------------

def normalised(payload, *apps):
    for row in payload.get("events", []) if isinstance(payload.get("events"), list) else []:
        for key in ("id", "received_at"):  # /events: each stored event's own
            row.pop(key, None)
    text = json.dumps(payload, sort_keys=True)
    for name in apps:
        text = text.replace(name, "APP")
    return json.loads(text)


def read_routes():
    return sorted({path for method, path, scope in load_routes()
                   if method == "GET" and scope == "read" and not path.startswith("/settings")})


def user_page(path, user_id):
    if path == "/user":
        return path, {"user_id": user_id}
    return path.replace("{user_id}", quote(user_id, safe="")), {}


def test_debug_events_stay_apart_on_every_read_route(api, app_id):
    """App A gets release and debug events; B gets A's release events, C A's debug events as release events.
    Every read route answers for A exactly as for B, and for A with debug=true exactly as for C."""
    a, b, c = app_id, f"{app_id}-b", f"{app_id}-c"
    now = time.time()
    release = [("open", "s1", "u1", "iOS", {"plan": "free"}), ("buy", "s1", "u1", "iOS", {"plan": "free"}),
               ("open", "s2", "u2", "Android", None)]
    debug = [("open", "s9", "u9", "macOS", {"debug_only": 1}), ("crash", "s9", "u9", "macOS", None)]

    def events(app, rows, **fields):
        return [event(app, name, session, user_id=f"{app}-{user}", platform=platform, app_version="1.0",
                      timestamp=now - 3600 + i * 60, **({"properties": props} if props else {}), **fields)
                for i, (name, session, user, platform, props) in enumerate(rows)]

    for body in (events(a, release) + events(a, debug, debug=True), events(b, release), events(c, debug)):
        assert api.track({"events": body}).status_code == 200
    api.fold_all()
    params = {"/stats/breakdown": {"by": "platform"}, "/stats/funnel": {"steps": "open,buy"},
              "/stats/properties": {"event": "open"}, "/suggest": {"field": "user_id"},
              "/stats/timeline": {"interval": "hour"}}
    routes = read_routes()
    assert {"/apps", "/stats/overview", "/events", "/users", "/users/{user_id}", "/user", "/stats/funnel",
            "/stats/retention", "/stats/active", "/stats/sessions", "/stats/heatmap"} <= set(routes)
    for path in routes:
        for debug_read, twin, user in ((False, b, "u1"), (True, c, "u9")):
            if path in ("/users/{user_id}", "/user"):
                # A user's page spans apps: the user's id names the app.
                (path_a, query), (path_twin, twin_query) = user_page(path, f"{a}-{user}"), user_page(path, f"{twin}-{user}")
            else:
                query, twin_query = ({**params.get(path, {}), "app_id": app,
                                      **({"prefix": f"{app}-"} if path == "/suggest" else {})} for app in (a, twin))
                path_a = path_twin = path
            query["debug"] = str(debug_read).lower()
            got, expected = api.get(path_a, params=query), api.get(path_twin, params=twin_query)
            assert got.status_code == expected.status_code == 200, (path, debug_read, got.text, expected.text)
            got, expected = got.json(), expected.json()
            for payload in (got, expected):
                if isinstance(payload.get("range"), dict):
                    payload["range"].pop("debug", None)
                payload.pop("debug", None)
            assert normalised(got, a) == normalised(expected, twin), (path, debug_read)
        assert api.get(path.replace("{user_id}", "x"), params={"debug": "maybe"}).status_code == 400, path


def test_all_app_reads_leave_debug_twins_out_unless_asked(api, app_id):
    now = time.time()
    assert api.track({"events": [event(app_id, f"release-{app_id}", "s1", timestamp=now - 60),
                                 event(app_id, f"debug-{app_id}", "s2", debug=True, timestamp=now - 60)]}).json()["count"] == 2
    api.fold_all()
    apps = {app["app_id"]: app for app in api.read("/apps")["apps"]}
    assert apps[app_id]["events"] == 1 and not any(name.startswith("debug:") for name in apps)
    debug_listed = {app["app_id"]: app for app in api.read("/apps", debug="true")["apps"]}
    assert debug_listed[app_id]["events"] == 1 and not any(name.startswith("debug:") for name in debug_listed)
    names = {row["event"] for row in api.read("/stats/events", limit=1000)["events"]}
    assert f"release-{app_id}" in names and f"debug-{app_id}" not in names
    debug_names = {row["event"] for row in api.read("/stats/events", limit=1000, debug="true")["events"]}
    assert f"debug-{app_id}" in debug_names and f"release-{app_id}" not in debug_names
    listed = api.read("/events", limit=500)["events"]
    assert not any(e["app_id"].startswith("debug:") for e in listed)
    assert {e["event"] for e in api.read("/events", limit=500, debug="true")["events"]} >= {f"debug-{app_id}"}
    # A twin is never named as an app, on /track or a read.
    assert api.track(event(f"debug:{app_id}")).status_code == 400
    assert api.get("/stats/overview", params={"app_id": f"debug:{app_id}"}).status_code == 400


# --- Users without a user id ----------------------------------------------------------------------------

def test_devices_are_daily_visitors_and_no_address_or_user_agent_is_stored(api, worker, app_id):
    key = app_key(api, app_id)
    address, agent = "203.0.113.77", f"Test-Agent/{uuid.uuid4().hex}"
    other_address = "198.51.100.23"
    for ip, count in ((address, 2), (other_address, 1)):
        for _ in range(count):
            assert send(api.url, "/api/v0/event", aptabase_event("visit"), key,
                        **{"User-Agent": agent, "CF-Connecting-IP": ip}).status_code == 200
    users = {e["user_id"] for e in stored(api, app_id)}
    assert len(users) == 2 and all(user.startswith("daily:") for user in users)
    assert api.read("/stats/overview", app_id=app_id)["users"] == 2
    # The same device in another app is another user: the hash is per app.
    other_app = f"{app_id}-2"
    assert send(api.url, "/api/v0/event", aptabase_event("visit"), app_key(api, other_app),
                **{"User-Agent": agent, "CF-Connecting-IP": address}).status_code == 200
    assert not {e["user_id"] for e in stored(api, other_app)} & users
    # Nowhere in the local database's files (tables, indexes, journal) is the address or the User-Agent.
    files = [path for path in (worker.state_dir / "v3").rglob("*") if path.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        for secret in (address, other_address, agent):
            assert secret.encode() not in data, (path, secret)


def test_old_salts_are_deleted(api, worker, app_id):
    from scripts.migrate import query
    target = ["--local", "--persist-to", str(worker.state_dir)]
    query(target, "INSERT OR REPLACE INTO daily_salts (day, salt) VALUES (86400, '00'), (172800, '00')")
    assert api.post("/admin/fold").json()["salts_deleted"] >= 2
    assert query(target, "SELECT COUNT(*) AS n FROM daily_salts WHERE day < 1000000")[0]["n"] == 0


def test_track_events_without_user_id_count_daily_visitors_when_the_app_says_so(api, app_id):
    agent = {"User-Agent": f"Agent/{uuid.uuid4().hex}", "CF-Connecting-IP": "192.0.2.10"}
    assert api.track(event(app_id, "before", "s0"), headers=dict(agent)).status_code == 200
    setting = api.request("PUT", f"/settings/apps/{app_id}", json={"daily_users": True})
    assert setting.status_code == 200 and setting.json()["app"]["daily_users"] is True
    assert api.read("/settings/apps", app_id=app_id)["apps"][0]["daily_users"] is True
    batch = [event(app_id, "anonymous", "s1"), event(app_id, "known", "s1", user_id="u1"),
             event(app_id, "debug build", "s2", debug=True)]
    assert api.track({"events": batch}, headers=dict(agent)).json()["count"] == 3
    users = {e["event"]: e["user_id"] for e in stored(api, app_id)}
    assert users["before"] is None and users["known"] == "u1"
    assert users["anonymous"].startswith("daily:")
    [debug_event] = stored(api, app_id, debug=True)
    assert debug_event["user_id"] == users["anonymous"]  # the same device and day
    assert api.request("PUT", f"/settings/apps/{app_id}", json={"daily_users": "yes"}).status_code == 400
    assert api.request("PUT", f"/settings/apps/{app_id}", json={"daily_users": False}).json()["app"]["daily_users"] is False
    assert api.track(event(app_id, "after", "s3"), headers=dict(agent)).status_code == 200
    assert {e["event"]: e["user_id"] for e in stored(api, app_id)}["after"] is None


def test_an_apps_debug_events_are_erased_through_its_twin(api, app_id):
    now = time.time()
    assert api.track({"events": [event(app_id, "release", "s1", timestamp=now - 60),
                                 event(app_id, "debug", "s2", debug=True, timestamp=now - 60)]}).json()["count"] == 2
    api.fold_all()
    erased = api.request("DELETE", "/admin/apps", params={"app_id": f"debug:{app_id}"})
    assert erased.status_code == 200 and erased.json()["deleted"]["events"] == 1
    assert [e["event"] for e in stored(api, app_id)] == ["release"]
    assert stored(api, app_id, debug=True) == []
    assert api.read("/stats/overview", app_id=app_id, debug="true")["events"] == 0


def test_new_users_over_every_app_count_release_apps_only(api, app_id):
    """The any-app new-users rollup has no app key: a debug build's user must not show as a new release user."""
    day = "2019-07-13"  # a day no other test sends to: the all-app figure is this test's alone
    at = f"{day}T10:00:00Z"
    assert api.track({"events": [event(app_id, "open", "s1", user_id=f"r-{app_id}", timestamp=at),
                                 event(app_id, "open", "s2", user_id=f"d-{app_id}", debug=True, timestamp=at)]}
                     ).json()["count"] == 2
    api.fold_all()
    window = {"from": day, "to": day, "tz": "UTC"}
    release = api.read("/stats/active", **window)["buckets"]
    debug = api.read("/stats/active", debug="true", **window)["buckets"]
    assert [(b["active"], b["new"]) for b in release] == [(1, 1)]
    assert [(b["active"], b["new"]) for b in debug] == [(1, 1)]
