"""The SHACL shapes graph read into Shape objects, for the SPARQL compiler (shacl_sparql.py).

Reads only what the compiler supports (see its docstring); any other SHACL term, a complex
sh:path, a recursive shape or a malformed list raises UnsupportedShape naming the shape and the
term, so a new shape is never silently left unchecked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from graph.errors import UnsupportedShape

SH = "http://www.w3.org/ns/shacl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
VIOLATION = SH + "Violation"

#: sh: predicates a shape may carry: the compiled components and the non-validating ones.
_SUPPORTED = {
    "targetClass", "property", "path", "minCount", "maxCount", "datatype", "class", "nodeKind",
    "hasValue", "languageIn", "minInclusive", "maxInclusive", "minLength", "pattern", "flags",
    "uniqueLang", "node", "or", "message", "severity", "name", "description", "order", "group",
}  # fmt: skip
#: constraints on the value nodes themselves (the focus node of a node shape).
VALUE_COMPONENTS = (
    "datatype", "class", "nodeKind", "hasValue", "languageIn", "minInclusive", "maxInclusive",
    "minLength", "pattern", "node", "or",
)  # fmt: skip
#: constraints on the set of values of a path.
PATH_COMPONENTS = ("minCount", "maxCount", "uniqueLang")

#: the values of sh:nodeKind (local names in sh:).
NODE_KINDS = ("IRI", "BlankNode", "Literal", "BlankNodeOrIRI", "BlankNodeOrLiteral", "IRIOrLiteral")


@dataclass(frozen=True)
class Shape:
    """A node shape (path None) or a property shape (a predicate path), as read from the graph."""

    node: NamedNode | BlankNode
    path: NamedNode | None
    constraints: tuple[tuple[str, object], ...]  # (component, parameter) in a stable order
    properties: tuple[Shape, ...] = ()
    targets: tuple[NamedNode, ...] = ()
    message: str | None = None
    severity: str = VIOLATION


class _Graph:
    """The shapes graph as subject -> predicate -> objects (it is small)."""

    def __init__(self, quads: Iterable[Quad], source: str):
        self.source = source
        self.index: dict = defaultdict(lambda: defaultdict(list))
        for q in quads:
            self.index[q.subject][q.predicate.value].append(q.object)

    def objects(self, node, predicate: str) -> list:
        return self.index.get(node, {}).get(predicate, [])

    def one(self, node, predicate: str):
        values = self.objects(node, predicate)
        if len(values) > 1:
            raise UnsupportedShape(
                f"{self.source}: shape {node} has {len(values)} values of {_short(predicate)}; "
                "the compiled checks take one")
        return values[0] if values else None

    def items(self, head) -> list:
        """An RDF list (sh:or, sh:languageIn) as a Python list."""
        out, seen = [], set()
        while head != NamedNode(RDF + "nil"):
            if head in seen or not self.objects(head, RDF + "first"):
                raise UnsupportedShape(f"{self.source}: {head} is not a well-formed RDF list")
            seen.add(head)
            out.append(self.objects(head, RDF + "first")[0])
            head = self.objects(head, RDF + "rest")[0]
        return out


def _short(iri: str) -> str:
    return "sh:" + iri[len(SH):] if iri.startswith(SH) else f"<{iri}>"


def _check_supported(graph: _Graph) -> None:
    """Every SHACL term used anywhere in the shapes graph must be one we compile."""
    allowed = {SH + name for name in _SUPPORTED}
    for subject, predicates in graph.index.items():
        for p in predicates:
            if p.startswith(SH) and p not in allowed:
                raise UnsupportedShape(
                    f"{graph.source}: shape {subject} uses {_short(p)}, which "
                    "shacl_sparql.py does not compile; add it there (with its differential "
                    "test) or leave it out")


def _read(graph: _Graph, node, stack: tuple = ()) -> Shape:
    if node in stack:
        raise UnsupportedShape(f"{graph.source}: shape {node} refers to itself (recursive shapes)")
    stack = (*stack, node)
    path = graph.one(node, SH + "path")
    if path is not None and not isinstance(path, NamedNode):
        raise UnsupportedShape(
            f"{graph.source}: shape {node} has a complex sh:path; only predicate paths compile")
    constraints: list[tuple[str, object]] = []
    for name in (*PATH_COMPONENTS, *VALUE_COMPONENTS):
        for value in graph.objects(node, SH + name):
            constraints.append((name, _parameter(graph, name, value, stack)))
    if path is None and any(c in PATH_COMPONENTS for c, _ in constraints):
        raise UnsupportedShape(
            f"{graph.source}: node shape {node} uses a cardinality constraint without sh:path")
    properties = tuple(_read(graph, p, stack) for p in graph.objects(node, SH + "property"))
    if path is not None and properties:
        raise UnsupportedShape(f"{graph.source}: property shape {node} has nested sh:property")
    message = graph.objects(node, SH + "message")
    severity = graph.one(node, SH + "severity")
    return Shape(
        node=node,
        path=path,
        constraints=tuple(constraints),
        properties=properties,
        targets=tuple(graph.objects(node, SH + "targetClass")),
        message=message[0].value if message else None,
        severity=severity.value if severity is not None else VIOLATION,
    )


def _parameter(graph: _Graph, name: str, value, stack: tuple) -> object:
    """The parameter of one constraint in the form the compiler uses."""
    if name == "node":
        return _read(graph, value, stack)
    if name == "or":
        return tuple(_read(graph, item, stack) for item in graph.items(value))
    if name == "languageIn":
        return tuple(str(item.value).lower() for item in graph.items(value))
    if name == "pattern":
        flags = graph.one(stack[-1], SH + "flags")
        return (value, Literal(flags.value) if flags is not None else Literal(""))
    if name in ("minCount", "maxCount", "minLength"):
        return int(value.value)
    if name == "uniqueLang":
        return value.value == "true"
    if name == "nodeKind":
        kind = value.value[len(SH):]
        if kind not in NODE_KINDS:
            raise UnsupportedShape(f"{graph.source}: unknown sh:nodeKind {value}")
        return kind
    if isinstance(value, BlankNode):
        raise UnsupportedShape(f"{graph.source}: sh:{name} {value} is a blank node")
    return value


def read_shapes(quads: Iterable[Quad], source: str = "ontology/shapes.ttl") -> list[Shape]:
    """The shapes that have targets (with every shape they use), from the shapes graph's quads."""
    graph = _Graph(quads, source)
    _check_supported(graph)
    roots = [s for s in graph.index if graph.objects(s, SH + "targetClass")]
    return [_read(graph, s) for s in sorted(roots, key=str)]
