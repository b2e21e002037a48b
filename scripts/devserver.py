"""Start and stop local servers (`wrangler dev` on workerd + local D1, Streamlit) so that none outlives its
starter: used by `make run`, the tests, bench and soak.

Every process started here runs in a session (process group) of its own, so that a stop reaches its children
too (wrangler's workerd, which holds the port). A Ctrl-C in the terminal therefore reaches only the starter,
which must stop them: `run_until_stopped` turns the first SIGINT/SIGTERM/SIGHUP into one KeyboardInterrupt,
ignores the rest (a second Ctrl-C, or the SIGTERM that `make` forwards after the one sent to its group, must not
cut the cleanup short), and stops every started group: SIGTERM, then SIGKILL after a grace period.
"""
import socket
import subprocess
import time
from pathlib import Path

import requests

from scripts.migrate import migrate
# The process-group primitives, re-exported: callers of this module use them under its name.
from scripts.processes import (  # noqa: F401
    GRACE_SECONDS, REAP_SECONDS, STOP_SIGNALS, WRANGLER, ServerError, raise_if_stop_requested, run_until_stopped,
    signals_deferred, start_group, stop_all, stop_groups, stop_on_signals, stop_signal_status, wrangler)

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port):
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def apply_schema(state_dir, config=None):
    """Bring the local D1 under `state_dir` to the current schema through migrations/ (idempotent)."""
    migrate(["--local", "--persist-to", str(state_dir), *(["--config", str(config)] if config else [])])


class Server:
    """A local server process leading a process group of its own, so stop() takes its children down with it."""

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

    def ensure_port_free(self):
        if port_in_use(self.port):
            raise ServerError(f"port {self.port} is in use: is another {self.name} running?")

    def spawn(self, command, env, timeout):
        self.ensure_port_free()
        self.log = open(self.log_path, "ab") if self.log_path else None
        self.process = start_group(command, env, stdout=self.log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise ServerError(f"{self.name} exited ({self.process.returncode}); see {self.log_path}")
            try:
                if requests.get(self.url + self.health_path, timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.stop()
        raise ServerError(f"{self.name} not ready after {timeout}s; see {self.log_path}")

    def stop(self):
        stop_groups([self.process])
        if self.log:
            self.log.close()
            self.log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Worker(Server):
    """A running `wrangler dev`. `variables` override .dev.vars (e.g. test keys).

    Local tools send thousands of events from one address, so /track rate limits are off unless
    `variables` say otherwise; `config` replaces wrangler.toml (e.g. with rate limiting bindings). Subclasses
    run another worker (the bench's JS baseline) by overriding `config` and `prepare_database`."""

    name = "wrangler dev"
    health_path = "/health"
    config = ROOT / "wrangler.toml"

    def __init__(self, state_dir, port=None, variables=None, log_path=None, config=None):
        self.state_dir = Path(state_dir).resolve()  # wrangler runs from the repository, not from the caller's folder
        super().__init__(port, log_path or self.state_dir / "wrangler.log")
        # Locally every read folds what is new (FOLD_EVERY_MINUTES=0): an event sent shows at once.
        self.variables = {"TRACK_RATE_LIMITS": "off", "FOLD_EVERY_MINUTES": "0", **(variables or {})}
        self.config = config or type(self).config
        self.inspector_port = None

    def prepare_database(self):
        apply_schema(self.state_dir, self.config)

    def start(self, timeout=90):
        self.ensure_port_free()  # before the schema, which takes seconds
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.prepare_database()
        # The V8 inspector (Chrome DevTools Protocol): the bench profiles CPU per request through it.
        self.inspector_port = free_port()
        command = [str(WRANGLER), "dev", "--config", str(self.config), "--ip", "127.0.0.1", "--port", str(self.port),
                   "--persist-to", str(self.state_dir), "--inspector-port", str(self.inspector_port),
                   "--show-interactive-dev-session=false"]
        if self.variables:
            command += ["--var", *(f"{name}:{value}" for name, value in self.variables.items())]
        return self.spawn(command, {"WRANGLER_SEND_METRICS": "false", "CI": "true"}, timeout)
