"""When to retry: exponential backoff with jitter, or the server's Retry-After when it sends one."""
import random
import time
from email.utils import parsedate_to_datetime

# A Retry-After further out than this is treated as this: a broken proxy must not park events for days.
MAX_RETRY_AFTER = 3600.0


class Backoff:
    """Delay before retry number `attempt` (1 = first retry): 'equal jitter' over an exponential ceiling.

    Half the delay is fixed so retries never bunch up near zero; the other half is random so many
    clients that failed together (a worker restart) do not come back together.
    """

    def __init__(self, base=0.5, cap=30.0, rng=random.random):
        self.base = base
        self.cap = cap
        self.rng = rng

    def ceiling(self, attempt):
        # The exponent is bounded so a client that retries for days cannot overflow a float.
        return min(self.cap, self.base * 2 ** min(max(attempt, 1) - 1, 64))

    def delay(self, attempt, retry_after=None):
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        ceiling = self.ceiling(attempt)
        return ceiling / 2 + self.rng() * ceiling / 2


def parse_retry_after(value, now=None):
    """A Retry-After header value (seconds, or an HTTP date) -> seconds to wait; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)
