"""The Python SDK against the real local worker: fields, flush/close, retries, restarts, 4xx, bounded queue."""
import json
import logging
import subprocess
import sys

import pytest

from conftest import KEYS
from oddlytics import Backoff, Client
from oddlytics.transport import Retry, post_batch
from scripts.devserver import Worker, free_port
from scripts.soak import kill, read_event_ids

FAST = Backoff(base=0.1, cap=0.5)
INGEST = KEYS["INGEST_KEY"]


def stored_ids(url, app_id):
    return read_event_ids(url, KEYS["READ_KEY"], app_id)


def stored_events(api, app_id):
    return api.read("/events", app_id=app_id, limit=1000, days=2)["events"]


def make_client(url, app_id, **options):
    return Client(url, options.pop("key", INGEST), app_id, **{"flush_interval": 3600, "backoff": FAST, **options})


def test_tracked_events_arrive_with_their_fields(api, app_id):
    client = make_client(api.url, app_id, platform="linux", app_version="2.1.0")
    first = client.track("App Opened", {"screen": "home", "count": 3}, user_id="u-1")
    second = client.track("Clicked")
    assert client.flush(timeout=30)
    client.close()
    events = {e["event_id"]: e for e in stored_events(api, app_id)}
    assert set(events) == {first, second}
    opened = events[first]
    assert (opened["event"], opened["properties"], opened["user_id"]) == ("App Opened", {"screen": "home", "count": 3}, "u-1")
    # Sent as "linux", stored as the SDKs spell it (issue 17).
    assert (opened["platform"], opened["app_version"], opened["app_id"]) == ("Linux", "2.1.0", app_id)
    assert events[second]["session_id"] == opened["session_id"] and len(opened["session_id"]) == 36
    # Without a user id of its own an event carries the client's anonymous one.
    assert (events[second]["properties"], events[second]["user_id"]) == (None, client.user_id)
    assert client.user_id not in (None, "u-1")


def test_a_backfilled_event_is_stored_at_its_own_time(api, app_id):
    from datetime import datetime, timedelta, timezone
    when = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=30)
    with make_client(api.url, app_id) as client:
        sent = client.track("Imported", timestamp=when)
        assert client.flush(timeout=30)
    stored = {e["event_id"]: e["timestamp"] for e in stored_events(api, app_id)}
    assert stored == {sent: when.strftime("%Y-%m-%dT%H:%M:%S.000Z")}


def test_each_client_starts_its_own_session(api, app_id):
    ids = []
    for _ in range(2):
        with make_client(api.url, app_id) as client:
            ids.append(client.track("App Opened"))
    sessions = {e["event_id"]: e["session_id"] for e in stored_events(api, app_id)}
    assert set(sessions) == set(ids) and sessions[ids[0]] != sessions[ids[1]]


def test_close_sends_what_is_queued(api, app_id):
    client = make_client(api.url, app_id)
    ids = [client.track("Step", {"n": n}) for n in range(60)]
    assert client.close(timeout=30)
    assert sorted(stored_ids(api.url, app_id)) == sorted(ids)
    assert client.stats["stored"] == 60


def test_a_retry_after_a_lost_answer_is_stored_once(api, app_id):
    answers = []

    def lose_first_answer(url, key, events, timeout):
        outcome = post_batch(url, key, events, timeout)
        answers.append(outcome)
        return Retry("answer lost") if len(answers) == 1 else outcome

    client = make_client(api.url, app_id, send=lose_first_answer)
    ids = [client.track("Paid", {"n": n}) for n in range(5)]
    assert client.flush(timeout=30)
    client.close()
    assert [(a.stored, a.duplicates) for a in answers] == [(5, 0), (0, 5)]
    assert sorted(stored_ids(api.url, app_id)) == sorted(ids)


def test_events_tracked_while_the_worker_is_down_arrive_once_it_is_back(tmp_path, app_id):
    server = Worker(tmp_path / "d1", variables=KEYS).start()
    client = make_client(server.url, app_id, batch_size=10)
    try:
        before = [client.track("Before") for _ in range(5)]
        assert client.flush(timeout=30)
        kill(server)
        during = [client.track("During", {"n": n}) for n in range(40)]
        assert client.flush(timeout=2) is False
        assert client.stats["retries"] >= 1 and client.pending == 40
        server.start()
        assert client.flush(timeout=120)
        assert sorted(stored_ids(server.url, app_id)) == sorted(before + during)
    finally:
        client.close(timeout=5)
        server.stop()


EXITING_APP = """
import sys
from oddlytics import Client
client = Client(sys.argv[1], sys.argv[2], sys.argv[3], flush_interval=3600)
print(client.track("Quit"))
"""


def test_events_queued_at_a_normal_exit_are_sent_by_atexit(api, app_id):
    done = subprocess.run([sys.executable, "-c", EXITING_APP, api.url, INGEST, app_id],
                          capture_output=True, text=True, timeout=120, check=True)
    assert stored_ids(api.url, app_id) == [done.stdout.strip()]


