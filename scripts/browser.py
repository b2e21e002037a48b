"""Open the dashboard in Debian's headless Chromium (Playwright, system browser): capture the Overview, and
walk the README's first steps screen by screen.

Shared by the browser test and `make screenshot`. Never `playwright install`: it downloads browsers.
"""
import shutil
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Without the background-networking flags Chromium hangs on an offline machine.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
KPI = '[data-testid="stMetric"]'
TABLE = '[data-testid="stDataFrame"]'
CHART = ".vega-embed canvas, .vega-embed svg"
SCREENS = ("Overview", "Breakdowns", "Sessions", "Funnels", "Retention", "Apps", "Events", "Users")
ALERT = '[data-testid="stAlert"]'
PAGE_LINK = '[data-testid="stPageLink-NavLink"]'
SPINNER = '[data-testid="stSpinner"]'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'  # the script run is over
FUNNEL_STEPS = 2
VIEWER_ZONE = "Europe/Berlin"
# Streamlit's own console output (chart-library notes, an offline font fetch) is not ours; these words
# mark messages about our configuration (.streamlit/config.toml: theme, client, server).
OUR_CONFIGURATION = ("theme", "color", "config")


def find_chromium():
    for path in CHROMIUM_PATHS:
        if Path(path).exists():
            return path
    return shutil.which("chromium")


@contextmanager
def browser_page(viewport=(1440, 1300)):
    """A page in the viewer's zone, and the list its console messages are collected in."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                          timezone_id=VIEWER_ZONE)
            page = context.new_page()
            console = []
            page.on("console", lambda message: console.append((message.type, message.text)))
            yield page, console
        finally:
            browser.close()


def kpi_cards(page):
    cards = {}
    for card in page.query_selector_all(KPI):
        label = card.query_selector('[data-testid="stMetricLabel"]').inner_text().strip()
        cards[label] = card.query_selector('[data-testid="stMetricValue"]').inner_text().strip()
    return cards


def wait_for_overview(page, timeout_ms):
    page.wait_for_function(f"document.querySelectorAll('{KPI}').length >= 4", timeout=timeout_ms)
    page.wait_for_selector(CHART, timeout=timeout_ms)
    page.wait_for_timeout(1500)  # let the charts and tables finish their first paint


def screenshot(page, path):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def capture_overview(page_url, screenshot_path, timeout_ms=45000):
    """Load the page, wait for the four KPI cards and the charts, save a PNG. Returns {label: value}."""
    with browser_page() as (page, _):
        page.goto(page_url)
        wait_for_overview(page, timeout_ms)
        screenshot(page, screenshot_path)
        return kpi_cards(page)


def pick_app(page, app_id, timeout_ms):
    """Choose an app in the sidebar's picker, as a person would (open it, type, press Enter)."""
    picker = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
    picker.click()
    page.keyboard.type(app_id)
    page.locator('[role="option"]', has_text=app_id).first.wait_for(timeout=timeout_ms)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "(app) => [...document.querySelectorAll('[data-testid=\"stCaptionContainer\"]')]"
        ".some(c => c.innerText.startsWith(app + ' · '))", arg=app_id, timeout=timeout_ms)


def screen_url(dashboard_url, name, query=""):
    """A screen's own URL: its name in lower case as the path, the Overview's the root."""
    path = "" if name == SCREENS[0] else name.lower()
    return f"{dashboard_url}/{path}" + (f"?{query}" if query else "")


def click_screen_link(page, name):
    page.locator(f'[data-testid="stSidebar"] {PAGE_LINK}', has_text=name).first.click()


def wait_for_screen(page, name, timeout_ms):
    """Until the screen `name` has run to its end: its title, the script idle, no element of a previous screen
    left (stale), and its data (cards, a table, a chart or a note) shown."""
    page.wait_for_function("(name) => document.querySelector('h1')?.innerText.trim() === name", arg=name,
                           timeout=timeout_ms)
    page.wait_for_function(f"document.querySelector('{IDLE}') && !document.querySelector('[data-stale=\"true\"]')"
                           f" && !document.querySelector('{SPINNER}')", timeout=timeout_ms)
    # A screen waiting for a choice (Funnels: pick steps) shows a note instead of data.
    page.wait_for_selector(f"{KPI}, {TABLE}, {CHART}, {ALERT}", timeout=timeout_ms)


