"""Issue 17: the real Aptabase SDKs from the registries against the local worker: `aptabase` from PyPI, and
`@aptabase/web` from npm in Debian's Chromium on a local page of another origin (so the CORS preflight is real).
Their events are checked in the overview, breakdowns (platform, version, a property) and the explorer."""
import asyncio
import functools
import platform
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from aptabase import Aptabase

from scripts.browser import browser_page, find_chromium

ROOT = Path(__file__).resolve().parent.parent
WEB_SDK = ROOT / "node_modules" / "@aptabase" / "web" / "dist" / "index.js"


def new_key(api, app_id):
    response = api.post(f"/settings/apps/{app_id}/app-key")
    assert response.status_code == 200, response.text
    return response.json()["app_key"]


def figures(api, app_id, debug=False, event=None, property_name=None):
    """What the dashboard shows of an app: overview, breakdowns and the explorer, read through the API."""
    api.fold_all()
    flag = "true" if debug else "false"
    overview = api.read("/stats/overview", app_id=app_id, debug=flag)
    by = {field: {v["value"]: v["events"] for v in api.read("/stats/breakdown", app_id=app_id, by=field,
                                                            debug=flag)["values"]}
          for field in ("platform", "app_version")}
    if property_name:
        by[property_name] = {v["value"]: v["events"] for v in api.read(
            "/stats/breakdown", app_id=app_id, by=f"property:{property_name}", event=event, debug=flag)["values"]}
    events = api.read("/events", app_id=app_id, debug=flag)["events"]
    return overview, by, events


def test_the_python_sdk_from_pypi(api, app_id):
    key = new_key(api, app_id)

    async def send():
        async with Aptabase(key, base_url=api.url, app_version="4.5.6", flush_interval=3600) as client:
            await client.track("app_started")
            await client.track("purchase", {"plan": "pro", "amount": 9.99, "trial": False})
        async with Aptabase(key, base_url=api.url, app_version="4.6.0-dev", is_debug=True,
                            flush_interval=3600) as debug_client:
            await debug_client.track("debug_only")

    asyncio.run(send())
    overview, by, events = figures(api, app_id, event="purchase", property_name="plan")
    expected_platform = {"Linux": "Linux", "Darwin": "macOS", "Windows": "Windows"}.get(platform.system(),
                                                                                       platform.system())
    assert (overview["events"], overview["sessions"], overview["users"]) == (2, 1, 1)
    assert by["platform"] == {expected_platform: 2}
    assert by["app_version"] == {"4.5.6": 2}
    assert by["plan"] == {"pro": 1}
    purchase = next(e for e in events if e["event"] == "purchase")
    assert {k: purchase["properties"][k] for k in ("plan", "amount", "trial", "$sdk_version")} == {
        "plan": "pro", "amount": 9.99, "trial": False, "$sdk_version": "aptabase-python@0.1.0"}
    assert purchase["user_id"].startswith("daily:")
    # The debug client's event is read with debug=true only.
    debug_overview, debug_by, debug_events = figures(api, app_id, debug=True)
    assert [e["event"] for e in debug_events] == ["debug_only"] and debug_overview["events"] == 1
    assert debug_by["app_version"] == {"4.6.0-dev": 1}


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def page_server(tmp_path):
    """A local page on an origin of its own, serving the npm package's ESM build as it ships."""
    (tmp_path / "aptabase-web.js").write_bytes(WEB_SDK.read_bytes())
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.browser
def test_the_web_sdk_from_npm_in_chromium(api, app_id, page_server):
    if not find_chromium():
        pytest.skip("no Chromium at /usr/bin/chromium: `make browser` installs Debian's chromium (root + apt)")
    key = new_key(api, app_id)
    folder, origin = page_server
    # @aptabase/web 0.5.0 reads process.env.NODE_ENV when isDebug is not given (a bundler's variable): a page
    # without a bundler passes isDebug itself.
    (folder / "index.html").write_text(f"""<!doctype html><meta charset="utf-8"><title>loading</title><link rel="icon" href="data:,">
<script type="module">
import {{ init, trackEvent }} from "./aptabase-web.js";
const host = {api.url!r};
init({key!r}, {{ host, appVersion: "7.8.9", isDebug: false }});
await trackEvent("page_view", {{ path: "/pricing" }});
await trackEvent("signup", {{ plan: "team", seats: 3 }});
init({key!r}, {{ host, appVersion: "7.9.0-beta", isDebug: true }});
await trackEvent("debug_click");
document.title = "sent";
</script>""")
    with browser_page() as (page, console):
        page.goto(f"{origin}/index.html")
        page.wait_for_function("document.title === 'sent'", timeout=30000)
    assert [text for kind, text in console if kind in ("warning", "error")] == []
    overview, by, events = figures(api, app_id, event="signup", property_name="plan")
    assert (overview["events"], overview["sessions"], overview["users"]) == (2, 1, 1)
    assert by["platform"] == {"web": 2}
    assert by["app_version"] == {"7.8.9": 2}
    assert by["plan"] == {"team": 1}
    signup = next(e for e in events if e["event"] == "signup")
    assert {k: signup["properties"][k] for k in ("plan", "seats", "$sdk_version", "$os_name", "$engine_name")} == {
        "plan": "team", "seats": 3, "$sdk_version": "aptabase-web@0.5.0", "$os_name": "Linux",
        "$engine_name": "Headless Chrome"}
    debug_overview, debug_by, debug_events = figures(api, app_id, debug=True)
    assert [e["event"] for e in debug_events] == ["debug_click"]
    assert debug_by["app_version"] == {"7.9.0-beta": 1}


