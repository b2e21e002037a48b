"""`make bench-dashboard`: cold screen loads in headless Chromium at the demo's size (`make run`'s data), with a
screen's reads started together (`api.Reader.prefetch`) and one after another (the same app with prefetch
switched off), beside a bare Streamlit page (st.title only) on the same machine. Prints medians; asserts
nothing.

`--latency-ms N` puts the worker behind a proxy that answers each request N ms late, as a distant worker would
(the local worker answers in milliseconds, and runs its requests in one isolate, so reads started together
mostly queue there).

A cold load is a new page load, so a new Streamlit session whose reads are not cached yet (api.session_epoch):
from opening the screen's URL to its script having run to its end with its data shown (browser.wait_for_screen).
"""
import argparse
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.browser import SCREENS, browser_page, delayed, find_chromium, screen_url, wait_for_screen  # noqa: E402
from scripts.dashboard_server import Dashboard  # noqa: E402
from scripts.demo import load_demo  # noqa: E402
from scripts.devserver import ROOT, Worker, free_port, run_until_stopped  # noqa: E402

ROUNDS = 5
# The dashboard with Reader.prefetch switched off: every read waits for the one before it.
SEQUENTIAL_APP = f"""import runpy, sys
sys.path.insert(0, {str(ROOT)!r})
from dashboard import api
api.Reader.prefetch = lambda self, *reads: None
runpy.run_path({str(ROOT / "dashboard" / "app.py")!r}, run_name="__main__")
"""
BARE_PAGE = "import streamlit as st\n\nst.title('Bare')\n"


def cold_load(page, url, name):
    started = time.monotonic()
    page.goto(url)
    wait_for_screen(page, name, 60000)
    seconds = time.monotonic() - started
    if page.locator(".st-key-retry").count():  # an error in place of the screen (states.failed)
        print(f"{name}: an error in place of the screen ({seconds:.1f} s)", flush=True)
    return seconds


def bare_load(page, url):
    started = time.monotonic()
    page.goto(url)
    page.wait_for_function("document.querySelector('h1')?.innerText.trim() === 'Bare'", timeout=60000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60000)
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=int, default=0, help="each worker answer this late (a distant worker)")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    if not find_chromium():
        raise SystemExit("bench-dashboard: no Chromium found; `make browser` installs it (root + apt)")
    key = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory() as state:
        state = Path(state)
        (state / "sequential.py").write_text(SEQUENTIAL_APP)
        (state / "bare.py").write_text(BARE_PAGE)
        with Worker(state / "d1", variables={"AUTH_KEY": key}) as worker, \
                delayed(worker.url, args.latency_ms) as worker_url:
            load_demo(worker.url, key, quiet=True)
            servers = {mode: Dashboard(worker_url, key, port=free_port(), log_path=state / f"{mode}.log",
                                       script=script)
                       for mode, script in (("prefetch", None), ("sequential", state / "sequential.py"),
                                            ("bare", state / "bare.py"))}
            for server in servers.values():
                server.start()
            try:
                figures = {mode: {name: [] for name in SCREENS} for mode in ("prefetch", "sequential")}
                bare = []
                with browser_page() as (page, _):
                    for mode in figures:  # the first load of each fetches Streamlit's scripts into the cache
                        cold_load(page, screen_url(servers[mode].url, SCREENS[0]), SCREENS[0])
                    bare_load(page, servers["bare"].url)
                    for _ in range(args.rounds):
                        for name in SCREENS:
                            for mode, loads in figures.items():  # interleaved: the machine's load hits both
                                loads[name].append(cold_load(page, screen_url(servers[mode].url, name), name))
                        bare.append(bare_load(page, servers["bare"].url))
            finally:
                for server in servers.values():
                    server.stop()
    print(f"Cold screen loads, demo data, worker answers +{args.latency_ms} ms, median of {args.rounds} "
          "(target: under 1 s)")
    print(f"{'screen':<12}{'together':>10}{'one by one':>12}")
    for name in SCREENS:
        print(f"{name:<12}{statistics.median(figures['prefetch'][name]):>9.2f}s"
              f"{statistics.median(figures['sequential'][name]):>11.2f}s")
    print(f"{'bare page':<12}{statistics.median(bare):>9.2f}s   (st.title only: Streamlit's own session start)")


if __name__ == "__main__":
    sys.exit(run_until_stopped(main))
