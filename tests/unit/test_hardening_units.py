"""Issue 9 on CPython: the pure parts of each fix."""
import asyncio
import json

import pytest

from routes import events
from rollups.ranges import BY_NAME, BY_SESSION
from api import ratelimit
from tz import zones
from api.auth import configuration_problem
from errors import BadRequest, PayloadTooLarge, TooManyRequests
from api.config import Settings, from_env
from api.validation import parse_track_body
from api.web import Request, Response, StreamBody, check_declared_length, load_stored_json

NOW = 1_732_550_400_000


def test_non_finite_properties_are_a_400_naming_the_field():
    with pytest.raises(BadRequest) as raised:
        parse_track_body('{"event": "e", "app_id": "a", "session_id": "s", "properties": {"x": 1e400}}', NOW)
    assert [d["field"] for d in raised.value.details] == ["properties"]


def test_responses_never_hold_non_standard_json():
    with pytest.raises(ValueError):
        Response(200, {"x": float("inf")})
    assert json.dumps(load_stored_json('{"a": Infinity, "b": NaN, "c": 1e400, "d": 1.5}'), allow_nan=False) == \
        '{"a": "Infinity", "b": "NaN", "c": "1e400", "d": 1.5}'


@pytest.mark.parametrize("configured, problem", [
    ({"AUTH_KEY": None}, "AUTH_KEY secret is not configured"),
    ({"AUTH_KEY": "a", "READ_KEY": "k", "INGEST_KEY": "k"}, "INGEST_KEY and READ_KEY"),
    ({"AUTH_KEY": "k", "READ_KEY": None, "INGEST_KEY": "k"}, "AUTH_KEY and INGEST_KEY"),
    ({"AUTH_KEY": "a", "READ_KEY": "r", "INGEST_KEY": "i"}, None),
])
def test_overlapping_keys_are_a_configuration_problem(configured, problem):
    found = configuration_problem(configured)
    assert (found is None) if problem is None else (problem in found)


class Env:
    def __init__(self, **values):
        self.__dict__.update(values)


def test_configured_keys_are_stripped_and_blank_is_unset():
    settings = from_env(Env(AUTH_KEY=" admin\n", READ_KEY="  "))
    assert settings.keys == {"AUTH_KEY": "admin", "READ_KEY": None, "INGEST_KEY": None}


@pytest.mark.parametrize("length", ["1048577", "9" * 5000])
def test_declared_oversized_length_is_refused_before_reading(length):
    with pytest.raises(PayloadTooLarge):
        check_declared_length({"content-length": length}, 1024 * 1024)


class Chunked:
    """A body source like entry.StreamBody: counts what it hands out and stops at the cap."""

    def __init__(self, chunks, chunk_size):
        self.remaining, self.chunk_size, self.handed_out = chunks, chunk_size, 0

    async def read(self, max_bytes):
        data = b""
        while self.remaining:
            self.remaining -= 1
            self.handed_out += self.chunk_size
            if self.handed_out > max_bytes:
                raise PayloadTooLarge("too large")
            data += b"x" * self.chunk_size
        return data


class FakeChunk:
    def __init__(self, size):
        self.byteLength = size  # noqa: N815 - the JS name

    def to_bytes(self):
        return b"x" * self.byteLength


class FakeStream:
    """A JS ReadableStream of `chunks` chunks of `size` bytes, counting what its reader handed out."""

    def __init__(self, chunks, size):
        self.left, self.size, self.handed_out = chunks, size, 0
        self.locked = self.cancelled = False
        self.piped_to = None

    def getReader(self):  # noqa: N802 - the JS name
        self.locked = True
        return self

    def releaseLock(self):  # noqa: N802
        self.locked = False

    async def read(self):
        if not self.left:
            return type("Result", (), {"done": True, "value": None})
        self.left -= 1
        self.handed_out += self.size
        return type("Result", (), {"done": False, "value": FakeChunk(self.size)})

    async def cancel(self):
        self.cancelled = True

    async def pipeTo(self, sink):  # noqa: N802
        self.piped_to = sink


def test_stream_body_stops_at_the_cap_and_drops_the_rest_unread():
    stream = FakeStream(50, 64 * 1024)
    body = StreamBody(stream)
    with pytest.raises(PayloadTooLarge):
        asyncio.run(body.read(1024 * 1024))
    assert stream.handed_out == 1024 * 1024 + 64 * 1024
    asyncio.run(body.discard())
    assert stream.cancelled and stream.left == 50 - 17


