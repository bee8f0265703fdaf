"""A polite SPARQL client for external datasets (Wikidata, DBpedia), built on SPARQLWrapper.

Public endpoints ask three things of a client: say who you are (User-Agent), do not hammer
(a minimum interval between requests, few large requests rather than many small ones) and back
off when told (429/503 with Retry-After). This module does those and nothing else: what to ask
lives in graph/queries/link/*.rq, how to score answers in graph/linking/scoring.py.

Batching: a query file holds one empty `VALUES (?a ?b) { }` block; `with_values` fills it with
rows rendered by pyoxigraph's own N-Triples serialisation of each term (which escapes quotes,
backslashes and newlines), so N entities cost ceil(N / batch) requests and no value can change
the query's structure. A failure that survives the retries is raised as `RemoteUnavailable`,
which callers report per batch without stopping the run.
"""

from __future__ import annotations

import email.utils
import http.client
import re
import socket
import time
import urllib.error
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass

from pyoxigraph import BlankNode, Literal, NamedNode, QueryResultsFormat, parse_query_results
from SPARQLWrapper import JSON, POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from graph.errors import RemoteUnavailable

Term = NamedNode | Literal | BlankNode
Row = dict[str, Term]

#: Statuses that mean "not now": worth retrying after a pause.
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})

_VALUES_BLOCK = re.compile(r"VALUES\s*(\?\w+|\((?:\s*\?\w+)+\s*\))\s*\{\s*\}", re.IGNORECASE)


class _Transient(Exception):
    """One failed attempt that may succeed later; `wait` is the server's Retry-After, if any."""

    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait: exponential back-off unless the server says Retry-After.

    A Retry-After longer than `max_wait` is not waited for: the request is reported instead.
    """

    retries: int = 3
    backoff: float = 1.0
    max_wait: float = 120.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        return min(self.backoff * (2**attempt), self.max_wait)


def read_link_query(name: str) -> str:
    """The text of graph/queries/link/<name>.rq, through the one loader of .rq files."""
    from graph.queries import load_query

    return load_query(f"link/{name}").text


def with_values(query: str, rows: Iterable[Sequence[Term | None]]) -> str:
    """Fill the query's single empty VALUES block with rows (None is UNDEF)."""
    matches = list(_VALUES_BLOCK.finditer(query))
    if len(matches) != 1:
        raise ValueError(f"expected exactly one empty VALUES block, found {len(matches)}")
    match = matches[0]
    width = len(re.findall(r"\?\w+", match.group(1)))
    lines = []
    for row in rows:
        if len(row) != width:
            raise ValueError(f"VALUES row has {len(row)} terms, the block declares {width}")
        cells = " ".join("UNDEF" if t is None else str(t) for t in row)
        lines.append(f"    ({cells})" if match.group(1).startswith("(") else f"    {cells}")
    block = f"VALUES {match.group(1)} {{\n" + "\n".join(lines) + "\n  }"
    return query[: match.start()] + block + query[match.end() :]


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


class SparqlClient:
    """SELECT queries against one endpoint, with timeout, retries, back-off and a rate limit.

    `requests` counts HTTP requests actually sent (retries included), for reports and tests.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        user_agent: str,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        min_interval: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.endpoint = endpoint
        self.user_agent = user_agent
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.min_interval = min_interval
        self.requests = 0
        self._sleep = sleep
        self._clock = clock
        self._last: float | None = None

    def select(self, query: str) -> list[Row]:
        """Run a SELECT; each solution becomes {variable name: term} for its bound variables."""
        attempt = 0
        while True:
            try:
                body = self._send(query)
                return _parse_solutions(body)
            except _Transient as failure:
                if attempt >= self.policy.retries:
                    raise RemoteUnavailable(self.endpoint, failure.reason, attempt + 1) from None
                delay = self.policy.delay(attempt, failure.wait)
                if delay > self.policy.max_wait:
                    raise RemoteUnavailable(
                        self.endpoint,
                        f"{failure.reason}; Retry-After {delay:.0f}s is longer than "
                        f"{self.policy.max_wait:.0f}s",
                        attempt + 1,
                    ) from None
                self._sleep(delay)
                attempt += 1

    def _throttle(self) -> None:
        if self._last is not None:
            wait = self.min_interval - (self._clock() - self._last)
            if wait > 0:
                self._sleep(wait)
        self._last = self._clock()

    def _wrapper(self, query: str) -> SPARQLWrapper:
        sparql = SPARQLWrapper(self.endpoint, agent=self.user_agent)
        sparql.setMethod(POST)
        sparql.setReturnFormat(JSON)
        sparql.timeout = self.timeout  # setTimeout() truncates to int: 0.5 s would mean none
        sparql.setQuery(query)
        return sparql

    def _send(self, query: str) -> bytes:
        """One HTTP request; transient failures become _Transient, the rest RemoteUnavailable."""
        self._throttle()
        self.requests += 1
        try:
            with closing(self._wrapper(query).query().response) as response:
                return response.read()
        except urllib.error.HTTPError as e:
            e.close()  # it holds the connection
            if e.code in TRANSIENT_STATUSES:
                wait = parse_retry_after(e.headers.get("Retry-After") if e.headers else None)
                raise _Transient(f"HTTP {e.code}", wait) from None
            raise RemoteUnavailable(self.endpoint, f"HTTP {e.code} {e.reason}", 1) from None
        except SPARQLWrapperException as e:
            if isinstance(e.__context__, urllib.error.HTTPError):
                e.__context__.close()
            raise RemoteUnavailable(self.endpoint, _first_line(str(e)), 1) from None
        except TimeoutError:
            raise _Transient(f"no answer within {self.timeout:g}s") from None
        except urllib.error.URLError as e:
            if isinstance(e.reason, TimeoutError | socket.timeout):
                raise _Transient(f"no answer within {self.timeout:g}s") from None
            raise RemoteUnavailable(self.endpoint, f"cannot connect: {e.reason}", 1) from None
        except (http.client.HTTPException, ConnectionError) as e:
            raise _Transient(f"connection broken: {e.__class__.__name__}") from None


def _parse_solutions(body: bytes) -> list[Row]:
    try:
        solutions = parse_query_results(body, format=QueryResultsFormat.JSON)
    except SyntaxError as e:
        raise _Transient(f"unreadable results: {_first_line(str(e))}") from None
    names = [v.value for v in solutions.variables]
    rows = []
    for solution in solutions:
        row = {name: solution[name] for name in names if solution[name] is not None}
        rows.append(row)
    return rows


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else "error"


def batched(items: Sequence, size: int) -> Iterable[Sequence]:
    for start in range(0, len(items), max(1, size)):
        yield items[start : start + size]
