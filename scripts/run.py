"""`make run`: the local worker on http://127.0.0.1:PORT and the dashboard on :8501 (or the next free port),
wired to the key in .dev.vars, with demo data loaded first when the local database is empty.
`--worker-only` for `make worker`. Any SIGINT/SIGTERM/SIGHUP, once or repeatedly, stops everything it started."""
import signal

# Until run_until_stopped installs its handlers (after the imports, ~0.3 s), Ctrl-C ends this process quietly
# rather than with a KeyboardInterrupt traceback from inside an import: nothing has been started yet.
signal.signal(signal.SIGINT, signal.SIG_DFL)

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import requests  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.dashboard_server import Dashboard  # noqa: E402
from scripts.demo import dev_vars_key, load_demo  # noqa: E402
from scripts.devserver import (  # noqa: E402
    ROOT, ServerError, Worker, port_in_use, raise_if_stop_requested, run_until_stopped)

DEFAULT_DASHBOARD_PORT = 8501
DASHBOARD_PORT_TRIES = 20


def say(line):
    # A closed terminal (SIGHUP) makes stdout raise EIO; the servers must still be stopped.
    try:
        print(line, flush=True)
    except OSError:
        pass


def shown(path):
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def database_is_empty(url, key):
    response = requests.get(f"{url}/apps", headers={"X-API-KEY": key}, params={"days": 3660}, timeout=30)
    response.raise_for_status()
    return not response.json()["apps"]


def dashboard_port(requested, default=DEFAULT_DASHBOARD_PORT):
    """The requested port, which must be free; without one the default, or the next free port when it is taken."""
    if requested:
        if port_in_use(requested):
            raise ServerError(f"dashboard port {requested} is in use; pick another with DASHBOARD_PORT=")
        return requested
    for port in range(default, default + DASHBOARD_PORT_TRIES):
        if not port_in_use(port):
            if port != default:
                say(f"Port {default} is in use: the dashboard takes {port}.")
            return port
    raise ServerError(f"ports {default}-{port} are all in use; pick one with DASHBOARD_PORT=")


def start_dashboard(args, worker, port):
    key = dev_vars_key()
    if not key:
        raise ServerError("AUTH_KEY is missing from .dev.vars")
    if args.demo and database_is_empty(worker.url, key):
        say("The local database is empty: loading demo data (make demo) ...")
        load_demo(worker.url, key)
    return Dashboard(worker.url, key, port=port, log_path=ROOT / args.state / "streamlit.log").start()


def serve(args):
    worker = Worker(ROOT / args.state, port=args.port, log_path=ROOT / args.state / "wrangler.log")
    if port_in_use(worker.port):
        raise ServerError(f"port {worker.port} is in use (another worker?); pick another with PORT=")
    port = None if args.worker_only else dashboard_port(args.dashboard_port)  # both checked before a slow start
    say(f"Starting the worker on local D1 ({args.state}) ...")
    worker.start()
    dashboard = None if args.worker_only else start_dashboard(args, worker, port)
    say(f"\n  Worker:     {worker.url}   (logs: {shown(worker.log_path)})")
    if dashboard:
        say(f"  Dashboard:  {dashboard.url}   (logs: {shown(dashboard.log_path)})")
    say("  API key:    AUTH_KEY in .dev.vars")
    say("\nPress Ctrl-C to stop.")
    while worker.process.poll() is None and (dashboard is None or dashboard.process.poll() is None):
        time.sleep(1)
        raise_if_stop_requested()
    raise ServerError("the worker or the dashboard exited; see its log above")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--dashboard-port", type=int, help=f"default {DEFAULT_DASHBOARD_PORT}, else the next free one")
    parser.add_argument("--state", default=".wrangler/state")
    parser.add_argument("--worker-only", action="store_true")
    parser.add_argument("--no-demo", dest="demo", action="store_false", help="never load demo data")
    args = parser.parse_args()
    try:
        serve(args)
    except KeyboardInterrupt:
        say("\nStopping ...")  # being stopped by a signal is how a server ends: status 0
        return 0


if __name__ == "__main__":
    sys.exit(run_until_stopped(main))
