"""The client with `persist_path`: the README's own example path, unusable paths, a file locked by another process."""
import sqlite3
import subprocess
import sys
import textwrap

from oddlytics import Backoff, Client
from oddlytics.transport import Retry
from test_sdk_client import ScriptedSend


def client(send, **options):
    return Client("http://worker.invalid", "key", "app", send=send,
                  **{"flush_interval": 3600, "backoff": Backoff(0.01, 0.02), **options})


def test_the_readme_example_path_keeps_events_across_restarts(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    first = client(ScriptedSend(*[Retry("down")] * 10_000), persist_path="~/.cache/my-app/oddlytics.db")
    event_id = first.track("Quit")
    assert first.close(timeout=0.1) is False
    send = ScriptedSend()
    second = client(send, persist_path=tmp_path / ".cache" / "my-app" / "oddlytics.db")
    assert second.pending == 1 and second.flush(timeout=10)
    assert send.batches == [[event_id]]
    second.close()


def test_an_unusable_path_is_reported_on_stderr_even_without_logging_configured(tmp_path):
    (tmp_path / "a-file").write_text("")
    app = textwrap.dedent("""
        import sys
        from oddlytics import Client
        client = Client("http://127.0.0.1:9", "key", "app", persist_path=sys.argv[1])
        client.close(timeout=0)
    """)
    done = subprocess.run([sys.executable, "-c", app, str(tmp_path / "a-file" / "q.db")],
                          capture_output=True, text=True, timeout=60, check=True)
    assert "persistence is off" in done.stderr and "a-file" in done.stderr


def test_track_does_not_wait_for_a_locked_queue_file_and_sends_the_event_once_free(tmp_path):
    path = tmp_path / "q.db"
    send = ScriptedSend()
    c = client(send, persist_path=path)
    c.track("before")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing, e.g. a second copy of the app
    try:
        during = c.track("during")
        assert during is not None and c.pending == 2
        assert c.flush(timeout=0.3) is False
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert c.flush(timeout=10)
    assert during in sum(send.batches, []) and c.pending == 0
    c.close()
