"""The worker's read API over HTTP: typed errors, and briefly cached reads.

The key travels only in the X-API-KEY header, only to the configured URL (redirects are refused, since
`requests` would re-send the header to wherever they point); it is never part of an error message.
"""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
import streamlit as st
from requests.adapters import HTTPAdapter

from dashboard.shapes import https_icon

CACHE_SECONDS = 60
APP_LIST_SECONDS = 10  # the sidebar's app picker: a new app shows up within seconds
TIMEOUT_SECONDS = 20
CACHE_ENTRIES = 2000
EPOCH_KEY = "cache_epoch"
# A screen's independent reads start together (Reader.prefetch): its load takes its slowest read, not their sum.
PREFETCH_THREADS = 8


class DashboardError(Exception):
    """Anything that stops a screen from showing data."""


class WorkerUnreachable(DashboardError):
    REASONS = {
        requests.exceptions.SSLError: "its TLS certificate was not accepted",
        requests.exceptions.Timeout: f"it did not answer within {TIMEOUT_SECONDS} seconds",
        requests.exceptions.ConnectionError: "nothing answered at that address",
        requests.exceptions.InvalidURL: "the URL is not valid",
        requests.exceptions.MissingSchema: "the URL needs to start with https:// or http://",
        requests.exceptions.InvalidSchema: "the URL needs to start with https:// or http://",
    }

    def __init__(self, url, error):
        super().__init__(f"cannot reach the worker at {url}")
        self.url = url
        self.reason = next((text for kind, text in self.REASONS.items() if isinstance(error, kind)),
                           "the request failed before the worker answered")


class WrongKey(DashboardError):
    def __init__(self, url):
        super().__init__(f"the worker at {url} rejected the API key")
        self.url = url


class Redirected(DashboardError):
    """The configured URL redirects: a configuration error, and the key must not follow it."""

    def __init__(self, url, status, target):
        super().__init__(f"the worker URL {url} redirects ({status}) to {target}")
        self.url = url
        self.status = status
        self.target = target


class ApiError(DashboardError):
    def __init__(self, status, message, details=None):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.details = details or []


class MissingRoute(ApiError):
    """The worker has no such route: it is older than this dashboard (the router's 404 says "no route")."""

    def __init__(self, path):
        super().__init__(404, f"no route for {path}")
        self.path = path


class Refused(ApiError):
    """A change the worker refused (a key that may only read: 403), or bad input."""


class Client:
    def __init__(self, url, key):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"X-API-KEY": key, "Accept": "application/json"})
        # Prefetched reads run at once: a connection each, kept for the next screen (urllib3 keeps 10 by default
        # and drops the rest after use). Nothing else in the session changes per request (no cookies are kept
        # by the worker's answers), so threads can share it.
        adapter = HTTPAdapter(pool_maxsize=PREFETCH_THREADS + 2)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def __repr__(self):
        return f"Client({self.url!r})"

    def get(self, path, params=None):
        return self.send("GET", path, params)

    def send(self, method, path, params=None, body=None):
        try:
            response = self.session.request(method, self.url + path, params=params or {}, json=body,
                                            timeout=TIMEOUT_SECONDS, allow_redirects=False)
        except requests.RequestException as error:
            raise WorkerUnreachable(self.url, error) from None
        if response.is_redirect or 300 <= response.status_code < 400:
            raise Redirected(self.url, response.status_code, response.headers.get("Location") or "(no Location)")
        if response.status_code == 401:
            raise WrongKey(self.url)
        try:
            body = response.json()
        except ValueError:
            raise ApiError(response.status_code, f"the answer (HTTP {response.status_code}) is not JSON; "
                                                 "is this URL an Oddlytics worker?") from None
        if response.status_code >= 400 or not isinstance(body, dict):
            message = body.get("error") if isinstance(body, dict) else None
            details = body.get("details") if isinstance(body, dict) else None
            if response.status_code == 404 and str(message).startswith("no route for "):
                raise MissingRoute(path)
            if method != "GET" and 400 <= response.status_code < 500:
                raise Refused(response.status_code, message or f"HTTP {response.status_code}", details)
            raise ApiError(response.status_code, message or "the answer is not what the dashboard expects; "
                                                            "is this URL an Oddlytics worker?", details)
        return body


