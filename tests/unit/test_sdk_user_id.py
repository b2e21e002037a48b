"""The SDK's user ids: a random anonymous id by default, kept in the queue file across restarts; the app's own
id (constructor, identify, per event) replaces it; anonymous_user_id=False sends none."""
import logging
import sqlite3
import uuid

from oddlytics import Backoff, Client
from oddlytics.buffer import SqliteBuffer
from oddlytics.transport import Delivered


class Capture:
    def __init__(self):
        self.events = []

    def __call__(self, url, key, events, timeout):
        self.events.extend(events)
        return Delivered(len(events), 0)


def sent_user_ids(**options):
    """Track two events with a fresh client; the user_id each carried (None when absent) and the client."""
    capture = Capture()
    client = Client("http://worker.invalid", "key", "app", send=capture, flush_interval=3600,
                    backoff=Backoff(0.01, 0.02), **options)
    client.track("first")
    client.track("second")
    assert client.close(timeout=10)
    return [event.get("user_id") for event in capture.events], client


def test_by_default_every_event_carries_one_random_anonymous_id():
    (first, second), client = sent_user_ids()
    assert first == second == client.user_id and uuid.UUID(first).version == 4


def test_the_anonymous_id_is_kept_in_the_queue_file_across_restarts(tmp_path):
    (first, _), _ = sent_user_ids(persist_path=tmp_path / "q.db")
    (again, _), _ = sent_user_ids(persist_path=tmp_path / "q.db")
    (elsewhere, _), _ = sent_user_ids(persist_path=tmp_path / "other.db")
    assert again == first and elsewhere != first


def test_without_a_queue_file_each_client_has_its_own_anonymous_id():
    (first, _), _ = sent_user_ids()
    (second, _), _ = sent_user_ids()
    assert first != second


def test_the_apps_own_id_replaces_it_from_the_constructor():
    assert sent_user_ids(user_id="u-42")[0] == ["u-42", "u-42"]
    assert sent_user_ids(user_id=7, anonymous_user_id=False)[0] == ["7", "7"]


class Links:
    def __init__(self, capture, answer=None):
        self.capture = capture
        self.answer = answer or Delivered(0, 0)

    def __call__(self, url, key, link, timeout):
        self.capture.events.append({"link": link})
        return self.answer


def identify_client(tmp_path, **options):
    capture = Capture()
    client = Client("http://worker.invalid", "key", "app", send=capture, link=Links(capture), flush_interval=3600,
                    persist_path=tmp_path / "q.db", backoff=Backoff(0.01, 0.02), **options)
    return capture, client


def test_identify_switches_to_the_apps_id_and_signing_out_starts_a_new_anonymous_id(tmp_path):
    capture, client = identify_client(tmp_path)
    anonymous = client.user_id
    client.track("before")
    client.identify("alice")
    client.track("signed in")
    client.track("for bob", user_id="bob")
    client.identify(None)
    signed_out = client.user_id
    client.track("signed out")
    assert client.close(timeout=10)
    # "before" was still queued: it is sent as alice's; the link follows it, for what was sent before.
    assert [(e["event"], e["user_id"]) if "event" in e else e for e in capture.events] == [
        ("before", "alice"), {"link": {"app_id": "app", "anonymous_id": anonymous, "user_id": "alice"}},
        ("signed in", "alice"), ("for bob", "bob"), ("signed out", signed_out)]
    assert signed_out not in (anonymous, None) and uuid.UUID(signed_out).version == 4
    assert client.stats["linked"] == 1 and client.stats["stored"] == 4


def test_the_link_goes_after_the_events_already_sent_and_only_when_the_anonymous_id_was_used(tmp_path):
    capture, client = identify_client(tmp_path)
    client.identify("carol")  # nothing tracked anonymously: no link
    client.identify(None)
    anonymous = client.user_id
    client.track("anonymous")
    assert client.flush(timeout=10)
    client.identify("dave")
    client.identify("dave")  # the same user again: nothing new
    client.track("as dave")
    assert client.close(timeout=10)
    assert [e.get("event", e.get("link")) for e in capture.events] == [
        "anonymous", {"app_id": "app", "anonymous_id": anonymous, "user_id": "dave"}, "as dave"]
    assert capture.events[0]["user_id"] == anonymous


def test_the_anonymous_id_and_whether_it_was_used_survive_a_restart(tmp_path):
    capture, client = identify_client(tmp_path)
    anonymous = client.user_id
    client.track("first run")
    assert client.close(timeout=10)
    # The next start knows who it is from the constructor: the first run's events are linked to them.
    capture, client = identify_client(tmp_path, user_id="erin")
    client.track("second run")
    assert client.close(timeout=10)
    assert capture.events[0] == {"link": {"app_id": "app", "anonymous_id": anonymous, "user_id": "erin"}}
    # And once linked, a start as the same user sends no link again.
    capture, client = identify_client(tmp_path, user_id="erin")
    client.track("third run")
    assert client.close(timeout=10)
    assert [e.get("event") for e in capture.events] == ["third run"]


def test_a_refused_link_is_dropped_and_the_events_go_on(tmp_path):
    from oddlytics.transport import Rejected
    capture = Capture()
    client = Client("http://worker.invalid", "key", "app", send=capture, flush_interval=3600,
                    link=Links(capture, Rejected("HTTP 409: linked to another user", frozenset({0}))),
                    persist_path=tmp_path / "q.db", backoff=Backoff(0.01, 0.02))
    client.track("before")
    assert client.flush(timeout=10)
    client.identify("frank")
    client.track("after")
    assert client.close(timeout=10)
    assert [e.get("event", "link") for e in capture.events] == ["before", "link", "after"]
    assert client.stats["linked"] == 0 and client.stats["rejected"] == 1


def test_queued_events_are_relabelled_in_memory_queues_too():
    capture = Capture()
    client = Client("http://worker.invalid", "key", "app", send=capture, link=Links(capture), flush_interval=3600)
    client.track("before")
    client.identify("gina")
    assert client.close(timeout=10)
    assert [e.get("user_id") for e in capture.events if "event" in e] == ["gina"]


def test_anonymous_ids_can_be_turned_off():
    ids, client = sent_user_ids(anonymous_user_id=False)
    assert ids == [None, None] and client.user_id is None


def test_a_queue_file_from_before_user_ids_gets_one(tmp_path):
    path = tmp_path / "q.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE queue (key INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL)")
    old.execute("INSERT INTO queue (event) VALUES (?)", ('{"event": "queued earlier"}',))
    old.commit()
    old.close()
    buffer = SqliteBuffer(path, 10)
    assert buffer.kept_value("anonymous_user_id", "new-id") == "new-id" and len(buffer) == 1
    buffer.close()


def user_id_at_start(path):
    client = Client("http://worker.invalid", "key", "app", send=Capture(), persist_path=path)
    assert client.close(timeout=1)
    return client.user_id


def test_a_file_in_use_at_start_still_gives_an_id_and_the_next_starts_keep_one(tmp_path, caplog):
    path = tmp_path / "q.db"
    holder = SqliteBuffer(path, 10)  # another client, e.g. a second copy of the app
    kept = holder.kept_value("anonymous_user_id", "holder-id")
    try:
        with caplog.at_level(logging.WARNING, logger="oddlytics"):
            during = user_id_at_start(path)
    finally:
        holder.close()
    assert during not in (None, kept) and "in use by another client" in caplog.text
    assert user_id_at_start(path) == user_id_at_start(path) == kept
