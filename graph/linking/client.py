"""A polite SPARQL client for external datasets (Wikidata, DBpedia), over graph/remote/http.py.

Public endpoints ask three things of a client: say who you are (User-Agent), do not hammer
(a minimum interval between requests, few large requests rather than many small ones) and back
off when told (429/503 with Retry-After). This module does those and nothing else: what to ask
lives in graph/queries/link/*.rq, how to score answers in graph/linking/scoring.py. The retries
themselves (timeouts, 429/502/503/504, Retry-After up to `max_wait`) are the HTTP client's.

Batching: a query file holds one empty `VALUES (?a ?b) { }` block; `with_values` fills it with
rows rendered by pyoxigraph's own N-Triples serialisation of each term (which escapes quotes,
backslashes and newlines), so N entities cost ceil(N / batch) requests and no value can change
the query's structure. A failure that survives the retries is raised as `RemoteUnavailable`,
which callers report per batch without stopping the run.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence

from pyoxigraph import BlankNode, Literal, NamedNode, QueryResultsFormat, parse_query_results

from graph.errors import RemoteUnavailable
from graph.remote.http import TRANSIENT_STATUSES, HttpClient, RetryPolicy

RESULTS_JSON = "application/sparql-results+json"

Term = NamedNode | Literal | BlankNode
Row = dict[str, Term]

_VALUES_BLOCK = re.compile(r"VALUES\s*(\?\w+|\((?:\s*\?\w+)+\s*\))\s*\{\s*\}", re.IGNORECASE)


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
        self.min_interval = min_interval
        self._http = HttpClient(user_agent=user_agent, timeout=timeout,
                                policy=policy or RetryPolicy(), sleep=sleep)
        self._sleep = sleep
        self._clock = clock
        self._last: float | None = None

    @property
    def requests(self) -> int:
        return self._http.sent

    def select(self, query: str) -> list[Row]:
        """Run a SELECT; each solution becomes {variable name: term} for its bound variables."""
        self._throttle()
        reply = self._http.request("POST", self.endpoint, fields=[("query", query)],
                                   headers={"Accept": RESULTS_JSON})
        if not reply.ok:
            reason = f"HTTP {reply.status}"
            if reply.status not in TRANSIENT_STATUSES:  # the server's own words, first line
                reason += f" {reply.reason}: {_first_line(reply.text(200))}"
            raise RemoteUnavailable(self.endpoint, reason, reply.attempts)
        return _parse_solutions(self.endpoint, reply.body, reply.attempts)

    def _throttle(self) -> None:
        if self._last is not None:
            wait = self.min_interval - (self._clock() - self._last)
            if wait > 0:
                self._sleep(wait)
        self._last = self._clock()


def _parse_solutions(endpoint: str, body: bytes, attempts: int) -> list[Row]:
    try:
        solutions = parse_query_results(body, format=QueryResultsFormat.JSON)
    except SyntaxError as e:
        reason = f"unreadable results: {_first_line(str(e))}"
        raise RemoteUnavailable(endpoint, reason, attempts) from None
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
