"""A keep-alive HTTP/1.1 client on http.client: on 2 shared cores, `requests` would spend CPU the workers need."""
import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit


class BenchError(RuntimeError):
    pass


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def rows(self, name):
        """D1 rows read/written by the request, from the worker's x-d1-rows-* headers (0 when absent)."""
        return int(self.headers.get(f"x-d1-rows-{name}") or 0)


class Client:
    """One connection, reopened when the server closes it. Not thread-safe: one per thread."""

    def __init__(self, url, key, timeout=120):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.headers = {"X-API-KEY": key, "Content-Type": "application/json"}
        self.timeout = timeout
        self.connection = None

    def request(self, method, path, body=None):
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.connection.request(method, path, body=body, headers=self.headers)
                response = self.connection.getresponse()
                payload = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A keep-alive connection the server closed while idle: retry once on a fresh one.
                self.close()
                if attempt == 2:
                    raise
                continue
            headers = {name.lower(): value for name, value in response.getheaders()}
            return Reply(response.status, headers, payload)

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body=b""):
        return self.request("POST", path, body)

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def post_concurrently(url, key, bodies, threads, path="/track"):
    """POST every body from the iterator, `threads` connections at once; returns D1 rows written in total.

    Bodies are pulled one at a time under a lock, so a million events are never all in memory.
    """
    lock = threading.Lock()
    failed = threading.Event()
    iterator = iter(bodies)

    def send_until_exhausted():
        client = Client(url, key)
        written = 0
        try:
            while not failed.is_set():
                with lock:
                    body = next(iterator, None)
                if body is None:
                    break
                reply = client.post(path, body)
                if reply.status != 200:
                    failed.set()
                    raise BenchError(f"POST {path} answered {reply.status}: {reply.body[:300]!r}")
                written += reply.rows("written")
        finally:
            client.close()
        return written

    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(send_until_exhausted) for _ in range(threads)]
        return sum(future.result() for future in futures)
