"""What rdflib's parse tree of a query says, as `graph.sparql.reader` reports it.

One pass over the tree (`Walk`) collects the SERVICE calls (their IRIs resolved with the
prologue's BASE and PREFIXes and the engine's own), the dataset clauses, the nesting depth, the
longest property path, the number of triple patterns, and every variable the remote backend may
replace by a bound term, with its offsets (set by the parse actions of `graph.sparql.grammar`).
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import URIRef

from graph.sparql.grammar import SERVICE, LocatedVariable
from graph.sparql.iris import resolve, unescape_local
from graph.sparql.syntax_errors import unknown_prefix

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
    patterns: int = 0  # triple patterns, templates included
    declared_prefixes: frozenset[str] = frozenset()
    group_at: int | None = None  # offset of the `{` opening the top-level WHERE group
    where_at: int | None = None  # offset of the WHERE clause (its keyword when written)
    short_construct: bool = False  # CONSTRUCT WHERE { }: the group is also the template
    variables: tuple[VarUse, ...] = ()

    @property
    def is_update(self) -> bool:
        return self.form == "UPDATE"


def line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


_KEEP = "keep"  # a variable that must stay one (BIND ... AS ?v, VALUES ?v)


class Walk:
    """One pass over rdflib's parse tree, collecting what QueryInfo holds."""

    def __init__(self, text: str, base_iri: str | None, prefixes: dict[str, str]):
        self.text = text
        self.base, self.prefixes = base_iri, dict(prefixes)
        self.declared: set[str] = set()
        self.services: list[Service] = []
        self.datasets: tuple[list[str], list[str]] = ([], [])
        self.variables: list[VarUse] = []
        self.nesting = self.path_length = self.patterns = 0

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
            patterns=self.patterns,
            declared_prefixes=frozenset(self.declared),
            # rdflib expands `?s :p ?a ; :q ?b` (and `, ?c`) to whole triples that share the
            # one subject node: the walk meets that variable once per triple, but it is one
            # place in the text, to be rewritten once (twice wrote `<x><x> :q ?b`)
            variables=tuple(sorted({(v.start, v.end): v for v in self.variables}.values(),
                                   key=lambda v: v.start)),
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
            raise unknown_prefix(self.text, at, prefix, sorted(self.prefixes))
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
