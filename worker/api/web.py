"""Runtime-neutral request and response types, so routing and handlers stay testable."""
import json
import math
from urllib.parse import parse_qsl, urlsplit

from errors import PayloadTooLarge, UnsupportedMediaType, detail
from limits import ascii_int


class Request:
    """`body`: None, or the upload: `async read(max_bytes) -> bytes` (PayloadTooLarge as soon as more than
    max_bytes arrive) and `async discard()` (drop whatever is left, unread)."""

    def __init__(self, method, url, headers, body=None, cf_country=None, client_ip=None):
        parts = urlsplit(url)
        self.method = method.upper()
        self.path = parts.path.rstrip("/") or "/"
        # A repeated parameter keeps its first value in `query`; `query_lists` has every value, in order.
        self.query = {}
        self.query_lists = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            self.query.setdefault(name, value)
            self.query_lists.setdefault(name, []).append(value)
        self.headers = {name.lower(): value for name, value in headers.items()}
        self.body = body
        self.cf_country = cf_country
        self.client_ip = client_ip
        # The route's cap on the upload; 0 (the default) reads nothing.
        self.max_body_bytes = 0
        self._text = None

    def header(self, name):
        return self.headers.get(name.lower())

    async def text(self):
        """The body as text, read once, never past `max_body_bytes` (413 as soon as it is passed)."""
        if self._text is None:
            check_declared_length(self.headers, self.max_body_bytes)
            data = await self.body.read(self.max_body_bytes) if self.body is not None else b""
            # Like the runtime's own Request.text(): a UTF-8 BOM is dropped, bad bytes become U+FFFD.
            self._text = data.decode("utf-8-sig", "replace")
        return self._text


class StreamBody:
    """The upload, read chunk by chunk from a JS ReadableStream and counted as it arrives, so a 50 MiB
    chunked upload without Content-Length costs at most the cap, never the whole body.

    `new_sink`: makes a JS WritableStream to drop leftovers into (local wrangler, see `discard`), or None."""

    def __init__(self, stream, new_sink=None):
        self.stream = stream
        self.new_sink = new_sink
        self.fully_read = False

    async def read(self, max_bytes):
        reader = self.stream.getReader()
        chunks, size = [], 0
        while True:
            chunk = await reader.read()
            if chunk.done:
                self.fully_read = True
                return b"".join(chunks)
            size += chunk.value.byteLength
            if size > max_bytes:
                reader.releaseLock()  # discard() deals with the rest
                raise too_large(max_bytes)
            chunks.append(chunk.value.to_bytes())

    async def discard(self):
        """Give up on what is left of the upload without reading it into Python."""
        if self.fully_read or self.stream.locked:
            return
        try:
            if self.new_sink is not None:
                # Local wrangler's proxy stalls the connection's next response, or answers 503 itself, when an
                # upload is left unread, and cancelling the stream does not help: drop the bytes in JS instead.
                await self.stream.pipeTo(self.new_sink())
            else:
                await self.stream.cancel()
        except Exception:  # noqa: BLE001 - a broken upload must not cost the client its answer
            pass
        self.fully_read = True


def too_large(limit, size=None):
    told = f"is {size} bytes" if size is not None else "is larger"
    return PayloadTooLarge(f"request body {told}; the limit is {limit} bytes", [detail(None, "body", "too large")])


def check_declared_length(headers, limit):
    length = headers.get("content-length") or ""
    declared = ascii_int(length, 18, too_long=math.inf)
    if declared is not None and declared > limit:
        raise too_large(limit, length if declared != math.inf else None)


def load_stored_json(text):
    """JSON text from the database -> a value that serialises as standard JSON.

    Rows stored before non-finite numbers were refused may hold `Infinity`/`NaN` (or 1e400, which
    parses as inf): they come back as strings instead of breaking the whole page."""
    return json.loads(text, parse_constant=str, parse_float=_finite_or_text)


def _finite_or_text(token):
    value = float(token)
    return value if math.isfinite(value) else token


class Response:
    def __init__(self, status, payload=None, headers=None):
        self.status = status
        # allow_nan=False: a bare NaN/Infinity token makes JS, Go and jq refuse the whole body.
        self.body = "" if payload is None else json.dumps(payload, ensure_ascii=False, allow_nan=False)
        self.headers = {"content-type": "application/json; charset=utf-8"} if payload is not None else {}
        self.headers.update(headers or {})


def ok(payload, status=200):
    return Response(status, payload)


def ok_with_rows(payload, key, row_texts):
    """ok(payload) with `key` (last) an array of rows D1 built as JSON text (json_object): spliced, not parsed and
    serialised again, which cost Pyodide ~7 ms a 50-event page. Each text must be one JSON value from D1's JSON
    functions (their strings escaped, their embedded JSON checked by json_valid)."""
    return ok_with_json(payload, key, "[" + ",".join(row_texts) + "]")


def ok_with_json(payload, key, json_text):
    """ok(payload) with `key` (last) a JSON text D1 built with its JSON functions (json_group_array of a whole
    result: one row, one string for Pyodide to move), spliced as it is."""
    response = Response(200, payload)
    head = response.body[:-1] + (", " if payload else "")
    response.body = head + json.dumps(key) + ": " + json_text + "}"
    return response


def check_content_type(headers):
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    # A missing type is accepted (some HTTP clients omit it); a wrong one is a client bug.
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, not {content_type[:60]}",
            [detail(None, "content-type", "send Content-Type: application/json")],
        )
