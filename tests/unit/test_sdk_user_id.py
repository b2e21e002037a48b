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


def test_identify_switches_to_the_apps_id_and_back_and_track_overrides_one_event(tmp_path):
    capture = Capture()
    client = Client("http://worker.invalid", "key", "app", send=capture, flush_interval=3600,
                    persist_path=tmp_path / "q.db")
    anonymous = client.user_id
    client.track("before")
    client.identify("alice")
    client.track("signed in")
    client.track("for bob", user_id="bob")
    client.identify(None)
    client.track("signed out")
    assert client.close(timeout=10)
    assert [(e["event"], e["user_id"]) for e in capture.events] == [
        ("before", anonymous), ("signed in", "alice"), ("for bob", "bob"), ("signed out", anonymous)]


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
