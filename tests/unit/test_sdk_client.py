"""The SDK client's queueing, batching and retry rules, with the HTTP call replaced by a script.

The real worker is exercised by tests/test_sdk.py; here each answer is chosen exactly.
"""
import logging
import math
import threading

import pytest

from oddlytics import Backoff, Client
from oddlytics.transport import Delivered, Rejected, Retry

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


def test_a_refusal_naming_no_event_drops_the_batch_and_is_logged(caplog):
    send = ScriptedSend(Rejected("HTTP 401: invalid API key"))
    c = client(send)
    for _ in range(3):
        c.track("e")
    with caplog.at_level(logging.ERROR, logger="oddlytics"):
        assert c.flush(timeout=10)
    assert (len(send.batches), c.stats["rejected"], c.pending) == (1, 3, 0)
    assert "invalid API key" in caplog.text
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
