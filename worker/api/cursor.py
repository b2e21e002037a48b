"""Opaque keyset cursors for paginated listings: the sort key of the last row sent. Pure."""
import base64
import json

from errors import BadRequest, detail
from limits import MAX_BIND_INT


def encode(*key):
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


# Text in a key is an id (at most 255 characters, no NUL, as /track stores them).
MAX_TEXT = 255
# The longest cursor `encode` makes for a (time, id) key: JSON spells a character outside ASCII in 6 characters
# ("\u00e9"), or 12 beyond the Basic Multilingual Plane (a surrogate pair); base64 takes 4 characters for 3 bytes.
# A cursor the API gave must be accepted back.
MAX_LENGTH = 4 * (len(json.dumps([-MAX_BIND_INT, "\U0010ffff" * MAX_TEXT])) + 2) // 3 + 4


def _encodes(text):
    """No lone surrogates (JSON's "\\ud800"): they cannot be bound."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _fits(value, kind):
    if kind is int:
        return type(value) is int and abs(value) <= MAX_BIND_INT
    if kind is str:
        return isinstance(value, str) and len(value) <= MAX_TEXT and "\x00" not in value and _encodes(value)
    return isinstance(value, kind)


def decode(text, kinds=(int, int), name="cursor"):
    """Cursor text -> the key tuple, whose items must be of `kinds`. Anything not made by `encode` is a 400
    naming the parameter `name`."""
    try:
        key = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if isinstance(key, list) and len(key) == len(kinds) and all(map(_fits, key, kinds)):
            return tuple(key)
    except (ValueError, TypeError, UnicodeDecodeError):
        pass
    raise BadRequest(f"'{name}' is not valid: pass back the next cursor of a previous response",
                     [detail(None, name, "malformed")])
