"""One reader of SPARQL text, built on a real parser (rdflib's SPARQL 1.1 grammar).

Everything the endpoint and the remote backend need to know about a query before an engine sees
it comes from here: its form, every SERVICE it calls, its dataset clauses, how deeply it nests,
its longest property path, how many triple patterns it has, and where text can be added to it
(the rewriting itself is `graph.query_rewrite`). It replaces two hand-written lexers that
disagreed with the grammar and with each other about where strings, IRIs and comments begin.

The parser is not the security barrier: the query processes cannot open connections (the OS
sandbox of the endpoint). The reader lets the endpoint refuse early with a clear message, and
its verdicts are checked against Oxigraph's on the W3C syntax tests and on generated queries
(tests/test_query_reader.py). Parsing costs about a millisecond per small query, so results are
kept in an LRU keyed by a hash of the text, the base IRI and the prefixes.

Limits: rdflib's parser recurses about 30 Python frames per nesting level, so the process
recursion limit is raised once, modestly (`RECURSION_LIMIT`), to read `NESTING_CEILING` levels;
a query nested deeper fails the parse with RecursionError, which is reported as the nesting
limit. The other limits are measured on the parse and checked by `check_limits`.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from dataclasses import dataclass

from cachetools import LRUCache
from pyparsing import ParseBaseException
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import URIRef

from graph.errors import QueryLimitExceeded, QuerySyntaxError
from graph.query_grammar import SERVICE, LocatedVariable, ParseBudgetExceeded, grammar
from graph.query_grammar import budget as grammar_budget
from graph.query_iris import resolve, unescape_local

NESTING_CEILING = 160  # the deepest nesting the parser is given the stack to read
RECURSION_LIMIT = 40 * NESTING_CEILING + 1000
if sys.getrecursionlimit() < RECURSION_LIMIT:
    sys.setrecursionlimit(RECURSION_LIMIT)

QUERY_FORMS = {
    "SelectQuery": "SELECT",
    "ConstructQuery": "CONSTRUCT",
    "DescribeQuery": "DESCRIBE",
    "AskQuery": "ASK",
}
# nodes that open a nesting level: a group `{}`, a subquery, an expression `()`, a path `()`
NESTING_NODES = frozenset(
    {"GroupGraphPatternSub", "SubSelect", "ConditionalOrExpression", "PathAlternative"}
)


@dataclass(frozen=True)
class Service:
    """One SERVICE call: `iri` is the endpoint it reaches, None for a variable or an IRI that
    cannot be resolved (relative, without a base)."""

    text: str  # the endpoint as written: <iri>, prefix:name or ?var
    iri: str | None
    variable: str | None
    silent: bool
    line: int
    column: int


@dataclass(frozen=True)
class VarUse:
    """A variable the remote backend may replace by a bound term, and how it is written there:
    `term` (bare), `as` (a subquery's projection) or `paren` (a subquery's GROUP/ORDER BY)."""

    name: str
    start: int
    end: int
    role: str


@dataclass(frozen=True)
class QueryInfo:
    form: str  # SELECT | CONSTRUCT | DESCRIBE | ASK | UPDATE
    services: tuple[Service, ...] = ()
    default_graphs: tuple[str, ...] = ()  # FROM
    named_graphs: tuple[str, ...] = ()  # FROM NAMED
    has_dataset_clause: bool = False
    nesting: int = 0
    path_length: int = 0  # steps of the longest property path
    unbounded_path: bool = False  # a path with * or +
    patterns: int = 0  # triple patterns, templates included
    declared_prefixes: frozenset[str] = frozenset()
    group_at: int | None = None  # offset of the `{` opening the top-level WHERE group
    where_at: int | None = None  # offset of the WHERE clause (its keyword when written)
    short_construct: bool = False  # CONSTRUCT WHERE { }: the group is also the template
    variables: tuple[VarUse, ...] = ()

    @property
    def is_update(self) -> bool:
        return self.form == "UPDATE"

    @property
    def returns_graph(self) -> bool:
        return self.form in ("CONSTRUCT", "DESCRIBE")


@dataclass(frozen=True)
class Limits:
    """What a query may ask of the engine; each names the setting that raises it."""

    max_nesting: int = 128
    max_path_length: int = 1000
    max_patterns: int = 2000

    @classmethod
    def from_settings(cls, settings) -> Limits:
        return cls(settings.max_nesting, settings.max_path_length, settings.max_patterns)


def check_limits(info: QueryInfo, limits: Limits) -> None:
    """Refuse (400) a query past a limit, naming the limit and its setting."""
    for measured, limit, what, setting in (
        (info.nesting, limits.max_nesting, "nests", "KG_MAX_NESTING"),
        (info.path_length, limits.max_path_length, "has a property path of", "KG_MAX_PATH_LENGTH"),
        (info.patterns, limits.max_patterns, "has", "KG_MAX_PATTERNS"),
    ):
        if measured > limit:
            unit = {"KG_MAX_NESTING": "levels deep", "KG_MAX_PATH_LENGTH": "steps"}.get(
                setting, "triple patterns"
            )
            raise QueryLimitExceeded(
                f"the query {what} {measured} {unit}; at most {limit} are accepted ({setting})"
            )


# -- reading, with a cache ---------------------------------------------------------------------

_cache: LRUCache = LRUCache(maxsize=4096)
_lock = threading.Lock()


def read(
    text: str,
    base_iri: str | None = None,
    prefixes: dict[str, str] | None = None,
    *,
    budget: float | None = None,
) -> QueryInfo:
    """Parse a query or update; `base_iri` and `prefixes` are those the engine will be given.

    Raises QuerySyntaxError (line, column, what was expected) when it is not SPARQL 1.1, and
    QueryLimitExceeded when it nests deeper than the parser can read or its parse would take
    longer than `budget` seconds (KG_MAX_PARSE_SECONDS; that refusal is not cached: it depends
    on the load of the machine as much as on the text).
    """
    key = (
        hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest(),
        base_iri,
        frozenset(prefixes.items()) if prefixes else None,
    )
    with _lock:
        found = _cache.get(key)
    if found is None:
        try:
            with grammar_budget(budget):
                found = _read(text, base_iri, prefixes or {})
        except ParseBudgetExceeded:
            raise QueryLimitExceeded(
                f"the query takes more than {budget:g} s to read; at most that is spent on one "
                "query (KG_MAX_PARSE_SECONDS)"
            ) from None
        except (QuerySyntaxError, QueryLimitExceeded) as err:
            found = err
        with _lock:
            _cache[key] = found
    if isinstance(found, Exception):
        raise type(found)(str(found))
    return found


def _read(text: str, base_iri: str | None, prefixes: dict[str, str]) -> QueryInfo:
    try:
        tree, form = _parse(text)
    except RecursionError:
        raise QueryLimitExceeded(
            f"the query nests more than {NESTING_CEILING} levels deep, more than this parser "
            "reads; at most KG_MAX_NESTING levels are accepted"
        ) from None
    except ParseBaseException as err:
        raise QuerySyntaxError(_message(text, err.loc, err)) from None
    walk = _Walk(text, base_iri, prefixes)
    return walk.info(tree, form)


def _parse(text: str):
    """The parse tree and form; an update is tried when the text is no query."""
    try:
        results = grammar.Query.parse_string(text, parse_all=True)
    except ParseBaseException as query_error:
        try:
            update = grammar.UpdateUnit.parse_string(text, parse_all=True)[0]
        except ParseBaseException as update_error:
            raise max(query_error, update_error, key=lambda e: e.loc) from None
        return update, "UPDATE"
    return results, QUERY_FORMS[results[1].name]


def line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _located(text: str, offset: int, message: str) -> str:
    line, column = line_column(text, offset)
    return f"line {line}, column {column}: {message}"


def _message(text: str, offset: int, err: ParseBaseException) -> str:
    """pyparsing's message, short: where, what the grammar expected, what it found."""
    expected = err.msg
    if len(expected) > 80:
        expected = expected[:77] + "..."
    found = text[offset : offset + 20].split("\n")[0].strip()
    found = f"found {found!r}" if found else "found the end of the query"
    return _located(text, offset, f"{expected[0].lower()}{expected[1:]}, {found}")


