"""The Free-plan day: the reference app (bench/reference.py) on a worker of its own, measured against Cloudflare's
Free plan per day: D1 rows written and read (ingest, folding, 50 dashboard visits, retention), bytes per event and
2 years of history, and CPU per invocation.

Seven days are sent as live traffic in time order, one request per session. The measured (last) day is folded
as the cron folds it: its requests are sent in windows of FOLD_EVERY seconds (each request when its session's
last event happened, as the SDK flushes), each window followed by `POST /admin/fold` (the on-demand form of the
cron's work) until complete. What a fold step writes depends on how often it runs: a counter row a step touches
costs a row written whether the step adds 1 or 1,000 to it. The days before are folded once each. A visit is
measured twice: the day's first (the first of the run, so it also stores the merged local days of every day
before, where a real day's first visit stores yesterday's: rollups/unit_cache.py), and a later one (rows read are
the same for the same data), counted 49 times. Retention is
`POST /admin/purge?days=6`, which removes the oldest day: called until it answers complete, as the daily cron
would (one invocation each).
"""
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from bench.client import BenchError, Client
from bench.reference import APP_ID, ReferenceApp, visit_paths
from bench.report import Row, Section, number

DAYS = 7
VISITS = 50
FREE_WRITES, FREE_READS = 100_000, 5_000_000
FREE_BYTES = 500 * 10**6
RAW_DAYS_KEPT = 30  # the retention the storage target assumes: raw events for 30 days, aggregates for 2 years
TARGET_BYTES_PER_EVENT = 300
TARGET_CPU_MS = 10
TRACK_BATCH = 25  # the SDK's default batch
MAX_CALLS = 10_000
FOLD_EVERY = 60 * 60  # FOLD_EVERY_MINUTES's default: the 5-minute cron folds what arrived before the hour began
HOUR = 3600
DAY = 86400


class Tally:
    """D1 rows written and read by a series of requests."""

    def __init__(self):
        self.written = self.read = self.requests = 0

    def add(self, reply):
        self.written += reply.rows("written")
        self.read += reply.rows("read")
        self.requests += 1
        return reply

    def merge(self, other):
        self.written += other.written
        self.read += other.read
        self.requests += other.requests


def ok(reply, what):
    if reply.status != 200:
        raise BenchError(f"{what} answered {reply.status}: {reply.body[:300]!r}")
    return reply


def send_day(url, key, requests, threads=4):
    """POST each session's events, in order, from `threads` connections; the tally of all of them."""
    tallies = [Tally() for _ in range(threads)]

    def worker(index):
        client = Client(url, key)
        for events in requests[index::threads]:
            tallies[index].add(ok(client.post("/track", json.dumps({"events": events}).encode()), "POST /track"))
        client.close()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total