CRASHING_APP = """
import json, os, sys, time
from oddlytics import Backoff, Client
url, key, app_id, path, wait_for = sys.argv[1:6]
client = Client(url, key, app_id, persist_path=path, batch_size=10, flush_interval=3600, backoff=Backoff(0.1, 0.5))
ids = [client.track("Queued", {"n": n}) for n in range(50)]
print(json.dumps(ids), flush=True)
while client.stats["stored"] < int(wait_for):
    time.sleep(0.005)
os._exit(0)  # a crash: no close(), no atexit
"""


def run_crashing_app(url, app_id, path, wait_for):
    done = subprocess.run([sys.executable, "-c", CRASHING_APP, url, INGEST, app_id, str(path), str(wait_for)],
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def test_queued_events_survive_a_crash_and_are_sent_by_the_next_start(api, app_id, tmp_path):
    path = tmp_path / "queue.db"
    ids = run_crashing_app(f"http://127.0.0.1:{free_port()}", app_id, path, wait_for=0)
    assert stored_ids(api.url, app_id) == []
    client = make_client(api.url, app_id, persist_path=path)
    assert client.pending == 50
    assert client.close(timeout=30)
    assert sorted(stored_ids(api.url, app_id)) == sorted(ids)
    assert make_client(api.url, app_id, persist_path=path).pending == 0


def test_a_crash_while_sending_loses_nothing_and_doubles_nothing(api, app_id, tmp_path):
    path = tmp_path / "queue.db"
    ids = run_crashing_app(api.url, app_id, path, wait_for=20)
    assert 20 <= len(stored_ids(api.url, app_id)) <= 50
    client = make_client(api.url, app_id, persist_path=path)
    assert client.close(timeout=30)
    stored = stored_ids(api.url, app_id)
    assert sorted(stored) == sorted(ids)


def test_invalid_events_are_dropped_and_logged_without_blocking_the_rest(api, app_id, caplog):
    client = make_client(api.url, app_id)
    good = [client.track("Fine", {"n": 1}), client.track("Fine", {"n": 2})]
    client.track("")
    client.track("Too Big", {"blob": "x" * 11_000})
    good.append(client.track("Fine", {"n": 3}))
    with caplog.at_level(logging.ERROR, logger="oddlytics"):
        assert client.flush(timeout=30)
    client.close()
    assert sorted(stored_ids(api.url, app_id)) == sorted(good)
    assert client.stats["rejected"] == 2
    assert "must not be empty" in caplog.text and "10240" in caplog.text


@pytest.mark.parametrize("key, reason", [("wrong-key", "invalid API key"), (KEYS["READ_KEY"], "may not send events")])
def test_a_key_that_may_not_send_keeps_the_events_until_a_good_key_sends_them(api, app_id, tmp_path, caplog,
                                                                              key, reason):
    path = tmp_path / "queue.db"
    rotated = make_client(api.url, app_id, key=key, persist_path=path)
    ids = [rotated.track("Kept", {"n": n}) for n in range(3)]
    with caplog.at_level(logging.ERROR, logger="oddlytics"):
        assert rotated.flush(timeout=1) is False
    assert rotated.close(timeout=0.5) is False
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) >= 2 and all(reason in message for message in errors)
    assert (rotated.stats["rejected"], rotated.pending, stored_ids(api.url, app_id)) == (0, 3, [])
    updated = make_client(api.url, app_id, persist_path=path)  # the app's next version, with the new key
    assert updated.close(timeout=30)
    assert sorted(stored_ids(api.url, app_id)) == sorted(ids)


def test_an_event_over_the_body_limit_is_dropped_alone(api, app_id, caplog):
    client = make_client(api.url, app_id)
    good = [client.track("Fine", {"n": 1}), client.track("Fine", {"n": 2})]
    client.track("Huge", {"blob": "x" * 1_100_000})
    good.append(client.track("Fine", {"n": 3}))
    with caplog.at_level(logging.ERROR, logger="oddlytics"):
        assert client.flush(timeout=30)
    client.close()
    assert sorted(stored_ids(api.url, app_id)) == sorted(good)
    assert client.stats["rejected"] == 1 and "HTTP 413" in caplog.text


def test_batches_larger_than_the_worker_accepts_are_split_until_they_fit(api, app_id):
    client = make_client(api.url, app_id, batch_size=1000)
    ids = [client.track("Bulk", {"n": n}) for n in range(250)]
    assert client.close(timeout=60)
    assert sorted(stored_ids(api.url, app_id)) == sorted(ids)
    assert (client.stats["stored"], client.stats["rejected"]) == (250, 0)


def test_a_full_queue_keeps_the_oldest_events_and_drops_new_ones(api, app_id):
    client = make_client(api.url, app_id, max_queue=5)
    ids = [client.track("Burst", {"n": n}) for n in range(8)]
    assert ids[5:] == [None, None, None]
    assert client.close(timeout=30)
    assert sorted(stored_ids(api.url, app_id)) == sorted(ids[:5])
    assert client.stats["dropped_full"] == 3


