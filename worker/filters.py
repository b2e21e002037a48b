"""Read-side query parameters -> validated values and fixed SQL fragments with bound values. Pure."""
from errors import BadRequest, detail
from localtime import UTC, offset_segments
from timeutil import parse_range

MAX_FILTER_LENGTH = 255
# The reader's zone as one bound JSON parameter, [[from_hour, to_hour, offset_seconds], ...]: joined on
# `hour`, it gives each rollup hour its local wall-clock time, `hour + shift`.
LOCAL_SEGMENTS = ("local_segments AS (SELECT json_extract(value, '$[0]') AS segment_start, "
                  "json_extract(value, '$[1]') AS segment_end, json_extract(value, '$[2]') AS shift "
                  "FROM json_each(?))")


def local_from(table):
    """FROM clause of a rollup joined to LOCAL_SEGMENTS. CROSS JOIN keeps the segments outside, and the
    segments alone bound `hour` (use Scope.app_where): each segment is then one range of the rollup's
    primary key, so D1 reads every row once. An extra bound on `hour` made SQLite rescan the whole range
    per segment."""
    return f"local_segments CROSS JOIN {table} ON hour >= segment_start AND hour < segment_end"


def text_param(query, name, max_length=MAX_FILTER_LENGTH):
    value = query.get(name)
    if value is None or value == "":
        return None
    if len(value) > max_length or "\x00" in value:
        raise BadRequest(f"'{name}' is not a valid value", [detail(None, name, f"at most {max_length} characters, no NUL")])
    return value


def int_param(query, name, default, low, high):
    text = query.get(name)
    if text is None or text == "":
        return default
    # isdigit() alone admits '²' and 5000-digit numbers, which int() rejects: a 500, not a 400.
    if not (text.isascii() and text.isdigit() and len(text) <= 18) or not low <= int(text) <= high:
        raise BadRequest(f"'{name}' must be a whole number from {low} to {high}", [detail(None, name, f"got {text[:40]!r}")])
    return int(text)


def choice_param(query, name, choices, default):
    value = query.get(name) or default
    if value not in choices:
        raise BadRequest(f"'{name}' must be one of: {', '.join(choices)}", [detail(None, name, f"got {value[:40]!r}")])
    return value


def only_utc(name):
    if name.upper() != "UTC":
        raise ValueError(name)
    return UTC


def zone_param(query, resolve_zone):
    name = query.get("tz") or "UTC"
    try:
        return resolve_zone(name)
    except ValueError:
        raise BadRequest("'tz' must be an IANA time zone name", [
            detail(None, "tz", f"e.g. Europe/Berlin or America/Los_Angeles; got {name[:40]!r}"),
        ]) from None


class Scope:
    """The range, reading zone and optional app every stats route is about.

    `resolve_zone` turns a `tz` name into a zone (`zones.resolve` in the worker, which needs JavaScript).
    """

    def __init__(self, query, now_ms, resolve_zone=only_utc):
        self.zone = zone_param(query, resolve_zone)
        self.range = parse_range(query, now_ms, self.zone)
        self.app_id = text_param(query, "app_id")

    def where(self, start, end, column="hour", scale=1):
        """`column` within [start, end) (epoch seconds * scale) and the app, if one was asked for."""
        sql = f"{column} >= ? AND {column} < ?"
        params = [start * scale, end * scale]
        if self.app_id is not None:
            sql += " AND app_id = ?"
            params.append(self.app_id)
        return sql, params

    def app_where(self):
        """Only the app filter, for queries whose hours are bounded by the segments of `segments()`."""
        if self.app_id is None:
            return "1 = 1", []
        return "app_id = ?", [self.app_id]

    def segments(self, start=None, end=None):
        """The zone's offsets over [start, end) (default: the range), for LOCAL_SEGMENTS."""
        start = self.range.start if start is None else start
        end = self.range.end if end is None else end
        return offset_segments(self.zone, start, end) if start < end else []

    def whole_utc_days(self):
        """True when the range is whole UTC days read in UTC: day buckets can come from the daily rollups."""
        return (self.zone is UTC or all(offset == 0 for _, _, offset in self.segments())) and \
            self.range.start % 86400 == 0 and self.range.end % 86400 == 0

    def as_json(self):
        return {**self.range.as_json(), "app_id": self.app_id, "tz": self.zone.name}