def test_stream_body_under_local_wrangler_pipes_the_rest_away():
    stream = FakeStream(3, 10)
    asyncio.run(StreamBody(stream, new_sink=lambda: "sink").discard())
    assert (stream.piped_to, stream.handed_out, stream.cancelled) == ("sink", 0, False)


def test_stream_body_reads_a_small_upload_whole():
    assert asyncio.run(StreamBody(FakeStream(3, 10)).read(1024)) == b"x" * 30


def test_request_text_reads_at_most_the_route_cap():
    body = Chunked(50, 1024 * 1024)
    request = Request("POST", "http://w/track", {}, body)
    request.max_body_bytes = 1024 * 1024
    with pytest.raises(PayloadTooLarge):
        asyncio.run(request.text())
    assert body.handed_out <= 2 * 1024 * 1024


class FakeFormatter:
    CANONICAL = {"europe/berlin": "Europe/Berlin", "asia/kolkata": "Asia/Calcutta"}

    def __init__(self, name, calls):
        self.canonical = self.CANONICAL[name.lower()]
        self.calls = calls

    def resolvedOptions(self):  # noqa: N802 - the Intl name
        return type("Options", (), {"timeZone": self.canonical})

    def format(self, ms):
        self.calls.append(ms)
        return "1/1/2024, GMT+01:00"


def test_every_spelling_of_a_zone_shares_one_offset_cache():
    calls = []
    make = lambda name: FakeFormatter(name, calls)  # noqa: E731
    first = zones.resolve("Europe/Berlin", make)
    assert first.offset_at(1_700_000_000) == 3600 and len(calls) == 1
    other = zones.resolve("eUrOpE/bErLiN", make)
    assert other.offset_at(1_700_000_000) == 3600 and len(calls) == 1
    assert (first.name, other.name) == ("Europe/Berlin", "Europe/Berlin")
    assert zones.resolve("Asia/Kolkata", make).name == "Asia/Kolkata"


def test_zone_caches_are_bounded():
    calls = []
    for n in range(zones.MAX_SPELLINGS + 5):
        spelling = "".join(c.upper() if (n >> i) & 1 else c for i, c in enumerate("europe/berlin"))
        zones.resolve(spelling, lambda name: FakeFormatter(name, calls))
    assert len(zones._by_spelling) <= zones.MAX_SPELLINGS


def limiter(allowed, seen):
    async def within(key):
        seen.append(key)
        return key in allowed
    return within


def test_rate_limits_refuse_the_address_then_the_apps_of_the_body():
    seen = []
    settings = Settings({}, track_limiters={"ip": limiter({"1.2.3.4"}, seen), "app": limiter({"a"}, seen)})
    body = json.dumps({"events": [{"app_id": "a"}, {"app_id": "b"}, {"app_id": "a"}]})
    request = Request("POST", "http://w/track", {}, Chunked(0, 0), client_ip="1.2.3.4")
    request._text = body
    with pytest.raises(TooManyRequests) as raised:
        asyncio.run(ratelimit.check_track(request, settings))
    assert (raised.value.details[0]["field"], raised.value.headers) == ("app_id", {"retry-after": "60"})
    assert seen == ["1.2.3.4", "a", "b"]
    stranger = Request("POST", "http://w/track", {}, None, client_ip="5.6.7.8")
    with pytest.raises(TooManyRequests) as raised:
        asyncio.run(ratelimit.check_track(stranger, settings))
    assert raised.value.details[0]["field"] == "ip"


def test_app_ids_of_unparseable_bodies_are_left_to_the_handler():
    assert ratelimit.app_ids("{nope") == []
    assert ratelimit.app_ids(json.dumps({"events": [{"app_id": str(n % 50)} for n in range(100)]})) == \
        [str(n) for n in range(50)]


def test_a_page_stops_at_the_byte_budget_but_is_never_empty():
    budget = events.MAX_PAGE_BYTES
    rows = [{"bytes_through": budget // 2}, {"bytes_through": budget}, {"bytes_through": budget + 1}]
    assert len(events.within_budget(rows, 1000)) == 2
    assert len(events.within_budget([{"bytes_through": budget * 3}], 1000)) == 1
    assert len(events.within_budget(rows, 1)) == 1


def test_each_filter_reads_through_its_own_index():
    assert [events.chosen_source(f) for f in [set(), {"event"}, {"session_id", "event"}, {"user_id", "event"}]] == \
        [None, BY_NAME, BY_SESSION, BY_SESSION]
    assert BY_NAME.source("events") == "events AS events INDEXED BY events_app_name"
    assert BY_SESSION.source() == "session_events"
