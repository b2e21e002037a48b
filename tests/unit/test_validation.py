import json

import pytest

from errors import BadRequest, PayloadTooLarge
from api.validation import dedupe, parse_track_body

NOW = 1_732_550_400_000


def body(**fields):
    return json.dumps({"event": "App Opened", "app_id": "a", "session_id": "s", **fields})


def test_single_event_is_normalised():
    (row,), duplicates = parse_track_body(body(timestamp="2024-11-25T15:30:00Z", platform=""), NOW, "DE")
    assert duplicates == 0
    assert row["ts"] == NOW - 1_800_000
    assert (row["platform"], row["country"], row["received_at"], row["properties"]) == (None, "DE", NOW, None)


def test_metadata_is_an_alias_for_properties():
    (row,), _ = parse_track_body(body(metadata={"b": 1}), NOW)
    assert row["properties"] == '{"b":1}'


def test_country_must_look_like_a_country_code():
    (row,), _ = parse_track_body(body(), NOW, "not a country")
    assert row["country"] is None


def test_all_problems_of_a_batch_are_reported_with_their_index():
    text = json.dumps({"events": [{"event": "ok", "app_id": "a", "session_id": "s"}, {"event": 1}]})
    with pytest.raises(BadRequest) as raised:
        parse_track_body(text, NOW)
    assert {(d["index"], d["field"]) for d in raised.value.details} == {(1, "event"), (1, "app_id"), (1, "session_id")}


def test_lone_surrogates_are_rejected():
    with pytest.raises(BadRequest):
        parse_track_body('{"event": "\\ud800", "app_id": "a", "session_id": "s"}', NOW)


def test_oversized_body():
    with pytest.raises(PayloadTooLarge):
        parse_track_body(body(pad="x" * (1024 * 1024)), NOW)


def test_dedupe_keeps_first_of_each_event_and_all_without_an_event_id():
    def row(app_id, event_id, session_id="s", ts=1, received_at=2):
        return {"app_id": app_id, "event_id": event_id, "session_id": session_id, "ts": ts, "received_at": received_at}
    rows = [row("a", "1"), row("a", "1"), row("b", "1"), row("a", None), row("a", None),
            # The same event_id in another session or at another time is another event...
            row("a", "1", session_id="t"), row("a", "1", ts=0),
            # ...except for events stamped on arrival, which a retry cannot repeat the time of.
            row("a", "2", ts=2), row("a", "2", session_id="t", ts=2)]
    unique, duplicates = dedupe(rows)
    assert duplicates == 2
    assert unique == [rows[0], rows[2], rows[3], rows[4], rows[5], rows[6], rows[7]]
