"""IANA time zones inside the worker, through JavaScript's Intl: `zoneinfo` has no database under Pyodide.

Per isolate, zones and their offsets are cached by the zone's canonical name (Intl's
resolvedOptions().timeZone), so every spelling of a zone (`eUrOpE/bErLiN`) shares one set of offsets
instead of paying ~50 ms of Intl calls each. Both caches are bounded.
"""
import re

from tz.localtime import UTC

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*")
OFFSET = re.compile(r"GMT(?:([+-])(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?)?$")
MAX_SPELLINGS = 1000
MAX_OFFSETS = 100_000
# Per isolate: the dashboard asks several routes about the same range, and an isolate serves many requests.
_by_spelling = {}  # name as asked -> IntlZone
_offsets = {}  # (canonical name, utc seconds) -> offset seconds


class IntlZone:
    def __init__(self, name, canonical, formatter):
        self.name = name
        self.canonical = canonical
        self.formatter = formatter

    def offset_at(self, seconds):
        key = (self.canonical, seconds)
        if key not in _offsets:
            if len(_offsets) >= MAX_OFFSETS:
                _offsets.clear()
            _offsets[key] = self._intl_offset(seconds)
        return _offsets[key]

    def _intl_offset(self, seconds):
        # One formatted string per call ("1/1/2024, GMT+05:45"): cheaper across the FFI than formatToParts.
        match = OFFSET.search(self.formatter.format(seconds * 1000))
        if match is None or match.group(1) is None:
            return 0
        sign = -1 if match.group(1) == "-" else 1
        hours, minutes, secs = (int(match.group(i) or 0) for i in (2, 3, 4))
        return sign * (hours * 3600 + minutes * 60 + secs)


def resolve(name, new_formatter=None):
    """An IANA zone name -> a zone with `offset_at`; ValueError when the runtime does not know it.

    `new_formatter(name)` -> an Intl.DateTimeFormat-like object (default: the runtime's Intl)."""
    if name.upper() == "UTC":
        return UTC
    if len(name) > 64 or not NAME.fullmatch(name):
        raise ValueError(name)
    if name not in _by_spelling:
        if len(_by_spelling) >= MAX_SPELLINGS:
            _by_spelling.clear()
        _by_spelling[name] = _zone(name, (new_formatter or _intl_formatter)(name))
    return _by_spelling[name]


def _zone(name, formatter):
    canonical = formatter.resolvedOptions().timeZone
    if canonical.upper() in ("UTC", "ETC/UTC"):
        return UTC
    return IntlZone(answered_name(name, canonical), canonical, formatter)


def answered_name(asked, canonical):
    """The name echoed in responses. ICU's canonical name fixes the case (eUrOpE/bErLiN -> Europe/Berlin),
    but ICU also answers some links by their old names (Asia/Kolkata -> Asia/Calcutta): keep what was asked then."""
    return canonical if asked.lower() == canonical.lower() else asked


def _intl_formatter(name):
    from js import Intl, Object
    from pyodide.ffi import JsException, to_js

    options = to_js({"timeZone": name, "timeZoneName": "longOffset"}, dict_converter=Object.fromEntries)
    try:
        return Intl.DateTimeFormat.new("en-US", options)
    except JsException:
        raise ValueError(name) from None
