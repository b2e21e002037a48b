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
from .buffer import MemoryBuffer, QueueFileInUse, SqliteBuffer
from .plan import SplitPlan
from .session import DEFAULT_IDLE_TIMEOUT, Session
from .transport import Delivered, Refused, Rejected, Split, encoded_size, fit_body, post_batch, post_link

logger = logging.getLogger("oddlytics")

# Where a persistent queue file keeps the anonymous user id (like the original Swift SDK's stored UUID).
ANONYMOUS_USER_ID = "anonymous_user_id"
# "1" once an event carried the anonymous id since it was made or last linked: identify then sends a link.
ANONYMOUS_USED = "anonymous_used"
MAX_BATCH = 1000  # the most events the worker accepts per request (older workers: 100, see Split)
# Events are queued but none could be read (damaged rows, just dropped): look again this soon.
STORAGE_RETRY_S = 0.1


@dataclass
class Stats:
    tracked: int = 0          # accepted by track() into the queue
    stored: int = 0           # stored by the worker
    duplicates: int = 0       # already stored (a retry whose first answer was lost)
    rejected: int = 0         # refused by the worker (400 naming them, 413 alone) and dropped
    parked: int = 0           # moved behind the rest of the queue after max_attempts 5xx answers
    dropped_full: int = 0     # refused by track() because the queue was full
    retries: int = 0          # failed attempts that were retried
    linked: int = 0           # links of the anonymous id to an identified user the worker took (identify)


def _is_link(record):
    """A queued link (identify) rather than an event: sent alone, to POST /identify."""
    return "link" in record and "event" not in record


def _now_iso():
    return _iso(datetime.now(timezone.utc))


def _iso(moment):
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _event_time(value):
    """`track(..., timestamp=...)`: an aware datetime, an ISO 8601 string with its offset (or Z), or Unix
    seconds -> the UTC ISO string sent. A time without a zone is refused: it would be stored off by the
    offset of wherever the app runs."""
    if isinstance(value, bool):
        raise TypeError("timestamp must be a datetime, an ISO 8601 string or Unix seconds")
    if isinstance(value, (int, float)):
        return _iso(datetime.fromtimestamp(value, timezone.utc))
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if not isinstance(value, datetime):
        raise TypeError("timestamp must be a datetime, an ISO 8601 string or Unix seconds")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp needs a time zone (e.g. datetime.now(timezone.utc), or '...Z')")
    return _iso(value)


