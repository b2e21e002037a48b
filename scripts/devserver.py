"""Start and stop a local worker (`wrangler dev` on workerd + local D1). Used by `make run` and the tests."""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
WRANGLER = ROOT / "node_modules" / ".bin" / "wrangler"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def apply_schema(state_dir):
    """Apply schema.sql to the local D1 under `state_dir` (idempotent)."""
    subprocess.run(
        [str(WRANGLER), "d1", "execute", "oddlytics-db", "--local", "--persist-to", str(state_dir),
         "--file", str(ROOT / "schema.sql")],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "WRANGLER_SEND_METRICS": "false"},
    )


class Worker:
    """A running `wrangler dev`. `variables` override .dev.vars (e.g. test keys)."""

    def __init__(self, state_dir, port=None, variables=None, log_path=None):
        self.state_dir = Path(state_dir)
        self.port = port or free_port()
        self.variables = variables or {}
        self.log_path = Path(log_path) if log_path else self.state_dir / "wrangler.log"
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=90):
        self.state_dir.mkdir(parents=True, exist_ok=True)
        apply_schema(self.state_dir)
        command = [str(WRANGLER), "dev", "--ip", "127.0.0.1", "--port", str(self.port),
                   "--persist-to", str(self.state_dir), "--inspector-port", str(free_port()),
                   "--show-interactive-dev-session=false"]
        if self.variables:
            command += ["--var", *(f"{name}:{value}" for name, value in self.variables.items())]
        self.log = open(self.log_path, "ab")
        # A session of its own, so stop() can kill wrangler and its workerd children together.
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env={**os.environ, "WRANGLER_SEND_METRICS": "false", "CI": "true"},
        )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"wrangler dev exited ({self.process.returncode}); see {self.log_path}")
            try:
                if requests.get(self.url + "/health", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"worker not ready after {timeout}s; see {self.log_path}")

    def stop(self):
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(timeout=10)
        if getattr(self, "log", None):
            self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
