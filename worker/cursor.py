"""Opaque keyset cursors for newest-first listings. Pure."""
import base64
import json

from errors import BadRequest, detail


def encode(ts, row_id):
    return base64.urlsafe_b64encode(json.dumps([ts, row_id]).encode()).decode().rstrip("=")


def decode(text):
    """Cursor text -> (ts, id). Anything not made by `encode` is a 400."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        ts, row_id = json.loads(raw)
        # Pyodide binds ints beyond 2**53 as JS BigInt, which D1 rejects (a 500): refuse them here.
        if type(ts) is int and type(row_id) is int and max(abs(ts), abs(row_id)) <= 2**52:
            return ts, row_id
    except (ValueError, TypeError, UnicodeDecodeError):
        pass
    raise BadRequest("'cursor' is not valid: pass back the next_cursor of a previous response",
                     [detail(None, "cursor", "malformed")])
