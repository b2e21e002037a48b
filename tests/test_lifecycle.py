"""`make run` / scripts/run.py stopped as a terminal or a process manager would: whatever signals arrive, in any
phase, nothing it started survives, no traceback is printed, and its ports are free afterwards.

Every process is recognised by a marker in its environment (inherited by wrangler, workerd and streamlit, also
once orphaned), so a survivor is found even if it left the process group or was started after a signal.
"""
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from scripts.devserver import free_port

ROOT = Path(__file__).resolve().parent.parent
MARKER = "ODDLYTICS_LIFECYCLE_TEST"
STARTUP_SECONDS = 120
EXIT_SECONDS = 60  # the grace period before SIGKILL is 5 s per stop; this only bounds a hang


def marked_processes(marker):
    """Live (non-zombie) pids whose environment carries MARKER=marker."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            pass  # gone meanwhile, or a zombie (its environ is empty anyway)
    return found


def port_is_free(port):
    # SO_REUSEADDR: a TIME_WAIT left by a health check is not a listener; on Linux a LISTEN socket still blocks.
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Launched:
    """A command in a process group of its own (as a terminal or systemd starts it), its output read live."""

    def __init__(self, command, env=None):
        self.marker = uuid.uuid4().hex
        self.lines = []
        self.seen = threading.Condition()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **(env or {}), MARKER: self.marker, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.process.stdout:
            with self.seen:
                self.lines.append(raw.decode(errors="replace"))
                self.seen.notify_all()

    @property
    def output(self):
        with self.seen:
            return "".join(self.lines)

    def wait_for(self, text, timeout=STARTUP_SECONDS):
        with self.seen:
            found = self.seen.wait_for(lambda: text in "".join(self.lines) or self.process.poll() is not None,
                                       timeout)
        assert found and text in self.output, f"{text!r} not printed; output so far:\n{self.output}"

    def signal_group(self, signum):
        os.killpg(self.process.pid, signum)

    def wait_exit(self):
        status = self.process.wait(timeout=EXIT_SECONDS)
        self.reader.join(timeout=10)
        return status

    def kill_leftovers(self):
        """After the assertions: never leave anything behind for the next test, whatever failed."""
        for pid in marked_processes(self.marker):
            try:
                os.killpg(os.getpgid(pid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def launch():
    launched = []

    def start(command, env=None):
        launched.append(Launched(command, env))
        return launched[-1]

    yield start
    for each in launched:
        each.kill_leftovers()


@pytest.fixture(scope="module")
def dev_vars():
    """`make run` reads the dashboard's key from .dev.vars; create it as `make run` does (git-ignored)."""
    subprocess.run(["make", "--no-print-directory", ".dev.vars"], cwd=ROOT, check=True, capture_output=True)


def run_py(state, worker_port, *extra):
    return [sys.executable, str(ROOT / "scripts" / "run.py"), "--port", str(worker_port),
            "--state", str(state), *extra]


def assert_stopped_cleanly(launched, ports):
    status = launched.wait_exit()
    leftovers = marked_processes(launched.marker)
    assert leftovers == [], f"still running: {leftovers}\n{launched.output}"
    assert [port for port in ports if not port_is_free(port)] == []
    assert "Traceback" not in launched.output and "KeyboardInterrupt" not in launched.output, launched.output
    return status


