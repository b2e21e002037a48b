"""Time parsing and range arithmetic. Pure: `now` is always passed in, in epoch milliseconds.

Everything is stored in UTC. Rollups are hourly, so read ranges are aligned to whole UTC hours;
date-only bounds mean midnight in the reader's zone (`localtime`).
"""
import math
from datetime import datetime, timezone

from errors import BadRequest, detail
from limits import ascii_int
from tz.localtime import DAY, HOUR, UTC, civil_date, local_midnight

MS = 1000
EARLIEST_MS = 946684800000  # 2000-01-01T00:00:00Z
RANGE_FLOOR = -2208988800  # 1900-01-01T00:00:00Z
RANGE_CEILING = 253402297200  # 9999-12-31T23:00:00Z
DEFAULT_DAYS = 30
MAX_DAYS = 36600  # about a century: "all time" ranges are legitimate for totals


def to_iso(ms):
    """Epoch milliseconds -> '2024-03-20T10:00:00.000Z'."""
    ms = int(ms)
    return seconds_to_iso(ms // MS)[:-1] + f".{ms % MS:03d}Z"


def iso_ms_sql(column):
    """SQL: epoch milliseconds in `column` -> to_iso's text, computed by D1 for pages of rows. SQLite turns the
    seconds into whole milliseconds (rounding to nearest, so `/ 1000.0` loses none) and %f prints them as SS.SSS."""
    return f"strftime('%Y-%m-%dT%H:%M:%fZ', {column} / 1000.0, 'unixepoch')"


def seconds_to_iso(seconds):
    """Epoch seconds -> '2024-03-20T10:00:00Z', by arithmetic (localtime.civil_date: no datetime per bucket)."""
    seconds = int(seconds)
    year, month, day = civil_date(seconds)
    of_day = seconds % DAY
    return f"{year:04d}-{month:02d}-{day:02d}T{of_day // HOUR:02d}:{of_day % HOUR // 60:02d}:{of_day % 60:02d}Z"


def parse_iso(text):
    """ISO-8601 date or datetime -> (epoch ms, had_time). Naive values are UTC. Raises ValueError."""
    if not isinstance(text, str) or not 4 <= len(text) <= 40:
        raise ValueError("not an ISO-8601 string")
    value = text.strip()
    if value.endswith(("z", "Z")):
        value = value[:-1] + "+00:00"
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    had_time = "T" in value or " " in value
    return int(round(dt.timestamp() * MS)), had_time


def parse_event_time(value, now_ms):
    """An event's `timestamp` field -> epoch ms, or a message saying why it is unusable.

    A time after `now_ms` (the moment the event was received: a device clock set ahead) is `now_ms`. No stored
    event is ever in the future, so reads ending now see every event and "last seen" is never ahead of now."""
    if value is None:
        return now_ms, None
    if isinstance(value, bool):
        return None, "must be an ISO-8601 string or Unix epoch seconds"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return None, "epoch seconds out of range"
        # Compared before scaling: Python compares an int with a float exactly, so a JSON integer of 400
        # digits is never converted to a float (which would overflow).
        if value > now_ms / MS:
            return now_ms, None
        if value < EARLIEST_MS / MS:
            return None, "is before 2000-01-01"
        ms = int(round(value * MS))
    elif isinstance(value, str):
        try:
            ms, _ = parse_iso(value)
        except (ValueError, OverflowError, OSError):
            return None, "must be ISO-8601 (e.g. 2024-03-20T10:00:00Z) or Unix epoch seconds"
    else:
        return None, "must be an ISO-8601 string or Unix epoch seconds"
    if ms < EARLIEST_MS:
        return None, "is before 2000-01-01"
    return min(ms, now_ms), None


def floor_hour(seconds):
    return seconds - seconds % HOUR


def ceil_hour(seconds):
    return floor_hour(seconds + HOUR - 1)


class Range:
    """A read range [start, end) in epoch seconds, aligned to whole UTC hours."""

    def __init__(self, start, end):
        self.start = start
        self.end = end

    @property
    def seconds(self):
        return self.end - self.start

    def previous(self):
        return Range(self.start - self.seconds, self.start)

    def as_json(self):
        return {"from": seconds_to_iso(self.start), "to": seconds_to_iso(self.end)}

    def __eq__(self, other):
        return isinstance(other, Range) and (self.start, self.end) == (other.start, other.end)

    def __repr__(self):
        return f"Range({self.as_json()})"


def _bound(query, name):
    text = query.get(name)
    if text is None or text == "":
        return None
    try:
        ms, had_time = parse_iso(text)
    except (ValueError, OverflowError, OSError):
        raise BadRequest(
            f"'{name}' must be an ISO-8601 date or datetime",
            [detail(None, name, "expected e.g. 2024-03-20 or 2024-03-20T10:00:00Z")],
        )
    return ms // MS, had_time


def parse_range(query, now_ms, zone=UTC):
    """Query parameters `from`/`to` or `days` -> Range. Default: the last 30 days.

    A date-only `to` includes that whole day; a datetime `to` is exclusive. Dates are days in `zone`.
    """
    now = ceil_hour(now_ms // MS + 1)
    days_text = query.get("days")
    start_bound = _bound(query, "from")
    end_bound = _bound(query, "to")
    if days_text not in (None, "") and (start_bound or end_bound):
        raise BadRequest("use either 'days' or 'from'/'to', not both", [detail(None, "days", "conflicts with from/to")])
    if start_bound is None and end_bound is None:
        days = DEFAULT_DAYS
        if days_text not in (None, ""):
            days = ascii_int(days_text, 9)
            if days is None or not 1 <= days <= MAX_DAYS:
                raise BadRequest(
                    f"'days' must be a whole number from 1 to {MAX_DAYS}",
                    [detail(None, "days", f"got {days_text[:40]!r}")],
                )
        return Range(now - days * DAY, now)
    if end_bound is None:
        end = now
    else:
        end_seconds, had_time = end_bound
        end = ceil_hour(end_seconds) if had_time else local_midnight(zone, end_seconds + DAY)
    if start_bound is None:
        start = end - DEFAULT_DAYS * DAY
    else:
        start_seconds, had_time = start_bound
        start = floor_hour(start_seconds) if had_time else local_midnight(zone, start_seconds)
    if start >= end:
        raise BadRequest("'from' must be before 'to'", [detail(None, "from", "range is empty")])
    if end - start > MAX_DAYS * DAY:
        raise BadRequest(f"a range may span at most {MAX_DAYS} days", [detail(None, "from", "range too long")])
    if start < RANGE_FLOOR or end > RANGE_CEILING:
        # Ranges are echoed back as ISO text, which cannot go past year 9999.
        raise BadRequest("'from' and 'to' must lie between 1900 and 9999", [detail(None, "from", "out of range")])
    return Range(start, end)
