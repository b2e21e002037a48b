"""The worker's read API over HTTP: typed errors, and briefly cached reads.

The key travels only in the X-API-KEY header; it is never part of an error message.
"""
import requests
import streamlit as st

CACHE_SECONDS = 60
TIMEOUT_SECONDS = 20


class DashboardError(Exception):
    """Anything that stops a screen from showing data."""


class WorkerUnreachable(DashboardError):
    def __init__(self, url, reason):
        super().__init__(f"cannot reach the worker at {url}")
        self.url = url
        self.reason = reason


class WrongKey(DashboardError):
    def __init__(self, url):
        super().__init__(f"the worker at {url} rejected the API key")
        self.url = url


class ApiError(DashboardError):
    def __init__(self, status, message, details=None):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.details = details or []


class Client:
    def __init__(self, url, key):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"X-API-KEY": key, "Accept": "application/json"})

    def __repr__(self):
        return f"Client({self.url!r})"

    def get(self, path, params=None):
        try:
            response = self.session.get(self.url + path, params=params or {}, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as error:
            raise WorkerUnreachable(self.url, type(error).__name__) from None
        if response.status_code == 401:
            raise WrongKey(self.url)
        try:
            body = response.json()
        except ValueError:
            raise ApiError(response.status_code, f"the worker answered HTTP {response.status_code} without JSON; "
                                                 "is this URL an Oddlytics worker?") from None
        if response.status_code >= 400 or not isinstance(body, dict):
            message = body.get("error") if isinstance(body, dict) else None
            details = body.get("details") if isinstance(body, dict) else None
            raise ApiError(response.status_code, message or f"HTTP {response.status_code}", details)
        return body


@st.cache_resource(show_spinner=False)
def client_for(url, key):
    return Client(url, key)


# The key is part of the cache key on purpose: another key must not see these answers.
# Errors are raised, and st.cache_data never caches a raised error.
@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def cached_get(url, key, path, params):
    return client_for(url, key).get(path, dict(params))


def clear_cache():
    cached_get.clear()


class Reader:
    """Every read a screen makes, for one worker, app and range."""

    def __init__(self, settings, scope):
        self.settings = settings
        self.scope = dict(scope)  # range params plus app_id, already as strings

    def get(self, path, **params):
        merged = {**self.scope, **{k: str(v) for k, v in params.items() if v not in (None, "")}}
        return cached_get(self.settings.url, self.settings.key, path, tuple(sorted(merged.items())))

    def all_apps(self):
        return cached_get(self.settings.url, self.settings.key, "/apps", ())["apps"]

    def apps(self):
        return self.get("/apps")["apps"]

    def overview(self):
        return self.get("/stats/overview")

    def timeline(self, interval, app_id=None, event=None):
        return self.get("/stats/timeline", interval=interval, app_id=app_id, event=event)["buckets"]

    def top_events(self, limit=20):
        return self.get("/stats/events", limit=limit)["events"]

    def heatmap(self):
        return self.get("/stats/heatmap")["cells"]

    def events(self, limit=50, cursor=None, **filters):
        return self.get("/events", limit=limit, cursor=cursor, **filters)

    def users(self, limit=50, cursor=None, search=None):
        return self.get("/users", limit=limit, cursor=cursor, search=search)
