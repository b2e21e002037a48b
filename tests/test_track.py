"""POST /track against the real worker: accepted shapes, and every rejection storing nothing."""
import json
import time

import pytest

from conftest import event
from scripts.devserver import wrangler
from scripts.migrate import query


def local_state(worker):
    return ["--local", "--persist-to", str(worker.state_dir)]


def execute_sql(worker, sql):
    wrangler("d1", "execute", "oddlytics-db", *local_state(worker), "--command", sql)

WIDE = {"from": "2000-01-01", "to": "2100-01-01"}


def stored(api, app_id):
    return api.read("/events", app_id=app_id, limit=1000, **WIDE)["events"]


def assert_rejected(response, status, field=None):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert isinstance(body["error"], str) and body["error"]
    if field is not None:
        assert field in [d["field"] for d in body["details"]], body


def test_batch_is_stored_with_all_fields(api, app_id):
    events = [
        event(app_id, "Purchase", "s1", user_id="u1", platform="iOS", app_version="2.1.0",
              timestamp="2024-05-01T12:30:00+02:00", properties={"amount": 9.99, "items": ["a"]}),
        event(app_id, "App Opened", "s2", timestamp=1714566600, metadata={"source": "push"}),
        event(app_id, "Screen Viewed", "s2", timestamp="2024-05-01T10:30:00"),
    ]
    response = api.track({"events": events})
    assert response.json() == {"success": True, "count": 3, "duplicates": 0}
    rows = {row["event"]: row for row in stored(api, app_id)}
    assert rows["Purchase"]["timestamp"] == "2024-05-01T10:30:00.000Z"
    assert rows["Purchase"]["properties"] == {"amount": 9.99, "items": ["a"]}
    assert (rows["Purchase"]["user_id"], rows["Purchase"]["platform"], rows["Purchase"]["app_version"]) == ("u1", "iOS", "2.1.0")
    assert rows["App Opened"]["timestamp"] == "2024-05-01T12:30:00.000Z"
    assert rows["App Opened"]["properties"] == {"source": "push"}
    assert rows["Screen Viewed"]["timestamp"] == "2024-05-01T10:30:00.000Z"
    # Local workerd's request.cf is a placeholder ("US" for every request): a local worker stores no country.
    assert {row["country"] for row in rows.values()} == {None}


def test_batch_of_100_is_accepted(api, app_id):
    response = api.track({"events": [event(app_id, session_id=f"s{i}") for i in range(100)]})
    assert response.json()["count"] == 100
    assert len(stored(api, app_id)) == 100


def test_bearer_token_is_accepted(api, app_id):
    response = api.track(event(app_id), key=None, headers={"Authorization": "Bearer test-admin-key"})
    assert response.status_code == 200


def test_retried_event_id_is_stored_once(api, app_id):
    first = api.track({"events": [event(app_id, event_id="e-1"), event(app_id, event_id="e-1")]})
    again = api.track(event(app_id, event_id="e-1"))
    assert first.json() == {"success": True, "count": 1, "duplicates": 1}
    assert again.json() == {"success": True, "count": 0, "duplicates": 1}
    assert api.read("/stats/overview", app_id=app_id, **WIDE)["events"] == 1


def written(response):
    return int(response.headers["x-d1-rows-written"])


def test_a_retry_with_its_own_time_is_refused_by_the_session_index(api, app_id):
    """An SDK retry repeats app, session, time and event_id: the unique session index refuses it, so exactly-once
    costs no index of its own (4 rows written: the row, the session, (app_id, name), and the mark of its request,
    session and user, rollups/marks.py; there is no (app_id, ts) or (user_id, ts) index)."""
    body = event(app_id, event_id="e-7", user_id="u-7", timestamp="2024-05-01T10:00:00Z")
    first, again = api.track(body), api.track(body)
    assert first.json() == {"success": True, "count": 1, "duplicates": 0}
    assert again.json() == {"success": True, "count": 0, "duplicates": 1}
    assert (written(first), written(again)) == (4, 0)
    # Untimed events are stamped on arrival and also kept unique on (app_id, event_id): one row more.
    assert written(api.track(event(app_id, session_id="s2", event_id="e-8", user_id="u-7"))) == 5


