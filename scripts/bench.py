"""`make bench`: ingest throughput against a JavaScript baseline, D1 cost, storage, read latency and CPU.

Starts our worker and the minimal JS worker in bench/baseline on temporary local D1s (same pinned
wrangler/workerd), then: (a) single-event ingest, ours vs baseline in alternating rounds; (b) loads
synthetic sessions in big batches, 10k events first, then up to --events; (c) D1 rows written per
event, plus folding rollups where the worker has POST /admin/fold; (d) bytes stored per event;
(e) every read route's rows read and p50/p95 at 10k and at --events; (f) CPU per request from V8's
sampling profiler through the inspector, and from the runtime process's CPU counters (bench/cpu.py).
Prints one table with each figure's target.
"""
import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.client import BenchError, Client, post_concurrently  # noqa: E402
from bench.cpu import Inspector, InspectorError, runtime_pid  # noqa: E402
from bench.freeplan import FreePlanDay, table_sizes  # noqa: E402
from bench.report import Row, Section, number, percentile, render  # noqa: E402
from bench.synthetic import SyntheticEvents, batch_bodies, single_bodies  # noqa: E402
from scripts.devserver import ROOT, Worker, run_until_stopped, wrangler  # noqa: E402

# Read routes measured at both sizes; add a line to measure another. A route the worker lacks prints "n/a".
READ_ROUTES = [
    "/stats/overview",
    "/stats/overview?app_id=app-1",
    "/stats/overview?tz=Europe/Berlin",
    "/stats/timeline?interval=day",
    "/stats/timeline?interval=day&tz=Europe/Berlin",
    "/stats/timeline?interval=hour&days=2",
    "/stats/events",
    "/apps",
    "/stats/heatmap",
    "/users",
    "/users/user-1",  # one user: ~60 synthetic events; reads at most 2 x 1,000 of them however many
    "/events",
    "/stats/breakdown?by=platform",
    "/stats/breakdown?by=property:screen&event=Screen%20Viewed",
    "/stats/properties",
    "/stats/groups",
    "/stats/funnel?steps=App%20Opened,Button%20Tapped,Purchase&days=2",
    "/stats/retention?app_id=app-1&cohort=day&periods=7&days=7",
    "/stats/sessions",
    "/stats/sessions?tz=Europe/Berlin",
    "/stats/active?interval=day",
    "/stats/active?interval=day&tz=Europe/Berlin",
    "/stats/active?interval=week",
    "/stats/active?interval=day&app_id=app-1",
]
# Routes that read raw events or users one by one, judged against their own documented bound (README):
# funnel: steps x 20,001 index rows plus apps; retention (one app): 20,001 rows walked plus 2 per user in it.
ROWS_READ_TARGETS = {
    "/stats/funnel?steps=App%20Opened,Button%20Tapped,Purchase&days=2": 3 * 20_001 + 10,
    "/stats/retention?app_id=app-1&cohort=day&periods=7&days=7": 3 * 20_001 + 10,
}

TARGET_RATIO = 0.9
TARGET_EVENTS_PER_SECOND = 20_000
TARGET_ROWS_WRITTEN = 4
TARGET_ROWS_READ = 10_000
TARGET_P50_MS = 100
TARGET_GROWTH = 1.5  # p50 at --events over p50 at 10k
TARGET_CPU_MS = 10  # the Free plan's CPU limit per request
FREE_BYTES = 500 * 10**6
PAID_BYTES = 10 * 10**9

SMALL = 10_000
FALLBACK_BATCH = 100  # what the worker accepted before issue 7
MAX_FOLD_CALLS = 10_000
KEY = "bench-key"
BATCH_CPU_REQUESTS = {100: 10, 1000: 5}  # profiled batches of each size
BASELINE_CPU = "JS baseline: POST /track, 1 event"


class BaselineWorker(Worker):
    """bench/baseline: a minimal JavaScript worker that inserts one row per POST /track."""

    name = "wrangler dev (JS baseline)"
    config = ROOT / "bench" / "baseline" / "wrangler.toml"

    def prepare_database(self):
        wrangler("d1", "execute", "baseline-db", "--local", "--persist-to", self.state_dir,
                 "--file", ROOT / "bench" / "baseline" / "schema.sql", "--config", self.config)


def log(message):
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def expect_ok(reply, what):
    if reply.status != 200:
        raise BenchError(f"{what} answered {reply.status}: {reply.body[:300]!r}")
    return reply


