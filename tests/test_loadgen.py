"""The benchmark's load generator: loopback only, and `unique` really defeats caches.

The uncached-lookup workload of bench/http.py is only honest if no two of its requests share a
URL (a result cache keyed on the query text would answer repeats from memory). This pins that,
for the Python client, against a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import threading

import pytest

from bench import loadgen


@pytest.fixture()
def recorder():
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 (http.server's naming)
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    server.server_close()


def test_unique_requests_never_repeat_a_url(recorder):
    url, seen = recorder
    result = loadgen.run(f"{url}/sparql?query=ASK%7B%7D", 3, 0.5, prefer_wrk=False, unique=True)
    assert result.requests == len(seen) > 3
    assert len(set(seen)) == len(seen)
    assert all(p.startswith("/sparql?query=ASK%7B%7D%0A%23") for p in seen)


def test_plain_requests_repeat_the_same_url(recorder):
    url, seen = recorder
    loadgen.run(f"{url}/x", 2, 0.3, prefer_wrk=False)
    assert set(seen) == {"/x"}


def test_refuses_a_host_that_is_not_loopback():
    with pytest.raises(ValueError, match="loopback"):
        loadgen.run("http://example.org/sparql", 1, 0.1, prefer_wrk=False)
