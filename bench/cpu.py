"""CPU per request, sampled by V8's profiler through the inspector that `wrangler dev --inspector-port` opens.

Under wrangler 3.92 that port is wrangler's inspector proxy: `/json` lists one target ("Cloudflare Worker")
whose websocket reaches the user worker's isolate. The proxy also turns on the `Network` domain, which makes
the runtime report every D1 fetch with its body: that slowed each request by several ms, so it is
turned off before profiling, and any events still arriving are skipped (replies are matched by id). D1 itself runs
outside the worker's isolate, as in production, so its time is not in the profile.
"""
import json

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


class CpuPerRequest:
    """Milliseconds per request: `busy` (JS, Wasm, GC: what the 10 ms CPU limit counts) and `with_program`.

    V8 samples on a wall clock: a sample taken while the OS had descheduled the isolate's thread is
    charged to the code on the stack, so on a loaded machine both figures are upper bounds.
    """

    def __init__(self, sampled, requests_made):
        self.busy = sampled["busy"] / requests_made
        self.with_program = (sampled["busy"] + sampled["program"]) / requests_made

    def __str__(self):
        return f"{self.busy:.1f} ({self.with_program:.1f})"


class Inspector:
    """A Chrome DevTools Protocol session with the worker's isolate."""

    def __init__(self, port, timeout=120):
        targets = requests.get(f"http://127.0.0.1:{port}/json", timeout=10).json()
        urls = [target["webSocketDebuggerUrl"] for target in targets if target.get("webSocketDebuggerUrl")]
        if not urls:
            raise RuntimeError(f"the inspector on port {port} lists no debuggable target: {targets}")
        self.socket = websocket.create_connection(urls[0], timeout=timeout)
        self.last_id = 0
        self.call("Network.disable")

    def call(self, method, **params):
        self.last_id += 1
        self.socket.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") != self.last_id:
                continue  # an event (the proxy's Network.* for D1 fetches, console output)
            if "error" in message:
                raise RuntimeError(f"{method}: {message['error']}")
            return message.get("result", {})

    def cpu_per_request(self, send_one, count):
        """Profile `count` sequential calls of `send_one()`."""
        self.call("Profiler.enable")
        self.call("Profiler.setSamplingInterval", interval=SAMPLING_INTERVAL_US)
        self.call("Profiler.start")
        try:
            for _ in range(count):
                send_one()
        finally:
            profile = self.call("Profiler.stop")["profile"]
        return CpuPerRequest(sampled_ms(profile), count)

    def close(self):
        self.socket.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
