"""Open the dashboard in Debian's headless Chromium (Playwright, system browser) and capture the Overview.

Shared by the browser test and `make screenshot`. Never `playwright install`: it downloads browsers.
"""
import shutil
from pathlib import Path

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Without the background-networking flags Chromium hangs on an offline machine.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
KPI = '[data-testid="stMetric"]'


def find_chromium():
    for path in CHROMIUM_PATHS:
        if Path(path).exists():
            return path
    return shutil.which("chromium")


def capture_overview(page_url, screenshot_path, viewport=(1440, 1300), timeout_ms=45000):
    """Load the page, wait for the four KPI cards and the charts, save a PNG. Returns {label: value}."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            page.goto(page_url)
            page.wait_for_function(f"document.querySelectorAll('{KPI}').length === 4", timeout=timeout_ms)
            page.wait_for_selector(".vega-embed canvas, .vega-embed svg", timeout=timeout_ms)
            page.wait_for_timeout(1500)  # let the charts finish their first paint
            cards = {}
            for card in page.query_selector_all(KPI):
                label = card.query_selector('[data-testid="stMetricLabel"]').inner_text().strip()
                cards[label] = card.query_selector('[data-testid="stMetricValue"]').inner_text().strip()
            Path(screenshot_path).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot_path), full_page=True)
            return cards
        finally:
            browser.close()