# (a) single-event ingest

class Throughput:
    def __init__(self):
        self.seconds = 0.0
        self.requests = 0
        self.written = 0

    def add(self, seconds, requests, written):
        self.seconds += seconds
        self.requests += requests
        self.written += written

    @property
    def per_second(self):
        return self.requests / self.seconds


def timed_post(worker, bodies, threads, key=KEY):
    started = time.perf_counter()
    written = post_concurrently(worker.url, key, bodies, threads)
    return time.perf_counter() - started, written


def single_event_rounds(ours, baseline, args):
    """Alternating rounds, the order swapped each round, so drift on a shared machine hits both alike."""
    source = SyntheticEvents(args.rounds * args.single, seed=11)
    for worker in (ours, baseline):  # Pyodide and JIT warm-up, not counted
        timed_post(worker, list(single_bodies(source, 4 * args.single_threads)), args.single_threads)
    results = {ours: Throughput(), baseline: Throughput()}
    for round_number in range(args.rounds):
        bodies = list(single_bodies(source, args.single))
        order = (ours, baseline) if round_number % 2 == 0 else (baseline, ours)
        rates = {}
        for worker in order:
            seconds, written = timed_post(worker, bodies, args.single_threads)
            results[worker].add(seconds, len(bodies), written)
            rates[worker] = len(bodies) / seconds
        log(f"  round {round_number + 1}: ours {rates[ours]:,.0f} req/s, baseline {rates[baseline]:,.0f} req/s")
    return results[ours], results[baseline]


# (b) batch ingest

class Loader:
    """Loads synthetic events in batches of `batch_size`, falling back to 100 if the worker refuses bigger ones."""

    def __init__(self, worker, source, batch_size, threads, key=KEY):
        self.worker = worker
        self.key = key
        self.source = source
        self.batch_size = batch_size
        self.threads = threads
        self.probed = batch_size <= FALLBACK_BATCH
        self.timed = Throughput()
        self.events = 0
        self.written = 0

    def probe(self):
        """One untimed batch: a worker capping batches lower answers 400, and its events are sent again."""
        self.probed = True
        events = self.source.take(self.batch_size)
        client = Client(self.worker.url, self.key)
        reply = client.post("/track", json.dumps({"events": events}).encode())
        client.close()
        if reply.status == 400:
            log(f"  the worker refused a batch of {self.batch_size} ({reply.json().get('error')}): "
                f"batches of {FALLBACK_BATCH} from here on")
            self.source.put_back(events)
            self.batch_size = FALLBACK_BATCH
            return 0
        expect_ok(reply, f"POST /track with {self.batch_size} events")
        self.events += len(events)
        self.written += reply.rows("written")
        return len(events)

    def load(self, count):
        if not self.probed:
            count -= self.probe()
        bodies = batch_bodies(self.source, count, self.batch_size)
        seconds, written = timed_post(self.worker, bodies, self.threads, self.key)
        self.timed.add(seconds, count, written)
        self.events += count
        self.written += written
        log(f"  loaded {count:,} events in {seconds:.1f} s = {count / seconds:,.0f} events/s "
            f"(batches of {self.batch_size}, {self.threads} threads)")


# (c) folding rollups off the request path

def fold(worker, key=KEY):
    """POST /admin/fold until it answers complete; D1 rows (written, read), or None if the worker has no such route."""
    client = Client(worker.url, key)
    written = read = 0
    for _ in range(MAX_FOLD_CALLS):
        reply = client.post("/admin/fold?chunks=10")
        if reply.status == 404:
            return None
        written += expect_ok(reply, "POST /admin/fold").rows("written")
        read += reply.rows("read")
        if reply.json().get("complete") is True:
            return written, read
    raise BenchError(f"POST /admin/fold was not complete after {MAX_FOLD_CALLS} calls")


class Folds:
    """D1 rows written and read by every fold of the run; None while the worker has no fold route."""

    def __init__(self):
        self.written = self.read = None

    def run(self, worker):
        rows = fold(worker)
        if rows is not None:
            self.written = (self.written or 0) + rows[0]
            self.read = (self.read or 0) + rows[1]


# (d) storage

