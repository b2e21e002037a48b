"""Issue 18, hardening round 2: the pure rules behind each fix (CPython, no worker)."""
import asyncio
import json

import pytest

from api import params, ratelimit
from api.config import Settings
from api.validation import parse_track_body
from api.web import Request
from errors import BadRequest, TooManyRequests
from routes import settings
from tz.timeutil import DAY, parse_event_time

NOW = 1_732_550_400_000


def event(app_id="a", **fields):
    return {"event": "e", "app_id": app_id, "session_id": "s", **fields}


# 1. Every app of a body is charged.
def test_every_app_a_body_names_is_charged():
    charged = []

    async def app_limiter(key):
        charged.append(key)
        return key != "victim"

    settings_ = Settings({}, track_limiters={"app": app_limiter})
    body = json.dumps({"events": [event(f"decoy-{n}") for n in range(9)] + [event("victim")] * 990})
    request = Request("POST", "http://w/track", {}, None, client_ip="1.2.3.4")
    request._text = body
    with pytest.raises(TooManyRequests):
        asyncio.run(ratelimit.check_track(request, settings_))
    assert charged == [f"decoy-{n}" for n in range(9)] + ["victim"]


def test_a_body_naming_more_apps_than_allowed_is_refused_before_any_app_is_charged():
    charged = []

    async def app_limiter(key):
        charged.append(key)
        return True

    request = Request("POST", "http://w/track", {}, None, client_ip="1.2.3.4")
    request._text = json.dumps({"events": [event(f"decoy-{n}") for n in range(10)] + [event("victim")]})
    with pytest.raises(BadRequest) as raised:
        asyncio.run(ratelimit.check_track(request, Settings({}, track_limiters={"app": app_limiter})))
    assert [d["field"] for d in raised.value.details] == ["app_id"] and charged == []
    with pytest.raises(BadRequest) as raised:
        parse_track_body(request._text, NOW)
    assert [d["field"] for d in raised.value.details] == ["app_id"]


# 4. Settings.
@pytest.mark.parametrize("url", [
    "https://127.0.0.1:8501/x", "https://127.1/x", "https://2130706433/x", "https://0x7f000001/x", "https://0177.0.0.1/x",
    "https://[::1]/", "https://[::ffff:127.0.0.1]/", "https://[fd00::1]/", "https://[fe80::1%25eth0]/",
    "https://10.0.0.1/", "https://172.31.255.255/", "https://192.168.1.1/", "https://100.64.0.1/", "https://169.254.1.1/",
    "https://0.0.0.0/", "https://localhost/", "https://LOCALHOST./", "https://app.localhost/", "https://nas.local/",
    "https://db.internal/", "https://router.lan/", "https://box.home.arpa/", "https://intranet/",
    "https://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/", "https://%6c%6fcalhost/",
    "https://example.com:99999/", "https://example.com:abc/", "https://example.com:0/", "https://example.com:+80/",
    "https://example.com:\u0668\u0660/",
])
def test_icon_urls_that_reach_the_viewers_network_or_have_no_valid_port_are_refused(url):
    assert settings.icon_url_problem(url)


@pytest.mark.parametrize("url", ["https://example.com/icon.png", "https://cdn.example.com:8443/i.png?v=2",
                                 "https://8.8.8.8/i.png", "https://[2606:4700::1111]/i.png", "https://example.com:443/",
                                 "https://xn--bcher-kva.example/i.png", "https://bücher.example/i.png"])
def test_public_icon_urls_are_accepted(url):
    assert settings.icon_url_problem(url) is None


@pytest.mark.parametrize("name", ["a\u200bb", "a\u00adb", "\ufeffab", "ab\U000e0041", "\u2060x", "x\u3164", "x\u115f",
                                  "x\u034fy", "x\u180ey", "a\u200db"])
def test_labels_with_characters_that_show_nothing_are_refused(name):
    assert settings.label_problem(name)


@pytest.mark.parametrize("name", ["Focus Timer", "Café ✓", "\U0001f468\u200d\U0001f469\u200d\U0001f467 family",
                                  "\u2764\ufe0f", "\U0001f44d\U0001f3fd", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"])
def test_ordinary_labels_and_emoji_sequences_are_accepted(name):
    assert settings.label_problem(name) is None


# 5. Bucket limits are about the span of the range, and name the interval asked for.
@pytest.mark.parametrize("interval", ["day", "week"])
def test_3660_days_fit_in_day_buckets_however_the_range_is_aligned(interval):
    scope = params.Scope({"days": "3660"}, NOW + 1234567)
    params.check_bucket_count(scope, "day", interval)
    with pytest.raises(BadRequest) as raised:
        params.check_bucket_count(params.Scope({"days": "3661"}, NOW + 1234567), "day", interval)
    assert f"interval={interval}" in raised.value.message


def test_hour_buckets_still_stop_at_31_days():
    params.check_bucket_count(params.Scope({"days": "31"}, NOW + 1234567), "hour")
    with pytest.raises(BadRequest):
        params.check_bucket_count(params.Scope({"days": "32"}, NOW + 1234567), "hour")


# 6. Property keys with NUL, and integers past 64 bits.
@pytest.mark.parametrize("properties", ['{"a\\u0000": 1}', '{"x": [{"\\u0000": true}]}'])
def test_a_property_key_with_nul_is_refused_naming_properties(properties):
    with pytest.raises(BadRequest) as raised:
        parse_track_body('{"event": "e", "app_id": "a", "session_id": "s", "properties": %s}' % properties, NOW)
    [problem] = raised.value.details
    assert problem["field"] == "properties" and "NUL" in problem["message"]


def test_integers_past_64_bits_are_stored_as_strings_at_any_depth():
    body = {"event": "e", "app_id": "a", "session_id": "s",
            "properties": {"a": 2**63, "b": -(2**63) - 1, "c": 2**63 - 1, "d": -(2**63), "e": [{"f": 10**400}], "g": 1.5}}
    [row], _ = parse_track_body(json.dumps(body), NOW)
    assert json.loads(row["properties"]) == {"a": str(2**63), "b": str(-(2**63) - 1), "c": 2**63 - 1, "d": -(2**63),
                                             "e": [{"f": "1" + "0" * 400}], "g": 1.5}


# 8. Future timestamps: stored as the moment of receipt.
@pytest.mark.parametrize("value", [(NOW + 1) / 1000, (NOW + 2 * 3600 * 1000) / 1000, (NOW + 30 * DAY * 1000) / 1000,
                                   "9999-12-31T23:59:59Z", 10**12, "2999-01-01"])
def test_a_timestamp_after_receipt_is_the_moment_of_receipt(value):
    assert parse_event_time(value, NOW) == (NOW, None)


def test_past_timestamps_are_kept_and_impossible_ones_still_refused():
    assert parse_event_time((NOW - 5000) / 1000, NOW) == (NOW - 5000, None)
    assert parse_event_time(NOW / 1000, NOW) == (NOW, None)
    assert parse_event_time("1999-12-31T23:59:59Z", NOW)[1]
    assert parse_event_time(float("inf"), NOW)[1]
    assert parse_event_time(-(10**400), NOW)[1]
