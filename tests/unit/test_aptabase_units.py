"""Issue 17, pure parts: the Aptabase mapping, platform names, debug twins, daily visitor ids, SDK snippets."""
import json

import pytest

import debug_apps
from api import aptabase, visitors
from api.params import Scope
from api.validation import normalise_platform, parse_track_body
from dashboard.snippets import snippets
from errors import BadRequest, NotFound, Unauthorized

NOW_MS = 1_765_000_000_000  # 2025-12-06T05:46:40Z
NOW_S = NOW_MS // 1000


def body(**fields):
    return {"timestamp": "2025-12-06T05:40:00Z", "sessionId": str((NOW_S - 60) * 10**8 + 42), "eventName": "opened",
            "systemProps": {"isDebug": False, "osName": "ios", "appVersion": "1.0", "sdkVersion": "sdk@1"},
            "props": {"a": 1}, **fields}


def parse(events, single=False, **kwargs):
    return aptabase.parse_body(json.dumps(events), single, NOW_MS, "app", "DE", "daily:x", **kwargs)


def test_an_event_becomes_the_row_track_stores():
    [row], dropped = parse(body(), single=True)
    assert dropped == []
    assert {k: row[k] for k in ("app_id", "event", "session_id", "user_id", "platform", "app_version", "country",
                                "ts")} == {"app_id": "app", "event": "opened", "session_id": str((NOW_S - 60) * 10**8 + 42),
                                           "user_id": "daily:x", "platform": "iOS", "app_version": "1.0",
                                           "country": "DE", "ts": 1_765_000_000_000 - 400_000}
    assert json.loads(row["properties"]) == {"a": 1, "$sdk_version": "sdk@1"}


def test_debug_events_go_to_the_twin():
    [row], _ = parse(body(systemProps={"isDebug": True, "sdkVersion": "s"}), single=True)
    assert row["app_id"] == "debug:app" and row["platform"] == "web"


@pytest.mark.parametrize("stamp, expected_ms", [
    ("2025-12-06T05:46:40.123456789Z", NOW_MS),  # future by 0.12 s: clamped
    ("2025-12-07T05:46:40Z", NOW_MS),  # a day ahead: clamped, as Aptabase's setter does
    ("2025-12-05T05:46:41+00:00", NOW_MS - 86_399_000),
])
def test_times_are_clamped_to_now_and_kept_within_a_day(stamp, expected_ms):
    [row], _ = parse(body(timestamp=stamp), single=True)
    assert row["ts"] == expected_ms


def test_a_batch_drops_what_aptabase_drops_and_a_single_event_refuses_it():
    old = body(timestamp="2025-12-05T05:46:00Z")
    rows, dropped = parse([body(), old])
    assert len(rows) == 1 and [(d["index"], d["field"]) for d in dropped] == [(1, "timestamp")]
    with pytest.raises(BadRequest):
        parse(old, single=True)
    with pytest.raises(BadRequest):
        parse([old])
    with pytest.raises(BadRequest):
        parse([body()] * 26)


@pytest.mark.parametrize("value, expected", [
    ("en_US", "en-us"), ("en-001", "en"), ("C", None), ("", None), ("english", None), ("zh-Hant-TW", "zh-hant-tw"),
    ("de", "de"),
])
def test_locales_are_formatted_as_aptabase_formats_them(value, expected):
    assert aptabase.locale(value) == expected


@pytest.mark.parametrize("value, problem", [
    ("12345678901234567890123", "numeric"), (str((NOW_S + 3600) * 10**8), "Future"),
    (str((NOW_S - 8 * 86400) * 10**8), "too old"), ("x" * 37, "36"), (True, "required"), (-1, "required"),
])
def test_session_ids_follow_aptabase(value, problem):
    session, message = aptabase.session_id(value, NOW_MS)
    assert session is None and problem in message


def test_app_keys_are_read_as_aptabase_reads_them():
    assert aptabase.app_key({"app-key": " a-sh-0123456789 "}) == "A-SH-0123456789"
    with pytest.raises(Unauthorized):
        aptabase.app_key({})
    for key in ("A-EU-0123456789", "A-SH-123", "A-SH-01234567890"):
        with pytest.raises(NotFound):
            aptabase.app_key({"app-key": key})


