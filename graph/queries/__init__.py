"""The SPARQL the application runs, read from .rq files in graph/queries/ (package data).

A .rq file starts with a comment header that says what it is for:

    # title: How many people were killed, according to each source?
    # description: one line or more
    # param: ?entity   (optional)
    # scope: dataset   (example queries: "dataset" or "entity", see below)

`scope` says how the query's cost may grow: an "entity" query asks about named
things and must cost O(answer) whatever the size of the store; a "dataset" query lists or
aggregates the whole dataset (every claim, every place...), so its answer and its cost grow with
the data by design. The benchmark flags an "entity" query that grows as a regression.

Queries may use our prefixes (kgo:, place:, schema:, ...) without PREFIX lines: `run` passes
them to the parser for the configured base IRI, so the same file works under any base.
Parameters are bound with pyoxigraph `substitutions` (never string formatting); a bound variable
must be projected (`SELECT ?entity ...` or `SELECT *`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, Store, Variable

from graph.config import DEFAULT_BASE_IRI
from graph.errors import KGError, QuerySyntaxError
from graph.namespaces import all_prefixes

_HEADER = re.compile(r"^#\s*(title|group|description|param|scope)\s*:\s*(.*?)\s*$")
SCOPES = ("entity", "dataset")


@dataclass(frozen=True)
class Query:
    name: str
    text: str
    title: str = ""
    description: str = ""
    params: tuple[str, ...] = field(default_factory=tuple)  # variable names without "?"
    scope: str = ""  # "entity" or "dataset" (see the module docstring); "" when not declared
    group: str = ""  # `# group:`: the query UI and the home page list examples by it

    def for_base(self, base_iri: str) -> Query:
        """The query under another base IRI.

        Example queries spell out PREFIX lines for the canonical base so that users can copy
        them into any SPARQL client; a deployment under another base rewrites that base.
        """
        if base_iri == DEFAULT_BASE_IRI:
            return self
        return replace(self, text=self.text.replace(DEFAULT_BASE_IRI, base_iri))


def parse_header(name: str, text: str) -> Query:
    """Read the `# title:`, `# group:`, `# description:` and `# param:` lines at the top."""
    title, description, params, scope, group = "", [], [], "", ""
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        m = _HEADER.match(line)
        if not m:
            continue
        key, value = m.groups()
        if key == "title":
            title = value
        elif key == "group":
            group = value
        elif key == "description":
            description.append(value)
        elif key == "scope":
            if value not in SCOPES:
                raise KGError(f"{name}: # scope: must be one of {', '.join(SCOPES)}, not {value!r}")
            scope = value
        else:
            params.extend(v.lstrip("?$") for v in value.split() if v[:1] in "?$")
    return Query(name, text, title, " ".join(description), tuple(params), scope, group)


def _queries_dir() -> Path:
    """graph/queries/, this package's own folder.

    Not importlib.resources: under the editable install the `kg` console script sees `graph` through
    setuptools' path finder, and `resources.files("graph")` then fails (NotADirectoryError).
    """
    return Path(__file__).resolve().parent


def load_query(name: str) -> Query:
    """A query by name: "stats_graphs" or "checks/claim-without-source-violation"."""
    res = _queries_dir() / f"{name.removesuffix('.rq')}.rq"
    if not res.is_file():
        raise KGError(f"no query named {name!r} in graph/queries/")
    return parse_header(name.removesuffix(".rq"), res.read_text(encoding="utf-8"))


def _folder(sub: str) -> list[Query]:
    folder = _queries_dir() / sub
    if not folder.is_dir():
        return []
    names = sorted(r.name for r in folder.glob("*.rq"))
    return [load_query(f"{sub}/{n}") for n in names]


def examples(base_iri: str = DEFAULT_BASE_IRI) -> list[Query]:
    """The example queries shown in the query UI, the home page and the README."""
    return [q.for_base(base_iri) for q in _folder("examples")]


def checks() -> list[Query]:
    """Integrity checks: each must return zero rows or the build fails."""
    return _folder("checks")


def query_prefixes(base_iri: str) -> dict[str, str]:
    """Every prefix a query may use undeclared; `kgbase:` and `kgid:` name our own namespaces."""
    return {**all_prefixes(base_iri), "kgbase": base_iri, "kgid": base_iri + "id/"}


def as_term(value: object):
    """A pyoxigraph term for a binding: terms pass through, other values become literals."""
    if isinstance(value, NamedNode | BlankNode | Literal):
        return value
    if isinstance(value, bool | int | float | str):
        return Literal(value)
    raise TypeError(f"cannot bind {value!r}: pass a NamedNode, Literal or plain value")


def run(
    store: Store,
    query: str | Query,
    *,
    base_iri: str = DEFAULT_BASE_IRI,
    union: bool = True,
    **bindings: object,
):
    """Run a named query (or a Query) with bindings; the default graph is the union by default."""
    q = (query if isinstance(query, Query) else load_query(query)).for_base(base_iri)
    subs = {Variable(k): as_term(v) for k, v in bindings.items()}
    try:
        return store.query(
            q.text,
            prefixes=query_prefixes(base_iri),
            use_default_graph_as_union=union,
            substitutions=subs or None,
        )
    except SyntaxError as err:
        raise _readable(q, str(err), base_iri) from None


def _readable(q: Query, engine_message: str, base_iri: str) -> QuerySyntaxError:
    """The reader's located message for a query the engine refused (never the engine's grammar
    dump); the engine's position and a plain sentence if the reader found nothing wrong."""
    from graph.sparql.reader import read
    from graph.sparql.syntax_errors import from_engine

    try:
        read(q.text, base_iri=base_iri, prefixes=query_prefixes(base_iri))
    except QuerySyntaxError as err:
        return err
    except KGError:
        pass
    return from_engine(q.text, engine_message)
