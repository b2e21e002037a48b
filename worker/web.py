"""Runtime-neutral request and response types, so routing and handlers stay testable."""
import json
from urllib.parse import parse_qsl, urlsplit


class Request:
    def __init__(self, method, url, headers, read_text, cf_country=None, discard_body=None):
        parts = urlsplit(url)
        self.method = method.upper()
        self.path = parts.path.rstrip("/") or "/"
        # A repeated parameter keeps its first value.
        self.query = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            self.query.setdefault(name, value)
        self.headers = {name.lower(): value for name, value in headers.items()}
        self._read_text = read_text
        self.cf_country = cf_country
        self._discard_body = discard_body

    async def discard_body(self):
        """Consume an unread body before answering early (e.g. 413)."""
        if self._discard_body is not None:
            await self._discard_body()

    def header(self, name):
        return self.headers.get(name.lower())

    async def text(self):
        return await self._read_text()


class Response:
    def __init__(self, status, payload=None, headers=None):
        self.status = status
        self.body = "" if payload is None else json.dumps(payload, ensure_ascii=False)
        self.headers = {"content-type": "application/json; charset=utf-8"} if payload is not None else {}
        self.headers.update(headers or {})


def ok(payload, status=200):
    return Response(status, payload)
