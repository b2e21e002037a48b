"""How the SDK reads the worker's answers, including against a tiny local HTTP server that misbehaves."""
import http.server
import json
import threading
import tracemalloc

import pytest

from oddlytics.transport import (MAX_BODY_BYTES, MAX_RESPONSE_BYTES, Delivered, Refused, Rejected, Retry, Split,
                                 encoded_size, fit_body, https_upgrade, outcome_for, post_batch)


def body(**fields):
    return json.dumps(fields).encode()


def test_success_reports_stored_and_duplicates():
    assert outcome_for(200, body(success=True, count=3, duplicates=2)) == Delivered(3, 2)


def test_success_with_odd_body_is_still_delivered():
    assert outcome_for(200, b"<html>") == Delivered(0, 0)


def test_server_errors_and_rate_limits_are_retried_and_only_5xx_count_against_the_batch():
    assert outcome_for(503, body(error="schema not applied")) == Retry("HTTP 503: schema not applied", None, True)
    assert outcome_for(429, b"", "7") == Retry("HTTP 429: HTTP 429", 7.0, False)
    assert outcome_for(408, b"") == Retry("HTTP 408: HTTP 408", None, False)


def test_invalid_events_are_named_by_index():
    details = [{"index": 1, "field": "event", "message": "must not be empty"},
               {"index": 3, "field": "properties", "message": "too big"}]
    outcome = outcome_for(400, body(success=False, error="2 of 4 events are invalid", details=details))
    assert isinstance(outcome, Rejected) and outcome.indices == frozenset({1, 3})
    assert "event 1 event must not be empty" in outcome.reason


def test_a_refusal_of_the_whole_body_splits_the_batch():
    too_big = [{"index": None, "field": "body", "message": "too large"}]
    assert outcome_for(413, body(error="too big", details=too_big)) == Split("HTTP 413: too big")
    over_limit = [{"index": None, "field": "events", "message": "at most 100 events per request"}]
    assert isinstance(outcome_for(400, body(error="batch has 250 events", details=over_limit)), Split)
    assert isinstance(outcome_for(400, body(details=[{"index": True}])), Split)


@pytest.mark.parametrize("status, error", [(401, "invalid API key"), (403, "may not send events"),
                                           (404, "not found"), (405, "method not allowed"), (415, "json only")])
def test_configuration_errors_keep_the_events(status, error):
    assert outcome_for(status, body(error=error)) == Refused(f"HTTP {status}: {error}")


@pytest.mark.parametrize("location, upgrade", [
    ("https://worker.example/api/track", "https://worker.example/api"),
    ("https://worker.example:8443/api/track", "https://worker.example:8443/api"),
    ("https://evil.example/api/track", None),        # another host never gets the key
    ("https://worker.example/other/track", None),    # another path is not an upgrade
    ("http://worker.example/api/track", None),       # not to https
    ("https://user:pw@worker.example/api/track", None),
    ("/api/track", None),                             # relative: still http
    (None, None),
])
def test_only_a_same_host_same_path_move_to_https_is_an_upgrade(location, upgrade):
    assert https_upgrade("http://worker.example/api/track", location) == upgrade
    outcome = outcome_for(301, b"", None, "http://worker.example/api/track", location)
    assert isinstance(outcome, Refused) and outcome.https_url == upgrade


def test_an_https_request_redirected_is_never_an_upgrade():
    assert https_upgrade("https://worker.example/track", "https://worker.example/track") is None


def test_encoded_size_matches_the_request_body():
    events = [{"event": "é", "n": 1, "p": {"a": [1, 2]}}, {"event": "x"}]
    sent = json.dumps({"events": events}, separators=(",", ":")).encode()
    assert len('{"events":[]}') + sum(encoded_size(e) for e in events) + 1 == len(sent)


def test_fit_body_cuts_before_the_limit_but_always_sends_one():
    assert fit_body([100, 100, 100], limit=250) == 2
    assert fit_body([100, 100, 100], limit=10_000) == 3
    assert fit_body([5_000, 1], limit=1_000) == 1
    assert fit_body([MAX_BODY_BYTES // 2] * 3) == 1


# --- against a local HTTP server ------------------------------------------------------------

class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers with `self.server.answer(handler)`; records each request's method, path and key."""

    def do_POST(self):
        self._handle()

    def do_GET(self):
        self._handle()

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.seen.append((self.command, self.path, self.headers.get("X-API-KEY")))
        status, headers, chunks = self.server.answer(self)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        try:
            for chunk in chunks:
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: what these tests want

    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    servers = []

    def start(answer, host="127.0.0.1"):
        server = http.server.ThreadingHTTPServer((host, 0), Recorder)
        server.daemon_threads = True
        server.answer = answer
        server.seen = []
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return server, f"http://{host}:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def redirect_to(target, status=301):
    return lambda handler: (status, [("Location", target), ("Content-Length", "0")], [])


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_host_never_receives_the_key(serve, status):
    other, other_url = serve(lambda handler: (200, [("Content-Length", "2")], [b"{}"]))
    _, url = serve(redirect_to(other_url.replace("127.0.0.1", "localhost") + "/track", status))
    outcome = post_batch(url, "secret-key", [{"event": "x"}], timeout=5)
    assert isinstance(outcome, Refused) and outcome.https_url is None
    assert "redirects to" in outcome.reason and str(status) in outcome.reason
    assert other.seen == []


def test_a_same_host_https_redirect_is_reported_as_an_upgrade_without_following_it(serve):
    server, url = serve(redirect_to("https://127.0.0.1/track"))
    outcome = post_batch(url, "secret-key", [{"event": "x"}], timeout=5)
    assert outcome.https_url == "https://127.0.0.1"
    assert [method for method, _, _ in server.seen] == ["POST"]


def huge_body(status, megabytes=64):
    chunk = b"x" * (1 << 20)
    return lambda handler: (status, [("Content-Length", str(megabytes << 20))], (chunk for _ in range(megabytes)))


@pytest.mark.parametrize("status, expected", [(200, Delivered), (500, Retry), (401, Refused)])
def test_a_huge_answer_is_not_read_into_memory(serve, status, expected):
    _, url = serve(huge_body(status))
    tracemalloc.start()
    try:
        outcome = post_batch(url, "k", [{"event": "x"}], timeout=30)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(outcome, expected)
    assert peak < 8 * MAX_RESPONSE_BYTES + (1 << 20)


def test_unreachable_worker_is_a_retry():
    outcome = post_batch("http://127.0.0.1:9", "k", [{"event": "x"}], timeout=2)
    assert isinstance(outcome, Retry) and "Connection" in outcome.reason and not outcome.server_error
