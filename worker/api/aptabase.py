"""The Aptabase ingestion protocol (`POST /api/v0/event`, `/api/v0/events`) -> the rows `/track` stores. Pure.

Checked against aptabase/aptabase `src/Features/Ingestion/` (EventBody.cs, EventsController.cs,
LocaleFormatter.cs, UserAgentParser.cs) and the SDKs' sources:
- Body in camelCase: `timestamp`, `sessionId`, `eventName`, `systemProps`, `props`. `/event` takes one object,
  `/events` an array of at most 25.
- `timestamp`: ISO-8601 (Swift and Kotlin send whole seconds, JS milliseconds, Flutter and the Python SDK
  microseconds, Tauri nanoseconds). A future time is clamped to now, one older than a day is refused.
- `sessionId`: a string of at most 36 characters (Kotlin: a UUID) or digits, epoch seconds x 10^8 + 8 random
  digits (Swift, Flutter, Tauri, JS, Python; a JSON number is taken too), whose start may be at most 10 minutes
  ahead and 7 days old.
- `systemProps.sdkVersion` is required; the other system properties are optional strings of Aptabase's lengths.
- `props`: an object, a JSON object sent as a string, or null; keys 1 to 40 characters.
- One invalid event on `/event` is a 400. On `/events` Aptabase drops invalid events and answers 200: the Swift
  and Tauri SDKs drop a batch on any 4xx, so one stale event would lose the whole batch. We do the same, and
  say what was dropped; a batch with nothing valid left is a 400.
"""
import re

from api.validation import check_body_size, normalise_event, normalise_platform, parse_json
from errors import BadRequest, NotFound, Unauthorized, detail
from tz.timeutil import parse_iso

MAX_EVENTS = 25
MAX_EVENT_NAME = 60
MAX_SESSION_TEXT = 36
MAX_PROP_KEY = 40
DAY_MS = 24 * 3600 * 1000
SESSION_FUTURE_S = 10 * 60
SESSION_PAST_S = 7 * 24 * 3600
# Aptabase's keys: A-{region}-{digits}. We issue region SH (self-hosted), which every SDK accepts with a host.
APP_KEY = re.compile(r"^A-SH-[0-9]{10}$")

# systemProps field -> (max length (Aptabase's), property it is kept under or None when mapped elsewhere)
SYSTEM_PROPS = {
    "osName": (30, None),
    "osVersion": (100, "$os_version"),
    "locale": (10, "$locale"),
    "appVersion": (50, None),
    "appBuildNumber": (20, "$app_build_number"),
    "engineName": (30, "$engine_name"),
    "engineVersion": (30, "$engine_version"),
    "sdkVersion": (40, "$sdk_version"),
    "deviceModel": (100, "$device_model"),
}
LOCALE_SPECIAL = {"en-001": "en", "en-150": "en", "en-us-posix": "en"}


def app_key(headers):
    """The `App-Key` header, upper-cased as Aptabase does. Missing: 401; not one we could have issued: 404."""
    key = (headers.get("app-key") or "").strip().upper()
    if not key:
        raise Unauthorized("missing App-Key header", [detail(None, "App-Key", "send the app's key, A-SH-##########")])
    if not APP_KEY.match(key):
        raise unknown_key()
    return key


def unknown_key():
    return NotFound("no app has this App-Key (it may have been rotated)", [detail(None, "App-Key", "unknown key")])


def events_of(body, single):
    if single:
        if not isinstance(body, dict):
            raise BadRequest("request body must be a JSON object", [detail(None, "body", "expected an object")])
        return [body]
    if not isinstance(body, list):
        raise BadRequest("request body must be a JSON array of events", [detail(None, "body", "expected an array")])
    if not body:
        raise BadRequest("the array of events is empty", [detail(None, "body", "send 1 to 25 events")])
    if len(body) > MAX_EVENTS:
        raise BadRequest(f"Too many events ({len(body)}) in a single request. Maximum is {MAX_EVENTS}.",
                         [detail(None, "body", f"at most {MAX_EVENTS} events per request")])
    return body


