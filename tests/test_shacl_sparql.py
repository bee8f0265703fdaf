"""The shapes compiled to SPARQL (graph/validate/shacl_sparql.py) agree with pySHACL.

Differential: the same inputs go through `validate` (pySHACL on an rdflib copy) and
`validate_store` (the compiled queries inside an Oxigraph store), and both must report the same
set of (file, focus, path, severity), and the same text wherever the shape gives sh:message.
Inputs: every ontology/examples/ file, the real data/, one targeted mutation per compiled
component, and hypothesis-generated mutations of the real data.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Store, parse, serialize

from graph.build.inputs import InputFile, Parsed, load, parse_file
from graph.config import Settings
from graph.errors import UnsupportedShape
from graph.validate import shacl_sparql
from graph.validate.shacl import Report, use_pyshacl, validate, validate_store

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://w3id.org/khojaly/"
SETTINGS = Settings()
EXAMPLES = sorted((ROOT / "ontology" / "examples").glob("*.ttl"))
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def _ontology_files() -> list[InputFile]:
    files = []
    for name in ("concepts", "khojaly", "shapes"):
        path = ROOT / "ontology" / f"{name}.ttl"
        role = "shapes" if name == "shapes" else "ontology"
        files.append(InputFile(path, f"ontology/{name}.ttl", BASE, f"{BASE}graph/ontology/{name}",
                               role))
    return files


@cache
def _ontology() -> tuple[tuple[InputFile, tuple[Quad, ...]], ...]:
    return tuple((f, tuple(parse_file(f))) for f in _ontology_files())


@cache
def _sh_messages() -> frozenset[str]:
    shapes = dict(_ontology())[_ontology_files()[2]]
    return frozenset(q.object.value for q in shapes if q.predicate.value.endswith("#message"))


def _parsed(data: dict[InputFile, list[Quad]]) -> Parsed:
    parsed = Parsed(files=[])
    for f, quads in (*_ontology(), *data.items()):
        parsed.files.append(f)
        parsed.quads[f.graph] = list(quads)
    return parsed


def _store(parsed: Parsed) -> Store:
    store = Store()
    store.extend(parsed.all_quads())
    return store


def _keys(report: Report) -> set[tuple]:
    return {(p.file, p.focus, p.path, p.check) for p in (*report.problems, *report.warnings)}


def _shape_messages(report: Report) -> set[tuple]:
    """Problems whose text is a shape's sh:message (with the value pySHACL appends)."""
    return {
        (p.file, p.focus, p.path, p.message)
        for p in (*report.problems, *report.warnings)
        if any(p.message.startswith(m) for m in _sh_messages())
    }


def assert_same(parsed: Parsed) -> Report:
    """Both validators on the same input: same results; returns pySHACL's report."""
    expected = validate(parsed, SETTINGS)
    got = validate_store(_store(parsed), parsed, SETTINGS)
    assert got.conforms == expected.conforms
    missing, extra = _keys(expected) - _keys(got), _keys(got) - _keys(expected)
    assert not missing and not extra, f"missed by SPARQL: {missing}\nonly in SPARQL: {extra}"
    assert _shape_messages(got) == _shape_messages(expected)
    # the order of the distinct problems; how many times one (file, focus, path) repeats may
    # differ: for an ill-typed literal ("1992-02-30"^^xsd:date) under sh:minInclusive and
    # sh:maxInclusive, pySHACL (rdflib gives the literal no value) reports one of the two, the
    # compiled checks both, as the spec's "does not return true" reads; the message is the same
    assert _distinct(got) == _distinct(expected), "same order"
    return expected


def _distinct(report: Report) -> list[tuple]:
    return list(dict.fromkeys((p.file, p.focus, p.path) for p in report.problems))


