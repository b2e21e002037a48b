"""How the SDK reads the worker's answers."""
import json

from oddlytics.transport import Delivered, Rejected, Retry, outcome_for, post_batch


def body(**fields):
    return json.dumps(fields).encode()


def test_success_reports_stored_and_duplicates():
    assert outcome_for(200, body(success=True, count=3, duplicates=2)) == Delivered(3, 2)


def test_success_with_odd_body_is_still_delivered():
    assert outcome_for(200, b"<html>") == Delivered(0, 0)


def test_server_errors_and_rate_limits_are_retried():
    assert outcome_for(503, body(error="schema not applied")) == Retry("HTTP 503: schema not applied", None)
    assert outcome_for(429, b"", "7") == Retry("HTTP 429: HTTP 429", 7.0)


def test_invalid_events_are_named_by_index():
    details = [{"index": 1, "field": "event", "message": "must not be empty"},
               {"index": 3, "field": "properties", "message": "too big"}]
    outcome = outcome_for(400, body(success=False, error="2 of 4 events are invalid", details=details))
    assert outcome.indices == frozenset({1, 3})
    assert "event 1 event must not be empty" in outcome.reason


def test_refusals_without_indices_drop_the_batch():
    assert outcome_for(401, body(error="invalid API key")) == Rejected("HTTP 401: invalid API key", None)
    details = [{"index": None, "field": "body", "message": "too large"}]
    assert outcome_for(413, body(error="too big", details=details)).indices is None


def test_unreachable_worker_is_a_retry():
    outcome = post_batch("http://127.0.0.1:9", "k", [{"event": "x"}], timeout=2)
    assert isinstance(outcome, Retry) and "Connection" in outcome.reason