# Two servers that ignore SIGTERM and have a child each, in sessions of their own like wrangler dev: only the
# helper's stop reaches them, and only its SIGKILL after the grace period ends them.
STUBBORN_SERVER = ("import signal, subprocess, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                   "subprocess.Popen(['sleep', '600']); time.sleep(600)")
STARTER = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from scripts import devserver
devserver.GRACE_SECONDS = 1

def main():
    for _ in range(2):
        devserver.start_group([sys.executable, "-c", {STUBBORN_SERVER!r}])
    print("started", flush=True)
    time.sleep(600)

sys.exit(devserver.run_until_stopped(main))
"""


def test_repeated_signals_during_the_stop_do_not_cut_it_short_and_sigkill_follows_the_grace_period(launch):
    starter = launch([sys.executable, "-c", STARTER])
    starter.wait_for("started", timeout=30)
    deadline = time.monotonic() + 30
    while len(marked_processes(starter.marker)) < 5 and time.monotonic() < deadline:
        time.sleep(0.1)  # the starter, two servers, their two children
    assert len(marked_processes(starter.marker)) == 5
    starter.signal_group(signal.SIGTERM)
    starter.wait_for("interrupted")
    starter.signal_group(signal.SIGINT)  # lands inside the 1 s grace period the stubborn servers force
    starter.signal_group(signal.SIGTERM)
    assert assert_stopped_cleanly(starter, []) == 128 + signal.SIGTERM


def test_sigterm_then_sigint_during_cleanup_stops_worker_and_dashboard(launch, dev_vars, tmp_path):
    worker_port, dashboard_port = free_port(), free_port()
    run = launch(run_py(tmp_path, worker_port, "--dashboard-port", str(dashboard_port), "--no-demo"))
    run.wait_for("Press Ctrl-C to stop.")
    started = marked_processes(run.marker)
    assert len(started) >= 3, run.output  # run.py, wrangler and its workerd, streamlit: the marker does reach them
    run.signal_group(signal.SIGTERM)
    run.wait_for("Stopping")
    run.signal_group(signal.SIGINT)  # a second Ctrl-C while the servers are being stopped
    assert assert_stopped_cleanly(run, [worker_port, dashboard_port]) == 0


def test_sigterm_to_make_run_during_demo_loading(launch, dev_vars, tmp_path):
    # make forwards SIGTERM to its child as well: run.py gets two SIGTERMs in quick succession.
    worker_port, dashboard_port = free_port(), free_port()
    run = launch(["make", "--no-print-directory", "run", f"PORT={worker_port}", f"DASHBOARD_PORT={dashboard_port}",
                  f"STATE={tmp_path}"])
    run.wait_for("loading demo data")
    run.signal_group(signal.SIGTERM)
    run.wait_for("Stopping")
    run.signal_group(signal.SIGINT)
    assert_stopped_cleanly(run, [worker_port, dashboard_port])


def test_signals_during_worker_start_up(launch, tmp_path):
    worker_port = free_port()
    run = launch(run_py(tmp_path, worker_port, "--worker-only"))
    run.wait_for("Starting the worker")
    time.sleep(1)  # inside the schema step or the wait for wrangler dev's first answer
    run.signal_group(signal.SIGINT)
    run.signal_group(signal.SIGTERM)
    assert assert_stopped_cleanly(run, [worker_port]) == 0


def test_busy_worker_port_is_one_line_without_traceback(launch, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = launch(run_py(tmp_path, port, "--worker-only"))
        status = run.wait_exit()
    assert status == 1
    assert run.output.strip() == f"run.py: port {port} is in use (another worker?); pick another with PORT="


def test_busy_dashboard_port_given_to_make_run_is_one_line_before_anything_starts(launch, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = launch(["make", "--no-print-directory", "run", f"PORT={free_port()}", f"DASHBOARD_PORT={port}",
                      f"STATE={tmp_path}"])
        status = run.wait_exit()
    assert status != 0
    assert f"run.py: dashboard port {port} is in use; pick another with DASHBOARD_PORT=\n" in run.output
    assert "Traceback" not in run.output and "Starting the worker" not in run.output
    assert marked_processes(run.marker) == []


def test_soak_interrupted_while_restarting_its_worker(launch):
    soak = launch([sys.executable, str(ROOT / "scripts" / "soak.py"), "--clients", "2", "--events", "400",
                   "--restarts", "1"])
    soak.wait_for("killed the worker")
    soak.signal_group(signal.SIGTERM)  # during the downtime or the restart's start-up
    soak.wait_for("interrupted")
    soak.signal_group(signal.SIGINT)
    assert assert_stopped_cleanly(soak, []) == 128 + signal.SIGTERM


def test_pytest_stopped_by_sigterm_tears_the_session_worker_down(launch, tmp_path):
    # Without conftest's handlers pytest dies on SIGTERM without teardown and the worker fixture's wrangler stays.
    (tmp_path / "test_waits.py").write_text(
        "import time\n\ndef test_waits(worker):\n    print('worker up', flush=True)\n    time.sleep(600)\n")
    pytest_run = launch([sys.executable, "-m", "pytest", "-s", "-q", "-p", "conftest", "-p", "no:cacheprovider",
                         "--rootdir", str(tmp_path), str(tmp_path / "test_waits.py")],
                        env={"PYTHONPATH": str(ROOT / "tests")})
    pytest_run.wait_for("worker up")
    pytest_run.signal_group(signal.SIGTERM)
    pytest_run.wait_for("KeyboardInterrupt")  # pytest's own report; teardown follows
    pytest_run.signal_group(signal.SIGINT)
    status = pytest_run.wait_exit()
    assert status == pytest.ExitCode.INTERRUPTED, pytest_run.output
    assert marked_processes(pytest_run.marker) == [], pytest_run.output
