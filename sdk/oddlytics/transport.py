"""One POST /track of a batch, and what the client should do about the answer. Standard library only."""
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import FrozenSet, Optional

from .backoff import parse_retry_after

USER_AGENT = "oddlytics-python/0.1"


@dataclass(frozen=True)
class Delivered:
    stored: int
    duplicates: int


@dataclass(frozen=True)
class Retry:
    """Nothing is known to be stored; send the same events (same event_ids) again later."""
    reason: str
    retry_after: Optional[float] = None


@dataclass(frozen=True)
class Rejected:
    """The worker refused the batch and nothing was stored. `indices`: the events it named as invalid
    (the rest are fine and go again); None when it named none, so the whole batch is dropped."""
    reason: str
    indices: Optional[FrozenSet[int]] = None


def _error_body(raw):
    try:
        body = json.loads(raw)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _count(value):
    # The batch is stored whatever the body says; odd figures must not turn that into a retry.
    return value if isinstance(value, int) else 0


def outcome_for(status, body_bytes, retry_after_header=None):
    """An HTTP answer -> Delivered, Retry or Rejected. Pure, so each case is unit-tested."""
    if 200 <= status < 300:
        body = _error_body(body_bytes)
        return Delivered(_count(body.get("count")), _count(body.get("duplicates")))
    body = _error_body(body_bytes)
    message = str(body.get("error") or f"HTTP {status}")[:500]
    if status == 429 or status >= 500 or status == 408:
        return Retry(f"HTTP {status}: {message}", parse_retry_after(retry_after_header))
    indices = None
    details = body.get("details")
    if status == 400 and isinstance(details, list):
        named = {d.get("index") for d in details if isinstance(d, dict)}
        if named and all(isinstance(i, int) for i in named):
            indices = frozenset(named)
            problems = "; ".join(f"event {d['index']} {d.get('field')} {d.get('message')}" for d in details[:5])
            message = f"{message} ({problems})"
    return Rejected(f"HTTP {status}: {message}", indices)


def post_batch(url, key, events, timeout):
    """POST the events as one batch. Never raises: network trouble is a Retry."""
    body = json.dumps({"events": events}, separators=(",", ":")).encode("utf-8")
    request = urllib.request.Request(
        url.rstrip("/") + "/track", data=body, method="POST",
        headers={"Content-Type": "application/json", "X-API-KEY": key, "User-Agent": USER_AGENT},
    )
    try:
        return _exchange(request, timeout)
    except Exception as error:  # noqa: BLE001 - refused, reset, timed out, half a response: all "try again"
        return Retry(f"{type(error).__name__}: {error}"[:500])


def _exchange(request, timeout):
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return outcome_for(response.status, response.read())
    except urllib.error.HTTPError as error:
        try:
            return outcome_for(error.code, error.read(), error.headers.get("Retry-After"))
        finally:
            error.close()
