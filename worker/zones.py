"""IANA time zones inside the worker, through JavaScript's Intl: `zoneinfo` has no database under Pyodide."""
import re

from localtime import UTC

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*")
OFFSET = re.compile(r"GMT(?:([+-])(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?)?$")
MAX_CACHED = 100_000
# Per isolate: the dashboard asks several routes about the same range, and an isolate serves many requests.
_zones = {}
_offsets = {}


class IntlZone:
    def __init__(self, name, formatter):
        # The name as asked, not ICU's: ICU answers some links by their old names (Asia/Kolkata -> Asia/Calcutta).
        self.name = name
        self.formatter = formatter

    def offset_at(self, seconds):
        key = (self.name, seconds)
        if key not in _offsets:
            if len(_offsets) >= MAX_CACHED:
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


def resolve(name):
    """An IANA zone name -> a zone with `offset_at`; ValueError when the runtime does not know it."""
    if name.upper() == "UTC":
        return UTC
    if len(name) > 64 or not NAME.fullmatch(name):
        raise ValueError(name)
    if name not in _zones:
        if len(_zones) >= 1000:
            _zones.clear()
        _zones[name] = _intl_zone(name)
    return _zones[name]


def _intl_zone(name):
    from js import Intl, Object
    from pyodide.ffi import JsException, to_js

    options = to_js({"timeZone": name, "timeZoneName": "longOffset"}, dict_converter=Object.fromEntries)
    try:
        return IntlZone(name, Intl.DateTimeFormat.new("en-US", options))
    except JsException:
        raise ValueError(name) from None
