"""The bench's pure parts: synthetic traffic, CPU profile accounting, percentiles and the report table."""
import json
import os
import subprocess

from bench.cpu import CpuPerRequest, d1_duration_ms, process_cpu_ms, runtime_pid, sampled_ms
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


def test_what_local_d1_executed_is_not_the_workers_cpu():
    # Measured: a request whose Python only awaited a 3M-row query sampled 1,394 ms busy and used 1,390 ms of process
    # CPU, while D1 reported 1,296 ms of duration: both figures held D1's SQLite, which runs on the worker's thread.
    cpu = CpuPerRequest({"busy": 2 * 1394.0, "program": 5.0, "idle": 0.0}, 2, process_ms=2 * 1390.0,
                        d1_sampled_ms=2 * 1296.0, d1_process_ms=2 * 1295.0)
    assert (cpu.own_sampled, cpu.own_process) == (98.0, 95.0)
    assert cpu.bound == 95.0
    assert str(cpu) == "1394.0 (1396.5) | 1390.0; less D1's 1296.0 | 1295.0: 98.0 | 95.0"


def test_d1_time_outside_the_sampled_frames_is_taken_from_program():
    # D1's time fell into "(program)": the sampled figure is then what "(program)" and the rest hold beyond it.
    cpu = CpuPerRequest({"busy": 2.4, "program": 149.8, "idle": 0.0}, 1, process_ms=130.0,
                        d1_sampled_ms=120.0, d1_process_ms=118.0)
    assert round(cpu.own_sampled, 1) == 32.2 and cpu.own_process == 12.0
    assert cpu.bound == 12.0
    # Measured for a purge invocation: 60.4 sampled, 450 of process, D1 49.0 and 422: 11.4 and 28.0 of its own.
    purge = CpuPerRequest({"busy": 60.4, "program": 3.7, "idle": 0.0}, 1, process_ms=450.0,
                          d1_sampled_ms=49.0, d1_process_ms=422.0)
    assert round(purge.bound, 1) == 11.4


def test_a_reply_says_its_d1_duration():
    class Reply:
        headers = {"x-d1-duration-ms": "12.000"}
    assert d1_duration_ms(Reply()) == 12.0
    assert d1_duration_ms(None) == 0.0
    assert d1_duration_ms(type("Baseline", (), {"headers": {}})()) == 0.0


def test_a_visit_read_the_worker_refused_is_a_cpu_target_not_met():
    """A funnel or retention grid past its walk bound at the dashboard's default range answers 400 in a few ms: the
    Free-plan day counts it as a target not met, not as a fast read."""
    from types import SimpleNamespace

    from bench.freeplan import FreePlanDay

    day = FreePlanDay(SimpleNamespace(url="http://127.0.0.1:9"), "key")
    day.visit_routes = {"/stats/overview?app_id=a": (200, 52), "/stats/funnel?app_id=a&step=x": (400, 74)}
    rows = [row for row in day.cpu_rows() if isinstance(row, Row)]
    refused = [row for row in rows if row.figure.startswith("GET /stats/funnel")]
    assert len(refused) == 1 and refused[0].ok is False and "HTTP 400" in refused[0].cells[2]
    assert not any(row.figure.startswith("GET /stats/overview") for row in rows)  # served: measured, not listed here
