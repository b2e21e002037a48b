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


def test_dedupe_keeps_first_of_each_event_id_and_all_without_one():
    rows = [{"app_id": "a", "event_id": "1"}, {"app_id": "a", "event_id": "1"},
            {"app_id": "b", "event_id": "1"}, {"app_id": "a", "event_id": None}, {"app_id": "a", "event_id": None}]
    unique, duplicates = dedupe(rows)
    assert duplicates == 1 and len(unique) == 4
