"""`make bench`: ingest throughput and the D1 cost of each read route, printed as figures.

Starts its own worker on a temporary local D1, loads synthetic events spread over 30 days,
then measures. Cost comes from the worker's x-d1-rows-read / x-d1-rows-written headers.
"""
import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.devserver import Worker, run_until_stopped  # noqa: E402

KEY = "bench-key"
HEADERS = {"X-API-KEY": KEY}
NAMES = ["App Opened", "Screen Viewed", "Screen Viewed", "Screen Viewed", "Button Tapped", "Purchase"]


def synthetic_events(count, days, apps=3, seed=7):
    """Sessions of 5-30 events a few seconds to minutes apart, starting at random times."""
    rng = random.Random(seed)
    now = time.time()
    events = []
    while len(events) < count:
        app_id = f"app-{rng.randrange(apps)}"
        session_id = uuid.UUID(int=rng.getrandbits(128)).hex
        user_id = f"user-{rng.randrange(max(count // 60, 1))}"
        at = now - rng.random() * days * 86400
        for _ in range(rng.randint(5, 30)):
            events.append({"event": rng.choice(NAMES), "app_id": app_id, "session_id": session_id,
                           "user_id": user_id, "timestamp": min(at, now), "properties": {"screen": f"s{rng.randrange(20)}"}})
            at += rng.expovariate(1 / 40)
    return events[:count]


def post_all(url, bodies, threads):
    """POST every body; returns (seconds, [rows_written per request])."""
    local = {}

    def send(body):
        session = local.setdefault(id(time), requests.Session())
        response = session.post(url + "/track", json=body, headers=HEADERS, timeout=60)
        response.raise_for_status()
        return int(response.headers["x-d1-rows-written"])

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        written = list(pool.map(send, bodies))
    return time.perf_counter() - started, written


def measure_reads(url, path, params, repeat=5):
    timings, response = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        response = requests.get(url + path, params=params, headers=HEADERS, timeout=60)
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return statistics.median(timings), int(response.headers["x-d1-rows-read"])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--single", type=int, default=2_000, help="single-event POSTs for the throughput probe")
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state, Worker(state, variables={"AUTH_KEY": KEY}) as worker:
        url = worker.url
        events = synthetic_events(args.events, days=30)
        batches = [{"events": events[i:i + 25]} for i in range(0, len(events), 25)]
        seconds, written = post_all(url, batches, args.threads)
        print(f"ingest, batches of 25: {len(events)} events in {seconds:.1f} s = {len(events) / seconds:,.0f} events/s "
              f"({len(batches) / seconds:,.0f} req/s, {args.threads} threads); "
              f"D1 rows written per event: {sum(written) / len(events):.2f}")
        singles = [{"event": "Ping", "app_id": "app-bench", "session_id": f"s{i % 50}"} for i in range(args.single)]
        seconds, written = post_all(url, singles, args.threads)
        print(f"ingest, single events: {len(singles)} requests in {seconds:.1f} s = {len(singles) / seconds:,.0f} req/s; "
              f"D1 rows written per event: {sum(written) / len(singles):.2f}")
        total = len(events) + len(singles)
        print(f"\nreads over the last 30 days ({total:,} events stored; a raw-table scan would read ~{total:,} rows per query):")
        print(f"  {'route':<44} {'median ms':>9} {'D1 rows read':>13}")
        routes = [
            ("/stats/overview", {}), ("/stats/timeline", {"interval": "day"}),
            ("/stats/timeline", {"interval": "hour", "days": 2}), ("/stats/events", {}), ("/apps", {}),
            ("/stats/overview", {"app_id": "app-1"}), ("/events", {"limit": 50}),
        ]
        page_rows = 0
        for path, params in routes:
            median_ms, rows_read = measure_reads(url, path, params)
            page_rows += rows_read if path != "/events" and params.get("app_id") is None else 0
            query = "&".join(f"{k}={v}" for k, v in params.items())
            print(f"  {path + ('?' + query if query else ''):<44} {median_ms:>9.1f} {rows_read:>13,}")
        print(f"\nan all-apps 30-day overview page (overview + day timeline + top events + apps) reads ~{page_rows:,} rows "
              f"-> {5_000_000 // max(page_rows, 1):,} page loads per day on D1's free 5M rows-read quota")


if __name__ == "__main__":
    sys.exit(run_until_stopped(main))