def test_a_retry_of_an_event_stamped_ahead_of_the_clock_is_stored_once(api, app_id):
    """Stamped ahead of the worker's clock, the first copy was stored at its arrival; the retry, once the clock has
    passed the stamp, keeps the stamp. The partial (app_id, event_id) index still finds the first copy."""
    ahead = time.time() + 2
    body = event(app_id, event_id="early", timestamp=round(ahead, 3))
    assert api.track(body).json()["count"] == 1
    time.sleep(max(0.0, ahead - time.time()) + 0.5)
    assert api.track(body).json() == {"success": True, "count": 0, "duplicates": 1}
    assert len(stored(api, app_id)) == 1


SHAPED_IDS = [
    "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b",  # our SDK: str(uuid4()), stored as 16 bytes
    "3F2A9C1E-5B7D-4E8F-9A0B-1C2D3E4F5A6B",  # Swift's uuidString: the same UUID upper case, another id
    "3f2a9c1e5b7d4e8f9a0b1c2d3e4f5a6b",  # 32 hex digits
    "3F2A9C1E5B7D4E8F9A0B1C2D3E4F5A6B",
    "12345678-1234-1234-1234-123456789012",  # digits only: either case's shape, back the same
    "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5A6b",  # mixed case: kept as text
    "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6",  # one digit short: text
    "=cmd|' /C calc'!A0", "e-1", "x" * 64]


def test_event_ids_come_back_as_sent_whatever_their_shape(worker, api, app_id):
    """UUIDs and 32-hex-digit ids are stored as bytes (api/event_ids.py): each comes back as sent, ids differing
    only in case stay two events, and a retry of each shape is a duplicate."""
    body = {"events": [event(app_id, session_id=f"s{i}", event_id=eid, timestamp=1714556400 + i)
                       for i, eid in enumerate(SHAPED_IDS)]}
    assert api.track(body).json() == {"success": True, "count": len(SHAPED_IDS), "duplicates": 0}
    assert api.track(body).json() == {"success": True, "count": 0, "duplicates": len(SHAPED_IDS)}
    assert sorted(row["event_id"] for row in stored(api, app_id)) == sorted(SHAPED_IDS)
    # The same by session, through its spans, and stored smaller: 16 bytes for our SDK's, the text for others.
    page = api.read("/events", app_id=app_id, session_id="s0", **WIDE)["events"]
    assert [row["event_id"] for row in page] == [SHAPED_IDS[0]]
    sizes = query(local_state(worker), f"SELECT typeof(event_id) AS type, length(event_id) AS size FROM events "
                                       f"WHERE app_id = '{app_id}' ORDER BY session_id")
    assert [(r["type"], r["size"]) for r in sizes] == [
        ("blob", 16), ("blob", 17), ("blob", 17), ("blob", 17), ("blob", 16), ("text", 36), ("text", 35),
        ("text", 18), ("text", 3), ("text", 64)]


def test_a_retry_of_an_event_stored_with_a_text_id_is_still_a_duplicate(worker, api, app_id):
    """An event an earlier version stored with its UUID as text (a head of its own span, as migration 0017 leaves
    it): ingest asks for the id in both forms, so the SDK's retry after the upgrade is refused."""
    eid, ts = "0b8e6f3a-2c4d-4e5f-8a9b-0c1d2e3f4a5b", 1714556400000
    execute_sql(worker, "INSERT INTO events (id, event_id, app_id, event_name, session_id, ts, received_at, "
                        f"span_first) SELECT n, '{eid}', '{app_id}', 'App Opened', 's1', {ts}, {ts + 5}, n FROM (SELECT "
                        "MAX((SELECT MAX(id) FROM events), (SELECT folded FROM fold_state WHERE id = 1)) + 1 AS n)")
    again = api.track(event(app_id, event_id=eid, timestamp=ts / 1000))
    assert again.json() == {"success": True, "count": 0, "duplicates": 1}
    assert [row["event_id"] for row in stored(api, app_id)] == [eid]


def test_the_same_event_id_in_another_session_or_time_is_another_event(api, app_id):
    """What a retry is: the same event sent again. An event_id reused for another session or time is stored
    (README, the `event_id` field)."""
    body = event(app_id, event_id="reused", timestamp="2024-05-01T10:00:00Z")
    other_session = event(app_id, session_id="s2", event_id="reused", timestamp="2024-05-01T10:00:00Z")
    other_time = event(app_id, event_id="reused", timestamp="2024-05-01T10:00:01Z")
    assert [api.track(b).json()["count"] for b in (body, other_session, other_time, body)] == [1, 1, 1, 0]