@contextmanager
def checkpointed(state_dir):
    """Checkpointed copies of the local D1 databases under `state_dir` (non-empty ones), removed afterwards.

    D1 has no `PRAGMA wal_checkpoint`, and the -wal file keeps its largest size after SQLite's own
    checkpoints, so adding it up would count pages twice: a checkpointed copy counts each page once.
    """
    databases = [path for path in (Path(state_dir) / "v3" / "d1").rglob("*.sqlite") if path.stat().st_size]
    with tempfile.TemporaryDirectory() as scratch:
        copies = []
        for database in databases:
            copy = Path(scratch) / database.name
            for suffix in ("", "-wal"):
                if Path(str(database) + suffix).exists():
                    shutil.copyfile(str(database) + suffix, str(copy) + suffix)
            with sqlite3.connect(copy) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.close()
            copies.append(copy)
        yield copies


def stored_size(state_dir):
    """(bytes, events) of the local D1 database, checkpointed on a copy."""
    total_bytes = total_events = 0
    with checkpointed(state_dir) as copies:
        for copy in copies:
            with sqlite3.connect(copy) as connection:
                tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                if "events" in tables:
                    total_events += connection.execute("SELECT COUNT(*) FROM events").fetchone()[0]
            connection.close()
            total_bytes += copy.stat().st_size
    return total_bytes, total_events


def stored_tables(state_dir):
    """{table: bytes} over the local D1 databases, each checkpointed on a copy."""
    sizes = {}
    with checkpointed(state_dir) as copies:
        for copy in copies:
            for table, size in table_sizes(copy).items():
                sizes[table] = sizes.get(table, 0) + size
    return sizes


# (e) read routes

class RouteFigures:
    def __init__(self, p50=None, p95=None, rows_read=None, status=200):
        self.p50, self.p95, self.rows_read, self.status = p50, p95, rows_read, status

    @property
    def available(self):
        return self.status == 200

    def latency(self):
        if not self.available:
            return "n/a" if self.status == 404 else f"HTTP {self.status}"
        return f"{self.p50:.0f} / {self.p95:.0f}"

    def rows(self):
        return number(self.rows_read) if self.available else self.latency()


def measure_route(client, route, repeat):
    """p50/p95 ms over `repeat` sequential keep-alive requests after one warm-up, and D1 rows read."""
    reply = client.get(route)
    if reply.status != 200:
        return RouteFigures(status=reply.status)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        reply = expect_ok(client.get(route), f"GET {route}")
        timings.append((time.perf_counter() - started) * 1000)
    return RouteFigures(percentile(timings, 0.5), percentile(timings, 0.95), reply.rows("read"))


def measure_routes(worker, repeat):
    client = Client(worker.url, KEY)
    figures = {route: measure_route(client, route, repeat) for route in READ_ROUTES}
    client.close()
    return figures


# (f) CPU per request

def sender(client, path, bodies=None):
    """One request per call: POST the next body, or GET when there are no bodies; a non-200 stops the bench."""
    if bodies is None:
        return lambda: expect_ok(client.get(path), f"GET {path}")
    return lambda: expect_ok(client.post(path, next(bodies)), f"POST {path}")


def inspect(worker):
    return Inspector(worker.inspector_port, runtime_pid(worker.process.pid))


def connect_inspector(worker, attempts=3):
    """An inspector session, or None: CPU figures then print n/a rather than losing the rest of the run."""
    for attempt in range(1, attempts + 1):
        try:
            return inspect(worker)
        except InspectorError as error:
            log(f"  {worker.name}, inspector attempt {attempt} of {attempts}: {error}")
    return None


class CpuFigures(dict):
    """{label: CpuPerRequest, or None when not measurable}, logged as they come."""

    def measure(self, label, inspector, send_one, count):
        self[label] = None
        if inspector is None:
            return
        try:
            cpu = self[label] = inspector.cpu_per_request(send_one, count)
        except InspectorError as error:
            log(f"  {label}: no profile ({error})")
            return
        tick = "n/a" if cpu.tick_ms is None else f"{cpu.tick_ms:.2f}"
        log(f"  {label}: {cpu} ms per request, {count} requests each way (sampler ticked every {tick} ms, median)")

    def skip(self, label):
        self[label] = None


