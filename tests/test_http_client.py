"""The one HTTP client (graph/remote/http.py) against scripted servers on 127.0.0.1.

Each server answers from a script and records when each request arrived and what it carried, so
the tests assert on what the server saw (how many requests, how far apart), never on sleeps of
their own.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standin import running, silent_listener

from graph.errors import RemoteError, RemoteUnavailable
from graph.remote.http import HttpClient, RetryPolicy
from graph.remote.publish import WRITE_RETRIES


@dataclass
class Seen:
    at: float
    method: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Script:
    """Answers in order (the last one repeats): (status, headers), status 0 closing the
    connection without a word; and what arrived."""

    answers: list[tuple[int, dict[str, str]]]
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def next_answer(self) -> tuple[int, dict[str, str]]:
        return self.answers[min(len(self.seen), len(self.answers)) - 1]


@contextmanager
def scripted(*answers: tuple[int, dict[str, str]]) -> Iterator[Script]:
    script = Script(list(answers))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                script.seen.append(Seen(time.monotonic(), self.command, dict(self.headers), body))
                status, headers = script.next_answer()
            if status == 0:
                self.close_connection = True
                return
            if status == 401 and "Authorization" in self.headers:
                expected = base64.b64encode(b"alice:secret").decode()
                if self.headers["Authorization"] == f"Basic {expected}":
                    status, headers = 200, {}
            payload = b'{"ok": true}'
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    script.url = f"http://127.0.0.1:{server.server_port}/sparql"
    with running(server):
        yield script


@pytest.fixture
def silent_server() -> Iterator[tuple[str, list[socket.socket]]]:
    with silent_listener() as found:
        yield found


def test_a_503_with_retry_after_is_waited_for_then_answered():
    """Fails when the retry policy is off: the client would get the 503."""
    client = HttpClient(user_agent="kg-test", timeout=5, policy=RetryPolicy())
    with scripted((503, {"Retry-After": "1"}), (200, {})) as server:
        reply = client.request("POST", server.url, fields=[("query", "ASK {}")])
    assert reply.status == 200 and reply.attempts == 2 and client.sent == 2
    first, second = server.seen
    assert second.at - first.at >= 1.0  # the server's own clock: Retry-After was honoured
    assert first.body == second.body == b"query=ASK+%7B%7D"
    assert {s.headers["User-Agent"] for s in server.seen} == {"kg-test"}


def test_transient_statuses_are_retried_with_back_off_then_returned():
    waits: list[float] = []
    client = HttpClient(user_agent="t", timeout=5, sleep=waits.append,
                        policy=RetryPolicy(retries=3, backoff=0.5, max_wait=1.5))
    for status in (429, 502, 503, 504):
        waits.clear()
        with scripted((status, {})) as server:
            reply = client.request("GET", server.url)
        assert (reply.status, reply.attempts, len(server.seen)) == (status, 4, 4)
        assert waits == [0.5, 1.0, 1.5]  # doubled each time, capped at max_wait
    with scripted((500, {})) as server:  # not transient: one request
        assert client.request("GET", server.url).status == 500
    assert len(server.seen) == 1


def test_a_retry_after_beyond_max_wait_is_reported_not_waited():
    waits: list[float] = []
    client = HttpClient(user_agent="t", timeout=5, sleep=waits.append,
                        policy=RetryPolicy(max_wait=10))
    with scripted((429, {"Retry-After": "3600"})) as server:
        with pytest.raises(RemoteUnavailable, match="Retry-After 3600s is longer than 10s"):
            client.request("POST", server.url, fields=[("query", "ASK {}")])
    assert waits == [] and len(server.seen) == 1


def test_a_merge_post_is_not_sent_twice_but_a_put_is():
    with scripted((503, {})) as server:
        client = HttpClient(user_agent="t", timeout=5, sleep=lambda s: None, policy=WRITE_RETRIES)
        assert client.request("POST", server.url, body=b"x").status == 503
        assert len(server.seen) == 1
        assert client.request("PUT", server.url, body=b"x").status == 503
        assert len(server.seen) == 1 + 1 + WRITE_RETRIES.retries


def test_no_answer_is_a_timeout(silent_server):
    url, accepted = silent_server
    client = HttpClient(user_agent="t", timeout=0.3, policy=RetryPolicy(timeouts=False))
    started = time.monotonic()
    with pytest.raises(RemoteUnavailable, match=r"no answer within 0\.3s") as err:
        client.request("POST", url, fields=[("query", "ASK {}")])
    assert err.value.timed_out and err.value.attempts == 1
    assert time.monotonic() - started >= 0.3
    assert isinstance(err.value, RemoteError)  # a client of the site sees public_message only
    assert "127.0.0.1" not in err.value.public_message


def test_a_timeout_is_retried_when_the_policy_says_so(silent_server):
    url, _ = silent_server
    client = HttpClient(user_agent="t", timeout=0.2, sleep=lambda s: None,
                        policy=RetryPolicy(retries=2, backoff=0))
    with pytest.raises(RemoteUnavailable, match="after 3 attempt") as err:
        client.request("GET", url)
    assert err.value.timed_out and client.sent == 3


def test_a_broken_connection_is_retried_even_where_a_timeout_is_not():
    client = HttpClient(user_agent="t", timeout=5, sleep=lambda s: None,
                        policy=RetryPolicy(timeouts=False))
    with scripted((0, {}), (200, {})) as server:
        reply = client.request("POST", server.url, fields=[("query", "ASK {}")])
    assert (reply.status, reply.attempts, len(server.seen)) == (200, 2, 2)


def test_a_refused_connection_is_reported():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/"
    client = HttpClient(user_agent="t", timeout=1, sleep=lambda s: None,
                        policy=RetryPolicy(retries=1))
    with pytest.raises(RemoteUnavailable, match="cannot connect") as err:
        client.request("GET", url)
    assert not err.value.timed_out and err.value.attempts == 2


def test_credentials_go_only_when_asked_then_with_every_request():
    client = HttpClient(user_agent="t", timeout=5, credentials=("alice", "secret"))
    with scripted((401, {"WWW-Authenticate": 'Basic realm="gsp"'})) as server:
        assert client.request("PUT", server.url, body=b"a").status == 200
        assert client.request("PUT", server.url, body=b"b").status == 200
    assert ["Authorization" in s.headers for s in server.seen] == [False, True, True]
    wrong = HttpClient(user_agent="t", timeout=5, credentials=("alice", "wrong"))
    with scripted((401, {"WWW-Authenticate": 'Basic realm="gsp"'})) as server:
        assert wrong.request("PUT", server.url, body=b"a").status == 401
    assert len(server.seen) == 2  # answered the challenge once, then gave up
