"""CPU per request, sampled by V8's profiler through the inspector that `wrangler dev --inspector-port` opens.

Under wrangler 3.92 that port is wrangler's inspector proxy: `/json` lists one target ("Cloudflare Worker")
whose websocket reaches the user worker's isolate. The proxy's own session with the runtime turns on
the `Network` domain from start-up, which makes the runtime report every D1 fetch with its body:
that slowed each request by several ms, so a session turns it off first thing, and any events still
arriving are skipped (replies are matched by id). D1 runs in an isolate of its own, but on the same
thread: while it executes, the sampler charges its time to the frames the worker's isolate left on the
stack. So each request's D1 time (the worker's x-d1-duration-ms: D1's own meta.duration) is subtracted
from both figures below (CpuPerRequest).

V8 samples on a wall clock, so time the OS took the isolate's thread away (2 shared cores) is
charged to the code on the stack, and sampling Pyodide's deep Wasm stacks every 0.1 ms slows the
worker itself (a single-event POST used about twice the CPU while profiled). So each figure also
sends the same number of requests unprofiled and reads the CPU time of the workerd process that
runs the worker from /proc: exact whatever the load, but it includes local D1's SQLite and the
runtime's HTTP handling. Both, less D1's time, are upper bounds of the worker's own CPU; the lower one
is judged.
"""
import json
import os
import statistics

import requests
import websocket

# Nodes that are not the worker's code. workerd never tells V8 it is idle, so time spent waiting
# (for D1, for the next request) lands in "(program)" rather than "(idle)": reported separately.
IDLE = "(idle)"
PROGRAM = "(program)"
SAMPLING_INTERVAL_US = 100


def sampled_ms(profile):
    """A V8 CPU profile -> {"busy", "program", "idle"} sampled milliseconds.

    `timeDeltas[i]` is the time before sample i; the time after the last sample is unknown, so
    sample i is charged the delta that follows it (as DevTools does), the last one nothing.
    """
    kind = {}
    for node in profile["nodes"]:
        name = node["callFrame"]["functionName"]
        kind[node["id"]] = "idle" if name == IDLE else "program" if name == PROGRAM else "busy"
    totals = {"busy": 0, "program": 0, "idle": 0}
    samples, deltas = profile.get("samples", []), profile.get("timeDeltas", [])
    for sample, following in zip(samples, deltas[1:]):
        totals[kind[sample]] += following
    return {name: micros / 1000 for name, micros in totals.items()}


def median_tick_ms(profile):
    deltas = profile.get("timeDeltas", [])[1:]
    return statistics.median(deltas) / 1000 if deltas else None


def d1_duration_ms(reply):
    """What D1 says it spent executing a request's statements (the worker's x-d1-duration-ms: the sum of each
    result's meta.duration); 0 for a reply without it (the JS baseline) or no reply."""
    headers = getattr(reply, "headers", None) or {}
    try:
        return float(headers.get("x-d1-duration-ms") or 0)
    except ValueError:
        return 0.0


class CpuPerRequest:
    """Milliseconds per request: `busy` (sampled JS, Wasm, GC), `with_program`, and `process` (workerd's, unprofiled);
    `d1_sampled` and `d1_process`: what D1 reported executing during the profiled and the unprofiled requests.

    Local D1 (a Durable Object of miniflare) runs on the worker's own thread: its SQLite work is in the process's CPU
    and, charged to whatever frames the isolate left on its stack, in the sampled `busy` too (a request whose
    Python only awaited a 3M-row query sampled 1,394 ms busy, 1,390 ms of process CPU, 1,296 ms of D1 duration). In
    production that is D1's time, not the worker's, so `own_sampled` and `own_process` subtract it: still upper
    bounds of the worker's own CPU (they keep the D1 binding's client side, D1's time outside its timer, and the
    runtime's HTTP handling; durations are whole milliseconds, rounded down, so a little of D1's time stays in)."""

    def __init__(self, sampled, requests_made, process_ms=None, tick_ms=None, d1_sampled_ms=0.0, d1_process_ms=0.0):
        self.busy = sampled["busy"] / requests_made
        self.with_program = (sampled["busy"] + sampled["program"]) / requests_made
        self.process = None if process_ms is None else process_ms / requests_made
        self.tick_ms = tick_ms
        self.d1_sampled = d1_sampled_ms / requests_made
        self.d1_process = d1_process_ms / requests_made

    @property
    def own_sampled(self):
        """Sampled CPU less D1's: from `busy`, or where D1's time fell outside it (into "(program)": a purge once
        sampled 2.4 ms busy and 152 with "(program)" where the process used 130), from `with_program`."""
        total = self.busy if self.busy >= self.d1_sampled else self.with_program
        return max(0.0, total - self.d1_sampled)

    @property
    def own_process(self):
        return None if self.process is None else max(0.0, self.process - self.d1_process)

    @property
    def bound(self):
        """The tighter of the two upper bounds of the worker's own CPU, unless the profile saw almost nothing of
        what the process spent beyond D1's time: a profile below a fifth of the process is not an upper bound (a
        purge invocation once sampled 2.4 ms busy where the process used 130, before D1's time was subtracted);
        the process is judged then."""
        if self.own_process is None:
            return self.own_sampled
        if self.own_sampled < self.own_process / 5:
            return self.own_process
        return min(self.own_sampled, self.own_process)

    def __str__(self):
        process = "n/a" if self.process is None else f"{self.process:.1f}"
        text = f"{self.busy:.1f} ({self.with_program:.1f}) | {process}"
        if self.d1_sampled or self.d1_process:
            own_process = "n/a" if self.own_process is None else f"{self.own_process:.1f}"
            text += f"; less D1's {self.d1_sampled:.1f} | {self.d1_process:.1f}: {self.own_sampled:.1f} | {own_process}"
        return text


