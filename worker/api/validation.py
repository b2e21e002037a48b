"""Ingest validation: request body text -> normalised event rows. Pure (no runtime imports)."""
import json
import re

import debug_apps
from errors import BadRequest, PayloadTooLarge, detail
from tz.timeutil import parse_event_time

MAX_BODY_BYTES = 1024 * 1024
MAX_BATCH = 1000
# A batch names one app in practice; each app named is a rate limiter call (api/ratelimit.py), so a body may
# name only a few, and every one of them is charged.
MAX_APPS_PER_BODY = 10
MAX_PROPERTIES_BYTES = 10 * 1024
# Deeper values are stored fine but break readers: Python's json (the dashboard) recurses per level.
MAX_PROPERTIES_DEPTH = 32
# Every top-level key is expanded into breakdown keys when folded: without a cap, 1,400 two-letter keys per
# event (under 10 KB) made folding 2,000 events read 81M rows. Breakdowns keep 50 keys per event name.
MAX_PROPERTY_KEYS = 50
# SQLite's JSON functions read an integer past 64 bits as a double (a 400-digit one as Inf), while /events
# gives back the digits sent: such integers are stored as their digits in a string, so every route shows one value.
INT64 = (-(2**63), 2**63 - 1)
COUNTRY = re.compile(r"^[A-Z][A-Z0-9]$")

# field -> (required, max length)
STRING_FIELDS = {
    "event": (True, 255),
    "app_id": (True, 255),
    "session_id": (True, 255),
    "user_id": (False, 255),
    "platform": (False, 64),
    "app_version": (False, 64),
    "event_id": (False, 64),
}


def _reject_constant(name):
    # Python's json accepts NaN/Infinity; SQLite's JSON functions do not.
    raise ValueError(f"{name} is not valid JSON")


