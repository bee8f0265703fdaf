"""The one HTTP client for outgoing requests: Wikidata and DBpedia (`kg link`, `kg enrich`), a
remote SPARQL backend (`kg serve --backend`, `kg query --backend`) and a Graph Store
(`kg publish`).

Built on urllib3: a PoolManager per client (connections kept alive between requests), explicit
connect and read timeouts, and urllib3's `Retry` for what is worth trying again. The policy
(`RetryPolicy`) is the caller's: how many retries, the back-off, the longest wait, which methods
may be repeated, and whether a request that timed out is retried. What counts as transient is
the same for all: a connection that failed or broke, and the statuses 429, 502, 503 and 504. A
`Retry-After` (seconds or an HTTP date) is waited for; one longer than the policy's `max_wait`
is not waited, nor cut short: the request is reported as failed.

Every failure to get an answer (no connection, no answer in time, a wait refused) is raised as
`RemoteUnavailable`, naming the URL for the operator; a status, whatever it is, comes back as
a `Reply` for the caller to judge. Credentials are sent only when the server asks (401): HTTP
Digest (Virtuoso's Graph Store) computed by the standard library's urllib.request, or Basic.
"""

from __future__ import annotations

import base64
import email.utils
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import takewhile
from typing import Any

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.util import Retry

from graph.errors import RemoteUnavailable

#: Statuses that mean "not now": worth retrying after a pause.
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
#: A SPARQL query changes nothing, so a query sent by POST may be sent again.
QUERY_METHODS = frozenset({"GET", "POST"})
#: Graph Store writes that replace or delete: sending one twice does what sending it once does.
IDEMPOTENT_WRITES = frozenset({"PUT", "DELETE"})
#: Seconds to open a connection, whatever the read timeout (a slow query is not a slow server).
CONNECT_TIMEOUT = 10.0
MAX_REDIRECTS = 5
#: Idle connections kept per server: the site's request threads share the backend's client.
POOL_SIZE = 32

Sleep = Callable[[float], None]


@dataclass(frozen=True)
class RetryPolicy:
    """How often to try again and how long to wait: exponential back-off (`backoff`, twice that,
    four times...) up to `max_wait`, unless the server says Retry-After. A Retry-After longer
    than `max_wait` is not waited for: the request is reported instead."""

    retries: int = 3
    backoff: float = 1.0
    max_wait: float = 120.0
    methods: frozenset[str] = QUERY_METHODS
    timeouts: bool = True  # retry a request that got no answer in time (False: report it)

    def retry(self, tally: _Tally) -> _Retry:
        """urllib3's Retry for one request, counting and sleeping through `tally`."""
        retry = _Retry(
            total=self.retries,
            redirect=MAX_REDIRECTS,
            status_forcelist=TRANSIENT_STATUSES,
            allowed_methods=self.methods,
            backoff_factor=self.backoff,
            backoff_max=self.max_wait,
            respect_retry_after_header=True,
            raise_on_status=False,  # the last answer comes back, for the caller to report
            raise_on_redirect=False,
        )
        retry.tally = tally
        retry.retry_timeouts = self.timeouts
        return retry


NO_RETRIES = RetryPolicy(retries=0)


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())


@dataclass
class _Tally:
    """One request's failed attempts and how it waits, shared by the Retry objects urllib3
    derives from one another."""

    sleep: Sleep
    failures: int = 0


class _Retry(Retry):
    """urllib3's Retry with our rules: the first retry already waits `backoff` (urllib3's first
    waits nothing); a Retry-After beyond `max_wait` ends the retries; every wait goes through
    the client's `sleep` (tests record them)."""

    tally: _Tally
    retry_timeouts: bool = True

    def new(self, **kw: Any) -> _Retry:
        retry = super().new(**kw)
        retry.tally, retry.retry_timeouts = self.tally, self.retry_timeouts
        return retry

    def increment(self, method=None, url=None, response=None, error=None, _pool=None,
                  _stacktrace=None) -> _Retry:
        self.tally.failures += 1
        if isinstance(error, ReadTimeoutError) and not self.retry_timeouts:
            raise MaxRetryError(_pool, url, error) from error  # a broken connection is retried
        if response is not None:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            if wait is not None and wait > self.backoff_max:
                raise MaxRetryError(_pool, url, ResponseError(f"Retry-After {wait:.0f}s"))
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def get_backoff_time(self) -> float:
        failed = list(takewhile(lambda h: h.redirect_location is None, reversed(self.history)))
        if not failed:
            return 0.0
        return min(self.backoff_max, self.backoff_factor * 2 ** (len(failed) - 1))

    def sleep_for_retry(self, response) -> bool:
        wait = parse_retry_after(response.headers.get("Retry-After"))
        if wait is None:
            return False
        self.tally.sleep(wait)
        return True

    def sleep(self, response=None) -> None:
        if response is None or not self.sleep_for_retry(response):
            self.tally.sleep(self.get_backoff_time())


