"""End to end in a real headless Chromium: `streamlit run` against the real worker, KPI cards shown."""
import time

import pytest

from conftest import KEYS, event
from scripts.browser import capture_overview, find_chromium
from scripts.dashboard_server import Dashboard
from scripts.devserver import free_port

pytestmark = pytest.mark.browser


def test_overview_shows_event_count_in_chromium(api, worker, app_id, tmp_path):
    if not find_chromium():
        pytest.skip("no Chromium at /usr/bin/chromium: `make browser` installs Debian's chromium (root + apt)")
    now = time.time()
    events = [event(app_id, name, f"s{i % 3}", user_id=f"u{i % 2}", timestamp=now - 3600 * i)
              for i, name in enumerate(["App Opened", "Screen Viewed", "Purchase"] * 4)]
    assert api.track({"events": events}).json()["count"] == 12
    with Dashboard(worker.url, KEYS["AUTH_KEY"], port=free_port(), log_path=tmp_path / "streamlit.log") as dashboard:
        screenshot = tmp_path / "overview.png"
        cards = capture_overview(f"{dashboard.url}/?screen=Overview&app={app_id}", screenshot)
    assert cards == {"Events": "12", "Sessions": "3", "Users": "2", "Events / session": "4.0"}
    assert screenshot.stat().st_size > 10_000
    print(f"screenshot: {screenshot}")