def open_screen(page, name, timeout_ms):
    """Open a screen by its link in the sidebar and wait for its data (cards, a table or a chart) to show."""
    click_screen_link(page, name)
    wait_for_screen(page, name, timeout_ms)
    settled(page, timeout_ms)
    page.wait_for_timeout(2000)


def build_funnel(page, timeout_ms):
    """Pick the first event names offered as the funnel's steps, as a person would (open, Enter)."""
    steps = page.locator('[data-testid="stMultiSelect"]').first
    for _ in range(FUNNEL_STEPS):
        steps.click()
        page.locator('[role="option"]').first.wait_for(timeout=timeout_ms)
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        settled(page, timeout_ms)
    # The funnel chart, or a worker's note (e.g. an older worker): anything but the request to pick steps.
    page.wait_for_function("![...document.querySelectorAll('[data-testid=\"stAlert\"]')]"
                           ".some(a => a.innerText.includes('Pick at least'))", timeout=timeout_ms)
    page.wait_for_selector(f"{CHART}, {ALERT}", timeout=timeout_ms)
    page.wait_for_timeout(2000)


def settled(page, timeout_ms):
    """Wait until the rerun has replaced every element of the previous screen (Streamlit marks those
    data-stale="true" until then), so what is found next belongs to this screen."""
    page.wait_for_timeout(300)
    page.wait_for_function("!document.querySelector('[data-stale=\"true\"]')", timeout=timeout_ms)


def select_first_row(page, timeout_ms, opens=KPI):
    """Tick the first row's box in the first table (the Users screen opens that user, Apps that app's page)
    and wait for what it opens (`opens`: a selector)."""
    box = page.locator(TABLE).first.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the row marker column; header and rows are 35 px
    page.wait_for_selector(opens, timeout=timeout_ms)
    page.wait_for_timeout(2000)


def walk_first_steps(dashboard_url, send_first_event, app_id, rich_app_id, shots_dir, timeout_ms=60000):
    """The README's first steps in a browser: open the dashboard, send the example event, reload, pick its
    app, then every screen (after the Overview, for an app with users and several event names: a funnel is
    built, a user opened). Saves a screenshot per screen; returns what a test checks."""
    with browser_page() as (page, console):
        page.goto(dashboard_url)
        page.wait_for_selector(KPI, timeout=timeout_ms)
        send_first_event()
        page.reload()
        page.wait_for_selector(KPI, timeout=timeout_ms)
        pick_app(page, app_id, timeout_ms)
        page.wait_for_timeout(1500)
        found = {"cards": kpi_cards(page), "shots": []}
        for name in SCREENS:
            if name == SCREENS[1]:
                pick_app(page, rich_app_id, timeout_ms)  # the README's event carries no user id
            open_screen(page, name, timeout_ms)
            if name == "Funnels":
                build_funnel(page, timeout_ms)
            if name == "Apps":
                select_first_row(page, timeout_ms, opens=f"{TABLE} >> nth=1")
            if name == "Users":
                select_first_row(page, timeout_ms)
                found["user_cards"] = kpi_cards(page)
            path = Path(shots_dir) / f"{name.lower()}.png"
            screenshot(page, path)
            found["shots"].append(path)
        found["our_console_messages"] = [text for kind, text in console if kind in ("warning", "error")
                                         and any(word in text.lower() for word in OUR_CONFIGURATION)]
        found["console_errors"] = [text for kind, text in console if kind == "error"]
        return found


@contextmanager
def delayed(url, latency_ms):
    """`url`, or a proxy in front of it answering every GET `latency_ms` late (the dashboard only reads), as a
    distant worker would: for the browser test and `make bench-dashboard`."""
    if not latency_ms:
        yield url
        return

    class Delayed(BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(latency_ms / 1000)
            upstream = requests.get(url + self.path, headers={"X-API-KEY": self.headers["X-API-KEY"]}, timeout=60)
            self.send_response(upstream.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(upstream.content)))
            self.end_headers()
            self.wfile.write(upstream.content)

        def log_message(self, *args):
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Delayed)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{proxy.server_port}"
    finally:
        proxy.shutdown()
        proxy.server_close()
