"""The bench's parts that need the real runtime: the JS baseline, the batch-size fallback, CPU profiles."""
import time
import uuid

import pytest

from bench.client import Client
from bench.cpu import d1_duration_ms
from bench.synthetic import SyntheticEvents, single_bodies
from conftest import KEYS
from scripts.bench import BaselineWorker, Loader, expect_ok, fold, inspect, stored_size


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    server = BaselineWorker(tmp_path_factory.mktemp("baseline"))
    server.start()
    yield server
    server.stop()


def test_baseline_inserts_one_row_per_event(baseline):
    client = Client(baseline.url, "no key needed")
    for body in single_bodies(SyntheticEvents(3), 3):
        reply = client.post("/track", body)
        assert (reply.status, reply.json()) == (200, {"success": True})
    size, events = stored_size(baseline.state_dir)
    assert events == 3 and size > 0


def test_loader_stores_every_event_whatever_batch_size_the_worker_accepts(worker, api):
    # Before issue 7 the worker caps batches at 100 and answers 400 for 1,000: the loader falls back.
    prefix = f"bench-{uuid.uuid4().hex[:8]}-"
    loader = Loader(worker, SyntheticEvents(1500, days=1, apps=1, app_prefix=prefix), 1000, 2, KEYS["AUTH_KEY"])
    loader.load(1500)
    fold(worker, KEYS["AUTH_KEY"])  # a worker folding rollups off the request path counts events once folded
    assert loader.events == 1500 and loader.batch_size in (100, 1000)
    assert api.read("/stats/overview", app_id=prefix + "0", days=2)["events"] == 1500


@pytest.mark.parametrize("server", ["baseline", "worker"])
def test_inspector_profiles_cpu_per_request(server, request):
    target = request.getfixturevalue(server)
    client = Client(target.url, KEYS["AUTH_KEY"])
    bodies = single_bodies(SyntheticEvents(10, seed=5, app_prefix=f"cpu-{uuid.uuid4().hex[:8]}-"), 10)
    with inspect(target) as inspector:
        assert inspector.runtime is not None  # the workerd running the worker, not wrangler's proxy
        cpu = inspector.cpu_per_request(lambda: expect_ok(client.post("/track", next(bodies)), "POST /track"), 5)
    assert 0 < cpu.busy <= cpu.with_program
    assert cpu.process is not None and cpu.process >= 0


def test_replies_say_how_long_d1_executed_which_the_cpu_figures_subtract(worker):
    """Local D1 runs on the worker's thread, so its SQLite time is in both CPU figures unless subtracted: each reply
    says D1's own duration (meta.duration summed). A fold of 1,500 fresh events reads ~250k rows: it takes D1
    measurable time, and never more than the request took."""
    prefix = f"d1ms-{uuid.uuid4().hex[:8]}-"
    client = Client(worker.url, KEYS["AUTH_KEY"])
    Loader(worker, SyntheticEvents(1500, days=1, apps=1, app_prefix=prefix), 100, 2, KEYS["AUTH_KEY"]).load(1500)
    started = time.perf_counter()
    reply = expect_ok(client.post("/admin/fold?chunks=1"), "POST /admin/fold")
    wall_ms = (time.perf_counter() - started) * 1000
    assert reply.rows("read") > 10_000
    assert 0 < d1_duration_ms(reply) <= wall_ms
    fold(worker, KEYS["AUTH_KEY"])
