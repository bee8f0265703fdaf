"""Each SHACL shape has a conforming and a non-conforming example (ontology/examples/).

Picked up by glob, as in the OGC GeoSPARQL repository: adding a shape means adding two files.
Each example is validated with the shapes, the ontology and the concept schemes, the way
`kg validate` sees the data.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
import rdflib.collection
from pyshacl import validate

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://w3id.org/khojaly/"
EXAMPLES = sorted((ROOT / "ontology" / "examples").glob("*.ttl"))
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


@pytest.fixture(scope="module")
def shapes():
    return rdflib.Graph().parse(ROOT / "ontology" / "shapes.ttl", format="turtle", publicID=BASE)


@pytest.fixture(scope="module")
def vocabulary():
    g = rdflib.Graph()
    for name in ("khojaly.ttl", "concepts.ttl"):
        g.parse(ROOT / "ontology" / name, format="turtle", publicID=BASE)
    return g


def test_every_shape_has_both_examples(shapes):
    names = {str(s).rsplit("#", 1)[-1] for s in shapes.subjects(rdflib.RDF.type, SH.NodeShape)}
    names = {n for n in names if n.endswith("Shape")}
    stems = {p.stem for p in EXAMPLES}
    missing = sorted(n for n in names
                     if f"{n}-valid" not in stems or f"{n}-invalid-01" not in stems)
    assert not missing, f"shapes without a valid/invalid example pair: {missing}"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example(path, shapes, vocabulary):
    data = rdflib.Graph().parse(path, format="turtle", publicID=BASE)
    for triple in vocabulary:
        data.add(triple)
    conforms, report, text = validate(data, shacl_graph=shapes, inference="none", advanced=True)
    if path.stem.endswith("-valid"):
        assert conforms, text
    else:
        assert not conforms, f"{path.name} should violate its shape"
        shape = rdflib.URIRef(BASE + "ontology/shapes#" + path.stem.split("-invalid")[0])
        reported = set(report.objects(None, SH.sourceShape))
        assert reported & _reachable(shapes, shape), (
            f"{path.name} fails, but not on {shape}: {sorted(map(str, reported))}")


def _reachable(shapes: rdflib.Graph, start: rdflib.term.Node) -> set:
    """The shape and every shape nested in it (sh:property, sh:node, sh:or lists)."""
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for p in (SH.property, SH.node):
            todo.extend(shapes.objects(node, p))
        for lst in shapes.objects(node, SH["or"]):
            todo.extend(rdflib.collection.Collection(shapes, lst))
    return seen