# -- what the tree says ------------------------------------------------------------------------

_KEEP = "keep"  # a variable that must stay one (BIND ... AS ?v, VALUES ?v)


class _Walk:
    """One pass over rdflib's parse tree, collecting what QueryInfo holds."""

    def __init__(self, text: str, base_iri: str | None, prefixes: dict[str, str]):
        self.text = text
        self.base, self.prefixes = base_iri, dict(prefixes)
        self.declared: set[str] = set()
        self.services: list[Service] = []
        self.datasets: tuple[list[str], list[str]] = ([], [])
        self.variables: list[VarUse] = []
        self.nesting = self.path_length = self.patterns = 0
        self.unbounded = False

    def info(self, tree, form: str) -> QueryInfo:
        if form == "UPDATE":
            for prologue in _get(tree, "prologue", ()):
                self.prologue(prologue)
            self.node(tree, 0, _KEEP)
            return self.result(form)
        self.prologue(tree[0])
        query = tree[1]
        self.node(query, 0, "top")
        group = _get(query, "where")
        group_at = _get(group, "_at") if isinstance(group, CompValue) else None
        where_at = _get(query, "_where_at", group_at)
        return self.result(
            form,
            group_at=group_at,
            where_at=where_at,
            short_construct=form == "CONSTRUCT" and "template" not in query,
        )

    def result(self, form: str, **where) -> QueryInfo:
        return QueryInfo(
            form=form,
            services=tuple(self.services),
            default_graphs=tuple(self.datasets[0]),
            named_graphs=tuple(self.datasets[1]),
            has_dataset_clause=bool(self.datasets[0] or self.datasets[1]),
            nesting=self.nesting,
            path_length=self.path_length,
            unbounded_path=self.unbounded,
            patterns=self.patterns,
            declared_prefixes=frozenset(self.declared),
            variables=tuple(sorted(self.variables, key=lambda v: v.start)),
            **where,
        )

    def prologue(self, decls) -> None:
        for decl in decls:
            if decl.name == "Base":
                self.base = resolve(str(decl.iri), self.base)
            else:
                name = _get(decl, "prefix") or ""
                self.declared.add(name)
                self.prefixes[name] = resolve(str(decl.iri), self.base) or str(decl.iri)

    # the walk proper: `depth` counts nesting levels, `role` what a variable here may become
    def node(self, value, depth: int, role: str) -> None:
        if isinstance(value, CompValue):
            self.comp(value, depth, role)
        elif isinstance(value, LocatedVariable):
            if role not in ("top", _KEEP):
                self.variables.append(VarUse(str(value), value.start, value.end, role))
        elif isinstance(value, list | tuple) or type(value).__name__ == "ParseResults":
            for item in value:
                self.node(item, depth, role)

    def comp(self, value: CompValue, depth: int, role: str) -> None:
        name = value.name
        if name in NESTING_NODES:
            depth += 1
            self.nesting = max(self.nesting, depth)
        if name == "pname":
            self.iri(value)  # an undeclared prefix is a syntax error, as in Oxigraph
            return
        if name == SERVICE:
            self.service(value)
        elif name == "DatasetClause":
            self.dataset(value)
        elif name == "PathAlternative":
            self.path(value)
        elif name == "PathElt" and _get(value, "mod") in ("*", "+"):
            self.unbounded = True
        for key, child in value.items():
            if not key.startswith("_"):
                self.node(child, depth, _role(name, key, role))
        if "triples" in value or "template" in value:
            for block in [*_get(value, "triples", ()), *_get(value, "template", ())]:
                self.patterns += len(block) // 3

    def path(self, value: CompValue) -> None:
        steps = [0]

        def count(v) -> None:
            if isinstance(v, CompValue):
                if v.name == "PathElt" and not _is_path(_get(v, "part")):
                    steps[0] += 1
                for child in v.values():
                    count(child)
            elif isinstance(v, list):
                for item in v:
                    count(item)

        count(value)
        self.path_length = max(self.path_length, steps[0])

    def service(self, value: CompValue) -> None:
        term = _get(value, "term")
        line, column = line_column(self.text, _get(value, "_at"))
        silent = "silent" in value
        if isinstance(term, LocatedVariable):
            self.services.append(Service(f"?{term}", None, str(term), silent, line, column))
            return
        iri = self.iri(term)
        written = f"<{term}>" if isinstance(term, URIRef) else _pname(term)
        self.services.append(Service(written, iri, None, silent, line, column))

    def dataset(self, value: CompValue) -> None:
        named = "named" in value
        iri = self.iri(_get(value, "named" if named else "default"))
        self.datasets[1 if named else 0].append(iri or "")

    def iri(self, term) -> str | None:
        """The absolute IRI of an IRIREF or a prefixed name (None when it stays relative)."""
        if isinstance(term, URIRef):
            return resolve(str(term), self.base)
        prefix = _get(term, "prefix") or ""
        if prefix not in self.prefixes:
            at = _get(term, "_at")
            at += len(self.text[at:]) - len(self.text[at:].lstrip())  # told before whitespace
            raise QuerySyntaxError(_located(self.text, at, f"undeclared prefix {prefix}:"))
        return self.prefixes[prefix] + unescape_local(_get(term, "localname") or "")


def _get(node: CompValue, key: str, default=None):
    """A parameter of a parse node (CompValue.get's second argument is not a default)."""
    return dict.get(node, key, default)


def _pname(term: CompValue) -> str:
    return f"{_get(term, 'prefix') or ''}:{_get(term, 'localname') or ''}"


def _is_path(part) -> bool:
    return isinstance(part, CompValue) and part.name == "PathAlternative"


def _role(parent: str, key: str, role: str) -> str:
    """What a variable under `parent[key]` may be rewritten as (see VarUse)."""
    if parent in QUERY_FORMS:
        return "term" if key in ("where", "template") else "top"
    if parent == "SubSelect":
        if key in ("groupby", "orderby"):
            return "paren"
        return _KEEP if key == "valuesClause" else "term" if key != "projection" else "as"
    if parent == "vars":
        return role if role == "top" else {"var": role, "evar": _KEEP}.get(key, "term")
    if parent in ("Bind", "GroupAs") and key == "var":
        return _KEEP
    if parent in ("InlineData", "InlineDataOneVar", "InlineDataFull"):
        return _KEEP
    return role
