"""Read-side query parameters -> validated values and fixed SQL fragments with bound values. Pure."""
import json

import debug_apps
from errors import BadRequest, detail
from limits import ascii_int
from sql import Sql
from tz.localtime import UTC, offset_segments
from tz.timeutil import DAY, HOUR, parse_range

MAX_FILTER_LENGTH = 255
# The most buckets a series may have, by interval.
MAX_BUCKETS = {"hour": 24 * 31, "day": 3660}


def local_segments(segments):
    """The CTE `local_segments`: the reader's zone as one bound JSON parameter, [[from_hour, to_hour,
    offset_seconds], ...]. Joined on `hour`, it gives each rollup hour its local wall-clock time, `hour + shift`.
    CROSS JOIN it first and let the segments alone bound `hour`: each segment is then one range of the
    rollup's primary key, so D1 reads every row once (an extra bound on `hour` made SQLite rescan the whole
    range per segment)."""
    return Sql("local_segments AS (SELECT json_extract(value, '$[0]') AS segment_start, "
               "json_extract(value, '$[1]') AS segment_end, json_extract(value, '$[2]') AS shift "
               "FROM json_each(?))", [json.dumps(segments)])


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
    value = ascii_int(text, 18)
    if value is None or not low <= value <= high:
        raise BadRequest(f"'{name}' must be a whole number from {low} to {high}", [detail(None, name, f"got {text[:40]!r}")])
    return value


def choice_param(query, name, choices, default):
    value = query.get(name) or default
    if value not in choices:
        raise BadRequest(f"'{name}' must be one of: {', '.join(choices)}", [detail(None, name, f"got {value[:40]!r}")])
    return value


def debug_param(query):
    """`debug=true` reads the debug builds' events (stored under each app's debug twin, debug_apps) instead."""
    value = query.get("debug") or "false"
    if value not in ("true", "false"):
        raise BadRequest("'debug' must be true or false", [detail(None, "debug", f"got {value[:40]!r}")])
    return value == "true"


def scoped_app(query):
    """-> (debug, the app id to read or None). A twin is read through `debug=true`, never named."""
    debug = debug_param(query)
    app_id = text_param(query, "app_id")
    if debug_apps.is_twin(app_id):
        raise BadRequest(f"'app_id' must not start with {debug_apps.PREFIX!r}: read debug events with debug=true",
                         [detail(None, "app_id", "name the app itself")])
    return debug, debug_apps.twin(app_id) if debug and app_id is not None else app_id


def only_utc(name):
    """The zone of a scope counted in UTC alone (the default: no JavaScript needed; /stats/calendar's UTC days)."""
    if name.upper() != "UTC":
        raise BadRequest("this read counts UTC days: leave out 'tz' or send tz=UTC",
                         [detail(None, "tz", f"UTC only; got {name[:40]!r}")])
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
        # `app_id` is the stored id read: the app's debug twin with debug=true.
        self.debug, self.app_id = scoped_app(query)

    def app_filter(self, column):
        """` AND <column> is the scope's app`, or with no app, is a release app (or with debug=true a twin)."""
        if self.app_id is not None:
            return Sql(f" AND {column} = ?", [self.app_id])
        return " AND " + debug_apps.condition(column, self.debug)

    def segments(self, start=None, end=None):
        """The zone's offsets over [start, end) (default: the range), for LOCAL_SEGMENTS."""
        start = self.range.start if start is None else start
        end = self.range.end if end is None else end
        return offset_segments(self.zone, start, end)

    def whole_utc_days(self):
        """True when the range is whole UTC days read in UTC: day buckets can come from the daily rollups."""
        return (self.zone is UTC or all(offset == 0 for _, _, offset in self.segments())) and \
            self.range.start % DAY == 0 and self.range.end % DAY == 0

    def as_json(self):
        return {**self.range.as_json(), "app_id": debug_apps.release_id(self.app_id), "tz": self.zone.name,
                "debug": self.debug}


def bucket_count(start, end, size):
    """How many buckets of `size` seconds [start, end) touches: arithmetic, before anything is allocated."""
    first = start - start % size
    return max(0, -(-(end - first) // size))


def check_bucket_count(scope, interval, asked=None):
    """A series may span MAX_BUCKETS[interval] hours or days. `asked`: the interval the request named, when the
    series is counted in `interval` units (weeks of days). The span, not the buckets touched, is what counts:
    `days=3660` ends at the current hour and so touches 3,661 days; a local day may have 25 hours."""
    size, slack = (HOUR, 0) if interval == "hour" else (DAY, HOUR)
    # Arithmetic on the range, to refuse before any zone work or list.
    if scope.range.seconds > MAX_BUCKETS[interval] * size + slack:
        unit = "days" if interval == "day" else "hours (31 days)"
        raise BadRequest(
            f"interval={asked or interval} allows ranges of at most {MAX_BUCKETS[interval]} {unit}; narrow the range"
            + (" or use interval=day" if interval == "hour" else ""),
            [detail(None, "interval", "too many buckets")],
        )