class Client:
    """Send events to an Oddlytics worker. Thread-safe; `track` never blocks on the network and never raises.

    Events are queued (in memory, or in the SQLite file `persist_path` so they survive a restart),
    sent in batches of up to `batch_size` at least every `flush_interval` seconds, and retried with
    backoff on network errors, 5xx, 429 and configuration errors (401, 403, redirects) until the
    worker answers. Each event carries an `event_id` fixed when it is tracked, so a retry after a
    lost answer is stored once. A batch answered 5xx `max_attempts` times in a row is split, and a
    single event is then moved behind the rest of the queue, so one bad batch never blocks the others.

    Users: every event carries a user id, by default a random anonymous one kept in the `persist_path` file
    (so it stays the same across restarts of that installation; without the file, for the process's life).
    `user_id=` or `identify()` replaces it with the app's own, and links the anonymous id's events to it (see
    `identify`); `anonymous_user_id=False` sends none.
    """

    def __init__(self, url, key, app_id, *, platform=None, app_version=None, batch_size=25,
                 flush_interval=5.0, max_queue=10_000, persist_path=None,
                 session_timeout=DEFAULT_IDLE_TIMEOUT, request_timeout=10.0, backoff=None,
                 close_timeout=10.0, max_attempts=5, send=post_batch, user_id=None, anonymous_user_id=True,
                 link=post_link):
        self.url = url
        self.key = key
        self.app_id = app_id
        self.platform = platform
        self.app_version = app_version
        self.batch_size = max(1, min(int(batch_size), MAX_BATCH))
        self.flush_interval = flush_interval
        self.request_timeout = request_timeout
        self.close_timeout = close_timeout
        self.max_attempts = max(1, int(max_attempts))
        self._backoff = backoff or Backoff()
        self._send = send
        self._link = link
        self._session = Session(session_timeout)
        self._stats = Stats()
        self._lock = threading.Condition()
        self._buffer = self._open_buffer(persist_path, max_queue)
        self._anonymous_user_id = self._anonymous_used = None
        if anonymous_user_id:
            self._anonymous_user_id, self._anonymous_used = self._keep_anonymous_user_id()
        self._identified = None
        self._disabled = self._configuration_problem()
        self._closed = False
        self.identify(user_id)
        self._shut = False  # close() finished and closed the queue
        self._left_behind = 0  # events still queued when close() finished
        self._stopping = False
        self._stop_deadline = None
        self._drain_until = None  # send everything up to this queue key now (flush / interval)
        self._next_interval = time.monotonic() + flush_interval
        self._retry_at = 0.0
        self._attempt = 0  # failed attempts in a row, any batch: the backoff
        self._server_errors = 0  # 5xx answers in a row for the batch at the head
        self._plan = SplitPlan()
        self._parked = {}  # key of a parked event -> its key before it was first parked (for flush)
        self._warned_full = False
        if self._disabled:
            logger.error("oddlytics: client disabled, events will be dropped: %s", self._disabled)
        self._thread = threading.Thread(target=self._run, name="oddlytics-sender", daemon=True)
        self._thread.start()
        atexit.register(self._close_at_exit)

    # --- the app's side ---------------------------------------------------------------------

    def track(self, event, properties=None, user_id=None, timestamp=None):
        """Queue one event. Returns its event_id, or None if it was dropped (the reason is logged).
        `timestamp` (default: now) sets when it happened, e.g. for a backfill: an aware datetime, an ISO 8601
        string with an offset, or Unix seconds."""
        try:
            if self._disabled:
                return self._refuse_track(event, "disabled")
            record = self._record(event, properties, user_id, timestamp)
            with self._lock:
                if self._closed:
                    return self._refuse_track(event, "closed")
                # Under the lock: an identify() meanwhile has relabelled the queue, and this event must follow it.
                anonymous = False
                if user_id is None and self.user_id:
                    record["user_id"] = self.user_id
                    anonymous = self._identified is None
                if not self._buffer.add(record):
                    self._stats.dropped_full += 1
                    if not self._warned_full:
                        self._warned_full = True
                        logger.warning("oddlytics: queue full (%d events): dropping new events until it drains",
                                       self._buffer.capacity)
                    return None
                self._stats.tracked += 1
                if anonymous and not self._anonymous_used:
                    self._anonymous_used = True
                    self._buffer.keep(ANONYMOUS_USED, "1")
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

    def identify(self, user_id):
        """Events tracked from now on carry `user_id` (the app's own id for its user). Never raises.

        Coming from the anonymous id, the anonymous id's events become the user's: those still queued are sent
        with `user_id`, and a link asks the worker to move those it has (POST /identify: the most recent 1,000
        of the last 30 days, once per anonymous id; the README says what is linked and what is not). The link
        waits in the queue behind the events tracked before it, so it reaches the worker after them.

        None signs out: events carry a new anonymous id from then on (or none, with anonymous_user_id=False), so
        whoever uses the app next is not taken for the person who signed out."""
        try:
            identified = str(user_id) if user_id is not None and user_id != "" else None
            with self._lock:
                self._switch_to(identified)
        except Exception as error:  # noqa: BLE001 - a str() that raises, a damaged file: never take the app down
            logger.error("oddlytics: identify ignored: %s: %s", type(error).__name__, error)

    def _switch_to(self, identified):
        anonymous, previous = self._anonymous_user_id, self._identified
        self._identified = identified
        if anonymous is None or identified == previous:
            return
        if identified is None:
            self._anonymous_user_id = str(uuid.uuid4())
            self._anonymous_used = False
            self._buffer.keep(ANONYMOUS_USER_ID, self._anonymous_user_id)
            self._buffer.keep(ANONYMOUS_USED, "0")
        elif previous is None and identified != anonymous and self._anonymous_used:
            self._buffer.relabel(anonymous, identified)
            if self._disabled or self._closed:
                return
            link = {"link": {"app_id": self.app_id, "anonymous_id": anonymous, "user_id": identified}}
            if not self._buffer.add(link):
                logger.warning("oddlytics: queue full: the anonymous id's events already sent stay anonymous")
                return
            self._anonymous_used = False
            self._buffer.keep(ANONYMOUS_USED, "0")
            self._lock.notify_all()

    @property
    def user_id(self):
        """The user id events get when `track` is not given one: the identified one, else the anonymous one."""
        return self._identified or self._anonymous_user_id

    def flush(self, timeout=30.0):
        """Send everything queued so far; wait until each event is stored or dropped (a parked event keeps
        it waiting). False on timeout or trouble (logged); never raises."""
        try:
            return self._flush(timeout)
        except Exception as error:  # noqa: BLE001 - e.g. a damaged queue file: the app must carry on
            logger.error("oddlytics: flush failed: %s: %s", type(error).__name__, error)
            return False

    def close(self, timeout=None):
        """Send what is queued (for up to `timeout` seconds) and stop. True if nothing was left behind.
        Never raises."""
        try:
            return self._close(self.close_timeout if timeout is None else timeout)
        except Exception as error:  # noqa: BLE001
            logger.error("oddlytics: close failed: %s: %s", type(error).__name__, error)
            return False

    @property
    def pending(self):
        """Events queued (parked ones included) and not yet stored or dropped."""
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

    def _refuse_track(self, event, state):
        logger.warning("oddlytics: event %r dropped: the client is %s", event, state)
        return None

    def _flush(self, timeout):
        deadline = time.monotonic() + timeout if timeout is not None else None
        with self._lock:
            if self._shut:
                return self._left_behind == 0
            target = self._buffer.last_key()
            if target is None:
                return True
            self._drain_until = max(target, self._drain_until if self._drain_until is not None else target)
            self._lock.notify_all()
            while True:
                # close() may have finished (and closed the queue file) while this waited.
                if self._shut:
                    return self._left_behind == 0
                if self._done_up_to(target):
                    return True
                remaining = None if deadline is None else deadline - time.monotonic()
                if (remaining is not None and remaining <= 0) or not self._thread.is_alive():
                    return False
                self._lock.wait(remaining)

    def _done_up_to(self, target):
        """No event queued at or before `target` is waiting, at the head or parked at the back."""
        first = self._buffer.first_key()
        return (first is None or first > target) and all(origin > target for origin in self._parked.values())

    def _close(self, timeout):
        with self._lock:
            if self._closed:
                return self._left_behind == 0
            self._closed = True
            self._stopping = True
            self._stop_deadline = time.monotonic() + timeout
            self._lock.notify_all()
        atexit.unregister(self._close_at_exit)
        self._thread.join(timeout + 1)
        with self._lock:
            left = self._left_behind = len(self._buffer)
            if self._thread.is_alive():
                # Still inside an HTTP request: leave the queue to it rather than close it underneath.
                logger.warning("oddlytics: close() timed out with a request in flight")
                return False
            self._buffer.close()
            self._shut = True
            self._lock.notify_all()
            lost = self._buffer.unsaved
        if left - lost:
            logger.warning("oddlytics: %d events not sent yet; kept in %s for the next start",
                           left - lost, self._buffer.path)
        if lost:
            logger.warning("oddlytics: %d events not sent and lost (%s)", lost,
                           f"{self._buffer.path} could not be written: {self._buffer.trouble}"
                           if self._buffer.persistent else "no persist_path")
        return left == 0

    # --- building events ----------------------------------------------------------------------

    def _record(self, event, properties, user_id, timestamp=None):
        if not isinstance(event, str):
            raise TypeError("the event name must be a string")
        when = _now_iso() if timestamp is None else _event_time(timestamp)
        record = {
            "event_id": str(uuid.uuid4()),
            "event": event,
            "app_id": self.app_id,
            "session_id": self._session.current(),
            "timestamp": when,
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

    def _keep_anonymous_user_id(self):
        """(the anonymous id, whether an event may have carried it). An id kept by an earlier version counts as
        used: identify then links it."""
        made = str(uuid.uuid4())
        try:
            kept = self._buffer.kept_value(ANONYMOUS_USER_ID, made)
            return kept, self._buffer.kept_value(ANONYMOUS_USED, "0" if kept == made else "1") == "1"
        except Exception as error:  # noqa: BLE001 - a damaged file: the app still starts, with a new id
            logger.error("oddlytics: cannot read the anonymous user id from %s (%s: %s); using a new one",
                         self._buffer.path, type(error).__name__, error)
            return made, False

    @staticmethod
    def _open_buffer(path, capacity):
        if path is None:
            return MemoryBuffer(capacity)
        try:
            return SqliteBuffer(path, capacity)
        except QueueFileInUse as error:
            logger.error("oddlytics: persistence is off: %s (one client per persist_path; give each process its "
                         "own file); events wait in memory only and are lost if the app exits before they are sent",
                         error)
            return MemoryBuffer(capacity)
        except Exception as error:  # noqa: BLE001 - an unusable file must not stop the app starting
            logger.error("oddlytics: persistence is off: cannot use %s as the queue file (%s: %s); events "
                         "wait in memory only and are lost if the app exits before they are sent",
                         path, type(error).__name__, error)
            return MemoryBuffer(capacity)

    # --- the sender thread --------------------------------------------------------------------

    def _run(self):
        while True:
            try:
                with self._lock:
                    batch = self._wait_for_batch()
                if batch is None:
                    return
                if not batch:
                    with self._lock:  # events are queued but none could be read
                        self._retry_at = time.monotonic() + STORAGE_RETRY_S
                    continue
                if _is_link(batch[0][1]):
                    batch = batch[:1]
                    outcome = self._link(self.url, self.key, batch[0][1]["link"], self.request_timeout)
                    if isinstance(outcome, Delivered):
                        outcome = Delivered(0, 0)
                        with self._lock:
                            self._stats.linked += 1
                else:
                    batch = batch[:next((i for i, (_, event) in enumerate(batch) if _is_link(event)), len(batch))]
                    batch = batch[:fit_body([encoded_size(event) for _, event in batch])]
                    outcome = self._send(self.url, self.key, [event for _, event in batch], self.request_timeout)
                with self._lock:
                    self._settle(batch, outcome)
            except Exception:  # noqa: BLE001 - the thread must survive anything and keep the queue
                logger.exception("oddlytics: unexpected error in the sender; retrying")
                with self._lock:
                    self._retry_later("unexpected error")

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
                urgent = self._stopping or queued >= self.batch_size or self._plan.active or self._draining()
                if urgent and now >= self._retry_at:
                    self._next_interval = now + self.flush_interval
                    return self._buffer.head(self._plan.next_size(self.batch_size))
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
            self._delivered(batch, outcome)
        elif isinstance(outcome, Rejected):
            named = [batch[i][0] for i in sorted(outcome.indices) if 0 <= i < len(batch)]
            if named:
                self._drop(named, len(batch), outcome.reason)
            else:  # indices that are not in the batch: judge the events apart instead
                self._split_or_drop(batch, outcome.reason)
        elif isinstance(outcome, Split):
            self._split_or_drop(batch, outcome.reason)
        elif isinstance(outcome, Refused):
            self._refused(outcome)
        else:
            self._failed(batch, outcome)
        if len(self._buffer) < self._buffer.capacity:
            self._warned_full = False
        self._lock.notify_all()

    def _answered(self, count):
        """The worker answered for `count` events at the head: the failure streaks end."""
        self._plan.settled(count)
        self._server_errors = 0
        self._attempt = 0
        self._retry_at = 0.0

    def _remove(self, keys):
        self._buffer.remove(keys)
        for key in keys:
            self._parked.pop(key, None)

    def _delivered(self, batch, outcome):
        self._remove([key for key, _ in batch])
        self._stats.stored += outcome.stored
        self._stats.duplicates += outcome.duplicates
        if self._attempt:
            logger.info("oddlytics: delivered after %d failed attempts", self._attempt)
        self._answered(len(batch))

    def _drop(self, keys, sent, reason):
        self._remove(keys)
        self._stats.rejected += len(keys)
        logger.error("oddlytics: worker refused %d of %d events, dropped them: %s", len(keys), sent, reason)
        self._answered(len(keys))

    def _split_or_drop(self, batch, reason):
        if len(batch) == 1:
            self._drop([batch[0][0]], 1, reason)
            return
        self._answered(0)
        self._split(batch, reason)

    def _split(self, batch, reason):
        self._plan.split(len(batch))
        self._server_errors = 0
        logger.warning("oddlytics: sending a batch of %d events again in halves to find the one at fault (%s)",
                       len(batch), reason)

    def _refused(self, outcome):
        if outcome.https_url:
            # Only a same-host, same-path move to https: the key goes to the same worker, now encrypted.
            logger.warning("oddlytics: %s redirects to https; sending to %s from now on. Set the client's url "
                           "to https: the first request sent the key unencrypted", self.url, outcome.https_url)
            self.url = outcome.https_url
            return
        # A wrong key or URL is the app's configuration: every attempt says so, and nothing is dropped.
        self._retry_later(outcome.reason, log=logger.error)

    def _failed(self, batch, outcome):
        if outcome.server_error:
            self._server_errors += 1
            if self._server_errors >= self.max_attempts:
                self._give_up_on(batch, outcome.reason)
        self._retry_later(outcome.reason, outcome.retry_after)

    def _give_up_on(self, batch, reason):
        """This batch got 5xx max_attempts times in a row: split it, or move a lone event to the back."""
        if len(batch) > 1:
            self._split(batch, reason)
            return
        self._server_errors = 0
        key, event = batch[0]
        new_key = self._buffer.requeue(key)
        if new_key is not None:
            origin = self._parked[new_key] = self._parked.pop(key, key)
            if self._drain_until is not None and origin <= self._drain_until:
                self._drain_until = max(self._drain_until, new_key)  # a flush waiting for it keeps it going
            self._plan.settled(1)
            self._stats.parked += 1
            logger.error("oddlytics: event %s (%r) failed %d times (%s); moved behind the rest of the queue",
                         event.get("event_id"), event.get("event"), self.max_attempts, reason)

    def _retry_later(self, reason, retry_after=None, log=None):
        self._attempt += 1
        self._stats.retries += 1
        delay = self._backoff.delay(self._attempt, retry_after)
        self._retry_at = time.monotonic() + delay
        # One warning per outage; the attempts after it would only repeat it.
        log = log or (logger.warning if self._attempt == 1 else logger.debug)
        log("oddlytics: send failed (%s); retry %d in %.1fs", reason, self._attempt, delay)

    def _close_at_exit(self):
        self.close()
