"""`make run` / `make worker`: the local worker on http://127.0.0.1:PORT with its own local D1."""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.devserver import ROOT, Worker  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--state", default=".wrangler/state")
    parser.add_argument("--worker-only", action="store_true")
    args = parser.parse_args()
    worker = Worker(ROOT / args.state, port=args.port, log_path=ROOT / args.state / "wrangler.log")
    print(f"Starting the worker on local D1 ({args.state}) ...", flush=True)
    worker.start()
    print(f"\n  Worker:  {worker.url}   (logs: {worker.log_path.relative_to(ROOT)})")
    print("  API key: AUTH_KEY in .dev.vars")
    print("\nPress Ctrl-C to stop.", flush=True)
    try:
        while worker.process.poll() is None:
            time.sleep(1)
        print(f"wrangler dev exited; see {worker.log_path}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()


if __name__ == "__main__":
    main()
