"""What one page of the event explorer (GET /events) costs, per filter, with and without app_id.

Starts its own worker on a temporary local D1, loads synthetic events (3 apps over 30 days, plus one
app whose events carry 10 KB of properties), then prints D1 rows read, body size and median time per page.
"""
import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.devserver import Worker  # noqa: E402

KEY = "bench-explorer-key"
HEADERS = {"X-API-KEY": KEY}
NAMES = ["App Opened", "Screen Viewed", "Button Clicked", "Purchase", "Rare Event"]


def load(url, count, now):
    rng = random.Random(7)
    events = []
    for n in range(count):
        name = "Rare Event" if n % 500 == 0 else rng.choice(NAMES[:4])
        events.append({"event": name, "app_id": f"app-{n % 3}", "session_id": f"s{n // 20}", "user_id": f"u{n % 300}",
                       "timestamp": now - rng.randrange(30 * 86400)})
    for start in range(0, len(events), 100):
        requests.post(url + "/track", json={"events": events[start:start + 100]}, headers=HEADERS, timeout=60).raise_for_status()
    heavy = [{"event": "Heavy", "app_id": "app-heavy", "session_id": "h", "timestamp": now - n,
              "properties": {"pad": "x" * 10_000}} for n in range(1000)]
    for start in range(0, len(heavy), 50):
        requests.post(url + "/track", json={"events": heavy[start:start + 50]}, headers=HEADERS, timeout=60).raise_for_status()


def measure(url, params, repeat=5):
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = requests.get(url + "/events", params=params, headers=HEADERS, timeout=60)
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    body = response.json()
    return statistics.median(timings), int(response.headers["x-d1-rows-read"]), len(response.content), len(body["events"])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=30_000)
    args = parser.parse_args()
    now = int(time.time())
    with tempfile.TemporaryDirectory() as state, Worker(state, variables={"AUTH_KEY": KEY}) as worker:
        load(worker.url, args.events, now)
        print(f"GET /events over the last 30 days: {args.events:,} events in 3 apps + 1,000 events of 10 KB in app-heavy")
        print(f"  {'query':<52} {'events':>6} {'rows read':>9} {'bytes':>10} {'median ms':>9}")
        cases = [{}, {"event": "Rare Event"}, {"session_id": "s42"}, {"user_id": "u7"}]
        for app in (None, "app-1"):
            for filters in cases:
                params = {**filters, "limit": 50, **({"app_id": app} if app else {})}
                ms, rows, size, shown = measure(worker.url, params)
                query = "&".join(f"{k}={v}" for k, v in params.items())
                print(f"  {query:<52} {shown:>6} {rows:>9,} {size:>10,} {ms:>9.1f}")
        ms, rows, size, shown = measure(worker.url, {"app_id": "app-heavy", "limit": 1000})
        print(f"  {'app_id=app-heavy&limit=1000 (10 KB properties)':<52} {shown:>6} {rows:>9,} {size:>10,} {ms:>9.1f}")


if __name__ == "__main__":
    main()