@dataclass(frozen=True)
class Reply:
    """The final answer to a request (after any retries); `attempts` counts requests sent."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes
    attempts: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def text(self, limit: int = 1000) -> str:
        return self.body.decode("utf-8", "replace").strip()[:limit]


class HttpClient:
    """Requests with one User-Agent, timeouts, a retry policy and, if given, credentials.

    `sent` counts the HTTP requests actually sent (retries included), for reports and tests.
    Thread-safe: the site's request threads share the remote backend's client.
    """

    def __init__(
        self,
        *,
        user_agent: str,
        timeout: float,
        policy: RetryPolicy = NO_RETRIES,
        credentials: tuple[str, str] | None = None,
        sleep: Sleep = time.sleep,
    ):
        self.timeout = timeout
        self.policy = policy
        self.sent = 0
        self._headers = {"User-Agent": user_agent}
        self._sleep = sleep
        self._timeout = urllib3.Timeout(connect=min(timeout, CONNECT_TIMEOUT), read=timeout)
        self._pool = urllib3.PoolManager(timeout=self._timeout, maxsize=POOL_SIZE)
        self._auth = _Auth(*credentials) if credentials else None
        self._lock = threading.Lock()

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        fields: Iterable[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send, retrying as the policy says; `fields` go as an URL-encoded form (POST)."""
        headers = {**self._headers, **(headers or {})}
        if fields is not None:
            body = urllib.parse.urlencode(list(fields)).encode("ascii")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self._auth is not None:
            headers.update(self._auth.header(method, url, body))
        reply = self._send(method, url, body, headers)
        if reply.status == 401 and self._auth is not None:
            challenge = reply.headers.get("WWW-Authenticate", "")
            answer = self._auth.answer(challenge, method, url, body)
            if answer:
                reply = self._send(method, url, body, {**headers, **answer})
        return reply

    def _send(self, method: str, url: str, body: bytes | None, headers: dict) -> Reply:
        tally = _Tally(self._sleep)
        try:
            response = self._pool.request(
                method, url, body=body, headers=headers, retries=self.policy.retry(tally),
                preload_content=True,
            )
        except HTTPError as err:
            self._count(max(1, tally.failures))
            raise self._failure(url, err, max(1, tally.failures)) from None
        attempts = len(response.retries.history) + 1 if response.retries else 1
        self._count(attempts)
        reply = Reply(response.status, response.reason or "", response.headers, response.data,
                      attempts)
        if reply.status in TRANSIENT_STATUSES and method in self.policy.methods:
            wait = parse_retry_after(reply.headers.get("Retry-After"))
            if wait is not None and wait > self.policy.max_wait:
                reason = (f"HTTP {reply.status}; Retry-After {wait:.0f}s is longer than "
                          f"{self.policy.max_wait:.0f}s")
                raise RemoteUnavailable(url, reason, attempts)
        return reply

    def _count(self, attempts: int) -> None:
        with self._lock:
            self.sent += attempts

    def _failure(self, url: str, err: HTTPError, attempts: int) -> RemoteUnavailable:
        cause = err.reason if isinstance(err, MaxRetryError) and err.reason else err
        if isinstance(cause, NewConnectionError):  # a subclass of ConnectTimeoutError
            reason = str(cause).rpartition("Failed to establish a new connection: ")[2]
            return RemoteUnavailable(url, f"cannot connect: {reason}", attempts)
        if isinstance(cause, ReadTimeoutError | ConnectTimeoutError):
            return RemoteUnavailable(url, f"no answer within {self.timeout:g}s", attempts,
                                     timed_out=True)
        if isinstance(cause, ProtocolError):
            return RemoteUnavailable(url, f"connection broken: {cause}", attempts)
        return RemoteUnavailable(url, str(cause), attempts)


class _Auth:
    """Credentials sent in answer to the server's challenge (Digest or Basic), then with every
    request to the same server (a Digest nonce is reused with its count, as RFC 7616 allows;
    a server that refuses it challenges again and is answered once more)."""

    def __init__(self, user: str, password: str):
        self.user, self.password = user, password
        self._scheme = ""
        self._challenge: dict[str, str] = {}
        self._lock = threading.Lock()
        self._passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        self._digest = urllib.request.AbstractDigestAuthHandler(self._passwords)

    def header(self, method: str, url: str, body: bytes | None) -> dict[str, str]:
        with self._lock:
            if self._scheme == "basic":
                token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
                return {"Authorization": f"Basic {token}"}
            if self._scheme == "digest":
                request = urllib.request.Request(url, data=body, method=method)
                value = self._digest.get_authorization(request, self._challenge)
                return {"Authorization": f"Digest {value}"} if value else {}
            return {}

    def answer(self, challenge: str, method: str, url: str, body: bytes | None) -> dict[str, str]:
        """The Authorization header for a 401's WWW-Authenticate ({} if we cannot answer it)."""
        scheme, _, params = challenge.strip().partition(" ")
        with self._lock:
            self._passwords.add_password(None, url, self.user, self.password)
            if scheme.lower() == "digest":
                items = urllib.request.parse_http_list(params)
                self._scheme = "digest"
                self._challenge = urllib.request.parse_keqv_list(filter(None, items))
            elif scheme.lower() == "basic":
                self._scheme = "basic"
            else:
                return {}
        return self.header(method, url, body)
