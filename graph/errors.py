"""One taxonomy of domain errors, rendered by the CLI (exit codes) and the endpoint (statuses).

Exit codes follow pySHACL's documented convention: 0 OK, 1 the data does not conform,
2 usage or runtime error.
"""

from __future__ import annotations

from dataclasses import dataclass


class KGError(Exception):
    """Base class of every error this project raises on purpose."""

    status = 500
    exit_code = 2


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


class QueryTimeout(KGError):
    """A query that ran past the configured limit and was stopped."""

    status = 503


class UnknownFormat(KGError):
    """A format name, extension or media type we cannot read or write."""

    status = 406


class EntityNotFound(KGError):
    status = 404


class StoreMissing(KGError):
    """No built store where the settings point: run `kg build` first."""

    status = 503


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