def cpu_figures(run, source, batch_size, routes, args):
    figures = CpuFigures()
    client = Client(run.ours.url, KEY)
    singles = single_bodies(source, 10**9)
    inspector = run.inspectors[run.ours]
    figures.measure("POST /track, 1 event", inspector, sender(client, "/track", singles), args.cpu_requests)
    for size, count in BATCH_CPU_REQUESTS.items():
        label = f"POST /track, batch of {size:,}"
        if size <= batch_size:
            figures.measure(label, inspector, sender(client, "/track", batch_bodies(source, 10**9, size)), count)
        else:
            figures.skip(label)
    for route, measured in routes.items():
        if measured.available:
            figures.measure(f"GET {route}", inspector, sender(client, route), args.cpu_requests)
        else:
            figures.skip(f"GET {route}")
    figures.measure(BASELINE_CPU, run.inspectors[run.baseline],
                    sender(Client(run.baseline.url, KEY), "/track", singles), args.cpu_requests)
    return figures


class Results:
    def __init__(self):
        self.folds = Folds()
        self.single = self.baseline = self.loader = None
        self.small_routes = self.large_routes = self.storage = self.cpu = None


# The summary

def at_most(value, limit):
    return None if value is None else value <= limit


def ingest_rows(results):
    ours, baseline, loader = results.single, results.baseline, results.loader
    ratio = ours.per_second / baseline.per_second
    ingest_per_event = loader.written / loader.events
    # Folding covers every stored event (single-event requests too); the last fold ran just before storage.
    fold_per_event = None if results.folds.written is None else results.folds.written / results.storage[1]
    total_per_event = ingest_per_event + (fold_per_event or 0)
    return [
        Section("ingest"),
        Row("single-event req/s, ours", large=number(ours.per_second)),
        Row("single-event req/s, JS baseline", large=number(baseline.per_second)),
        Row("ours / baseline", large=number(ratio, 2), target=f">= {TARGET_RATIO}", ok=ratio >= TARGET_RATIO),
        Row(f"events/s in batches of {loader.batch_size:,}, {loader.threads} threads",
            large=number(loader.timed.per_second), target=f">= {TARGET_EVENTS_PER_SECOND:,}",
            ok=loader.timed.per_second >= TARGET_EVENTS_PER_SECOND),
        Row("D1 rows written per event, single-event requests", large=number(ours.written / ours.requests, 2)),
        Row("D1 rows written per event, batches: ingest", large=number(ingest_per_event, 2)),
        Row("D1 rows written per event, batches: POST /admin/fold",
            large="n/a (no route)" if fold_per_event is None else number(fold_per_event, 2)),
        Row("D1 rows written per event, batches: total", large=number(total_per_event, 2),
            target=f"<= {TARGET_ROWS_WRITTEN}", ok=total_per_event <= TARGET_ROWS_WRITTEN),
        Row("D1 rows read per event folded (POST /admin/fold)",
            large="n/a" if results.folds.read is None else number(results.folds.read / results.storage[1], 1)),
    ]


def storage_rows(results):
    size, stored = results.storage
    per_event = size / stored
    return [
        Section("storage (local D1 sqlite, checkpointed)"),
        Row(f"bytes stored per event ({stored:,} events, {size / 10**6:,.1f} MB)", large=number(per_event)),
        Row("events that fill 500 MB (Free)", large=number(FREE_BYTES / per_event)),
        Row("events that fill 10 GB (Paid)", large=number(PAID_BYTES / per_event)),
    ]


def route_rows(results):
    rows = [Section("read routes: D1 rows read, p50 / p95 ms")]
    for route in READ_ROUTES:
        small, large = results.small_routes[route], results.large_routes[route]
        target = ROWS_READ_TARGETS.get(route, TARGET_ROWS_READ)
        rows.append(Row(f"{route}  rows read", small.rows(), large.rows(), f"<= {target:,}",
                        at_most(large.rows_read, target)))
        latency_ok = None
        if small.available and large.available:
            latency_ok = large.p50 <= TARGET_P50_MS and large.p50 <= TARGET_GROWTH * small.p50
        rows.append(Row(f"{route}  p50 / p95 ms", small.latency(), large.latency(),
                        f"p50 <= {TARGET_P50_MS}, <= {TARGET_GROWTH}x 10k", latency_ok))
    return rows