@st.cache_resource(show_spinner=False)
def client_for(url, key):
    return Client(url, key)


# Reads started ahead of a screen (Reader.prefetch), by cached_get's arguments. Worker threads only send HTTP
# requests (Client.get); every Streamlit call (the cache above all) stays on the script's thread: the first
# cached_get of a started read takes its answer (or its error) and the cache keeps it as if it had read it.
_started = {}
_started_lock = threading.Lock()
_probing = threading.local()
_pool = ThreadPoolExecutor(max_workers=PREFETCH_THREADS, thread_name_prefix="oddlytics-prefetch")


class NotCached(Exception):
    """A probe (Reader.prefetch asking whether a read is cached) found nothing: raised, so nothing is cached."""


# The key is part of the cache key on purpose: another key must not see these answers. The epoch is
# per browser session, so reloading the page (a new session) or pressing Refresh reads fresh figures.
# Errors are raised, and st.cache_data never caches a raised error.
@st.cache_data(ttl=CACHE_SECONDS, max_entries=CACHE_ENTRIES, show_spinner=False)
def cached_get(url, key, path, params, epoch):
    with _started_lock:
        started = _started.pop((url, key, path, params, epoch), None)
    if started is not None:
        return started.result()
    if getattr(_probing, "active", False):
        raise NotCached
    return client_for(url, key).get(path, list(params))  # a list keeps repeated names (step=)


def is_cached(url, key, path, params, epoch):
    """Whether cached_get holds this read: the cache is asked, and on a miss the probe stops before reading."""
    _probing.active = True
    try:
        cached_get(url, key, path, params, epoch)
    except NotCached:
        return False
    finally:
        _probing.active = False
    return True


class _Planned(Exception):
    """Reader.prefetch noted a read instead of making it."""


# /apps lists every app ever seen whatever the range; the shortest range keeps the D1 rows it reads (its
# per-range figures come from hourly rollups) small, since this is read every few seconds.
@st.cache_data(ttl=APP_LIST_SECONDS, max_entries=CACHE_ENTRIES, show_spinner=False)
def cached_app_list(url, key, epoch, debug=False):
    return client_for(url, key).get("/apps", {"days": "1", **({"debug": "true"} if debug else {})})["apps"]


# DELETE /admin/events/0 needs AUTH_KEY (403 with any other key) and deletes nothing: the router checks the
# key before the handler, which refuses id 0 (400). The worker has no admin-only read to ask instead.
ADMIN_PROBE = "/admin/events/0"


@st.cache_data(ttl=CACHE_SECONDS, max_entries=CACHE_ENTRIES, show_spinner=False)
def cached_is_admin(url, key, epoch):
    try:
        client_for(url, key).send("DELETE", ADMIN_PROBE)
    except Refused as refused:
        return refused.status == 400
    except ApiError:
        return False
    return False


def session_epoch():
    return st.session_state.setdefault(EPOCH_KEY, time.time_ns())


def refresh():
    """Fresh reads for this browser session only; other viewers keep their cache."""
    st.session_state[EPOCH_KEY] = time.time_ns()


def clear_cache():
    cached_get.clear()
    cached_app_list.clear()
    cached_is_admin.clear()


