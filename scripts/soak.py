"""Load-and-fault soak: concurrent SDK clients send events while the worker is SIGKILLed and restarted.

    make soak                                              # 16 clients, 50,000 events, 2 restarts
    .venv/bin/python scripts/soak.py --clients 4 --events 400 --restarts 1

Every client queues its whole share at once and sends it in batches; the worker's process group is
killed (SIGKILL, mid-request) each time another 1/(restarts+1) of the events has been delivered, and
restarted on the same port and database. At the end every stored event_id is read back through
GET /events and compared with what was tracked. Exit status 1 unless 0 lost and 0 duplicated.
"""
import argparse
import os
import secrets
import signal
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "sdk")]

from oddlytics import Backoff, Client  # noqa: E402
from scripts.devserver import Worker, run_until_stopped  # noqa: E402


@dataclass
class SoakResult:
    tracked: int
    stored: int
    lost: int
    duplicated: int
    unexpected: int
    rollup_events: int
    restarts: int
    retries: int
    duplicates_answered: int
    seconds: float

    @property
    def events_per_second(self):
        return self.stored / self.seconds if self.seconds else 0.0

    @property
    def exact(self):
        return self.lost == 0 and self.duplicated == 0 and self.unexpected == 0 and self.stored == self.tracked


def kill(worker):
    """SIGKILL wrangler and its workerd children (one process group), as a crash would."""
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(worker.process.pid, 0)  # any child still alive holds the port
        except ProcessLookupError:
            break
        time.sleep(0.05)
    worker.stop()  # closes the log file; the processes are already gone


def wide_range():
    today = date.today()
    return {"from": (today - timedelta(days=2)).isoformat(), "to": (today + timedelta(days=2)).isoformat()}


def read_event_ids(url, key, app_id):
    """Every stored event_id of the app (with repeats, if any), paging GET /events by next_cursor."""
    params = {"app_id": app_id, "limit": 1000, **wide_range()}
    ids = []
    while True:
        response = requests.get(url + "/events", params=params, headers={"X-API-KEY": key}, timeout=60)
        response.raise_for_status()
        page = response.json()
        ids += [event["event_id"] for event in page["events"]]
        if not page["next_cursor"]:
            return ids
        params["cursor"] = page["next_cursor"]


def rollup_events(url, key, app_id):
    response = requests.get(url + "/stats/overview", params={"app_id": app_id, **wide_range()},
                            headers={"X-API-KEY": key}, timeout=60)
    response.raise_for_status()
    return response.json()["events"]


def _track_share(client, index, count, tracked):
    for n in range(count):
        event_id = client.track("Soak Event", {"client": index, "n": n})
        if event_id is not None:
            tracked.append(event_id)


def _delivered(clients):
    return sum(stats["stored"] + stats["duplicates"] for stats in (c.stats for c in clients))


def _wait_for_delivered(clients, threads, count):
    while _delivered(clients) < count:
        if not any(t.is_alive() for t in threads) and not any(c.pending for c in clients):
            return False
        time.sleep(0.05)
    return True


def run_soak(state_dir, clients=16, events=50_000, restarts=2, batch_size=25, persist=True,
             downtime=1.0, say=print):
    state_dir = Path(state_dir)
    keys = {"AUTH_KEY": secrets.token_urlsafe(16), "INGEST_KEY": secrets.token_urlsafe(16)}
    worker = Worker(state_dir / "d1", variables=keys)
    worker.start()
    app_id = f"soak-{uuid.uuid4().hex[:10]}"
    sdk = []
    try:
        sdk += [
            Client(worker.url, keys["INGEST_KEY"], app_id, platform="soak", batch_size=batch_size,
                   flush_interval=1.0, max_queue=events, backoff=Backoff(base=0.2, cap=2.0),
                   persist_path=state_dir / f"queue-{i}.db" if persist else None)
            for i in range(clients)
        ]
        shares = [events // clients + (1 if i < events % clients else 0) for i in range(clients)]
        tracked = [[] for _ in range(clients)]
        started = time.monotonic()
        threads = [threading.Thread(target=_track_share, args=(sdk[i], i, shares[i], tracked[i]))
                   for i in range(clients)]
        for thread in threads:
            thread.start()
        done = 0
        for k in range(1, restarts + 1):
            if not _wait_for_delivered(sdk, threads, k * events / (restarts + 1)):
                break  # everything was delivered already: no load left to kill the worker under
            kill(worker)
            say(f"  killed the worker after {_delivered(sdk)} events delivered; restarting")
            time.sleep(downtime)
            worker.start()
            done += 1
        for thread in threads:
            thread.join()
        unsent = [c for c in sdk if not c.flush(timeout=600)]
        seconds = time.monotonic() - started
        for client in sdk:
            client.close(timeout=10)
        if unsent:
            say(f"  {len(unsent)} clients still had events queued after 600 s")
        all_tracked = [event_id for share in tracked for event_id in share]
        stored = read_event_ids(worker.url, keys["AUTH_KEY"], app_id)
        wanted, got = set(all_tracked), set(stored)
        return SoakResult(
            tracked=len(all_tracked), stored=len(stored), lost=len(wanted - got),
            duplicated=len(stored) - len(got), unexpected=len(got - wanted),
            rollup_events=rollup_events(worker.url, keys["AUTH_KEY"], app_id), restarts=done,
            retries=sum(c.stats["retries"] for c in sdk),
            duplicates_answered=sum(c.stats["duplicates"] for c in sdk), seconds=seconds,
        )
    finally:
        for client in sdk:
            client.close(timeout=0)  # when interrupted: no 10 s flush each at exit; the queues keep the rest
        worker.stop()


def report(result, clients, batch_size, persist):
    queue = "SQLite files" if persist else "memory"
    rows = [
        ("events tracked", result.tracked),
        ("events stored", result.stored),
        ("lost", result.lost),
        ("duplicated", result.duplicated),
        ("stored, not tracked", result.unexpected),
        ("rollup events", result.rollup_events),
        ("worker restarts", f"{result.restarts} (SIGKILL of its process group)"),
        ("failed attempts", f"{result.retries} (retried with the same event_ids)"),
        ("duplicates refused", f"{result.duplicates_answered} (stored before a kill, answer lost, retried)"),
        ("wall time", f"{result.seconds:.1f} s"),
        ("events/s", f"{result.events_per_second:.0f}"),
    ]
    header = f"soak: {clients} SDK clients, batches of {batch_size}, queues in {queue}"
    return "\n".join([header] + [f"  {label:<21}{value}" for label, value in rows])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=25)
    parser.add_argument("--persist", action=argparse.BooleanOptionalAction, default=True,
                        help="queue in SQLite files (default) or in memory")
    parser.add_argument("--state", help="directory for the database and queues (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oddlytics-soak-") as scratch:
        result = run_soak(args.state or scratch, args.clients, args.events, args.restarts, args.batch_size, args.persist)
    print(report(result, args.clients, args.batch_size, args.persist))
    return 0 if result.exact and result.restarts == args.restarts else 1


if __name__ == "__main__":
    sys.exit(run_until_stopped(main))
