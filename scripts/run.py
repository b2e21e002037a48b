"""`make run`: the local worker on http://127.0.0.1:PORT and the dashboard on :8501, wired to the key in
.dev.vars, with demo data loaded first when the local database is empty. `--worker-only` for `make worker`."""
import argparse
import signal
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.dashboard_server import Dashboard  # noqa: E402
from scripts.demo import dev_vars_key, load_demo  # noqa: E402
from scripts.devserver import ROOT, Worker  # noqa: E402


def database_is_empty(url, key):
    response = requests.get(f"{url}/apps", headers={"X-API-KEY": key}, params={"days": 3660}, timeout=30)
    response.raise_for_status()
    return not response.json()["apps"]


def stop_on_signals():
    # Ctrl-C must work even when started from a shell that ignores SIGINT (background jobs);
    # SIGTERM (e.g. from a process manager) stops both servers cleanly too.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)


def main():
    stop_on_signals()
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--dashboard-port", type=int, default=8501)
    parser.add_argument("--state", default=".wrangler/state")
    parser.add_argument("--worker-only", action="store_true")
    args = parser.parse_args()
    worker = Worker(ROOT / args.state, port=args.port, log_path=ROOT / args.state / "wrangler.log")
    dashboard = None
    print(f"Starting the worker on local D1 ({args.state}) ...", flush=True)
    worker.start()
    try:
        if not args.worker_only:
            key = dev_vars_key()
            if not key:
                raise SystemExit("run: AUTH_KEY is missing from .dev.vars")
            if database_is_empty(worker.url, key):
                print("The local database is empty: loading demo data (make demo) ...", flush=True)
                load_demo(worker.url, key)
            dashboard = Dashboard(worker.url, key, port=args.dashboard_port,
                                  log_path=ROOT / args.state / "streamlit.log").start()
        print(f"\n  Worker:     {worker.url}   (logs: {worker.log_path.relative_to(ROOT)})")
        if dashboard:
            print(f"  Dashboard:  {dashboard.url}   (logs: {dashboard.log_path.relative_to(ROOT)})")
        print("  API key:    AUTH_KEY in .dev.vars")
        print("\nPress Ctrl-C to stop.", flush=True)
        while worker.process.poll() is None and (dashboard is None or dashboard.process.poll() is None):
            time.sleep(1)
        print("the worker or the dashboard exited; see the logs above", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        if dashboard:
            dashboard.stop()
        worker.stop()


if __name__ == "__main__":
    main()