INVALID_EVENTS = [
    ("event", {"event": None}),
    ("event", {"event": "   "}),
    ("event", {"event": "x" * 256}),
    ("event", {"event": 42}),
    ("app_id", {"app_id": None}),
    ("app_id", {"app_id": "a" * 256}),
    ("session_id", {"session_id": None}),
    ("session_id", {"session_id": ""}),
    ("session_id", {"session_id": "s" * 256}),
    ("user_id", {"user_id": "u" * 256}),
    ("user_id", {"user_id": 7}),
    ("platform", {"platform": "p" * 65}),
    ("platform", {"platform": ["iOS"]}),
    ("app_version", {"app_version": "v" * 65}),
    ("event_id", {"event_id": "e" * 65}),
    ("timestamp", {"timestamp": "yesterday"}),
    ("timestamp", {"timestamp": "1999-12-31T23:59:59Z"}),
    ("timestamp", {"timestamp": -1}),  # (a time after receipt is stored as that time since issue 18)
    ("timestamp", {"timestamp": True}),
    ("timestamp", {"timestamp": {"at": 1}}),
    ("properties", {"properties": [1, 2]}),
    ("properties", {"properties": "text"}),
    ("properties", {"properties": {"blob": "x" * 10_300}}),
    ("metadata", {"metadata": 5}),
    ("event", {"event": "bad\x00name"}),
]


@pytest.mark.parametrize("field,override", INVALID_EVENTS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(INVALID_EVENTS)])
def test_invalid_event_is_rejected_and_nothing_stored(api, app_id, field, override):
    body = {**event(app_id), **override}
    if override.get("app_id", app_id) is None or len(body["app_id"] or "") > 255:
        body["session_id"] = f"{app_id}-marker"
    response = api.track({"events": [event(app_id, "Valid"), body]})
    assert_rejected(response, 400, field)
    assert response.json()["details"][0]["index"] == 1
    assert stored(api, app_id) == []


@pytest.mark.parametrize("body,field", [
    ([], "body"),
    ("just a string", "body"),
    ({"events": []}, "events"),
    ({"events": "nope"}, "events"),
    ({"events": [1]}, "event"),
], ids=["array", "string", "empty-batch", "events-not-array", "event-not-object"])
def test_malformed_body_is_rejected(api, body, field):
    assert_rejected(api.track(body), 400, field)


def test_batch_of_1000_is_accepted_and_1001_refused(api, app_id):
    batch = [event(app_id, session_id=f"s{i % 40}", event_id=f"e{i}") for i in range(1001)]
    assert_rejected(api.track({"events": batch}), 400, "events")
    assert stored(api, app_id) == []
    assert api.track({"events": batch[:1000]}).json() == {"success": True, "count": 1000, "duplicates": 0}
    # A read folds one step first, sized by how long the shared worker's last steps took (rollups/steps.py): after
    # slow ones (other tests' hostile data) a step is smaller than this batch, and the overview says what is unfolded.
    api.fold_all()
    assert api.read("/stats/overview", app_id=app_id, **WIDE)["events"] == 1000


def test_large_non_ascii_batch_inside_the_limits_is_stored(api, app_id):
    # 100 x 8 KB of "é": 808 KB of UTF-8, which \u-escaping would have tripled past D1's 2 MB per value.
    batch = [event(app_id, session_id=f"s{i}", properties={"text": "é" * 4000}) for i in range(100)]
    body = json.dumps({"events": batch}, ensure_ascii=False).encode()
    assert len(body) < 1024 * 1024
    response = api.post("/track", data=body, headers={"Content-Type": "application/json"})
    assert response.json() == {"success": True, "count": 100, "duplicates": 0}
    rows = api.read("/events", app_id=app_id, limit=100, **WIDE)["events"]
    assert len(rows) == 100 and all(row["properties"] == {"text": "é" * 4000} for row in rows)


def test_invalid_json_is_rejected(api):
    response = api.post("/track", data="{not json", headers={"Content-Type": "application/json"})
    assert_rejected(response, 400, "body")