def event_time(value, now_ms):
    """-> (epoch ms, problem). Aptabase clamps future times to now and refuses those older than a day."""
    if not isinstance(value, str):
        return None, "must be an ISO-8601 string"
    try:
        ms, had_time = parse_iso(value)
    except (ValueError, OverflowError, OSError):
        return None, "must be ISO-8601 (e.g. 2024-03-20T10:00:00.000Z)"
    if not had_time:
        return None, "must be a date and time"
    if ms < now_ms - DAY_MS:
        return None, "Event is too old (more than a day)"
    return min(ms, now_ms), None


def session_id(value, now_ms):
    """-> (text, problem)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        return None, "is required: a string or a number"
    if value.isascii() and value.isdigit():
        if len(value) > 20:
            return None, "is not a valid numeric session id"
        started = int(value) // 100_000_000
        now_s = now_ms // 1000
        if started > now_s + SESSION_FUTURE_S:
            return None, "Future sessions are not allowed."
        if started < now_s - SESSION_PAST_S:
            return None, "Session is too old."
        return value, None
    if len(value) > MAX_SESSION_TEXT:
        return None, f"must be at most {MAX_SESSION_TEXT} characters"
    return value, None


def locale(value):
    """Aptabase's LocaleFormatter: lower case, '_' -> '-', and None for a shape it does not know."""
    if not value or value == "C":
        return None
    value = value.replace("_", "-").lower()
    if value in LOCALE_SPECIAL:
        return LOCALE_SPECIAL[value]
    if len(value) == 2 or (5 <= len(value) <= 7 and value[2] == "-") or \
            (len(value) == 10 and value[2] == "-" and value[7] == "-"):
        return value
    return None


def prop_value(value):
    """Aptabase keeps numbers, strings and booleans, and writes the rest as markers."""
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return "[Array]"
    if isinstance(value, dict):
        return "{Object}"
    return ""


def props(value, index, problems):
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = parse_json(value)
        except BadRequest:
            value = None
    if not isinstance(value, dict):
        problems.append(detail(index, "props", "must be an object or a valid stringified JSON object"))
        return {}
    for key in value:
        if not key.strip():
            problems.append(detail(index, "props", "Property key must not be empty."))
        elif len(key) > MAX_PROP_KEY:
            problems.append(detail(index, "props", f"property keys are at most {MAX_PROP_KEY} characters"))
    return {key: prop_value(item) for key, item in value.items()}


def system_props(value, index, problems):
    """-> (is_debug, {field: text}) of the systemProps object."""
    if not isinstance(value, dict):
        problems.append(detail(index, "systemProps", "is required: an object with sdkVersion"))
        return False, {}
    is_debug = value.get("isDebug", False)
    if is_debug is None:
        is_debug = False
    if not isinstance(is_debug, bool):
        problems.append(detail(index, "systemProps.isDebug", "must be true or false"))
    found = {}
    for field, (max_length, _) in SYSTEM_PROPS.items():
        text = value.get(field)
        if text is None or text == "":
            continue
        if not isinstance(text, str):
            problems.append(detail(index, f"systemProps.{field}", "must be a string"))
        elif len(text) > max_length:
            problems.append(detail(index, f"systemProps.{field}", f"must be at most {max_length} characters"))
        elif text.strip():
            found[field] = text.strip()
    if "sdkVersion" not in found:
        problems.append(detail(index, "systemProps.sdkVersion", "is required"))
    return is_debug is True, found


