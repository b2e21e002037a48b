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


def apply_schema(state_dir, config=ROOT / "wrangler.toml", schema=ROOT / "schema.sql", database="oddlytics-db"):
    """Apply `schema` to the local D1 `database` of `config` under `state_dir` (idempotent)."""
    subprocess.run(
        [str(WRANGLER), "d1", "execute", database, "--local", "--persist-to", str(state_dir),
         "--file", str(schema), "--config", str(config)],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "WRANGLER_SEND_METRICS": "false"},
    )


class Server:
    """A local server process in a session of its own, so stop() kills it and its children together."""

    name = "server"
    health_path = "/"

    def __init__(self, port=None, log_path=None):
        self.port = port or free_port()
        self.log_path = Path(log_path) if log_path else None
        self.process = None
        self.log = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def port_in_use(self):
        with socket.socket() as probe:
            probe.settimeout(1)
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def spawn(self, command, env, timeout):
        if self.port_in_use():
            raise RuntimeError(f"port {self.port} is in use: is another {self.name} running?")
        self.log = open(self.log_path, "ab") if self.log_path else None
        self.process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdin=subprocess.DEVNULL,
            stdout=self.log or subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}); see {self.log_path}")
            try:
                if requests.get(self.url + self.health_path, timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {timeout}s; see {self.log_path}")

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
        if self.log:
            self.log.close()
            self.log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Worker(Server):
    """A running `wrangler dev`. `variables` override .dev.vars (e.g. test keys).

    Subclasses run another worker (e.g. the bench's JS baseline) by overriding the config, schema and database.
    """

    name = "wrangler dev"
    health_path = "/health"
    config = ROOT / "wrangler.toml"
    schema = ROOT / "schema.sql"
    database = "oddlytics-db"

    def __init__(self, state_dir, port=None, variables=None, log_path=None):
        self.state_dir = Path(state_dir)
        super().__init__(port, log_path or self.state_dir / "wrangler.log")
        self.variables = variables or {}
        self.inspector_port = None

    def start(self, timeout=90):
        self.state_dir.mkdir(parents=True, exist_ok=True)
        apply_schema(self.state_dir, self.config, self.schema, self.database)
        # The V8 inspector (Chrome DevTools Protocol): the bench profiles CPU per request through it.
        self.inspector_port = free_port()
        command = [str(WRANGLER), "dev", "--config", str(self.config), "--ip", "127.0.0.1", "--port", str(self.port),
                   "--persist-to", str(self.state_dir), "--inspector-port", str(self.inspector_port),
                   "--show-interactive-dev-session=false"]
        if self.variables:
            command += ["--var", *(f"{name}:{value}" for name, value in self.variables.items())]
        return self.spawn(command, {"WRANGLER_SEND_METRICS": "false", "CI": "true"}, timeout)
