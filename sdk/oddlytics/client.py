"""The client apps use: `track` queues an event and returns; a background thread sends batches."""
import atexit
import json
import logging
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from .backoff import Backoff
from .buffer import MemoryBuffer, SqliteBuffer
from .session import DEFAULT_IDLE_TIMEOUT, Session
from .transport import Delivered, Rejected, Retry, post_batch

logger = logging.getLogger("oddlytics")

MAX_BATCH = 100  # the worker's limit per request


@dataclass
class Stats:
    tracked: int = 0          # accepted by track() into the queue
    stored: int = 0           # stored by the worker
    duplicates: int = 0       # already stored (a retry whose first answer was lost)
    rejected: int = 0         # refused by the worker (4xx) and dropped
    dropped_full: int = 0     # refused by track() because the queue was full
    retries: int = 0          # failed attempts that were retried


def _now_iso():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Client:
    """Send events to an Oddlytics worker. Thread-safe; `track` never blocks on the network and never raises.

    Events are queued (in memory, or in the SQLite file `persist_path` so they survive a restart),
    sent in batches of up to `batch_size` at least every `flush_interval` seconds, and retried with
    backoff on network errors, 5xx and 429 until the worker answers. Each event carries an
    `event_id` fixed when it is tracked, so a retry after a lost answer is stored once.
    """

    def __init__(self, url, key, app_id, *, platform=None, app_version=None, batch_size=25,
                 flush_interval=5.0, max_queue=10_000, persist_path=None,
                 session_timeout=DEFAULT_IDLE_TIMEOUT, request_timeout=10.0, backoff=None,
                 close_timeout=10.0, send=post_batch):
        self.url = url
        self.key = key
        self.app_id = app_id
        self.platform = platform
        self.app_version = app_version
        self.batch_size = max(1, min(int(batch_size), MAX_BATCH))
        self.flush_interval = flush_interval
        self.request_timeout = request_timeout
        self.close_timeout = close_timeout
        self._backoff = backoff or Backoff()
        self._send = send
        self._session = Session(session_timeout)
        self._stats = Stats()
        self._lock = threading.Condition()
        self._buffer = self._open_buffer(persist_path, max_queue)
        self._disabled = self._configuration_problem()
        self._closed = False
        self._left_behind = 0  # events still queued when close() finished
        self._stopping = False
        self._stop_deadline = None
        self._drain_until = None  # send everything up to this queue key now (flush / interval)
        self._next_interval = time.monotonic() + flush_interval
        self._retry_at = 0.0
        self._attempt = 0
        self._warned_full = False
        if self._disabled:
            logger.error("oddlytics: client disabled, events will be dropped: %s", self._disabled)
        self._thread = threading.Thread(target=self._run, name="oddlytics-sender", daemon=True)
        self._thread.start()
        atexit.register(self._close_at_exit)

    # --- the app's side ---------------------------------------------------------------------

    def track(self, event, properties=None, user_id=None):
        """Queue one event. Returns its event_id, or None if it was dropped (the reason is logged)."""
        try:
            if self._disabled or self._closed:
                logger.warning("oddlytics: event %r dropped: the client is %s", event, "closed" if self._closed else "disabled")
                return None
            record = self._record(event, properties, user_id)
            with self._lock:
                if not self._buffer.add(record):
                    self._stats.dropped_full += 1
                    if not self._warned_full:
                        self._warned_full = True
                        logger.warning("oddlytics: queue full (%d events): dropping new events until it drains",
                                       self._buffer.capacity)
                    return None
                self._stats.tracked += 1
                queued = len(self._buffer)
                if queued == 1:
                    # The first event after a quiet spell waits at most one interval, not zero.
                    self._next_interval = max(self._next_interval, time.monotonic() + self.flush_interval)
                if queued == 1 or queued >= self.batch_size:
                    self._lock.notify_all()
            return record["event_id"]
        except Exception as error:  # noqa: BLE001 - analytics must never take the app down
            logger.error("oddlytics: event %r dropped: %s: %s", event, type(error).__name__, error)
            return None

    def flush(self, timeout=30.0):
        """Send everything queued so far; wait until each event is stored or dropped. False on timeout."""
        deadline = time.monotonic() + timeout if timeout is not None else None
        with self._lock:
            if self._closed:
                return self._left_behind == 0
            target = self._buffer.last_key()
            if target is None:
                return True
            self._drain_until = max(target, self._drain_until if self._drain_until is not None else target)
            self._lock.notify_all()
            while True:
                first = self._buffer.first_key()
                if first is None or first > target:
                    return True
                remaining = None if deadline is None else deadline - time.monotonic()
                if (remaining is not None and remaining <= 0) or not self._thread.is_alive():
                    return False
                self._lock.wait(remaining)

    def close(self, timeout=None):
        """Send what is queued (for up to `timeout` seconds) and stop. True if nothing was left behind."""
        timeout = self.close_timeout if timeout is None else timeout
        with self._lock:
            if self._closed:
                return self._left_behind == 0
            self._closed = True
            self._stopping = True
            self._stop_deadline = time.monotonic() + timeout
            self._lock.notify_all()
        atexit.unregister(self._close_at_exit)
        self._thread.join(timeout + 1)
        if self._thread.is_alive():
            # Still inside an HTTP request: leave the queue to it rather than close it underneath.
            logger.warning("oddlytics: close() timed out with a request in flight")
            self._left_behind = len(self._buffer)
            return False
        left = self._left_behind = len(self._buffer)
        if left and self._buffer.persistent:
            logger.warning("oddlytics: %d events not sent yet; kept in %s for the next start", left, self._buffer.path)
        elif left:
            logger.warning("oddlytics: %d events not sent and lost (no persist_path)", left)
        self._buffer.close()
        return left == 0

    @property
    def pending(self):
        """Events queued and not yet stored or dropped."""
        with self._lock:
            return len(self._buffer)

    @property
    def stats(self):
        with self._lock:
            return asdict(self._stats)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- building events ----------------------------------------------------------------------

    def _record(self, event, properties, user_id):
        if not isinstance(event, str):
            raise TypeError("the event name must be a string")
        record = {
            "event_id": str(uuid.uuid4()),
            "event": event,
            "app_id": self.app_id,
            "session_id": self._session.current(),
            "timestamp": _now_iso(),
        }
        if properties is not None:
            # A copy, made now: later changes by the app must not change what is sent. Values JSON
            # cannot hold become strings; NaN/Infinity are refused (the worker's JSON cannot hold them).
            copied = json.loads(json.dumps(properties, default=str, allow_nan=False))
            if not isinstance(copied, dict):
                raise TypeError("properties must be a dict")
            record["properties"] = copied
        if user_id is not None:
            record["user_id"] = str(user_id)
        if self.platform:
            record["platform"] = self.platform
        if self.app_version:
            record["app_version"] = self.app_version
        return record

    def _configuration_problem(self):
        missing = [name for name in ("url", "key", "app_id") if not isinstance(getattr(self, name), str) or not getattr(self, name)]
        return f"missing {', '.join(missing)}" if missing else None

    @staticmethod
    def _open_buffer(path, capacity):
        if path is None:
            return MemoryBuffer(capacity)
        try:
            return SqliteBuffer(path, capacity)
        except Exception as error:  # noqa: BLE001 - an unusable file must not stop the app starting
            logger.error("oddlytics: cannot use %s (%s); queueing in memory only", path, error)
            return MemoryBuffer(capacity)

    # --- the sender thread --------------------------------------------------------------------

    def _run(self):
        while True:
            try:
                with self._lock:
                    batch = self._wait_for_batch()
                if batch is None:
                    return
                outcome = self._send(self.url, self.key, [event for _, event in batch], self.request_timeout)
                with self._lock:
                    self._settle(batch, outcome)
            except Exception:  # noqa: BLE001 - the thread must survive anything and keep the queue
                logger.exception("oddlytics: unexpected error in the sender; retrying")
                with self._lock:
                    self._retry_later(Retry("unexpected error"))

    def _wait_for_batch(self):
        """With the lock held: the next batch to send, or None when it is time to stop."""
        while True:
            now = time.monotonic()
            queued = len(self._buffer)
            if self._stopping and (not queued or now >= self._stop_deadline):
                return None
            wake = [self._stop_deadline] if self._stopping else []
            if queued:
                if not self._stopping and self._drain_until is None and now >= self._next_interval:
                    self._drain_until = self._buffer.last_key()
                urgent = self._stopping or queued >= self.batch_size or self._draining()
                if urgent and now >= self._retry_at:
                    self._next_interval = now + self.flush_interval
                    return self._buffer.head(self.batch_size)
                wake.append(self._retry_at if urgent else max(self._retry_at, self._next_interval))
            self._lock.wait(max(0.0, min(wake) - now) if wake else None)

    def _draining(self):
        if self._drain_until is None:
            return False
        first = self._buffer.first_key()
        if first is None or first > self._drain_until:
            self._drain_until = None
            return False
        return True

    def _settle(self, batch, outcome):
        """With the lock held: apply the worker's answer to the queue."""
        if isinstance(outcome, Delivered):
            self._buffer.remove(key for key, _ in batch)
            self._stats.stored += outcome.stored
            self._stats.duplicates += outcome.duplicates
            if self._attempt:
                logger.info("oddlytics: delivered after %d failed attempts", self._attempt)
            self._attempt = 0
            self._retry_at = 0.0
        elif isinstance(outcome, Rejected):
            named = [batch[i][0] for i in sorted(outcome.indices or ()) if 0 <= i < len(batch)]
            dropped = named or [key for key, _ in batch]
            self._buffer.remove(dropped)
            self._stats.rejected += len(dropped)
            logger.error("oddlytics: worker refused %d of %d events, dropped them: %s",
                         len(dropped), len(batch), outcome.reason)
        else:
            self._retry_later(outcome)
        if len(self._buffer) < self._buffer.capacity:
            self._warned_full = False
        self._lock.notify_all()

    def _retry_later(self, outcome):
        self._attempt += 1
        self._stats.retries += 1
        delay = self._backoff.delay(self._attempt, outcome.retry_after)
        self._retry_at = time.monotonic() + delay
        # One warning per outage; the attempts after it would only repeat it.
        log = logger.warning if self._attempt == 1 else logger.debug
        log("oddlytics: send failed (%s); retry %d in %.1fs", outcome.reason, self._attempt, delay)

    def _close_at_exit(self):
        self.close()
