"""One POST /track of a batch (or POST /identify of a link), and what the client should do about the answer.
Standard library only."""
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import FrozenSet, Optional
from urllib.parse import urljoin, urlsplit, urlunsplit

from .backoff import parse_retry_after

USER_AGENT = "oddlytics-python/0.2"
TRACK_PATH = "/track"
LINK_PATH = "/identify"
# The worker's request body limit; batches are cut to fit it before they are sent.
MAX_BODY_BYTES = 1024 * 1024
# The worker's answers are a few hundred bytes; a misbehaving proxy must not make the app buffer megabytes.
MAX_RESPONSE_BYTES = 64 * 1024
_BATCH_ENVELOPE_BYTES = len('{"events":[]}')


@dataclass(frozen=True)
class Delivered:
    stored: int
    duplicates: int


@dataclass(frozen=True)
class Retry:
    """Nothing is known to be stored; send the same events (same event_ids) again later.
    `server_error`: the worker answered 5xx, which may be this batch's fault (see the client's attempt cap)."""
    reason: str
    retry_after: Optional[float] = None
    server_error: bool = False


@dataclass(frozen=True)
class Rejected:
    """The worker named these events (by index) as invalid and stored nothing: drop them, send the rest again."""
    reason: str
    indices: FrozenSet[int]


@dataclass(frozen=True)
class Split:
    """The worker refused the batch as a whole (413, or a 400 naming no event): send it again in halves;
    a single event refused this way is dropped."""
    reason: str


@dataclass(frozen=True)
class Refused:
    """A configuration problem (wrong key, redirect, wrong URL) that no event caused: keep every event and
    retry with backoff. `https_url`: the same worker over https, which the client may switch to."""
    reason: str
    https_url: Optional[str] = None


def track_url(base):
    return base.rstrip("/") + TRACK_PATH


def encoded_size(event):
    """Bytes this event takes in a request body, exactly as `post_batch` encodes it."""
    return len(_encode(event))


def fit_body(sizes, limit=MAX_BODY_BYTES):
    """How many of the leading events (their `encoded_size`s) fit in one request body. At least one:
    an event too big on its own is still sent once, alone, and the worker's refusal decides."""
    total = _BATCH_ENVELOPE_BYTES
    for count, size in enumerate(sizes):
        total += size + (1 if count else 0)
        if total > limit and count:
            return count
    return len(sizes)


def https_upgrade(request_url, location, route=TRACK_PATH):
    """The base URL to use if `location` only moves this http request (to `route`) to https on the same host and
    path."""
    if not location:
        return None
    old, new = urlsplit(request_url), urlsplit(urljoin(request_url, location))
    same_place = (old.hostname, old.path, old.query) == (new.hostname, new.path, new.query)
    if old.scheme != "http" or new.scheme != "https" or not same_place or new.username or new.password:
        return None
    return urlunsplit((new.scheme, new.netloc, new.path[:-len(route)], "", ""))


def _error_body(raw):
    try:
        body = json.loads(raw)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _count(value):
    # The batch is stored whatever the body says; odd figures must not turn that into a retry.
    return value if isinstance(value, int) else 0


def _named_indices(details):
    if not isinstance(details, list):
        return None
    named = {d.get("index") for d in details if isinstance(d, dict)}
    if named and all(isinstance(i, int) and not isinstance(i, bool) for i in named):
        return frozenset(named)
    return None


def outcome_for(status, body_bytes, retry_after_header=None, request_url=None, location=None, route=TRACK_PATH):
    """An HTTP answer -> Delivered, Retry, Rejected, Split or Refused. Pure, so each case is unit-tested."""
    body = _error_body(body_bytes)
    if 200 <= status < 300:
        return Delivered(_count(body.get("count")), _count(body.get("duplicates")))
    message = str(body.get("error") or f"HTTP {status}")[:500]
    reason = f"HTTP {status}: {message}"
    if 300 <= status < 400:
        return Refused(f"HTTP {status}: the worker URL redirects to {str(location)[:200]!r}; "
                       "set the client's url to the final address", https_upgrade(request_url or "", location, route))
    if status == 429 or status >= 500 or status == 408:
        return Retry(reason, parse_retry_after(retry_after_header), server_error=status >= 500)
    if status == 413:
        return Split(reason)
    if status == 400:
        indices = _named_indices(body.get("details"))
        if indices is None:
            return Split(reason)
        problems = "; ".join(f"event {d['index']} {d.get('field')} {d.get('message')}" for d in body["details"][:5])
        return Rejected(f"{reason} ({problems})", indices)
    # 401/403 (a rotated or read-only key), 404/405 (a wrong URL), 415 (a proxy): no event is at fault.
    return Refused(reason)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would turn a redirected POST into a GET and send every header, the key included, to any host."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _encode(value):
    return json.dumps(value, separators=(",", ":"))


def post_batch(url, key, events, timeout):
    """POST the events as one batch. Never raises: network trouble is a Retry."""
    body = ('{"events":[' + ",".join(_encode(event) for event in events) + "]}").encode("ascii")
    request = urllib.request.Request(
        track_url(url), data=body, method="POST",
        headers={"Content-Type": "application/json", "X-API-KEY": key, "User-Agent": USER_AGENT},
    )
    try:
        return _exchange(request, timeout)
    except Exception as error:  # noqa: BLE001 - refused, reset, timed out, half a response: all "try again"
        return Retry(f"{type(error).__name__}: {error}"[:500])


def link_outcome_for(status, body_bytes, retry_after_header=None, request_url=None, location=None):
    """The answer to a link (POST /identify). As for a batch, except that a refusal the link itself caused (a 400,
    a 409: the anonymous id is linked to another user already; a 404 or 405: a worker older than links) drops it:
    Rejected naming it (index 0). A wrong key or a redirect keeps it, as it keeps events."""
    outcome = outcome_for(status, body_bytes, retry_after_header, request_url, location, LINK_PATH)
    if isinstance(outcome, Split) or (isinstance(outcome, Refused) and 400 <= status < 500
                                      and status not in (401, 403)):
        return Rejected(outcome.reason, frozenset({0}))
    if isinstance(outcome, Rejected):
        return Rejected(outcome.reason, frozenset({0}))
    return outcome


def post_link(url, key, link, timeout):
    """POST one link {app_id, anonymous_id, user_id}. Never raises: network trouble is a Retry."""
    request = urllib.request.Request(
        url.rstrip("/") + LINK_PATH, data=_encode(link).encode("ascii"), method="POST",
        headers={"Content-Type": "application/json", "X-API-KEY": key, "User-Agent": USER_AGENT},
    )
    try:
        return _exchange(request, timeout, link_outcome_for)
    except Exception as error:  # noqa: BLE001
        return Retry(f"{type(error).__name__}: {error}"[:500])


def _exchange(request, timeout, judge=outcome_for):
    try:
        with _opener.open(request, timeout=timeout) as response:
            return judge(response.status, response.read(MAX_RESPONSE_BYTES))
    except urllib.error.HTTPError as error:
        try:
            return judge(error.code, error.read(MAX_RESPONSE_BYTES), error.headers.get("Retry-After"),
                         request.full_url, error.headers.get("Location"))
        finally:
            error.close()