def parse_json(text):
    """Body text -> Python value, or BadRequest. Deep nesting is a 400, not a crash."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise BadRequest("request body is nested too deeply", [detail(None, "body", "nesting too deep")])
    except ValueError as error:
        raise BadRequest("request body is not valid JSON", [detail(None, "body", str(error)[:200])])


def check_body_size(size):
    if size > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            f"request body is {size} bytes; the limit is {MAX_BODY_BYTES}",
            [detail(None, "body", "too large")],
        )


def events_from_body(body):
    """One event object, or {"events": [...]} -> list of raw event values."""
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object", [detail(None, "body", "expected an object")])
    if "events" not in body:
        return [body]
    events = body["events"]
    if not isinstance(events, list):
        raise BadRequest("'events' must be an array", [detail(None, "events", "expected an array")])
    if not events:
        raise BadRequest("'events' is empty: send 1 to 1000 events", [detail(None, "events", "empty batch")])
    if len(events) > MAX_BATCH:
        raise BadRequest(
            f"batch has {len(events)} events; the limit is {MAX_BATCH}",
            [detail(None, "events", f"at most {MAX_BATCH} events per request")],
        )
    return events


def _string_problem(value, required, max_length):
    if value is None:
        return "is required" if required else None
    if not isinstance(value, str):
        return "must be a string"
    if required and not value.strip():
        return "must not be empty"
    if len(value) > max_length:
        return f"must be at most {max_length} characters"
    if "\x00" in value:
        return "must not contain NUL characters"
    if not _is_valid_unicode(value):
        return "must be valid Unicode (no lone surrogates)"
    return None


def stored_id_problem(field, value):
    """Why `value` can never be a stored `field` (so erasing it is a client error), or None."""
    if not value:
        return "is required"
    return _string_problem(value, *STRING_FIELDS[field])


def stored_id(value, name, field):
    """An id from the path or the query, held to the rules `/track` stores it under."""
    problem = stored_id_problem(field, value)
    if problem:
        raise BadRequest(f"'{name}' is not a valid {field}",
                         [detail(None, name, f"{problem}: 1 to {STRING_FIELDS[field][1]} characters of UTF-8, no NUL")])
    return value


def _is_valid_unicode(text):
    if text.isascii():  # the common case, without building the UTF-8 bytes
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _inspect(value):
    """(nesting depth (a scalar is 1), the first key holding NUL or None, whether an integer is past 64 bits)
    of a JSON value, level by level rather than recursively."""
    depth, level, nul_key, wide = 0, [value], None, False
    low, high = INT64
    while level:
        depth += 1
        below = []
        for item in level:
            if isinstance(item, dict):
                if nul_key is None:
                    nul_key = next((key for key in item if "\x00" in key), None)
                below.extend(item.values())
            elif isinstance(item, list):
                below.extend(item)
            elif type(item) is int and not low <= item <= high:
                wide = True
        level = below
    return depth, nul_key, wide


def _wide_ints_as_digits(value):
    """`value` with every integer past 64 bits as its decimal digits (a string). Recursion is bounded by
    MAX_PROPERTIES_DEPTH, checked first."""
    if isinstance(value, dict):
        return {key: _wide_ints_as_digits(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_wide_ints_as_digits(child) for child in value]
    if type(value) is int and not INT64[0] <= value <= INT64[1]:
        return str(value)
    return value


# Built once: json.dumps with options builds an encoder per call, a third of the cost of a small object.
_PROPERTIES_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _properties(raw, index, problems):
    properties = raw.get("properties", raw.get("metadata"))
    field = "properties" if "properties" in raw else "metadata"
    if properties is None:
        return None
    if not isinstance(properties, dict):
        problems.append(detail(index, field, "must be a JSON object"))
        return None
    if len(properties) > MAX_PROPERTY_KEYS:
        problems.append(detail(index, field, f"has {len(properties)} keys; the limit is {MAX_PROPERTY_KEYS} at the top level"))
        return None
    depth, nul_key, wide = _inspect(properties)
    if depth > MAX_PROPERTIES_DEPTH:
        problems.append(detail(index, field, f"nests deeper than {MAX_PROPERTIES_DEPTH} levels"))
        return None
    if nul_key is not None:
        # Such a key could be listed but never asked for (no query parameter carries NUL): refused everywhere.
        problems.append(detail(index, field, f"has a key with a NUL character ({nul_key[:60]!r}); keys must not contain NUL"))
        return None
    if wide:
        properties = _wide_ints_as_digits(properties)
    try:
        text = _PROPERTIES_ENCODER.encode(properties)
    except ValueError:
        # 1e400 parses as inf; stored, it would come back out as the bare token Infinity, which JSON forbids.
        problems.append(detail(index, field, "holds a number outside the range of a double (e.g. 1e400)"))
        return None
    if text.isascii():
        size = len(text)
    else:
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:
            problems.append(detail(index, field, "must be valid Unicode (no lone surrogates)"))
            return None
    if size > MAX_PROPERTIES_BYTES:
        problems.append(detail(index, field, f"is {size} bytes serialised; the limit is {MAX_PROPERTIES_BYTES}"))
        return None
    return text


# Platform names as the SDKs spell them, case-insensitively: "ios" and "iOS" are one platform. Others are kept
# as sent (Linux distributions, for one, are named by the Tauri SDK).
PLATFORMS = {name.lower(): name for name in (
    "iOS", "iPadOS", "Android", "macOS", "Windows", "Linux", "web", "watchOS", "tvOS", "visionOS", "ChromeOS")}
PLATFORMS.update({"iphoneos": "iOS", "mac os x": "macOS", "mac os": "macOS", "macosx": "macOS", "osx": "macOS",
                  "darwin": "macOS", "win32": "Windows", "chrome os": "ChromeOS", "cros": "ChromeOS",
                  "browser": "web"})


def normalise_platform(value):
    if not isinstance(value, str):
        return value
    return PLATFORMS.get(value.strip().lower(), value)


def _debug_app(raw, row, index, problems):
    """`"debug": true` stores the event under its app's debug twin (debug_apps); a twin is never sent as is."""
    debug = raw.get("debug", False)
    if debug is not None and not isinstance(debug, bool):
        problems.append(detail(index, "debug", "must be true or false"))
    elif debug_apps.is_twin(row.get("app_id")):
        problems.append(detail(index, "app_id", f"must not start with {debug_apps.PREFIX!r}, which holds debug "
                                                "events: send the app's own id with \"debug\": true"))
    elif debug and row.get("app_id"):
        if len(row["app_id"]) > debug_apps.MAX_APP_ID:
            problems.append(detail(index, "app_id", f"must be at most {debug_apps.MAX_APP_ID} characters for a "
                                                    "debug event (its twin's id must stay erasable)"))
        row["app_id"] = debug_apps.twin(row["app_id"])