def _example(path: Path) -> Parsed:
    f = InputFile(path, f"ontology/examples/{path.name}", BASE, f"{BASE}graph/example")
    return _parsed({f: parse_file(f)})


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_agree_with_pyshacl(path):
    report = assert_same(_example(path))
    assert report.conforms == path.stem.endswith("-valid")


@cache
def _real() -> Parsed:
    return load(Settings())


def _real_data() -> dict[InputFile, list[Quad]]:
    parsed = _real()
    return {f: parsed.quads[f.graph] for f in parsed.files if f.role == "data"}


def test_real_data_agrees_and_conforms():
    assert assert_same(_parsed(_real_data())).conforms


# ------------------------------------------------------------------ mutations

ID = BASE + "id/"
KGO = BASE + "ontology#"
OA = "http://www.w3.org/ns/oa#"
SCHEMA = "https://schema.org/"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
LAT = "http://www.w3.org/2003/01/geo/wgs84_pos#lat"
SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
CLAIM = NamedNode(ID + "claim/caliber-2026-killed")
PLACE = NamedNode(ID + "place/khojaly")
EVENT = NamedNode(ID + "event/commemoration-2026")
SOURCE = NamedNode(ID + "source/caliber-2026-khojaly-commemoration")


def _mutate(data, subject, predicate: str, old=None, new=None):
    """A copy of the data without (subject, predicate, old) and/or with (subject, predicate, new).

    The new triple goes into the first file that has the subject as a subject.
    """
    p = NamedNode(predicate)
    out, removed, added = {}, False, False
    for f, quads in data.items():
        kept = [q for q in quads
                if old is None or (q.subject, q.predicate, q.object) != (subject, p, old)]
        removed |= len(kept) != len(quads)
        if new is not None and not added and any(q.subject == subject for q in quads):
            kept.append(Quad(subject, p, new, NamedNode(f.graph)))
            added = True
        out[f] = kept
    assert (old is None or removed) and (new is None or added), f"no {predicate} on {subject}"
    return out


def _first(data, subject, predicate: str):
    values = [q.object for quads in data.values() for q in quads
              if q.subject == subject and q.predicate.value == predicate]
    assert values, f"fixture changed: no <{predicate}> on {subject}"
    return values[0]


def _replace(subject, predicate: str, new):
    return lambda d: _mutate(d, subject, predicate, _first(d, subject, predicate), new)


def _quote(d):
    """The selector (a blank node) of the claim's evidence, whose oa:exact is the quote."""
    return _first(d, _first(d, CLAIM, KGO + "evidence"), OA + "hasSelector")


# component exercised -> how the real data is broken
TARGETED = {
    "minCount": _replace(CLAIM, KGO + "statedIn", None),
    "maxCount": lambda d: _mutate(d, CLAIM, KGO + "statedIn", None, NamedNode(ID + "source/x")),
    "datatype-wrong": _replace(CLAIM, SCHEMA + "value", Literal("613")),
    "datatype-ill-formed": _replace(
        CLAIM, SCHEMA + "value", Literal("613 people", datatype=NamedNode(XSD + "integer"))),
    "datatype-positive-integer": _replace(
        EVENT, KGO + "anniversary", Literal("0", datatype=NamedNode(XSD + "positiveInteger"))),
    "datatype-langString": _replace(PLACE, LABEL, Literal("Khojaly")),
    "minInclusive": _replace(CLAIM, SCHEMA + "value", Literal(-5)),
    "maxInclusive": _replace(PLACE, LAT, Literal("91.5", datatype=NamedNode(XSD + "decimal"))),
    "class": _replace(CLAIM, KGO + "statedIn", PLACE),
    "nodeKind": _replace(CLAIM, KGO + "about", Literal("Khojaly")),
    "node-hasValue": _replace(CLAIM, KGO + "counts", NamedNode(ID + "concept/population-children")),
    "node-class": _replace(CLAIM, KGO + "evidence", PLACE),
    "languageIn": _replace(PLACE, LABEL, Literal("Xocalı", language="az")),
    "uniqueLang": lambda d: _mutate(d, PLACE, LABEL, None, Literal("Khojaly town", language="en")),
    "minLength": lambda d: _replace(_quote(d), OA + "exact", Literal(""))(d),
    "minCount-nested": lambda d: _replace(_quote(d), OA + "exact", None)(d),
    "or-of-properties": _replace(CLAIM, SCHEMA + "value", None),
    "or-of-datatypes": _replace(SOURCE, "http://purl.org/dc/terms/date", Literal("26 Feb 2026")),
    "targetClass-second-class": lambda d: _mutate(d, CLAIM, RDF_TYPE.value, None,
                                                  NamedNode(KGO + "DateClaim")),
    "targetClass-subclass": lambda d: _subclass(d, PLACE, NamedNode(KGO + "Commemoration")),
    "class-subclass": lambda d: _replace(CLAIM, KGO + "statedIn", PLACE)(
        _subclass(d, PLACE, NamedNode(KGO + "SourceDocument"))),
}


