"""The SDK client's queueing, batching and retry rules, with the HTTP call replaced by a script.

The real worker is exercised by tests/test_sdk.py; here each answer is chosen exactly.
"""
import json
import logging
import math
import threading
import time

import pytest

from oddlytics import Backoff, Client
from oddlytics.transport import MAX_BODY_BYTES, Delivered, Refused, Rejected, Retry, Split

FAST = Backoff(base=0.01, cap=0.02)


class ScriptedSend:
    """Records each batch's event_ids; answers from `script`, then Delivered for ever."""

    def __init__(self, *script):
        self.script = list(script)
        self.batches = []
        self.sent = threading.Event()

    def __call__(self, url, key, events, timeout):
        self.batches.append([e["event_id"] for e in events])
        self.sent.set()
        answer = self.script.pop(0) if self.script else Delivered(len(events), 0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(send, **options):
    options = {"flush_interval": 3600, "backoff": FAST, **options}
    return Client("http://worker.invalid", "key", "app", send=send, **options)


def test_flush_sends_everything_in_batches_of_batch_size_in_order():
    send = ScriptedSend()
    c = client(send, batch_size=10)
    ids = [c.track("e", {"n": n}) for n in range(25)]
    assert c.flush(timeout=10)
    assert [len(b) for b in send.batches] == [10, 10, 5]
    assert sum(send.batches, []) == ids
    c.close()


def test_a_retried_batch_keeps_its_event_ids():
    send = ScriptedSend(Retry("down"), Retry("HTTP 503"))
    c = client(send)
    ids = [c.track("e") for _ in range(3)]
    assert c.flush(timeout=10)
    assert send.batches == [ids, ids, ids]
    assert c.stats["retries"] == 2 and c.stats["stored"] == 3
    c.close()


def test_events_named_invalid_are_dropped_and_the_rest_resent():
    send = ScriptedSend(Rejected("HTTP 400: event 1 bad", frozenset({1})))
    c = client(send)
    ids = [c.track("e") for _ in range(4)]
    assert c.flush(timeout=10)
    assert send.batches == [ids, [ids[0], ids[2], ids[3]]]
    assert (c.stats["rejected"], c.stats["stored"], c.pending) == (1, 3, 0)
    c.close()


@pytest.mark.parametrize("refusal", [Refused("HTTP 401: invalid API key"), Refused("HTTP 403: may not send events"),
                                     Refused("HTTP 301: the worker URL redirects to 'http://elsewhere/'")])
def test_a_configuration_error_keeps_the_events_and_logs_an_error_each_attempt(caplog, refusal):
    send = ScriptedSend(refusal, refusal, refusal)
    c = client(send)
    ids = [c.track("e") for _ in range(3)]
    with caplog.at_level(logging.ERROR, logger="oddlytics"):
        assert c.flush(timeout=10)
    assert send.batches == [ids] * 4
    assert (c.stats["rejected"], c.stats["stored"], c.stats["retries"], c.pending) == (0, 3, 3, 0)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 3 and all(refusal.reason in r.getMessage() for r in errors)
    c.close()


def test_a_same_host_https_upgrade_is_followed_at_once_and_kept():
    urls = []
    send = ScriptedSend(Refused("HTTP 301: moved", https_url="https://worker.invalid"))
    c = client(lambda url, key, events, timeout: urls.append(url) or send(url, key, events, timeout))
    c.track("e")
    assert c.flush(timeout=10)
    c.track("e")
    assert c.flush(timeout=10)
    assert urls == ["http://worker.invalid", "https://worker.invalid", "https://worker.invalid"]
    assert (c.url, c.stats["retries"], c.stats["stored"]) == ("https://worker.invalid", 0, 2)
    c.close()


class RefusesBatchesWith:
    """Answers `refusal` to any batch holding one of `bad` event indices (by the "n" property)."""

    def __init__(self, refusal, *bad):
        self.refusal = refusal
        self.bad = set(bad)
        self.batches = []
        self.delivered = []

    def __call__(self, url, key, events, timeout):
        numbers = [e["properties"]["n"] for e in events]
        self.batches.append(numbers)
        if self.bad & set(numbers):
            return self.refusal
        self.delivered += numbers
        return Delivered(len(events), 0)


def test_a_413_splits_the_batch_until_the_event_at_fault_is_alone_and_drops_only_it(caplog):
    send = RefusesBatchesWith(Split("HTTP 413: request body too large"), 6)
    c = client(send, batch_size=10)
    with caplog.at_level(logging.ERROR, logger="oddlytics"):
        for n in range(30):
            c.track("e", {"n": n})
        assert c.flush(timeout=10)
    assert sorted(send.delivered) == [n for n in range(30) if n != 6]
    assert [6] in send.batches and send.batches[-2:] == [list(range(10, 20)), list(range(20, 30))]
    assert (c.stats["rejected"], c.stats["stored"], c.pending) == (1, 29, 0)
    assert "HTTP 413" in caplog.text
    c.close()


def test_a_batch_over_an_older_workers_limit_is_split_until_it_fits():
    over = Split("HTTP 400: batch has 250 events; the limit is 100")
    batches = []

    def worker_with_limit_100(url, key, events, timeout):
        batches.append(len(events))
        return over if len(events) > 100 else Delivered(len(events), 0)

    c = client(worker_with_limit_100, batch_size=250)
    ids = [c.track("e") for _ in range(250)]
    assert c.flush(timeout=10) and all(ids)
    assert batches == [250, 125, 63, 62, 125, 63, 62] and c.stats["stored"] == 250
    c.close()


def wait_until(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_a_batch_that_always_gets_5xx_is_split_and_its_bad_event_parked_while_the_rest_flows(caplog):
    send = RefusesBatchesWith(Retry("HTTP 500: internal error", server_error=True), 3)
    c = client(send, batch_size=8, max_attempts=2)
    with caplog.at_level(logging.ERROR, logger="oddlytics"):
        ids = [c.track("e", {"n": n}) for n in range(8)]
        assert wait_until(lambda: c.stats["stored"] == 7)
        c.track("e", {"n": 8})
        # The parked event is sent again with the later ones, and still holds back a flush.
        assert c.flush(timeout=0.2) is False
        assert wait_until(lambda: c.stats["stored"] == 8)
    assert sorted(send.delivered) == [0, 1, 2, 4, 5, 6, 7, 8]
    assert (c.pending, c.stats["parked"] >= 1, c.stats["rejected"]) == (1, True, 0)
    assert f"event {ids[3]} ('e') failed 2 times" in caplog.text
    assert c.close(timeout=0.2) is False


def test_network_errors_do_not_count_against_a_batch():
    send = ScriptedSend(*[Retry("ConnectionRefusedError")] * 6)
    c = client(send, max_attempts=2)
    ids = [c.track("e") for _ in range(4)]
    assert c.flush(timeout=10)
    assert send.batches == [ids] * 7 and c.stats["parked"] == 0
    c.close()


def test_an_outage_answered_5xx_loses_nothing_and_doubles_nothing():
    send = ScriptedSend(*[Retry("HTTP 503: schema not applied", server_error=True)] * 20)
    c = client(send, batch_size=4, max_attempts=2)
    ids = [c.track("e") for _ in range(4)]
    assert c.flush(timeout=10)
    delivered = sum(send.batches[20:], [])
    assert sorted(delivered) == sorted(ids) and c.stats["stored"] == 4 and c.stats["parked"] >= 1
    c.close()


def test_batch_size_may_be_up_to_1000():
    send = ScriptedSend()
    c = client(send, batch_size=5000)
    ids = [c.track("e") for _ in range(1000)]
    assert c.flush(timeout=30)
    assert c.batch_size == 1000 and send.batches == [ids]
    c.close()


def test_batches_are_cut_to_fit_the_request_body_limit():
    sizes = []

    def measure(url, key, events, timeout):
        sizes.append(len(json.dumps({"events": events}, separators=(",", ":"))))
        return Delivered(len(events), 0)

    c = client(measure, batch_size=10)
    for n in range(7):
        c.track("e", {"blob": "x" * 300_000, "n": n})
    assert c.flush(timeout=30)
    assert len(sizes) == 3 and max(sizes) <= MAX_BODY_BYTES and c.stats["stored"] == 7
    c.close()


def test_sender_survives_an_exception_in_send():
    send = ScriptedSend(RuntimeError("boom"))
    c = client(send)
    event_id = c.track("e")
    assert c.flush(timeout=10)
    assert send.batches == [[event_id], [event_id]]
    c.close()


@pytest.mark.parametrize("args", [
    ("e", {"x": math.nan}),
    ("e", ["not", "a", "dict"]),
    (None,),
    (42, {"a": 1}),
])
def test_track_never_raises_on_bad_input(args, caplog):
    c = client(ScriptedSend())
    with caplog.at_level(logging.ERROR, logger="oddlytics"):
        assert c.track(*args) is None
    assert "dropped" in caplog.text and c.pending == 0
    c.close()


def test_values_json_cannot_hold_are_sent_as_strings():
    send = ScriptedSend()
    captured = []
    c = client(lambda url, key, events, timeout: captured.extend(events) or send(url, key, events, timeout))
    properties = {"when": object.__new__(type("Thing", (), {"__str__": lambda self: "thing"})), "n": 1}
    c.track("e", properties, user_id=7)
    properties["n"] = 2  # a later change by the app is not sent
    assert c.flush(timeout=10)
    assert (captured[0]["properties"], captured[0]["user_id"]) == ({"when": "thing", "n": 1}, "7")
    c.close()


def test_full_queue_drops_new_events_with_one_warning(caplog):
    send = ScriptedSend()
    c = client(send, max_queue=3)
    with caplog.at_level(logging.WARNING, logger="oddlytics"):
        ids = [c.track("e", {"n": n}) for n in range(6)]
    assert [i is not None for i in ids] == [True, True, True, False, False, False]
    assert caplog.text.count("queue full") == 1 and c.stats["dropped_full"] == 3
    assert c.flush(timeout=10)
    assert send.batches == [ids[:3]]
    c.close()


def test_close_sends_what_is_queued_and_later_tracks_are_dropped():
    send = ScriptedSend()
    c = client(send)
    ids = [c.track("e") for _ in range(5)]
    assert c.close(timeout=10)
    assert send.batches == [ids]
    assert c.track("late") is None


def test_flush_and_close_after_close_do_not_raise(tmp_path):
    c = client(ScriptedSend(), persist_path=tmp_path / "q.db")
    c.track("e")
    assert c.close(timeout=10)
    assert (c.close(), c.flush(), c.pending, c.track("late")) == (True, True, 0, None)


def test_close_gives_up_after_its_timeout_and_says_what_was_lost(caplog):
    c = client(ScriptedSend(*[Retry("down")] * 10_000))
    c.track("e")
    with caplog.at_level(logging.WARNING, logger="oddlytics"):
        assert c.close(timeout=0.2) is False
    assert "1 events not sent and lost" in caplog.text


def test_the_interval_sends_a_partial_batch_without_flush():
    send = ScriptedSend()
    c = client(send, flush_interval=0.05)
    event_id = c.track("e")
    assert send.sent.wait(10)
    assert send.batches[0] == [event_id]
    c.close()


def test_a_client_without_a_key_drops_events_and_says_why(caplog):
    with caplog.at_level(logging.ERROR, logger="oddlytics"):
        c = Client("http://worker.invalid", None, "app", send=ScriptedSend())
    assert c.track("e") is None
    assert "missing key" in caplog.text
    c.close()


def test_flush_waiting_while_close_finishes_returns_false_instead_of_raising(tmp_path):
    c = client(ScriptedSend(*[Retry("down")] * 10_000), persist_path=tmp_path / "q.db")
    c.track("e")
    results = []

    def flush_and_record():
        try:
            results.append(c.flush(timeout=3))
        except Exception as error:  # what the app would have received
            results.append(error)

    flusher = threading.Thread(target=flush_and_record)
    flusher.start()
    assert c.close(timeout=0.2) is False
    flusher.join(10)
    assert results == [False]


def test_an_event_may_carry_its_own_time_for_backfills(caplog):
    from datetime import datetime, timedelta, timezone
    captured = []
    send = ScriptedSend()
    c = client(lambda url, key, events, timeout: captured.extend(events) or send(url, key, events, timeout))
    berlin = timezone(timedelta(hours=2))
    c.track("a", timestamp=datetime(2024, 5, 1, 12, 30, tzinfo=berlin))
    c.track("b", timestamp="2024-05-01T10:30:00Z")
    c.track("c", timestamp=1714559400)
    c.track("d", timestamp="2024-05-01T12:30:00.250+02:00")
    with caplog.at_level(logging.ERROR, logger="oddlytics"):
        # Without a zone the time would be off by the offset of wherever the app runs: dropped, logged.
        assert c.track("naive", timestamp=datetime(2024, 5, 1, 10, 30)) is None
        assert c.track("naive text", timestamp="2024-05-01T10:30:00") is None
        assert c.track("not a time", timestamp=[2024]) is None
        assert c.track("a bool", timestamp=True) is None
    assert "naive" in caplog.text and "time zone" in caplog.text
    assert c.flush(timeout=10)
    assert [(e["event"], e["timestamp"]) for e in captured] == [
        ("a", "2024-05-01T10:30:00.000Z"), ("b", "2024-05-01T10:30:00.000Z"), ("c", "2024-05-01T10:30:00.000Z"),
        ("d", "2024-05-01T10:30:00.250Z")]
    c.close()