class Reader:
    """Every read a screen makes, for one worker, app and range."""

    def __init__(self, settings, scope):
        self.settings = settings
        self.scope = dict(scope)  # range params plus app_id, already as strings
        self.unfolded_events = 0  # the most any read said were stored but not yet in the statistics
        self.fold_every_minutes = None  # how often the worker counts new events in (FOLD_EVERY_MINUTES), if said
        self.estimated = set()  # figures some read declared approximate (other than "not folded yet": "all")
        self.declared_in_place = set()  # of those, the ones the screen marked at the figure itself
        self._planning = None  # while Reader.prefetch notes reads: the list they go to
        self._started = set()  # cache keys of the reads this reader started ahead

    def prefetch(self, *reads):
        """Start these reads now, all at once, on worker threads. Each of `reads` is a callable making one read
        through this reader (`lambda: reader.timeline("day")`), called here only to note its path and parameters;
        the screen then makes the same calls as before, and each takes its answer when it arrives. Cached reads
        are not started again. A read that fails fails where the screen makes it, as before."""
        planned = []
        self._planning = planned
        try:
            for read in reads:
                try:
                    read()
                except _Planned:
                    pass
        finally:
            self._planning = None
        url, key, epoch = self.settings.url, self.settings.key, session_epoch()
        client = client_for(url, key)  # on the script's thread: a Streamlit cache
        for path, params in planned:
            cache_key = (url, key, path, params, epoch)
            with _started_lock:
                if cache_key in _started:
                    continue
            if is_cached(*cache_key):
                continue
            with _started_lock:
                _started[cache_key] = _pool.submit(client.get, path, list(params))
            self._started.add(cache_key)

    def forget_prefetched(self):
        """Drop the reads started ahead that the screen did not take (e.g. it stopped at an empty range)."""
        with _started_lock:
            for cache_key in self._started:
                _started.pop(cache_key, None)
        self._started.clear()

    def declare_in_place(self, figure):
        """The screen marked `figure` as estimated where it shows it: no page-wide notice for it."""
        self.declared_in_place.add(figure)

    @property
    def estimated_elsewhere(self):
        """Estimated figures the screen did not mark itself: the page-wide notice names these."""
        return self.estimated - self.declared_in_place

    def get(self, path, span=None, **params):
        """A read of this app and range; `span` (range params) replaces the range (a previous period, a year)."""
        kept = ("app_id", "debug")  # a span replaces the range, never the app or the builds read
        scope = self.scope if span is None else {**{k: v for k, v in self.scope.items() if k in kept}, **span}
        merged = {**scope, **{k: str(v) for k, v in params.items() if v not in (None, "")}}
        return self.read(path, tuple(sorted(merged.items())))

    def all_apps(self, wanted=None):
        """Every app ever seen (reading debug builds: every app with debug events, then the others). When
        `wanted` (e.g. from a link) is not among them, the list may predate it: read it again instead of
        waiting for the cache to expire."""
        debug = self.scope.get("debug") == "true"

        def listed():
            apps = cached_app_list(self.settings.url, self.settings.key, session_epoch(), debug)
            if not debug:
                return apps
            release = cached_app_list(self.settings.url, self.settings.key, session_epoch(), False)
            return apps + [a for a in release if a["app_id"] not in {d["app_id"] for d in apps}]

        apps = listed()
        if wanted and wanted not in {a["app_id"] for a in apps}:
            refresh()
            apps = listed()
        return apps

    def apps(self):
        return self.get("/apps")["apps"]

    def app_names(self):
        """{app_id: (display name or None, https icon or None)} from the sidebar's app list."""
        return {a["app_id"]: (a.get("display_name"), https_icon(a.get("icon_url"))) for a in self.all_apps()}

    def overview(self):
        return self.get("/stats/overview")

    def timeline(self, interval, app_id=None, event=None, span=None):
        return self.get("/stats/timeline", span=span, interval=interval, app_id=app_id, event=event)["buckets"]

    def top_events(self, limit=20, app_id=None):
        return self.get("/stats/events", limit=limit, app_id=app_id)["events"]

    def active(self, interval="day", span=None):
        return self.get("/stats/active", span=span, interval=interval)

    def calendar(self, span):
        """Active and new users per UTC day of `span` (days without users left out)."""
        return self.get("/stats/calendar", span=span)

    def breakdown(self, by, event=None, limit=None):
        return self.get("/stats/breakdown", by=by, event=event, limit=limit)

    def properties(self, event=None):
        return self.get("/stats/properties", event=event)["properties"]

    def groups(self, app_id=None):
        return self.get("/stats/groups", app_id=app_id)["groups"]

    def sessions(self):
        return self.get("/stats/sessions")

    def funnel(self, steps, within, by, window="first"):
        # Repeated step= parameters: a comma inside an event name would split a steps=A,B list. `window` is
        # sent only when it is not the default, so an older worker (which knows only "first") still answers.
        extra = {"window": window} if window != "first" else {}
        params = tuple(sorted({**self.scope, "within": within, "by": by, **extra}.items())) + tuple(
            ("step", s) for s in steps)
        return self.read("/stats/funnel", params)

    def retention(self, cohort, periods, event=None):
        # Weeks start on Sunday, as in the heatmap and the calendar (Streamlit's date picker has no other start).
        return self.get("/stats/retention", cohort=cohort, periods=periods, event=event,
                        week_start="sunday" if cohort == "week" else None)

    def user(self, user_id):
        """One user's all-time figures. The query form takes every id ("." and ".." cannot travel in a path)."""
        return self.read("/user", (("user_id", user_id), *((("debug", "true"),) if self.scope.get("debug") else ())))

    def aliases(self):
        return self.read("/settings/aliases", ())["aliases"]

    def aliases_for_app(self, app_id=None):
        """{event name: alias} of one app (the picked one by default); none with all apps (each app names its
        events) or from a worker without aliases."""
        app_id = app_id or self.scope.get("app_id")
        if app_id is None:
            return {}
        try:
            aliases = self.read("/settings/aliases", (("app_id", app_id),))["aliases"]
        except MissingRoute:
            return {}
        return {a["event_name"]: a["alias"] for a in aliases if a["app_id"] == app_id}

    def alias_map(self):
        """{(app_id, event name): alias} over every app (raw events of several apps: the Events table, a user's
        page); empty from a worker without aliases."""
        try:
            aliases = self.aliases()
        except MissingRoute:
            return {}
        return {(a["app_id"], a["event_name"]): a["alias"] for a in aliases}

    def app_key(self, app_id):
        """The app's App-Key (for the Aptabase SDKs), or None while it has none."""
        apps = self.read("/settings/apps", (("app_id", app_id),))["apps"]
        return next((a.get("app_key") for a in apps if a["app_id"] == app_id), None)

    def read(self, path, params):
        if self._planning is not None:
            self._planning.append((path, params))
            raise _Planned
        body = cached_get(self.settings.url, self.settings.key, path, params, session_epoch())
        self.unfolded_events = max(self.unfolded_events, body.get("unfolded_events") or 0)
        if isinstance(body.get("fold_every_minutes"), int):
            self.fold_every_minutes = body["fold_every_minutes"]
        if body.get("approximate"):
            self.estimated.update(str(f) for f in body.get("approximate_figures") or [] if f != "all")
        return body

    def is_admin(self):
        """Whether the key is AUTH_KEY: admin controls show only then (the worker would refuse them anyway)."""
        return cached_is_admin(self.settings.url, self.settings.key, session_epoch())

    def change(self, method, path, params=None, body=None):
        """An admin change; afterwards this session reads fresh figures."""
        answer = client_for(self.settings.url, self.settings.key).send(method, path, params, body)
        refresh()
        return answer

    def heatmap(self):
        return self.get("/stats/heatmap")["cells"]

    def events(self, limit=50, cursor=None, **filters):
        return self.get("/events", limit=limit, cursor=cursor, **filters)

    def users(self, limit=50, cursor=None, search=None):
        return self.get("/users", limit=limit, cursor=cursor, search=search)

    def suggest(self, field, prefix, limit=10):
        """Session or user ids starting with `prefix` (read through an index by the worker)."""
        return self.get("/suggest", field=field, prefix=prefix, limit=limit)["values"]