def test_nan_is_not_json(api, app_id):
    response = api.post("/track", data='{"event": "a", "app_id": "%s", "session_id": "s", "properties": {"x": NaN}}' % app_id,
                        headers={"Content-Type": "application/json"})
    assert_rejected(response, 400, "body")
    assert stored(api, app_id) == []


def test_deeply_nested_body_is_rejected(api):
    response = api.post("/track", data="[" * 100_000 + "]" * 100_000, headers={"Content-Type": "application/json"})
    assert_rejected(response, 400, "body")


def test_body_over_one_megabyte_is_413(api, app_id):
    padding = "x" * (1024 * 1024)
    response = api.post("/track", data='{"event":"a","app_id":"%s","session_id":"s","pad":"%s"}' % (app_id, padding),
                        headers={"Content-Type": "application/json"})
    assert_rejected(response, 413)
    assert stored(api, app_id) == []


def test_wrong_content_type_is_415(api, app_id):
    response = api.post("/track", data="event=a", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_rejected(response, 415)


def test_unknown_path_is_404_and_wrong_method_is_405(api):
    assert_rejected(api.get("/nope"), 404)
    response = api.get("/track")
    assert_rejected(response, 405)
    assert response.headers["Allow"] == "POST"


def test_missing_and_wrong_key_are_401_and_store_nothing(api, app_id):
    assert_rejected(api.track(event(app_id), key=None), 401)
    assert_rejected(api.track(event(app_id), key="wrong"), 401)
    assert stored(api, app_id) == []


def test_cors_preflight(api):
    response = api.request("OPTIONS", "/track", key=None, headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-api-key"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-API-KEY" in response.headers["Access-Control-Allow-Headers"]
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_a_page_shows_every_stored_form_of_properties_and_times_as_sent(worker, api, app_id):
    """/events builds each event's JSON in D1 (routes/events.EVENT_JSON): times to the millisecond as tz.to_iso writes
    them, properties as stored (integers past 64 bits as their digits), and rows an earlier version stored with
    non-finite numbers, or text that is not JSON, read in Python as before, never failing the page."""
    from tz.timeutil import to_iso

    stored_forms = [
        ('{"a": Infinity, "b": NaN, "c": 1.5}', {"a": "Infinity", "b": "NaN", "c": 1.5}),
        ('{"n": 123456789012345678901234567890, "f": 1.10, "e": 1e-7}', {"n": 123456789012345678901234567890,
                                                                          "f": 1.1, "e": 1e-7}),
        ('{"s": "a\\"b\\\\c\\n\\u0001\u2028</script>=1+1"}', {"s": 'a"b\\c\n\x01\u2028</script>=1+1'}),
        ("not json {", "not json {"),
        (None, None),
    ]
    times = [946684800000, 1714556400001, 1714556400999, 1733011199999, 1733011200500]
    terms = " UNION ALL ".join(
        f"SELECT {k} AS k, {ts} AS ts, " + ("NULL" if text is None else "'" + text.replace("'", "''") + "'")
        + " AS props" for k, ((text, _), ts) in enumerate(zip(stored_forms, times)))
    execute_sql(worker, "INSERT INTO events (id, event_id, app_id, event_name, session_id, ts, received_at, span_first, "
                        f"properties) SELECT n + k, 'legacy-' || k, '{app_id}', 'Legacy', 's' || k, ts, ts + 7, n + k, "
                        f"props FROM (SELECT MAX((SELECT MAX(id) FROM events), (SELECT folded FROM fold_state "
                        f"WHERE id = 1)) + 1 AS n) CROSS JOIN ({terms})")
    page = api.read("/events", app_id=app_id, limit=10, **WIDE)["events"]
    assert [(row["event_id"], row["timestamp"], row["received_at"], row["properties"]) for row in page] == [
        (f"legacy-{k}", to_iso(ts), to_iso(ts + 7), expected)
        for k, ((_, expected), ts) in reversed(list(enumerate(zip(stored_forms, times))))]
    assert page[0]["timestamp"] == "2024-12-01T00:00:00.500Z" and page[-1]["timestamp"] == "2000-01-01T00:00:00.000Z"
    assert {(row["app_id"], row["event"], row["user_id"], row["platform"]) for row in page} == {
        (app_id, "Legacy", None, None)}
