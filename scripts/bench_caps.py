"""What the caps' check (worker/api/caps.py) costs `/track`: D1 rows read and written per request, as the worker's
`x-d1-rows-read` / `x-d1-rows-written` headers say, on throwaway workers of their own.

    .venv/bin/python scripts/bench_caps.py
"""
import sys
import tempfile
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from scripts.devserver import Worker, run_until_stopped  # noqa: E402

KEY = "bench-caps-key"


def event(app_id, name="Opened", session="s1", **fields):
    return {"event": name, "app_id": app_id, "session_id": session, **fields}


def batch(app_id, session, names=5, size=25):
    return {"events": [event(app_id, f"Event {n % names}", session, user_id="u1",
                             properties={"screen": f"s{n % 3}", "plan": "pro"}) for n in range(size)]}


class Client:
    def __init__(self, url):
        self.url, self.session = url, requests.Session()
        self.session.headers["X-API-KEY"] = KEY

    def track(self, body):
        return self.session.post(self.url + "/track", json=body, timeout=60)

    def fold(self):
        while not self.session.post(self.url + "/admin/fold", params={"chunks": "3"}, timeout=120).json()["complete"]:
            pass

    def limits(self, **limits):
        assert self.session.put(self.url + "/settings/limits", json=limits, timeout=60).status_code == 200


def show(label, response):
    print(f"| {label} | {response.status_code} | {response.headers.get('x-d1-rows-read')} | "
          f"{response.headers.get('x-d1-rows-written')} |")


def steady(client):
    for n in range(3):
        client.track(batch(f"other-{n}", "s0"))
    client.fold()
    show("25 events, 5 names, a new app (the 4th)", client.track(batch("app", "s1")))
    show("25 events, 5 known names, not yet folded", client.track(batch("app", "s2")))
    client.fold()
    show("25 events, 5 known names, folded", client.track(batch("app", "s3")))
    client.track(batch("app", "s4", names=25))
    client.fold()
    show("25 events, 25 known names, folded", client.track(batch("app", "s4", names=25)))
    body = batch("app", "s5")
    body["events"][-1]["event"] = "Brand new"
    show("25 events, one of them a new name", client.track(body))
    show("one event, a known name", client.track(event("app", "Event 0")))


def full(client):
    apps = [f"app-{n:03d}" for n in range(99)]
    for start in range(0, len(apps), 5):  # each app with its debug twin
        chunk = apps[start:start + 5]
        client.track({"events": [event(a) for a in chunk] + [event(a, debug=True) for a in chunk]})
    client.track({"events": [event("big", f"Name {n:03d}") for n in range(199)]})  # the 100th app
    client.fold()
    show("a new app past max_apps (100 apps and their twins): refused", client.track(event("new-app")))
    client.limits(max_apps=101)
    show("a new app, the 101st of 101", client.track(event("new-app")))
    show("a new name, the 200th of 200", client.track(event("big", "Name 199")))
    show("a new name past max_event_names: refused", client.track(event("big", "Name 200")))


def main():
    print("| /track | status | rows read | rows written |\n|---|---|---|---|")
    for scenario in (steady, full):
        with tempfile.TemporaryDirectory() as state, Worker(state, variables={"AUTH_KEY": KEY}) as worker:
            scenario(Client(worker.url))


if __name__ == "__main__":
    sys.exit(run_until_stopped(main))
