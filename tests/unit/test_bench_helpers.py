"""The bench's pure parts: synthetic traffic, CPU profile accounting, percentiles and the report table."""
import json
import os
import subprocess

from bench.cpu import CpuPerRequest, process_cpu_ms, runtime_pid, sampled_ms
from bench.report import Row, Section, percentile, render
from bench.synthetic import SyntheticEvents, batch_bodies, single_bodies

NOW = 1_700_000_000.0


def sessions(events):
    grouped = {}
    for event in events:
        grouped.setdefault(event["session_id"], []).append(event)
    return grouped


def test_synthetic_events_look_like_sdk_sessions():
    events = SyntheticEvents(5_000, days=30, now=NOW).take(5_000)
    assert len(events) == 5_000
    assert len({event["event_id"] for event in events}) == 5_000
    assert {event["app_id"] for event in events} == {"app-0", "app-1", "app-2"}
    assert all(NOW - 30 * 86400 <= event["timestamp"] <= NOW for event in events)
    complete = list(sessions(events).values())[:-1]  # the last session may be cut by `take`
    assert all(5 <= len(session) <= 30 for session in complete)
    assert all(len({(e["app_id"], e["user_id"]) for e in session}) == 1 for session in complete)


def test_synthetic_stream_is_seeded_and_continuous():
    first, second = SyntheticEvents(1000, now=NOW), SyntheticEvents(1000, now=NOW)
    assert first.take(7) + first.take(93) == second.take(100)


def test_put_back_events_come_out_first():
    source = SyntheticEvents(1000, now=NOW)
    refused = source.take(40)
    source.put_back(refused)
    assert source.take(40) == refused


def test_batch_bodies_cover_the_total_in_capped_batches():
    bodies = [json.loads(body) for body in batch_bodies(SyntheticEvents(2500, now=NOW), 2500, 1000)]
    assert [len(body["events"]) for body in bodies] == [1000, 1000, 500]
    single = json.loads(next(single_bodies(SyntheticEvents(10, now=NOW), 1)))
    assert single["event"] and "events" not in single


def profile(samples, deltas, names):
    nodes = [{"id": node_id, "callFrame": {"functionName": name}} for node_id, name in names.items()]
    return {"nodes": nodes, "samples": samples, "timeDeltas": deltas}


def test_cpu_counts_worker_code_apart_from_program_and_idle():
    names = {1: "(root)", 2: "(program)", 3: "(idle)", 4: "on_fetch", 5: "(garbage collector)"}
    # sample i is charged the delta that follows it; the last sample nothing
    sampled = sampled_ms(profile([4, 2, 5, 3, 4], [50, 1000, 2000, 500, 4000], names))
    assert sampled == {"busy": 1.5, "program": 2.0, "idle": 4.0}
    cpu = CpuPerRequest(sampled, 3)
    assert (cpu.busy, cpu.with_program, cpu.process) == (0.5, 3.5 / 3, None)
    assert cpu.bound == 0.5


def test_cpu_judges_the_tighter_upper_bound():
    sampled = {"busy": 30.0, "program": 10.0, "idle": 0.0}
    assert CpuPerRequest(sampled, 10, process_ms=20.0).bound == 2.0
    assert CpuPerRequest(sampled, 10, process_ms=50.0).bound == 3.0
    assert str(CpuPerRequest(sampled, 10, process_ms=20.0)) == "3.0 (4.0) | 2.0"


def test_a_profile_that_missed_most_of_the_work_is_not_judged():
    # Measured once for a purge invocation: 2.4 ms sampled busy, 152 with "(program)", 130 ms of process CPU.
    missed = CpuPerRequest({"busy": 2.4, "program": 149.8, "idle": 0.0}, 1, process_ms=130.0)
    assert missed.bound == 130.0


def test_runtime_lookup_reads_proc():
    assert process_cpu_ms(os.getpid()) > 0
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        assert runtime_pid(sleeper.pid) is None  # neither workerd nor the parent of one
    finally:
        sleeper.kill()
        sleeper.wait()


def test_percentile_is_a_measured_value():
    values = list(range(1, 21))
    assert percentile(values, 0.5) == 10
    assert percentile(values, 0.95) == 19
    assert percentile([7.0], 0.95) == 7.0


def test_report_marks_targets_and_counts_them():
    text = render([Section("ingest"), Row("ratio", large="0.95", target=">= 0.9", ok=True),
                   Row("rows", large="5.00", target="<= 4", ok=False), Row("info", large="12")],
                  ["figure", "10k", "1M", "target", ""])
    lines = text.splitlines()
    assert lines[2] == "ingest"
    assert lines[3].split() == ["ratio", "0.95", ">=", "0.9", "PASS"]
    assert lines[4].split() == ["rows", "5.00", "<=", "4", "FAIL"]
    assert lines[-1] == "targets met: 1 of 2"
