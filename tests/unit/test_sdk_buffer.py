"""The SDK's queues: bounded, oldest first, removal by key; the SQLite one survives reopening."""
import logging
import os
import sqlite3
import stat
from contextlib import closing

import pytest

from oddlytics.buffer import MemoryBuffer, QueueFileInUse, SqliteBuffer


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
    with closing(sqlite3.connect(path)) as db, db:  # closed: an open connection would hold the file
        db.execute("INSERT INTO queue (event) VALUES ('{not json')")
    buffer = SqliteBuffer(path, 10)
    buffer.add({"n": 2})
    assert len(buffer) == 3
    assert events(buffer, buffer.head(10)) == [0, 2]
    assert len(buffer) == 2


def test_requeue_moves_an_event_to_the_back_under_a_new_key(make_buffer):
    buffer = make_buffer(10)
    for n in range(3):
        buffer.add({"n": n})
    first_key = buffer.head(1)[0][0]
    new_key = buffer.requeue(first_key)
    assert new_key > buffer.head(10)[-2][0]
    assert events(buffer, buffer.head(10)) == [1, 2, 0] and len(buffer) == 3


# --- the queue file ---------------------------------------------------------------------------

@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_tilde_path_is_expanded_and_missing_folders_are_created(tmp_path, monkeypatch, umask_022):
    monkeypatch.setenv("HOME", str(tmp_path))
    buffer = SqliteBuffer("~/.cache/my-app/oddlytics.db", 10)
    buffer.add({"n": 1})
    assert buffer.path == str(tmp_path / ".cache" / "my-app" / "oddlytics.db")
    assert mode(tmp_path / ".cache" / "my-app") == 0o700
    buffer.close()
    assert len(SqliteBuffer(tmp_path / ".cache/my-app/oddlytics.db", 10)) == 1


def test_the_queue_files_are_readable_by_the_owner_only(tmp_path, umask_022):
    path = tmp_path / "q.db"
    buffer = SqliteBuffer(path, 10)
    buffer.add({"user_id": "u-1"})
    files = [path, tmp_path / "q.db-wal"]  # no -shm: the WAL index of a held file lives in memory
    assert [mode(f) for f in files] == [0o600] * 2
    buffer.close()


def test_a_queue_file_left_world_readable_is_tightened(tmp_path, umask_022):
    path = tmp_path / "q.db"
    SqliteBuffer(path, 10).close()
    os.chmod(path, 0o644)
    SqliteBuffer(path, 10).close()
    assert mode(path) == 0o600


def test_a_file_is_held_by_one_buffer_until_it_closes(tmp_path):
    path = tmp_path / "q.db"
    first = SqliteBuffer(path, 10)
    first.add({"n": 0})
    with pytest.raises(QueueFileInUse, match="in use by another client"):
        SqliteBuffer(path, 10)
    with closing(sqlite3.connect(path, timeout=0)) as other:  # nor can anything else read or write it
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("SELECT COUNT(*) FROM queue")
    first.close()
    second = SqliteBuffer(path, 10)
    assert events(second, second.head(10)) == [0] and len(second) == 1
    second.close()


def big(n):
    return {"n": n, "pad": "x" * 5000}  # needs pages of its own: a full file refuses it


def test_a_full_file_keeps_events_in_memory_hands_them_out_and_writes_them_once_there_is_room(tmp_path, caplog):
    path = tmp_path / "q.db"
    buffer = SqliteBuffer(path, 10)
    buffer.add(big(0))
    # A full disk as SQLite reports it (SQLITE_FULL): the file may not grow past its size now.
    pages = buffer._db.execute("PRAGMA page_count").fetchone()[0]
    buffer._db.execute(f"PRAGMA max_page_count={pages}")
    with caplog.at_level(logging.WARNING, logger="oddlytics"):
        assert buffer.add(big(1)) and buffer.add(big(2))
    assert "database or disk is full" in caplog.text and buffer.trouble == "database or disk is full"
    assert (len(buffer), buffer.unsaved) == (3, 2)
    head = buffer.head(10)
    assert events(buffer, head) == [0, 1, 2]
    assert (buffer.first_key(), buffer.last_key()) == (head[0][0], head[2][0])
    buffer.remove([head[1][0]])  # sent from memory
    moved = buffer.requeue(head[0][0])  # the file cannot take the moved row: it goes to memory too
    assert events(buffer, buffer.head(10)) == [2, 0] and (len(buffer), buffer.unsaved) == (2, 2)
    buffer._db.execute("PRAGMA max_page_count=1000000")  # room again
    assert buffer.head(10) == [(head[2][0], big(2)), (moved, big(0))]  # written, keys kept
    assert (buffer.unsaved, buffer.trouble) == (0, None)
    buffer.close()
    reopened = SqliteBuffer(path, 10)
    assert reopened.head(10) == [(head[2][0], big(2)), (moved, big(0))] and len(reopened) == 2
    reopened.close()


def test_an_event_sent_from_memory_and_written_before_its_answer_is_removed_from_the_file(tmp_path):
    buffer = SqliteBuffer(tmp_path / "q.db", 10)
    buffer.add(big(0))
    pages = buffer._db.execute("PRAGMA page_count").fetchone()[0]
    buffer._db.execute(f"PRAGMA max_page_count={pages}")
    buffer.add(big(1))
    in_flight = buffer.head(10)
    buffer._db.execute("PRAGMA max_page_count=1000000")
    buffer.add(big(2))
    assert buffer.head(10)[:2] == in_flight and buffer.unsaved == 0  # written while it was being sent
    buffer.remove([key for key, _ in in_flight])  # the worker's answer
    assert events(buffer, buffer.head(10)) == [2] and len(buffer) == 1
    buffer.close()
    assert events(buffer, SqliteBuffer(tmp_path / "q.db", 10).head(10)) == [2]