def _subclass(data, thing, cls):
    """Type a thing with a new subclass of cls (declared in the thing's own file)."""
    sub = NamedNode(ID + "test/SubClass")
    data = _mutate(data, thing, RDF_TYPE.value, None, sub)
    home = next(f for f, quads in data.items() if any(q.subject == thing for q in quads))
    data[home] = [*data[home], Quad(sub, NamedNode(SUBCLASS), cls, NamedNode(home.graph))]
    return data


@pytest.mark.parametrize("component", sorted(TARGETED))
def test_targeted_mutation_agrees_with_pyshacl(component):
    report = assert_same(_parsed(TARGETED[component](_real_data())))
    assert not report.conforms, f"{component}: the mutation should break a shape"


# Values a mutation puts in place of an object: wrong datatypes, ill-formed and out-of-range
# literals, wrong languages, empty strings, IRIs of things of other classes, a blank node.
# (No positive plain integers: Oxigraph stores "34"^^xsd:positiveInteger as xsd:integer, so the
# store cannot tell them apart; see graph/validate/shacl_sparql.py.)
POOL = [
    Literal(""), Literal("ab"), Literal("613 people", datatype=NamedNode(XSD + "integer")),
    Literal(-5), Literal(0), Literal("Khojaly", language="en"), Literal("Xocalı", language="az"),
    Literal("1992-02-30", datatype=NamedNode(XSD + "date")),
    Literal("1992-02-26", datatype=NamedNode(XSD + "date")),
    Literal("1992", datatype=NamedNode(XSD + "gYear")), Literal(True),
    Literal("-181.5", datatype=NamedNode(XSD + "decimal")),
    Literal("POINT(1 2)", datatype=NamedNode("http://www.opengis.net/ont/geosparql#wktLiteral")),
    Literal("POINT (1 2)", datatype=NamedNode("http://www.opengis.net/ont/geosparql#wktLiteral")),
    PLACE, SOURCE, EVENT, NamedNode(ID + "concept/outcome-killed"),
    NamedNode(ID + "concept/qualifier-exact"), NamedNode(ID + "no/such-thing"),
    NamedNode(KGO + "FigureClaim"), BlankNode("mutation"),
]


def _valid_examples() -> list[dict[InputFile, list[Quad]]]:
    out = []
    for path in EXAMPLES:
        if path.stem.endswith("-valid"):
            parsed = _example(path)
            out.append({f: parsed.quads[f.graph] for f in parsed.files if f.role == "data"})
    return out


