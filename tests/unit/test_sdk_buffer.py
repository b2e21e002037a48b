"""The SDK's queues: bounded, oldest first, removal by key; the SQLite one survives reopening."""
import sqlite3

import pytest

from oddlytics.buffer import MemoryBuffer, SqliteBuffer


@pytest.fixture(params=["memory", "sqlite"])
def make_buffer(request, tmp_path):
    if request.param == "memory":
        return lambda capacity: MemoryBuffer(capacity)
    return lambda capacity: SqliteBuffer(tmp_path / "queue.db", capacity)


def events(buffer, pairs):
    return [event["n"] for _, event in pairs]


def test_full_buffer_refuses_new_events_and_keeps_old(make_buffer):
    buffer = make_buffer(3)
    assert [buffer.add({"n": n}) for n in range(5)] == [True, True, True, False, False]
    assert events(buffer, buffer.head(10)) == [0, 1, 2]


def test_head_does_not_remove(make_buffer):
    buffer = make_buffer(10)
    for n in range(4):
        buffer.add({"n": n})
    assert events(buffer, buffer.head(2)) == events(buffer, buffer.head(2)) == [0, 1]
    assert len(buffer) == 4


def test_remove_named_keys_from_the_head_keeps_order(make_buffer):
    buffer = make_buffer(10)
    for n in range(5):
        buffer.add({"n": n})
    head = buffer.head(3)
    buffer.remove([head[1][0]])
    assert events(buffer, buffer.head(10)) == [0, 2, 3, 4]
    assert len(buffer) == 4


def test_first_and_last_keys_follow_the_queue(make_buffer):
    buffer = make_buffer(10)
    assert (buffer.first_key(), buffer.last_key()) == (None, None)
    for n in range(3):
        buffer.add({"n": n})
    keys = [key for key, _ in buffer.head(3)]
    buffer.remove(keys[:1])
    assert (buffer.first_key(), buffer.last_key()) == (keys[1], keys[2])


def test_sqlite_buffer_survives_reopening(tmp_path):
    first = SqliteBuffer(tmp_path / "q.db", 10)
    for n in range(3):
        first.add({"n": n, "event_id": f"id-{n}"})
    first.remove([first.head(1)[0][0]])
    first.close()
    second = SqliteBuffer(tmp_path / "q.db", 10)
    assert [event["event_id"] for _, event in second.head(10)] == ["id-1", "id-2"]
    assert len(second) == 2


def test_sqlite_buffer_skips_a_damaged_row(tmp_path):
    path = tmp_path / "q.db"
    buffer = SqliteBuffer(path, 10)
    buffer.add({"n": 0})
    buffer.close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO queue (event) VALUES ('{not json')")
    buffer = SqliteBuffer(path, 10)
    buffer.add({"n": 2})
    assert len(buffer) == 3
    assert events(buffer, buffer.head(10)) == [0, 2]
    assert len(buffer) == 2