def to_track_event(raw, index, now_ms, app_id, user_id, web):
    """One Aptabase event -> (the /track event it means, problems). `app_id`: the key's app;
    `web`: (os name, browser name, browser version) from the User-Agent, used when no osName is sent (the web
    SDK's case, as Aptabase does); the User-Agent itself goes no further."""
    if not isinstance(raw, dict):
        return None, [detail(index, "event", "each event must be a JSON object")]
    problems = []
    name = raw.get("eventName")
    if not isinstance(name, str) or not name.strip():
        problems.append(detail(index, "eventName", "is required"))
    elif len(name) > MAX_EVENT_NAME:
        problems.append(detail(index, "eventName", f"must be at most {MAX_EVENT_NAME} characters"))
    ts, problem = event_time(raw.get("timestamp"), now_ms)
    if problem:
        problems.append(detail(index, "timestamp", problem))
    session, problem = session_id(raw.get("sessionId"), now_ms)
    if problem:
        problems.append(detail(index, "sessionId", problem))
    is_debug, system = system_props(raw.get("systemProps"), index, problems)
    properties = props(raw.get("props"), index, problems)
    if problems:
        return None, problems
    if "locale" in system:
        system["locale"] = locale(system["locale"])
    platform = system.get("osName")
    if not platform:
        os_name, browser, browser_version = web
        platform = "web"
        system.update({"$os_name": os_name, "engineName": system.get("engineName") or browser,
                       "engineVersion": system.get("engineVersion") or browser_version})
    # System properties are kept beside the app's own (their `$` names win a clash), so breakdowns reach them.
    for field, (_, kept_as) in SYSTEM_PROPS.items():
        if kept_as and system.get(field):
            properties[kept_as] = system[field]
    if system.get("$os_name"):
        properties["$os_name"] = system["$os_name"]
    event = {"event": name, "app_id": app_id, "debug": is_debug, "session_id": session,
             "user_id": user_id, "timestamp": ts / 1000, "platform": normalise_platform(platform),
             "app_version": system.get("appVersion"), "properties": properties or None}
    return event, []


def parse_body(text, single, now_ms, app_id, country, user_id=None, web=("", "", "")):
    """Body text -> (rows to store, dropped details). Raises a 4xx ApiError that stores nothing."""
    check_body_size(len(text.encode("utf-8", "surrogatepass")))
    events = events_of(parse_json(text), single)
    rows, dropped = [], []
    for index, raw in enumerate(events):
        event, problems = to_track_event(raw, index, now_ms, app_id, user_id, web)
        if not problems:
            row, problems = normalise_event(event, index, now_ms, country)
        if problems:
            dropped.extend(problems)
        else:
            rows.append(row)
    if dropped and (single or not rows):
        noun = "event is" if len(events) == 1 else "events are"
        raise BadRequest(f"{len({p['index'] for p in dropped})} of {len(events)} {noun} invalid; nothing was stored",
                         dropped[:100])
    return rows, dropped[:100]


# Aptabase's UserAgentParser, for web events: the OS and browser named, never the User-Agent kept.
UA_OS = (("ipad", "iPadOS"), ("iphone", "iOS"), ("ios", "iOS"), ("windows nt", "Windows"), ("mac os x", "macOS"),
         ("macos", "macOS"), ("macintosh", "macOS"), ("android", "Android"), ("cros", "ChromeOS"),
         ("linux", "Linux"))
# Aptabase's list, and headless Chrome (automation) named as such rather than left unnamed.
UA_BROWSERS = (("Edg", "Edge"), ("Firefox", "Firefox"), ("OPiOS", "Opera"), ("OPR", "Opera"),
               ("YaBrowser", "Yandex Browser"), ("HeadlessChrome", "Headless Chrome"))
UA_PRODUCT = re.compile(r"([A-Za-z]+)/([0-9][0-9.]*)")


def web_client(user_agent):
    """User-Agent -> (os name, browser name, browser version); '' for what it does not say."""
    text = (user_agent or "")[:512]
    lower = text.lower()
    os_name = next((name for key, name in UA_OS if key in lower), "")
    products = dict(UA_PRODUCT.findall(text))
    for key, name in UA_BROWSERS:
        if key in products:
            return os_name, name, products[key]
    if "Chrome" in products:
        return os_name, "Chrome", products["Chrome"]
    if "Safari" in products and "Version" in products:
        return os_name, "Safari", products["Version"]
    return os_name, "", ""
