"""Convert pyoxigraph terms to rdflib terms, keeping blank node labels (so problems stay locatable).

pySHACL and rdflib.compare work on rdflib graphs; the pipeline parses with pyoxigraph.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import contextmanager

import rdflib
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple


@contextmanager
def _quiet_rdflib():
    """rdflib logs a traceback for every ill-typed literal; our own check reports those."""
    log = logging.getLogger("rdflib.term")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


def term(t: NamedNode | BlankNode | Literal) -> rdflib.term.Node:
    if isinstance(t, NamedNode):
        return rdflib.URIRef(t.value)
    if isinstance(t, BlankNode):
        return rdflib.BNode(t.value)
    if t.language:
        return rdflib.Literal(t.value, lang=t.language)
    return rdflib.Literal(t.value, datatype=rdflib.URIRef(t.datatype.value))


def to_graph(items: Iterable[Quad | Triple], graph: rdflib.Graph | None = None) -> rdflib.Graph:
    """Every triple (or quad, graph name dropped) into one rdflib Graph."""
    g = graph if graph is not None else rdflib.Graph()
    with _quiet_rdflib():
        for q in items:
            g.add((term(q.subject), term(q.predicate), term(q.object)))
    return g
