"""What linking an anonymous id costs (POST /identify, issue 19): D1 rows read and written by the link, next to
what ingesting and folding the same events cost, for anonymous ids of 2, 100 and 1,000 events.

Starts its own worker on a temporary local D1. Each anonymous id's events are spread over sessions of 20 events in
the last week, with one property; they are folded before the link (a link moves folded events out of every rollup
and back in through the next fold), and folded again after it.
"""
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.devserver import Worker  # noqa: E402

KEY = "bench-links-key"
HEADERS = {"X-API-KEY": KEY}


def rows(response):
    response.raise_for_status()
    return int(response.headers["x-d1-rows-read"]), int(response.headers["x-d1-rows-written"])


def add(a, b):
    return a[0] + b[0], a[1] + b[1]


def fold(url):
    total = (0, 0)
    while True:
        response = requests.post(url + "/admin/fold", params={"chunks": "3"}, headers=HEADERS, timeout=120)
        total = add(total, rows(response))
        if response.json()["complete"]:
            return total


def case(url, count, now):
    app, anonymous = f"app-{count}", str(uuid.uuid4())
    events = [{"event": "Viewed", "app_id": app, "session_id": f"s{n // 20}", "user_id": anonymous,
               "timestamp": now - 5 * 86400 + n, "properties": {"screen": f"screen-{n % 7}"}} for n in range(count)]
    ingest = (0, 0)
    for start in range(0, count, 1000):
        ingest = add(ingest, rows(requests.post(url + "/track", json={"events": events[start:start + 1000]},
                                                headers=HEADERS, timeout=120)))
    first_fold = fold(url)
    body = {"app_id": app, "anonymous_id": anonymous, "user_id": "u-42"}
    response = requests.post(url + "/identify", json=body, headers=HEADERS, timeout=120)
    linked = rows(response)
    moved = response.json()["moved"]
    refold = fold(url)
    again = rows(requests.post(url + "/identify", json=body, headers=HEADERS, timeout=120))
    return [count, moved, *ingest, *first_fold, *linked, *refold, *again]


def main():
    now = int(time.time())
    with tempfile.TemporaryDirectory() as state, Worker(state, variables={"AUTH_KEY": KEY}) as worker:
        print("D1 rows (read / written) to ingest, fold, link and fold again an anonymous id's events")
        print(f"  {'events':>6} {'moved':>5} {'ingest':>13} {'fold':>15} {'link':>15} {'fold again':>15} {'repeat link':>11}")
        for count in (2, 100, 1000):
            c = case(worker.url, count, now)
            print(f"  {c[0]:>6,} {c[1]:>5,} {c[2]:>6,}/{c[3]:<6,} {c[4]:>7,}/{c[5]:<7,} {c[6]:>7,}/{c[7]:<7,} "
                  f"{c[8]:>7,}/{c[9]:<7,} {c[10]:>5,}/{c[11]:<5,}")


if __name__ == "__main__":
    main()
