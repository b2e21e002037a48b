"""Opaque keyset cursors for paginated listings: the sort key of the last row sent. Pure."""
import base64
import json

from errors import BadRequest, detail
from limits import MAX_BIND_INT


def encode(*key):
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def _fits(value, kind):
    if kind is int:
        return type(value) is int and abs(value) <= MAX_BIND_INT
    return isinstance(value, kind)


def decode(text, kinds=(int, int)):
    """Cursor text -> the key tuple, whose items must be of `kinds`. Anything not made by `encode` is a 400."""
    try:
        key = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if isinstance(key, list) and len(key) == len(kinds) and all(map(_fits, key, kinds)):
            return tuple(key)
    except (ValueError, TypeError, UnicodeDecodeError):
        pass
    raise BadRequest("'cursor' is not valid: pass back the next_cursor of a previous response",
                     [detail(None, "cursor", "malformed")])