# A full disk for real: a 512 KiB tmpfs in a mount namespace of the app's own (unshare works as root and, where
# user namespaces are enabled, unprivileged; the mount disappears with the process, whatever happens to the test).
# The app fills it with a file once its client has opened the queue, so every later write gets ENOSPC.
FULL_DISK_APP = """
import json, os, sys
from oddlytics import Backoff, Client
url, down_url, key, app_id, folder = sys.argv[1:6]
path = os.path.join(folder, "queue.db")

def fill():  # again before each part: whatever SQLite freed in between (a checkpoint at close) is taken too
    with open(os.path.join(folder, "filler"), "ab", buffering=0) as filler:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    filler.write(b"x" * size)
            except OSError:
                pass

def free():
    os.remove(os.path.join(folder, "filler"))

def client(url):
    return Client(url, key, app_id, persist_path=path, flush_interval=3600, batch_size=10, backoff=Backoff(0.05, 0.1))

result = {}
# The worker reachable: events tracked while the disk is full are sent from memory.
reachable = client(url)
fill()
result["sent"] = [reachable.track("Full disk", {"n": n}) for n in range(100)]
result["flushed"] = reachable.flush(timeout=60)
result["pending"] = reachable.pending
result["closed"] = reachable.close(timeout=0)
# The worker unreachable: events still in memory at exit are lost, and the log says why.
gone = client(down_url)
fill()
result["lost"] = [gone.track("Lost", {"n": n}) for n in range(5)]
result["closed_gone"] = gone.close(timeout=0.3)
# The worker unreachable: nothing is lost while the process lives, and space coming back lets the file keep them.
down = client(down_url)
fill()
result["kept"] = [down.track("Kept", {"n": n}) for n in range(30)]
result["flushed_down"] = down.flush(timeout=0.5)
free()
result["closed_down"] = down.close(timeout=0.5)
later = client(url)
result["pending_later"] = later.pending
result["closed_later"] = later.close(timeout=60)
print(json.dumps(result))
"""


def run_on_a_full_disk(url, app_id, folder):
    mount = 'mount -t tmpfs -o size=512k oddlytics-full "$1" && shift && exec "$@"'
    done = subprocess.run(["unshare", "--mount", "--map-root-user", "sh", "-c", mount, "sh", folder,
                           sys.executable, "-c", FULL_DISK_APP, url, f"http://127.0.0.1:{free_port()}", INGEST,
                           app_id, folder], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def test_a_full_disk_under_persist_path_sends_from_memory_and_says_why(api, app_id, tmp_path):
    result, log = run_on_a_full_disk(api.url, app_id, tmp_path)
    assert None not in result["sent"] + result["kept"]
    assert (result["flushed"], result["pending"], result["closed"]) == (True, 0, True)
    assert result["flushed_down"] is False and result["closed_down"] is False
    # Written to the file once space came back, so the next start sent them.
    assert (result["pending_later"], result["closed_later"]) == (30, True)
    assert sorted(stored_ids(api.url, app_id)) == sorted(result["sent"] + result["kept"])
    assert result["closed_gone"] is False and None not in result["lost"]
    assert f"5 events not sent and lost ({tmp_path}/queue.db could not be written: database or disk is full)" in log
    assert "locked" not in log


SHARING_APP = """
import json, sys
from oddlytics import Backoff, Client
url, key, app_id, path = sys.argv[1:5]
client = Client(url, key, app_id, persist_path=path, flush_interval=3600, batch_size=25, backoff=Backoff(0.05, 0.1))
print("ready", flush=True)
sys.stdin.readline()
ids = [client.track("Shared", {"n": n}) for n in range(300)]
result = {"ids": ids, "flushed": client.flush(timeout=60), "pending": client.pending}
result["closed"] = client.close(timeout=60)
print(json.dumps(result))
"""


def test_a_second_process_on_the_same_persist_path_is_told_and_keeps_its_queue_in_memory(api, app_id, tmp_path):
    path = tmp_path / "queue.db"
    apps = []
    for _ in range(2):  # the first one holds the file before the second one starts
        app = subprocess.Popen([sys.executable, "-c", SHARING_APP, api.url, INGEST, app_id, str(path)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        apps.append(app)
        assert app.stdout.readline() == "ready\n"
    outputs = []
    for app in apps:  # both track and send at the same time
        app.stdin.write("go\n")
        app.stdin.flush()
    for app in apps:
        out, err = app.communicate(timeout=240)
        assert app.returncode == 0, err
        outputs.append((json.loads(out), err))
    (holder, holder_log), (second, second_log) = outputs
    for result in (holder, second):
        assert (result["flushed"], result["pending"], result["closed"]) == (True, 0, True)
    assert holder_log == ""
    assert f"{path} is in use by another client" in second_log and "in memory only" in second_log
    assert "kept in" not in second_log
    assert sorted(stored_ids(api.url, app_id)) == sorted(holder["ids"] + second["ids"])
    # Once both are gone the file is free again, and neither left anything in it.
    assert make_client(api.url, app_id, persist_path=path).pending == 0
