"""Every error this project raises on purpose, in one place; the CLI renders its exit code and
the endpoint (endpoint/http/errors.py) its status and message.

Exit codes follow pySHACL's documented convention: 0 OK, 1 the data does not conform,
2 usage or runtime error. Exceptions that never leave their module (a parse budget running out,
a stream cut) stay private beside the code that raises and catches them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)


# -- The base ------------------------------------------------------------------------------------


class KGError(Exception):
    """Base class of every error this project raises on purpose."""

    status = 500
    exit_code = 2


# -- A query: what the reader and the engine refuse, and why a query did not finish --------------


class QuerySyntaxError(KGError):
    """A SPARQL query the parser rejects. The message starts with `line L, column C:`; when the
    position is known the error also carries it, the line itself and the one sentence saying
    what was expected (graph.sparql.syntax_errors), so every rendering can show the line with a
    caret."""

    status = 400

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        expected: str | None = None,
        source_line: str | None = None,
    ):
        super().__init__(message)
        self.line, self.column = line, column
        self.expected, self.source_line = expected, source_line

    def excerpt(self) -> str:
        """The line, numbered, with a caret under the column ('' when the place is unknown)."""
        if self.line is None or self.column is None or self.source_line is None:
            return ""
        number = f"{self.line} | "
        return f"{number}{self.source_line}\n{' ' * (len(number) + self.column - 1)}^"

    def details(self) -> dict[str, object]:
        """The located parts, for JSON callers (empty when the place is unknown)."""
        if self.line is None:
            return {}
        return {"line": self.line, "column": self.column, "expected": self.expected,
                "source_line": self.source_line, "excerpt": self.excerpt()}


class QueryLimitExceeded(KGError):
    """A query past a limit that keeps the engine from overflowing (nesting, path, patterns);
    the message names the limit and the setting that raises it."""

    status = 400


class QueryRefused(KGError):
    """A query that parses but is not allowed here (update, SERVICE off the allow-list...)."""

    status = 403


class QueryEvaluationFailed(KGError):
    """The query parsed but cannot be evaluated here (e.g. an unknown function)."""

    status = 400


class QueryTimeout(KGError):
    """A query that ran past the configured limit and was stopped."""

    status = 503


class HeavyLaneFull(QueryTimeout):
    """A query past the fast budget found no heavy slot in time: 503, try again later."""


class Logged:
    """An error whose `detail` (OS errors, paths, signals) is logged, never sent to a client."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)  # type: ignore[call-arg]
        self.detail = detail
        log.warning("%s [%s]", message, detail)


class QueryFailed(Logged, KGError):
    """The query process died or could not finish (a crash, a SERVICE endpoint or the store
    failing): 503, the server itself is fine and the next query gets a fresh process."""

    status = 503


class ConnectionDenied(Logged, QueryRefused):
    """The sandbox denied a network connection the query asked for (403)."""


# -- A request the endpoint cannot answer as asked -----------------------------------------------


class ProtocolError(KGError):
    """A request the SPARQL 1.1 Protocol does not allow: no query, two queries, a bad graph IRI."""

    status = 400


class RequestTooLarge(KGError):
    """A query (or a request body) longer than the configured cap."""

    status = 413


class UnsupportedMediaType(KGError):
    """A POST whose Content-Type the SPARQL protocol does not define."""

    status = 415


class UnknownFormat(KGError):
    """A format name, extension or media type we cannot read or write."""

    status = 406


class BadSearch(KGError):
    """A search or reconciliation request we cannot answer as asked."""

    status = 400


# -- What serving needs and does not have --------------------------------------------------------


class StoreMissing(KGError):
    """No built store where the settings point: run `kg build` first."""

    status = 503


class WorkerUnavailable(Logged, StoreMissing):
    """No query process could start: no store, or no sandbox (503)."""


class SandboxUnavailable(KGError):
    """The kernel cannot enforce the profile: the query process refuses to start."""

    status = 503


class SearchUnavailable(KGError):
    """No index next to the store (a remote backend, or a build from before the index)."""

    status = 503


# -- Other servers: the remote backend, publishing, linking --------------------------------------


class RemoteError(KGError):
    """The remote endpoint failed, refused us, or could not be reached.

    The message names the server and quotes its own error, for the operator (`kg query`,
    `kg publish` print it). A client of the site must not see either (an internal address, the
    backend's internals): the endpoint renders `public_message` instead and logs the message.
    """

    status = 502
    public_message = "the query backend failed to answer; the error has been logged"


class RemoteUnavailable(RemoteError):
    """No answer from another server for one request, after the retries: no connection, no
    answer in time (`timed_out`), a status that stayed transient or a Retry-After too long to
    wait (graph/remote/http.py). Its message names the server, so a client sees
    `public_message`."""

    def __init__(self, endpoint: str, reason: str, attempts: int, *, timed_out: bool = False):
        self.endpoint = endpoint
        self.reason = reason
        self.attempts = attempts
        self.timed_out = timed_out
        super().__init__(f"{endpoint}: {reason} (after {attempts} attempt(s))")


class PublishMismatch(KGError):
    """The server does not hold what we published: counts or checksums differ."""

    exit_code = 1


class PartialFailure(KGError):
    """Some requests failed after their retries; what succeeded was written and reported."""

    exit_code = 2


# -- The input data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One located problem in the input: a file position or a focus node, and what is wrong."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    focus: str | None = None
    path: str | None = None
    check: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        bits = []
        if self.focus:
            bits.append(f"focus <{self.focus}>")
        if self.path:
            bits.append(f"path {self.path}")
        if self.check:
            bits.append(f"[{self.check}]")
        prefix = (" ".join(bits) + ": ") if bits else ""
        return f"{where}{prefix}{self.message}"


class DataError(KGError):
    """Input that cannot be parsed or is inconsistent; carries every located problem found."""

    exit_code = 1

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ValidationFailed(DataError):
    """The data parsed but does not conform to the shapes or integrity checks."""


class UnsupportedShape(KGError):
    """The shapes use SHACL the compiled checks cannot evaluate; names the shape and the term."""
