"""End to end in a real headless Chromium (zone Europe/Berlin): `streamlit run` against the real worker."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from conftest import KEYS, event
from scripts.browser import SCREENS, browser_page, capture_overview, find_chromium, walk_first_steps
from scripts.dashboard_server import Dashboard
from scripts.devserver import free_port

pytestmark = pytest.mark.browser

# The Overview's first row of cards (active users follow, from a worker with GET /stats/active).
TOTALS = ("Events", "Sessions", "Users", "Events / session")
# The README's "Send an event" example, as written there.
README_EVENT = {"event": "App Opened", "app_id": "my-awesome-app", "session_id": "user-session-123"}


@pytest.fixture
def chromium():
    if not find_chromium():
        pytest.skip("no Chromium at /usr/bin/chromium: `make browser` installs Debian's chromium (root + apt)")


def test_overview_shows_event_count_in_chromium(chromium, api, worker, app_id, tmp_path):
    now = time.time()
    events = [event(app_id, name, f"s{i % 3}", user_id=f"u{i % 2}", timestamp=now - 3600 * i)
              for i, name in enumerate(["App Opened", "Screen Viewed", "Purchase"] * 4)]
    assert api.track({"events": events}).json()["count"] == 12
    with Dashboard(worker.url, KEYS["AUTH_KEY"], port=free_port(), log_path=tmp_path / "streamlit.log") as dashboard:
        screenshot = tmp_path / "overview.png"
        cards = capture_overview(f"{dashboard.url}/?screen=Overview&app={app_id}", screenshot)
    assert {label: cards[label] for label in TOTALS} == {"Events": "12", "Sessions": "3", "Users": "2",
                                                         "Events / session": "4.0"}
    assert screenshot.stat().st_size > 10_000
    print(f"screenshot: {screenshot}")


def test_readme_first_steps_in_chromium(chromium, api, worker, tmp_path):
    """Dashboard open, the README's curl sent, page reloaded: the new app is in the picker at once, every
    screen renders (a funnel is built, a user opens by selecting their row), and the browser logs no error."""
    now = time.time()
    flow = [("App Opened", 0), ("Paywall Viewed", 30), ("Purchase", 90)]
    # User ids of their own: a user page's figures are all-time, over every app of the shared database.
    assert api.track({"events": [event("readme-neighbour", name, f"s{i}", user_id=f"neighbour-{i}", platform="ios",
                                       timestamp=now - 600 * i + after) for i in range(5)
                                 for name, after in flow[:1 + i % 3]]}).status_code == 200
    with Dashboard(worker.url, KEYS["AUTH_KEY"], port=free_port(), log_path=tmp_path / "streamlit.log") as dashboard:
        found = walk_first_steps(dashboard.url, lambda: api.track(README_EVENT).raise_for_status(),
                                 README_EVENT["app_id"], "readme-neighbour", tmp_path)
    assert {label: found["cards"][label] for label in TOTALS} == {
        "Events": "1", "Sessions": "1", "Users": "0", "Events / session": "1.0"}
    assert found["user_cards"]["Sessions"] == "1" and found["user_cards"]["Events"] in {"1", "2", "3"}
    assert found["our_console_messages"] == []
    # Offline, Streamlit's font and icon fetches fail by name: a network note, not an error of the page.
    assert [text for text in found["console_errors"] if "net::ERR_NAME_NOT_RESOLVED" not in text] == []
    assert [shot.stem for shot in found["shots"]] == [name.lower() for name in SCREENS]
    assert all(shot.stat().st_size > 10_000 for shot in found["shots"])
    print("screenshots:", *found["shots"])


@pytest.fixture
def slow_worker(worker):
    """The worker behind a proxy that answers each read a second late, as a distant worker would."""
    class SlowProxy(BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(1)
            upstream = requests.get(worker.url + self.path, headers={"X-API-KEY": self.headers["X-API-KEY"]},
                                    timeout=30)
            self.send_response(upstream.status_code)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(upstream.content)

        def log_message(self, *args):
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), SlowProxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{proxy.server_port}"
    proxy.shutdown()
    proxy.server_close()


def test_a_slow_screen_shows_a_spinner(chromium, api, slow_worker, app_id, tmp_path):
    assert api.track(event(app_id)).status_code == 200
    with Dashboard(slow_worker, KEYS["AUTH_KEY"], port=free_port(), log_path=tmp_path / "streamlit.log") as dashboard:
        with browser_page() as (page, _):
            page.goto(f"{dashboard.url}/?screen=Overview&app={app_id}")
            spinner = page.wait_for_selector('[data-testid="stSpinner"]', timeout=60000)
            assert "Loading overview" in spinner.inner_text()
