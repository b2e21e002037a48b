"""The client with `persist_path`: the README's own example path, unusable paths, a file held by another client."""
import logging
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


def test_a_second_client_on_a_held_file_says_so_and_sends_from_memory(tmp_path, caplog):
    path = tmp_path / "q.db"
    first_send, second_send = ScriptedSend(*[Retry("down")] * 10_000), ScriptedSend()
    first = client(first_send, persist_path=path)
    kept = first.track("kept in the file")
    with caplog.at_level(logging.ERROR, logger="oddlytics"):
        second = client(second_send, persist_path=path)
    assert f"{path} is in use by another client" in caplog.text and "in memory only" in caplog.text
    sent = second.track("from memory")
    assert second.flush(timeout=10) and second.pending == 0 and second_send.batches == [[sent]]
    assert second.close(timeout=1)
    assert first.close(timeout=0.1) is False  # the first client's event stays in its file
    restarted_send = ScriptedSend()
    restarted = client(restarted_send, persist_path=path)
    assert restarted.close(timeout=10) and restarted_send.batches == [[kept]]