def fold_windows(requests, start, seconds):
    """The day's requests in windows of `seconds`, each request in the window of its last event (when the SDK
    sends it), in time order."""
    windows = {}
    for events in requests:
        windows.setdefault(int((events[-1]["timestamp"] - start) // seconds), []).append(events)
    return [windows[key] for key in sorted(windows)]


def until_complete(client, path, tally):
    """POST `path` until it answers complete: each call is one invocation."""
    for _ in range(MAX_CALLS):
        if ok(tally.add(client.post(path)), f"POST {path}").json().get("complete") is True:
            return tally
    raise BenchError(f"POST {path} was not complete after {MAX_CALLS} calls")


def day_starts(now):
    """The UTC starts of the DAYS loaded days: the last ends at this hour, so `purge?days=6` removes the first."""
    end = int(now) - int(now) % HOUR
    return [end - (DAYS - index) * DAY for index in range(DAYS)]


class FreePlanDay:
    def __init__(self, worker, key, inspector=None, log=print, cpu_requests=5, fold_every=FOLD_EVERY):
        self.worker = worker
        self.key = key
        self.client = Client(worker.url, key)
        self.inspector = inspector
        self.log = log
        self.cpu_requests = cpu_requests
        self.fold_every = fold_every
        self.ingest = self.fold = self.visit = self.later_visit = self.purge = None
        self.events_per_day = 0
        self.visit_routes = {}
        self.cpu = {}

    def run(self, now=None):
        now = time.time() if now is None else now
        app = ReferenceApp()
        starts = day_starts(now)
        for index, start in enumerate(starts):
            requests = app.day(start)
            last = index == len(starts) - 1
            if last:
                self.events_per_day = sum(len(events) for events in requests)
                self.measure_track_cpu(app, start)
            ingest, fold = Tally(), Tally()
            # The measured day is folded as often as the cron would; the days before once each.
            for window in fold_windows(requests, start, self.fold_every) if last else [requests]:
                ingest.merge(send_day(self.worker.url, self.key, window))
                if index == len(starts) - 2:
                    # A whole day's backlog: a cron invocation folds one step of it (fold.CHUNKS_PER_CALL), the
                    # largest it folds. POST /admin/cron would fold nothing here: its events arrived this hour.
                    self.measure_cpu("cron/fold invocation (one step: POST /admin/fold?chunks=1)",
                                     "/admin/fold?chunks=1", fold, post=True, count=2)
                until_complete(self.client, "/admin/fold?chunks=1", fold)
            self.log(f"  day {index + 1}: {sum(len(e) for e in requests):,} events in {len(requests):,} requests; "
                     f"ingest {ingest.written:,} written; fold {fold.written:,} written, {fold.read:,} read")
            if last:
                self.ingest, self.fold = ingest, fold
        today = datetime.fromtimestamp(now, timezone.utc).date()
        self.visit = Tally()
        for path in visit_paths(today):
            # A read the worker refuses (a 400: a funnel past its bound) is what the dashboard would show.
            reply = self.visit.add(self.client.get(path))
            self.visit_routes[path] = (reply.status, reply.rows("read"))
            if reply.status != 200:
                self.log(f"  GET {path} answered {reply.status}: {reply.body[:200]!r}")
        self.later_visit = Tally()
        for path in visit_paths(today):
            self.later_visit.add(self.client.get(path))
        for number_, (path, (status, _)) in enumerate(self.visit_routes.items(), start=1):
            if status == 200:
                self.measure_cpu(f"GET {path.split('?')[0]} ({number_})", path)
        self.purge = Tally()
        self.measure_cpu("purge invocation (POST /admin/purge?days=6)", "/admin/purge?days=6", self.purge, post=True,
                         count=1)
        until_complete(self.client, "/admin/purge?days=6", self.purge)
        self.log(f"  purge: {self.purge.requests} invocations, {self.purge.written:,} written, {self.purge.read:,} read")
        return self

    def measure_track_cpu(self, app, start):
        """A 25-event /track of the reference traffic, on a day before the measured one (so its rows stay out)."""
        if self.inspector is None:
            return
        events = [event for request in app.day(start - DAYS * DAY) for event in request]
        batches = iter([events[i:i + TRACK_BATCH] for i in range(0, len(events), TRACK_BATCH)])
        client = Client(self.worker.url, self.key)
        self.cpu["POST /track, 25 events"] = self.inspector.cpu_per_request(
            lambda: ok(client.post("/track", json.dumps({"events": next(batches)}).encode()), "POST /track"),
            self.cpu_requests)
        until_complete(self.client, "/admin/fold?chunks=10", Tally())  # folded apart from the measured day

    def measure_cpu(self, label, path, tally=None, post=False, count=None):
        if self.inspector is None:
            return
        client = Client(self.worker.url, self.key)

        def send():
            reply = ok(client.post(path) if post else client.get(path), path)
            if tally is not None:
                tally.add(reply)
            return reply  # its D1 duration is subtracted from the CPU figures (bench/cpu.py)
        self.cpu[label] = self.inspector.cpu_per_request(send, count or self.cpu_requests)

    # The report

    def day_rows(self, sizes, stored_events):
        """`sizes`: {table: bytes} of the database after the run (`table_sizes`); `stored_events`: raw events."""
        visits = (self.visit.written + self.later_visit.written * (VISITS - 1),
                  self.visit.read + self.later_visit.read * (VISITS - 1))
        written = self.ingest.written + self.fold.written + visits[0] + self.purge.written
        read = self.ingest.read + self.fold.read + visits[1] + self.purge.read
        stored_bytes = sum(sizes.values())
        per_event = stored_bytes / stored_events if stored_events else 0
        # What goes with the raw events (they and per-user or per-session rows) scales with the days kept; the
        # rest (anonymous aggregates) with the days of history. The database holds DAYS - 1 days of each.
        raw_bytes = sum(size for table, size in sizes.items() if table in GOES_WITH_RAW_EVENTS)
        held_days = DAYS - 1
        two_years = (raw_bytes / held_days * RAW_DAYS_KEPT) + (stored_bytes - raw_bytes) / held_days * 730
        events = self.events_per_day
        return [
            Section(f"a Free-plan day of the reference app ({events:,} events, 1,000 daily users, {VISITS} visits)"),
            Row("D1 rows written: ingest", large=f"{number(self.ingest.written)} ({self.ingest.written / events:.2f}/event)"),
            Row(f"D1 rows written: folding (every {self.fold_every // 60} minutes)",
                large=f"{number(self.fold.written)} ({self.fold.written / events:.2f}/event)"),
            Row(f"D1 rows written: {VISITS} visits", large=f"{number(visits[0])} (the first {number(self.visit.written)}, "
                                                            f"a later one {number(self.later_visit.written)})"),
            Row("D1 rows written: retention (purging one day)", large=number(self.purge.written)),
            Row("D1 rows written: the day", large=number(written), target=f"<= {FREE_WRITES:,}",
                ok=written <= FREE_WRITES),
            Row("D1 rows read: ingest", large=number(self.ingest.read)),
            Row("D1 rows read: folding", large=f"{number(self.fold.read)} ({self.fold.read / events:.0f}/event)"),
            Row(f"D1 rows read: {VISITS} visits", large=f"{number(visits[1])} (the first {number(self.visit.read)}, "
                                                         f"a later one {number(self.later_visit.read)})"),
            Row("D1 rows read: retention (purging one day)", large=number(self.purge.read)),
            Row("D1 rows read: the day", large=number(read), target=f"<= {FREE_READS:,}", ok=read <= FREE_READS),
            Row(f"bytes stored per event ({stored_events:,} events, rollups included)", large=number(per_event),
                target=f"<= {TARGET_BYTES_PER_EVENT}", ok=per_event <= TARGET_BYTES_PER_EVENT),
            Row(f"2 years of history, raw events kept {RAW_DAYS_KEPT} days (estimate)",
                large=f"{two_years / 10**6:,.0f} MB", target="<= 500 MB", ok=two_years <= FREE_BYTES),
        ]

    def route_rows(self):
        rows = [Section("the visit's reads: D1 rows read (x-d1-rows-read)")]
        for number_, (path, (status, read)) in enumerate(self.visit_routes.items(), start=1):
            label = f"({number_}) {path.split('&tz=')[0]}".replace(f"app_id={APP_ID}&", "")[:90]
            rows.append(Row(label, large=number(read) + ("" if status == 200 else f" (HTTP {status})")))
        return rows

    def cpu_rows(self):
        rows = [Section("CPU ms per invocation at the reference workload (V8-sampled | workerd process; less D1's "
                        "own duration); lower judged")]
        for label, cpu in self.cpu.items():
            rows.append(Row(label, large="n/a" if cpu is None else str(cpu), target=f"<= {TARGET_CPU_MS}",
                            ok=None if cpu is None else cpu.bound <= TARGET_CPU_MS))
        # A read of the visit the worker refused (a funnel or retention grid past its walk bound at the dashboard's
        # default range) did not do its work: its target is not met, whatever its 400 cost.
        for number_, (path, (status, _)) in enumerate(self.visit_routes.items(), start=1):
            if status != 200:
                rows.append(Row(f"GET {path.split('?')[0]} ({number_})",
                                large=f"not served at the dashboard's default range: HTTP {status}",
                                target=f"<= {TARGET_CPU_MS}", ok=False))
        return rows


# Tables whose rows identify a user or a session, or are raw events: kept as long as the raw events.
GOES_WITH_RAW_EVENTS = {"events", "sessions", "session_users", "users", "identity_links",
                        "daily_users", "daily_user_dims", "erase_chunk"}


def table_sizes(database):
    """{table: bytes} of an SQLite file (a checkpointed copy), indexes counted with their table."""
    import sqlite3

    with sqlite3.connect(database) as connection:
        owner = dict(connection.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
        sizes = {}
        for name, size in connection.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(name, name)
            sizes[table] = sizes.get(table, 0) + size
    connection.close()
    return sizes