def cpu_rows(results, large_label):
    rows = [Section(f"CPU ms per request at {large_label}: V8-sampled JS+Wasm+GC (with \"(program)\") | "
                     "workerd process CPU unprofiled; then both less the D1 duration the replies report (local D1 runs on the "
                     "worker's thread); the lower of those is judged")]
    for label, cpu in results.cpu.items():
        judged = label != BASELINE_CPU
        rows.append(Row(label, large="n/a" if cpu is None else str(cpu), target=f"<= {TARGET_CPU_MS}" if judged else "",
                        ok=at_most(None if cpu is None else cpu.bound, TARGET_CPU_MS) if judged else None))
    return rows


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000, help="events loaded in batches (README figures: 1000000)")
    parser.add_argument("--batch", type=int, default=1000, help="events per batch (100 if the worker refuses more)")
    parser.add_argument("--load-threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4, help="alternating single-event rounds, ours vs baseline")
    parser.add_argument("--single", type=int, default=500, help="single-event requests per worker per round")
    parser.add_argument("--single-threads", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=20, help="requests per read route for p50/p95")
    parser.add_argument("--cpu-requests", type=int, default=20, help="profiled requests per figure")
    parser.add_argument("--fold-every", type=int, default=60, help="minutes between the Free-plan day's folds "
                        "(FOLD_EVERY_MINUTES's default: 60; 5 is the cron's own period)")
    parser.add_argument("--days", type=int, default=30, help="days the synthetic events spread over")
    parser.add_argument("--only", choices=("routes", "free-plan"), help="one part: the synthetic load and read "
                        "routes (a-f), or the reference app's Free-plan day (g)")
    return parser.parse_args()


class Run:
    """The two running workers and their inspector sessions (None where none could be opened)."""

    def __init__(self, ours, baseline):
        self.ours = ours
        self.baseline = baseline
        # Opened before any load: each session turns off the Network reporting the proxy switched on,
        # for the whole run (bench/cpu.py).
        self.inspectors = {worker: connect_inspector(worker) for worker in (ours, baseline)}

    def close(self):
        for inspector in self.inspectors.values():
            if inspector is not None:
                inspector.close()


def load_and_measure(run, results, size, args):
    log(f"(b) batch ingest up to {size:,} events")
    results.loader.load(size - results.loader.events)
    results.folds.run(run.ours)
    log(f"(e) read routes at {size:,} events")
    return measure_routes(run.ours, args.repeat)


def measure(run, args, small_size):
    results = Results()
    log(f"(a) single-event ingest: {args.rounds} alternating rounds x {args.single} requests, "
        f"{args.single_threads} threads")
    results.single, results.baseline = single_event_rounds(run.ours, run.baseline, args)
    source = SyntheticEvents(args.events, days=args.days)
    results.loader = Loader(run.ours, source, args.batch, args.load_threads)
    results.small_routes = load_and_measure(run, results, small_size, args)
    results.large_routes = (load_and_measure(run, results, args.events, args)
                            if args.events > small_size else results.small_routes)
    log("(d) storage")
    results.storage = stored_size(run.ours.state_dir)
    log("(f) CPU per request")
    results.cpu = cpu_figures(run, source, results.loader.batch_size, results.large_routes, args)
    return results


def free_plan_day(args):
    """(g) The reference app's day on a worker and database of its own: rows per day, storage, CPU."""
    log("(g) a Free-plan day of the reference app: 7 days of live traffic, folds, a visit, the purge of a day")
    with tempfile.TemporaryDirectory() as state, Worker(state, variables={"AUTH_KEY": KEY}) as worker:
        inspector = connect_inspector(worker)
        try:
            day = FreePlanDay(worker, KEY, inspector, log, args.cpu_requests, args.fold_every * 60).run()
        finally:
            if inspector is not None:
                inspector.close()
        sizes = stored_tables(worker.state_dir)
        _, events = stored_size(worker.state_dir)
    return day.day_rows(sizes, events) + day.route_rows() + day.cpu_rows()


def main():
    args = parse_args()
    small_size = min(SMALL, args.events)
    large_label = f"{args.events:,} events"
    started = time.perf_counter()
    rows = []
    if args.only in (None, "routes"):
        with tempfile.TemporaryDirectory() as ours_state, tempfile.TemporaryDirectory() as baseline_state, \
                Worker(ours_state, variables={"AUTH_KEY": KEY}) as ours, BaselineWorker(baseline_state) as baseline:
            run = Run(ours, baseline)
            try:
                results = measure(run, args, small_size)
            finally:
                run.close()
        rows += ingest_rows(results) + storage_rows(results) + route_rows(results) + cpu_rows(results, large_label)
    if args.only in (None, "free-plan"):
        rows += free_plan_day(args)
    log(f"finished in {time.perf_counter() - started:,.0f} s\n")
    print(render(rows, ["figure", f"{small_size:,} events", large_label, "target", ""]))


if __name__ == "__main__":
    sys.exit(run_until_stopped(main))
