"""Session ids: one per client, replaced after a stretch with no events (like Aptabase's SDKs)."""
import threading
import time
import uuid

DEFAULT_IDLE_TIMEOUT = 3600.0


class Session:
    def __init__(self, idle_timeout=DEFAULT_IDLE_TIMEOUT, clock=time.monotonic, new_id=lambda: str(uuid.uuid4())):
        self.idle_timeout = idle_timeout
        self._clock = clock
        self._new_id = new_id
        self._id = None
        self._last_seen = None
        self._lock = threading.Lock()

    def current(self):
        """The session id for an event happening now; starts a new session after `idle_timeout` seconds idle."""
        with self._lock:
            now = self._clock()
            if self._id is None or now - self._last_seen > self.idle_timeout:
                self._id = self._new_id()
            self._last_seen = now
            return self._id