@pytest.mark.parametrize("agent, expected", [
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
     "Safari/605.1.15", ("macOS", "Safari", "17.4")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Safari/537.36 Edg/131.0.2903.86", ("Windows", "Edge", "131.0.2903.86")),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.4 Mobile/15E148 Safari/604.1", ("iOS", "Safari", "17.4")),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", ("Linux", "Firefox", "133.0")),
    ("", ("", "", "")),
])
def test_web_clients_are_named_from_the_user_agent(agent, expected):
    assert aptabase.web_client(agent) == expected


@pytest.mark.parametrize("sent, stored", [
    ("ios", "iOS"), ("IOS", "iOS"), (" android ", "Android"), ("Darwin", "macOS"), ("mac os x", "macOS"),
    ("WINDOWS", "Windows"), ("Ubuntu", "Ubuntu"), ("Haiku", "Haiku"), (None, None),
])
def test_platform_names(sent, stored):
    assert normalise_platform(sent) == stored


def test_track_sends_debug_events_to_the_twin_and_refuses_twins():
    rows, _ = parse_track_body(json.dumps({"events": [
        {"event": "e", "app_id": "a", "session_id": "s", "debug": True, "platform": "ios"}]}), NOW_MS)
    assert (rows[0]["app_id"], rows[0]["platform"]) == ("debug:a", "iOS")
    for bad in ({"app_id": "debug:a"}, {"app_id": "a", "debug": "yes"}, {"app_id": "a" * 250, "debug": True}):
        with pytest.raises(BadRequest):
            parse_track_body(json.dumps({"event": "e", "session_id": "s", **bad}), NOW_MS)


def test_debug_twins_and_the_condition_that_selects_them():
    assert debug_apps.twin("a") == "debug:a" and debug_apps.release_id("debug:a") == "a"
    assert debug_apps.release_id("a") == "a" and not debug_apps.is_twin(None)
    release, debug = debug_apps.condition("x", False), debug_apps.condition("x", True)
    assert release.params == debug.params == ("debug:", "debug;")
    assert "<" in release.text and ">=" in debug.text
    # Every twin sorts inside [PREFIX, PREFIX_END), whatever follows the prefix.
    for app_id in ("", "\U0010ffff" * 3, "~", "a"):
        assert debug_apps.PREFIX <= debug_apps.twin(app_id) < debug_apps.PREFIX_END


def test_a_read_names_the_twin_through_debug_only():
    scope = Scope({"app_id": "a", "debug": "true"}, NOW_MS)
    assert (scope.app_id, scope.as_json()["app_id"], scope.as_json()["debug"]) == ("debug:a", "a", True)
    assert Scope({"app_id": "a"}, NOW_MS).app_id == "a"
    for query in ({"debug": "1"}, {"app_id": "debug:a"}):
        with pytest.raises(BadRequest):
            Scope(query, NOW_MS)


def test_daily_user_ids_depend_on_salt_app_address_and_agent():
    salt = "00" * 16
    one = visitors.daily_user_id(salt, "app", "203.0.113.1", "UA")
    assert one.startswith("daily:") and len(one) == len("daily:") + 16
    assert one == visitors.daily_user_id(salt, "app", "203.0.113.1", "UA")
    others = {visitors.daily_user_id("11" * 16, "app", "203.0.113.1", "UA"),
              visitors.daily_user_id(salt, "app2", "203.0.113.1", "UA"),
              visitors.daily_user_id(salt, "app", "203.0.113.2", "UA"),
              visitors.daily_user_id(salt, "app", "203.0.113.1", "UA2")}
    assert one not in others and len(others) == 4
    assert "203.0.113.1" not in one and visitors.day_of(NOW_MS) == NOW_S - NOW_S % 86400


def test_snippets_name_the_key_and_the_host_in_every_language():
    shown = snippets("https://worker.example/", "A-SH-0123456789")
    assert [label for label, _, _ in shown] == ["Swift", "Kotlin", "Flutter", "React Native", "Web (npm)", "Web page"]
    for _, _, code in shown:
        assert "A-SH-0123456789" in code and "https://worker.example" in code and "example//" not in code