def normalise_event(raw, index, now_ms, country):
    """One raw event -> (row dict, problems). The row is what gets stored."""
    if not isinstance(raw, dict):
        return None, [detail(index, "event", "each event must be a JSON object")]
    problems = []
    row = {}
    for field, (required, max_length) in STRING_FIELDS.items():
        value = raw.get(field)
        problem = _string_problem(value, required, max_length)
        if problem:
            problems.append(detail(index, field, problem))
        elif value == "" and not required:
            value = None
        row[field] = value
    _debug_app(raw, row, index, problems)
    row["platform"] = normalise_platform(row["platform"])
    ts, problem = parse_event_time(raw.get("timestamp"), now_ms)
    if problem:
        problems.append(detail(index, "timestamp", problem))
    row["properties"] = _properties(raw, index, problems)
    if problems:
        return None, problems
    row["ts"] = ts
    row["received_at"] = now_ms
    row["country"] = country if isinstance(country, str) and COUNTRY.match(country) else None
    row["index"] = index  # its place in the body, for a refusal that names events (api/caps.py); not stored
    return row, []


def dedupe(rows):
    """Drop repeats of an event inside one batch, as ingest's check would (api/ingest.py, INSERT_SQL):
    the same app, session, time and event_id, or for an event stamped on arrival the same app and event_id.
    Returns (rows, duplicates)."""
    seen = set()
    unique = []
    for row in rows:
        if row["ts"] == row["received_at"]:
            key = (row["app_id"], row["event_id"])
        else:
            key = (row["app_id"], row["event_id"], row["session_id"], row["ts"])
        if row["event_id"] is not None:
            if key in seen:
                continue
            seen.add(key)
        unique.append(row)
    return unique, len(rows) - len(unique)


def parse_track_body(text, now_ms, country=None):
    """Body text -> (rows to store, in-batch duplicates). Raises a 4xx ApiError; all or nothing."""
    check_body_size(len(text.encode("utf-8", "surrogatepass")))
    events = events_from_body(parse_json(text))
    rows, problems = [], []
    for index, raw in enumerate(events):
        row, event_problems = normalise_event(raw, index, now_ms, country)
        problems.extend(event_problems)
        if row:
            rows.append(row)
    if problems:
        noun = "event is" if len(events) == 1 else "events are"
        raise BadRequest(f"{len({p['index'] for p in problems})} of {len(events)} {noun} invalid; nothing was stored", problems[:100])
    check_app_count(len({row["app_id"] for row in rows}))
    return dedupe(rows)


def check_app_count(apps):
    """A body naming more than MAX_APPS_PER_BODY apps is a 400 (before any rate limit charges them)."""
    if apps > MAX_APPS_PER_BODY:
        raise BadRequest(f"the request names {apps} apps; the limit is {MAX_APPS_PER_BODY}; nothing was stored",
                         [detail(None, "app_id", f"at most {MAX_APPS_PER_BODY} distinct app ids per request")])


# What an SDK's anonymous id looks like (a UUID, as the Python SDK's uuid4 and the Swift SDK's UUID spell it):
# only such ids can be linked to a user, so an INGEST_KEY holder cannot move a named user's events elsewhere.
ANONYMOUS_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def parse_link_body(text):
    """POST /identify's body {app_id, anonymous_id, user_id[, debug]} -> (app_id, anonymous_id, user_id).
    Raises a 400 naming every field at fault."""
    check_body_size(len(text.encode("utf-8", "surrogatepass")))
    body = parse_json(text)
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object", [detail(None, "body", "expected an object")])
    problems, row = [], {}
    for field, name in (("app_id", "app_id"), ("user_id", "anonymous_id"), ("user_id", "user_id")):
        value = body.get(name)
        problem = _string_problem(value, True, STRING_FIELDS[field][1])
        if problem:
            problems.append(detail(None, name, problem))
        row[name] = value
    if not problems and not ANONYMOUS_ID.match(row["anonymous_id"]):
        problems.append(detail(None, "anonymous_id", "must be an SDK's anonymous id (a UUID); only those are linked"))
    if not problems and row["anonymous_id"] == row["user_id"]:
        problems.append(detail(None, "user_id", "must differ from anonymous_id"))
    _debug_app(body, row, None, problems)
    if problems:
        raise BadRequest("invalid link; nothing was changed", problems)
    return row["app_id"], row["anonymous_id"], row["user_id"]
