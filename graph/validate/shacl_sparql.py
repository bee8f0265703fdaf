"""SHACL shapes compiled to SPARQL SELECT queries that run inside the Oxigraph store.

pySHACL needs an rdflib copy of the whole data graph: 532 s and 4 GiB at 1M triples. The shapes
of ontology/shapes.ttl use a small part of SHACL Core (https://www.w3.org/TR/shacl/#core-components),
so we compile exactly that part into queries that Oxigraph evaluates natively, one query per
constraint, each a single pass over the focus nodes with index lookups (no joins between focus
nodes, no property path from an unbound end, no star-shaped OPTIONAL):

    targets      sh:targetClass (instances of the class or of a subclass, rdfs:subClassOf*)
    value types  sh:datatype, sh:class, sh:nodeKind
    cardinality  sh:minCount, sh:maxCount
    values       sh:hasValue, sh:languageIn, sh:minInclusive, sh:maxInclusive
    strings      sh:minLength, sh:pattern (+ sh:flags), sh:uniqueLang
    shapes       sh:property (predicate paths only), sh:node, sh:or
    results      sh:message, sh:severity

Any other SHACL term in the shapes graph raises UnsupportedShape naming it, so a new shape is
never silently left unchecked (graph/validate/shapes.py reads the shapes graph). Nested
sh:node / sh:or compile to (NOT) EXISTS sub-patterns.

The semantics follow pySHACL 0.40 (the differential tests in tests/test_shacl_sparql.py hold
them together), including its view of sh:datatype: a literal must carry the datatype and, for the
datatypes rdflib converts to Python values (integers, decimal, float, double, boolean, date,
dateTime, time), a lexical form that converts; for other datatypes (xsd:gYear, geo:wktLiteral...)
the datatype IRI alone decides. The integrity check ill-typed-literal covers the lexical forms.

One difference is Oxigraph's, and deliberate here: the store keeps a valid integer of a derived
type ("34"^^xsd:positiveInteger, xsd:int, ...) as xsd:integer, so in the store sh:datatype of an
integer type accepts xsd:integer or the type itself, and checks the value's range (> 0 for
positiveInteger); pySHACL, reading the files, also tells "34"^^xsd:integer from the derived type.

The query text is generated from the shapes, never from user input: constants are written with
pyoxigraph's own N-Triples serialization of terms (str(NamedNode), str(Literal)), which is valid
SPARQL syntax.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace

from pyoxigraph import BlankNode, Literal, NamedNode, Store

from graph import queries
from graph.errors import UnsupportedShape
from graph.validate.shapes import RDF, VALUE_COMPONENTS, XSD, Shape, read_shapes

__all__ = ["Check", "UnsupportedShape", "Violation", "compile_checks", "read_shapes", "run_checks"]

#: sh:datatype well-formedness, as rdflib converts lexical forms (what pySHACL checks):
#: the SPARQL cast that must succeed, and a test on the cast value.
_WELL_FORMED: dict[str, tuple[str, str]] = {
    XSD + "integer": ("integer", ""),
    XSD + "long": ("integer", ""),
    XSD + "int": ("integer", ""),
    XSD + "short": ("integer", ""),
    XSD + "byte": ("integer", ""),
    XSD + "positiveInteger": ("integer", " > 0"),
    XSD + "nonNegativeInteger": ("integer", " >= 0"),
    XSD + "negativeInteger": ("integer", " < 0"),
    XSD + "nonPositiveInteger": ("integer", " <= 0"),
    XSD + "decimal": ("decimal", ""),
    XSD + "float": ("float", ""),
    XSD + "double": ("double", ""),
    XSD + "boolean": ("boolean", ""),
    XSD + "date": ("date", ""),
    XSD + "dateTime": ("dateTime", ""),
    XSD + "time": ("time", ""),
}

_NODE_KINDS = {
    "IRI": "isIRI({v})",
    "BlankNode": "isBlank({v})",
    "Literal": "isLiteral({v})",
    "BlankNodeOrIRI": "!isLiteral({v})",
    "BlankNodeOrLiteral": "!isIRI({v})",
    "IRIOrLiteral": "!isBlank({v})",
}


@dataclass(frozen=True)
class Check:
    """One compiled query: each row (?this, optionally ?value) is one validation result."""

    sparql: str
    source: Shape  # the shape whose message and severity the result carries
    component: str
    path: NamedNode | None
    reports_value: bool = False  # the query projects ?value
    root: NamedNode | BlankNode | None = None  # the target shape this check belongs to
    # sh:node of a target shape checked before: the rows are the values typed as its targets,
    # and a row is a result only when that value had a result there (see _node_checks)
    reuse: NamedNode | BlankNode | None = None


@dataclass(frozen=True)
class Violation:
    focus: NamedNode | BlankNode
    path: NamedNode | None
    value: NamedNode | BlankNode | Literal | None
    message: str | None
    severity: str
    component: str


# ------------------------------------------------------------------ compiling


class _Fresh:
    """Fresh variable names for nested patterns."""

    def __init__(self) -> None:
        self._n = itertools.count(1)

    def __call__(self) -> str:
        return f"?v{next(self._n)}"


def _distinct(variables: list[str]) -> str:
    pairs = [f"!sameTerm({a}, {b})" for a, b in itertools.combinations(variables, 2)]
    return f" FILTER({' && '.join(pairs)})" if pairs else ""


def _n_values(x: str, path: NamedNode, n: int, fresh: _Fresh) -> str:
    """A pattern that matches when x has at least n distinct values of path."""
    values = [fresh() for _ in range(n)]
    return " ".join(f"{x} {path} {v} ." for v in values) + _distinct(values)


def _path_violation(name: str, arg, x: str, path: NamedNode, closure, fresh: _Fresh) -> str:
    """True when focus x violates one constraint of a property shape with this path."""
    if name == "minCount":
        return f"NOT EXISTS {{ {_n_values(x, path, arg, fresh)} }}" if arg > 0 else "false"
    if name == "maxCount":
        return f"EXISTS {{ {_n_values(x, path, arg + 1, fresh)} }}"
    if name == "uniqueLang":
        if not arg:
            return "false"
        a, b = fresh(), fresh()
        return (f"EXISTS {{ {x} {path} {a} . {x} {path} {b} . FILTER(!sameTerm({a}, {b}) && "
                f'LANG({a}) != "" && LANG({a}) = LANG({b})) }}')
    if name == "hasValue":
        return f"NOT EXISTS {{ {x} {path} {arg} }}"
    v = fresh()
    return f"EXISTS {{ {x} {path} {v} . FILTER({_value_violation(name, arg, v, closure, fresh)}) }}"


def _value_violation(name: str, arg, v: str, closure, fresh: _Fresh) -> str:
    """True when value node v violates one value constraint (the focus itself in a node shape)."""
    if name == "datatype":
        return f"!COALESCE({_has_datatype(arg, v)}, false)"
    if name == "class":
        t = fresh()
        classes = ", ".join(str(c) for c in closure(arg))
        return f"NOT EXISTS {{ {v} <{RDF}type> {t} . FILTER({t} IN ({classes})) }}"
    if name == "nodeKind":
        return "!" + _NODE_KINDS[arg].format(v=v)
    if name == "hasValue":
        return f"!sameTerm({v}, {arg})"
    if name == "languageIn":
        if "*" in arg:
            return f'!COALESCE(LANG({v}) != "", false)'
        langs = ", ".join(str(Literal(lang)) for lang in arg)
        return (f"!COALESCE(isLiteral({v}) && (LCASE(LANG({v})) IN ({langs}) || "
                f'LCASE(STRBEFORE(LANG({v}), "-")) IN ({langs})), false)')
    if name == "minInclusive":
        return f"!COALESCE({v} >= {arg}, false)"
    if name == "maxInclusive":
        return f"!COALESCE({v} <= {arg}, false)"
    if name == "minLength":
        return f"COALESCE(isBlank({v}) || STRLEN(STR({v})) < {arg}, true)"
    if name == "pattern":
        pattern, flags = arg
        return f"COALESCE(isBlank({v}) || !REGEX(STR({v}), {pattern}, {flags}), true)"
    if name == "node":
        return _violates(arg, v, closure, fresh)
    if name == "or":
        return "(" + " && ".join(_violates(s, v, closure, fresh) for s in arg) + ")"
    raise AssertionError(name)  # _read admits only the components above


def _has_datatype(datatype: NamedNode, v: str) -> str:
    if datatype.value == RDF + "langString":
        return f'isLiteral({v}) && LANG({v}) != ""'
    check = f"isLiteral({v}) && sameTerm(DATATYPE({v}), {datatype})"
    if _WELL_FORMED.get(datatype.value, ("",))[0] == "integer":
        # Oxigraph stores every valid integer of a derived type (xsd:positiveInteger, xsd:int...)
        # as xsd:integer: the derived datatype is gone from the store, only the value is left.
        check = (f"isLiteral({v}) && (sameTerm(DATATYPE({v}), {datatype}) || "
                 f"sameTerm(DATATYPE({v}), <{XSD}integer>))")
    if datatype.value in _WELL_FORMED:
        cast, test = _WELL_FORMED[datatype.value]
        cast_value = f"<{XSD}{cast}>(STR({v}))"
        check += f" && {f'{cast_value}{test}' if test else f'isLiteral({cast_value})'}"
    return check


def _violates(shape: Shape, x: str, closure, fresh: _Fresh) -> str:
    """True when node x does not conform to the shape (any of its constraints)."""
    parts = []
    for name, arg in shape.constraints:
        if shape.path is not None:
            parts.append(_path_violation(name, arg, x, shape.path, closure, fresh))
        else:
            parts.append(_value_violation(name, arg, x, closure, fresh))
    parts.extend(_violates(p, x, closure, fresh) for p in shape.properties)
    return "(" + " || ".join(parts) + ")" if parts else "false"


def _targets(classes: list[NamedNode]) -> str:
    values = " ".join(str(c) for c in classes)
    inner = f"VALUES ?class {{ {values} }} ?this <{RDF}type> ?class"
    return f"{{ SELECT DISTINCT ?this WHERE {{ {inner} }} }}"


def _node_checks(prop: Shape, target: Shape, classes: str, targets: str, closure):
    """sh:node of a shape that has its own targets and was checked before this one.

    Values typed as its targets were validated there: they violate it exactly when they got a
    result, which run_checks knows, so only the values not typed so are evaluated nested
    (usually none). At 1M triples this saves re-evaluating every claim's evidence and quote.
    """
    typed = f"EXISTS {{ ?value <{RDF}type> ?t . FILTER(?t IN ({classes})) }}"
    # A subquery first, so the nested test runs only on its (few) rows: in one FILTER,
    # `!typed && nested` costs the nested test for every value.
    values = f"{targets} ?this {prop.path} ?value . FILTER(!{typed})"
    untyped = f"SELECT ?this ?value WHERE {{ {values} }}"
    nested = _violates(target, "?value", closure, _Fresh())
    yield Check(f"SELECT DISTINCT ?this ?value WHERE {{ {{ {untyped} }} FILTER({nested}) }}",
                prop, "node", prop.path, reports_value=True)
    body = f"{targets} ?this {prop.path} ?value . FILTER({typed})"
    yield Check(f"SELECT DISTINCT ?this ?value WHERE {{ {body} }}", prop, "node", prop.path,
                reports_value=True, reuse=target.node)


def _checks_of(shape: Shape, targets: str, closure, checked: dict) -> Iterator[Check]:
    """One query per constraint of a target shape and of each of its property shapes.

    `checked`: target shapes compiled before this one -> their target classes (SPARQL list).
    """
    for name, arg in shape.constraints:  # node-level: the focus node is the value node
        cond = _value_violation(name, arg, "?this", closure, _Fresh())
        sparql = f"SELECT ?this (?this AS ?value) WHERE {{ {targets} FILTER({cond}) }}"
        yield Check(sparql, shape, name, None, reports_value=True)
    for prop in shape.properties:
        for name, arg in prop.constraints:
            fresh = _Fresh()
            if (name, arg) in (("uniqueLang", False), ("minCount", 0)):
                continue  # constrains nothing
            if name == "node" and arg.node in checked:
                yield from _node_checks(prop, arg, checked[arg.node], targets, closure)
                continue
            if name in VALUE_COMPONENTS and name != "hasValue":
                cond = _value_violation(name, arg, "?value", closure, fresh)
                body = f"{targets} ?this {prop.path} ?value . FILTER({cond})"
                sparql = f"SELECT DISTINCT ?this ?value WHERE {{ {body} }}"
            elif name == "uniqueLang":
                body = (f"{targets} ?this {prop.path} ?a . ?this {prop.path} ?b . FILTER("
                        '!sameTerm(?a, ?b) && LANG(?a) != "" && LANG(?a) = LANG(?b)) '
                        "BIND(LANG(?a) AS ?lang)")
                sparql = f"SELECT DISTINCT ?this ?lang WHERE {{ {body} }}"
            else:
                cond = _path_violation(name, arg, "?this", prop.path, closure, fresh)
                sparql = f"SELECT ?this WHERE {{ {targets} FILTER({cond}) }}"
            yield Check(sparql, prop, name, prop.path, reports_value="?value" in sparql)


def subclass_closure(store: Store):
    """A function: class -> the class and its subclasses (rdfs:subClassOf*), as in the store."""
    cache: dict[NamedNode, list[NamedNode]] = {}

    def closure(cls: NamedNode) -> list[NamedNode]:
        if cls not in cache:
            rows = queries.run(store, "shacl/subclasses", cls=cls)
            found = {row["sub"] for row in rows if isinstance(row["sub"], NamedNode)}
            cache[cls] = sorted(found | {cls}, key=str)
        return cache[cls]

    return closure


def compile_checks(shapes: list[Shape], store: Store) -> list[Check]:
    """Every check of every target shape, with class hierarchies read from the store."""
    closure = subclass_closure(store)
    checks: list[Check] = []
    checked: dict = {}
    for shape in _referenced_first(shapes):
        classes = sorted({c for t in shape.targets for c in closure(t)}, key=str)
        if shape.path is not None:  # a property shape with its own targets
            shape = Shape(shape.node, None, (), properties=(shape,), targets=shape.targets)
        checks.extend(replace(c, root=shape.node)
                      for c in _checks_of(shape, _targets(classes), closure, checked))
        checked[shape.node] = ", ".join(str(c) for c in classes)
    return checks


def _referenced_first(shapes: list[Shape]) -> list[Shape]:
    """Target shapes ordered so that one used through sh:node comes before its users (a cycle
    keeps its order, and its sh:node is then evaluated nested)."""
    by_node = {s.node: s for s in shapes}
    out: list[Shape] = []
    done: set = set()

    def visit(shape: Shape, path: frozenset) -> None:
        if shape.node in done or shape.node in path:
            return
        for prop in shape.properties:
            for name, arg in prop.constraints:
                if name == "node" and arg.node in by_node:
                    visit(by_node[arg.node], path | {shape.node})
        done.add(shape.node)
        out.append(shape)

    for shape in shapes:
        visit(shape, frozenset())
    return out


def run_checks(store: Store, checks: list[Check]) -> Iterator[Violation]:
    """Run every check on the union of the store's graphs; yield one Violation per result row."""
    failed: dict = defaultdict(set)  # target shape -> its focus nodes that got a result
    for check in checks:
        if check.reuse is not None and not failed[check.reuse]:
            continue
        for row in store.query(check.sparql, use_default_graph_as_union=True):
            if check.reuse is not None and row["value"] not in failed[check.reuse]:
                continue
            failed[check.root].add(row["this"])
            yield Violation(
                focus=row["this"],
                path=check.path,
                value=row["value"] if check.reports_value else None,
                message=check.source.message,
                severity=check.source.severity,
                component=check.component,
            )