def process_cpu_ms(pid):
    """User + system CPU of a process (all its threads) so far, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            found.append(int(entry))
    return found


def runtime_pid(root_pid):
    """The workerd under `wrangler dev` (pid `root_pid`) that runs the worker, or None.

    wrangler 3.92 starts two: its proxy (the public port and the inspector proxy) and the runtime
    itself, the only one started with `--inspector-addr`.
    """
    pending = [root_pid]
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                arguments = cmdline.read().split(b"\0")
        except OSError:
            continue
        if arguments[0].endswith(b"workerd") and any(arg.startswith(b"--inspector-addr") for arg in arguments):
            return pid
        pending += children(pid)
    return None


class InspectorError(RuntimeError):
    pass


class Inspector:
    """A Chrome DevTools Protocol session with the worker's isolate; failures raise InspectorError."""

    def __init__(self, port, runtime=None, connect_timeout=30, timeout=120):
        self.runtime = runtime
        try:
            targets = requests.get(f"http://127.0.0.1:{port}/json", timeout=connect_timeout).json()
            urls = [target["webSocketDebuggerUrl"] for target in targets if target.get("webSocketDebuggerUrl")]
            if not urls:
                raise InspectorError(f"the inspector on port {port} lists no debuggable target: {targets}")
            # The proxy answers the upgrade only once its own session with the runtime is up.
            self.socket = websocket.create_connection(urls[0], timeout=connect_timeout)
        except (requests.RequestException, ValueError, websocket.WebSocketException, OSError) as error:
            raise InspectorError(f"cannot open an inspector session on port {port}: {error!r}") from error
        self.socket.settimeout(timeout)
        self.last_id = 0
        self.call("Network.disable")

    def call(self, method, **params):
        self.last_id += 1
        try:
            self.socket.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
            while True:
                message = json.loads(self.socket.recv())
                if message.get("id") == self.last_id:
                    break  # anything else is an event (Network.*, console output)
        except (websocket.WebSocketException, OSError) as error:
            raise InspectorError(f"{method}: {error!r}") from error
        if "error" in message:
            raise InspectorError(f"{method}: {message['error']}")
        return message.get("result", {})

    def process_ms(self):
        return None if self.runtime is None else process_cpu_ms(self.runtime)

    def cpu_per_request(self, send_one, count):
        """`count` sequential calls of `send_one()` unprofiled (process CPU), then `count` under the profiler; each
        call's reply, when it returns one, says D1's duration (d1_duration_ms)."""
        process_before = self.process_ms()
        d1_process = sum(d1_duration_ms(send_one()) for _ in range(count))
        process = None if process_before is None else self.process_ms() - process_before
        self.call("Profiler.enable")
        self.call("Profiler.setSamplingInterval", interval=SAMPLING_INTERVAL_US)
        self.call("Profiler.start")
        d1_sampled = 0.0
        try:
            for _ in range(count):
                d1_sampled += d1_duration_ms(send_one())
        finally:
            profile = self.call("Profiler.stop")["profile"]
        return CpuPerRequest(sampled_ms(profile), count, process, median_tick_ms(profile), d1_sampled, d1_process)

    def close(self):
        self.socket.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
