"""Property-based: generated datasets survive export -> parse in every format (isomorphic)."""

from __future__ import annotations

from helpers_graph import graphs_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Store, parse
from rdflib.compare import isomorphic

from graph.build.export import to_bytes
from graph.formats import DUMP_FORMATS
from graph.validate import rdflib_bridge

BASE = "https://w3id.org/khojaly/"
XSD = "http://www.w3.org/2001/XMLSchema#"

iris = st.sampled_from(["id/place/khojaly", "id/place/baku", "id/claim/x-1", "ontology#Claim"]).map(
    lambda s: NamedNode(BASE + s)
)
predicates = st.sampled_from(["ontology#about", "ontology#value", "ontology#label"]).map(
    lambda s: NamedNode(BASE + s)
)
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)
literals = st.one_of(
    text.map(Literal),
    st.tuples(text, st.sampled_from(["en", "az", "ru", "hy"])).map(
        lambda t: Literal(t[0], language=t[1])
    ),
    st.integers(-(10**9), 10**9).map(
        lambda n: Literal(str(n), datatype=NamedNode(XSD + "integer"))
    ),
)
blanks = st.sampled_from(["b1", "b2"]).map(BlankNode)
graphs = st.sampled_from(["graph/place/khojaly", "graph/source/s1"]).map(
    lambda s: NamedNode(BASE + s)
)
objects = st.one_of(iris, blanks, literals)
quads = st.builds(Quad, st.one_of(iris, blanks), predicates, objects, graphs)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(quads, min_size=1, max_size=15))
def test_generated_datasets_round_trip_in_every_format(items):
    store = Store()
    store.extend(items)
    expected_graphs = graphs_of(store.quads_for_pattern(None, None, None, None))
    expected_union = rdflib_bridge.to_graph(store.quads_for_pattern(None, None, None, None))
    for fmt in DUMP_FORMATS:
        data = to_bytes(store, fmt, base_iri=BASE)
        assert to_bytes(store, fmt, base_iri=BASE) == data
        back = list(parse(data, format=fmt))
        if fmt.supports_datasets:
            actual = graphs_of(back)
            assert sorted(actual) == sorted(expected_graphs), fmt
            for name, graph in expected_graphs.items():
                assert isomorphic(graph, actual[name]), (fmt, name)
        else:
            assert isomorphic(expected_union, rdflib_bridge.to_graph(back)), fmt
