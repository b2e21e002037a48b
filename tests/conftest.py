"""Shared fixtures: one real local worker (workerd + local D1) for the whole test session.

Tests share the database, so each test sends its events under an app id of its own (`app_id`).
"""
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "worker")]

from scripts.devserver import Worker, stop_on_signals  # noqa: E402

# pytest turns SIGINT into KeyboardInterrupt and tears the fixtures down, but dies on SIGTERM without teardown,
# leaving the session's wrangler dev (in a session of its own) running: SIGTERM and SIGHUP take the same path,
# and a second signal no longer cuts the teardown short.
stop_on_signals()

KEYS = {"AUTH_KEY": "test-admin-key", "READ_KEY": "test-read-key", "INGEST_KEY": "test-ingest-key"}


class Api:
    """A requests session bound to the worker's URL, sending a key unless told otherwise."""

    def __init__(self, url, key=KEYS["AUTH_KEY"]):
        self.url = url
        self.key = key
        self.session = requests.Session()

    def request(self, method, path, key="default", **kwargs):
        headers = kwargs.pop("headers", {})
        key = self.key if key == "default" else key
        if key is not None:
            headers.setdefault("X-API-KEY", key)
        return self.session.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def track(self, body, **kwargs):
        return self.post("/track", json=body, **kwargs)

    def fold_all(self):
        """Fold every event received so far into the rollups (reads fold only one chunk each)."""
        while not self.post("/admin/fold", key=KEYS["AUTH_KEY"], params={"chunks": "3"}).json()["complete"]:
            pass

    def read(self, path, **params):
        response = self.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()


# The shared database holds every test's apps (thousands by the end of a session), and fuzzing tests send
# hundreds of event names to one app: its worker runs with the caps raised to their ceiling (api/caps.py).
# Workers of their own (own_api, tests/test_caps.py) keep the defaults.
RAISED_CAPS = {"max_apps": 100_000, "max_event_names": 100_000}


def raise_caps(url):
    response = requests.put(url + "/settings/limits", json=RAISED_CAPS, headers={"X-API-KEY": KEYS["AUTH_KEY"]},
                            timeout=30)
    assert response.status_code == 200, response.text


@pytest.fixture(scope="session")
def worker(tmp_path_factory):
    server = Worker(tmp_path_factory.mktemp("d1"), variables=KEYS)
    server.start()
    raise_caps(server.url)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def api(worker):
    return Api(worker.url)


@contextmanager
def own_api(tmp_path_factory, name, default_caps=False, variables=None):
    """An Api on a worker of its own, for tests whose cost bounds grow with the apps of the shared database (reads
    without app_id go app by app, and other tests keep adding apps), or that need `variables` of their own. Its
    caps are raised as the shared worker's are, unless `default_caps`."""
    server = Worker(tmp_path_factory.mktemp(name), variables={**KEYS, **(variables or {})})
    try:
        server.start()
        if not default_caps:
            raise_caps(server.url)
        yield Api(server.url)
    finally:
        server.stop()


@pytest.fixture
def app_id():
    return f"test-{uuid.uuid4().hex[:12]}"


def event(app_id, name="App Opened", session_id="s1", **fields):
    return {"event": name, "app_id": app_id, "session_id": session_id, **fields}