@pytest.mark.browser
def test_the_script_snippet_in_chromium(api, app_id, page_server):
    if not find_chromium():
        pytest.skip("no Chromium at /usr/bin/chromium: `make browser` installs Debian's chromium (root + apt)")
    script = requests.get(api.url + "/script.js", timeout=30)
    assert script.status_code == 200 and script.headers["content-type"].startswith("application/javascript")
    assert len(script.content) < 2048 and "import" not in script.text
    key = new_key(api, app_id)
    folder, origin = page_server
    # The README's example, on a page of another origin; a custom event from a click.
    (folder / "page.html").write_text(f"""<!doctype html><meta charset="utf-8"><title>page</title>
<link rel="icon" href="data:,">
<script defer src="{api.url}/script.js" data-app-key="{key}" data-app-version="2.0.0"></script>
<button onclick="oddlytics.track('signup', {{plan: 'team'}}).then(ok => document.title = 'sent ' + ok)">Sign up</button>""")
    with browser_page() as (page, console):
        page.goto(f"{origin}/page.html?secret=query#fragment")
        page.wait_for_function("window.oddlytics !== undefined", timeout=30000)
        page.click("button")
        page.wait_for_function("document.title.startsWith('sent')", timeout=30000)
        assert page.title() == "sent true"
        page.goto(f"{origin}/page.html?second=visit")  # the page view of a second page, same tab (session)
        page.wait_for_function("window.oddlytics !== undefined", timeout=30000)
        api.fold_all()
        for _ in range(100):  # the second page view is sent with keepalive: wait for it to be stored, not a time
            if len(api.read("/events", app_id=app_id)["events"]) == 3:
                break
            page.wait_for_timeout(100)
    assert [text for kind, text in console if kind in ("warning", "error")] == []
    overview, by, events = figures(api, app_id, event="signup", property_name="plan")
    assert sorted(e["event"] for e in events) == ["page_view", "page_view", "signup"]
    assert (overview["events"], overview["sessions"], overview["users"]) == (3, 1, 1)
    assert by["platform"] == {"web": 3} and by["app_version"] == {"2.0.0": 3} and by["plan"] == {"team": 1}
    views = [e for e in events if e["event"] == "page_view"]
    assert {e["properties"]["path"] for e in views} == {"/page.html"}  # no query string, no fragment
    assert all(e["properties"]["$sdk_version"] == "oddlytics-script@1" for e in events)