@st.composite
def mutations(draw, bases=None):
    """1 to 3 edits of the real data or of a valid example: drop a triple, replace its object,
    or add a second value."""
    data = draw(st.sampled_from(bases)) if bases else _real_data()
    files = sorted(data, key=lambda f: f.rel)
    for _ in range(draw(st.integers(1, 3))):
        f = draw(st.sampled_from(files))
        if not data[f]:
            continue
        q = draw(st.sampled_from(data[f]))
        kind = draw(st.sampled_from(["drop", "replace", "add"]))
        new = None if kind == "drop" else draw(st.sampled_from(POOL))
        data = _mutate(data, q.subject, q.predicate.value, None if kind == "add" else q.object, new)
    return data


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations())
def test_mutated_real_data_agrees_with_pyshacl(data):
    assert_same(_parsed(data))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations(_valid_examples()))
def test_mutated_examples_agree_with_pyshacl(data):
    assert_same(_parsed(data))


def test_blank_node_foci_are_located_after_a_native_load():
    """The build bulk-loads N-Quads, which gives blank nodes new labels: a quote (a blank node)
    is still shown through the claim that holds it, in the claim's file."""
    data = TARGETED["minLength"](_real_data())
    parsed = _parsed(data)
    store = Store()
    store.load(serialize(parsed.all_quads(), format=RdfFormat.N_QUADS), format=RdfFormat.N_QUADS)
    got = validate_store(store, parsed, SETTINGS)
    expected = validate(parsed, SETTINGS)
    assert [str(p) for p in got.problems] == [str(p) for p in expected.problems]
    assert got.problems[0].focus == f"[] inside {CLAIM.value}"
    assert got.problems[0].file == "data/source/caliber-2026-khojaly-commemoration.ttl"


# ------------------------------------------------------------------ the compiler itself


def _shapes_text(extra: str) -> list[Quad]:
    text = ("@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .\n"
            + extra)
    return list(parse(text.encode(), format=RdfFormat.TURTLE))


@pytest.mark.parametrize(
    "component", ["xone", "closed", "targetNode", "equals", "qualifiedMinCount"])
def test_an_unsupported_component_is_named(component):
    quads = _shapes_text(f"ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:{component} ex:x .")
    with pytest.raises(UnsupportedShape, match=f"sh:{component}"):
        shacl_sparql.read_shapes(quads, source="shapes.ttl")


def test_a_complex_path_is_refused():
    quads = _shapes_text("ex:S sh:targetClass ex:C ; sh:property [ "
                         "sh:path [ sh:inversePath ex:p ] ; sh:minCount 1 ] .")
    with pytest.raises(UnsupportedShape, match="sh:inversePath|sh:path"):
        shacl_sparql.read_shapes(quads, source="shapes.ttl")


def test_every_shape_of_the_repository_compiles_to_parsing_queries():
    shapes_file = _ontology_files()[2]
    shapes = shacl_sparql.read_shapes(parse_file(shapes_file))
    checks = shacl_sparql.compile_checks(shapes, Store())
    assert len(shapes) >= 20 and len(checks) >= 60
    for check in checks:
        Store().query(check.sparql)  # a SyntaxError fails the test


def test_use_pyshacl_follows_the_setting():
    small = Settings(pyshacl_max_triples=10)
    assert use_pyshacl(10, small) and not use_pyshacl(11, small)
    assert use_pyshacl(120_000, Settings()), "the 100k benchmark goes through pySHACL by default"
    assert not use_pyshacl(1_000_000, Settings())


def test_a_property_shape_with_its_own_target_checks_its_path():
    quads = _shapes_text("ex:S a sh:PropertyShape ; sh:targetClass ex:C ; sh:path ex:p ; "
                         'sh:minCount 1 ; sh:message "needs ex:p" .')
    shapes = shacl_sparql.read_shapes(quads, source="shapes.ttl")
    store = Store()
    store.extend(_shapes_text("ex:a a ex:C ; ex:p 1 . ex:b a ex:C ."))
    found = list(shacl_sparql.run_checks(store, shacl_sparql.compile_checks(shapes, store)))
    assert [(v.focus.value, v.path.value, v.message) for v in found] == [
        ("http://example.org/b", "http://example.org/p", "needs ex:p")]
