"""Export: every format round-trips (isomorphic), output is deterministic, CLI export re-parses."""

from __future__ import annotations

import io

import pytest
from helpers_graph import graphs_of, union_of
from pyoxigraph import NamedNode, RdfFormat, Store, parse
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from graph import rdflib_bridge
from graph.build import build
from graph.cli import main
from graph.errors import UnknownFormat
from graph.export import DUMP_FORMATS, to_bytes
from graph.formats import rdf_format
from graph.store import dumps_dir, open_store


def _assert_isomorphic(expected, actual):
    """Isomorphic (rdflib.compare); equal triple sets, the common case, are checked first: fast."""
    if set(expected) == set(actual):
        return
    if not isomorphic(expected, actual):
        _, only_expected, only_actual = graph_diff(to_isomorphic(expected), to_isomorphic(actual))
        pytest.fail(
            f"not isomorphic:\nmissing {sorted(only_expected)[:5]}\nextra {sorted(only_actual)[:5]}"
        )


@pytest.fixture
def mini_store(mini_settings):
    build(mini_settings)
    return open_store(mini_settings), mini_settings


@pytest.mark.parametrize("fmt", DUMP_FORMATS, ids=lambda f: f.file_extension)
def test_export_round_trips(built_settings, fmt):
    store = open_store(built_settings)
    data = to_bytes(store, fmt, base_iri=built_settings.base_iri)
    back = list(parse(data, format=fmt))
    if fmt.supports_datasets:
        expected = graphs_of(store.quads_for_pattern(None, None, None, None))
        actual = graphs_of(back)
        assert sorted(actual) == sorted(expected)
        for name, graph in expected.items():
            _assert_isomorphic(graph, actual[name])
    else:
        _assert_isomorphic(union_of(store), rdflib_bridge.to_graph(back))


@pytest.mark.parametrize("fmt", DUMP_FORMATS, ids=lambda f: f.file_extension)
def test_export_is_deterministic(mini_store, fmt):
    store, settings = mini_store
    first = to_bytes(store, fmt, base_iri=settings.base_iri)
    # a second store loaded in another order must give the same bytes
    other = Store()
    other.extend(reversed(list(store.quads_for_pattern(None, None, None, None))))
    assert to_bytes(other, fmt, base_iri=settings.base_iri) == first


def test_two_builds_of_the_same_input_give_the_same_dumps_except_void(mini_settings):
    build(mini_settings)
    data = (dumps_dir(mini_settings) / "khojaly.nq").read_bytes()
    build(mini_settings)
    again = (dumps_dir(mini_settings) / "khojaly.nq").read_bytes()
    void = b"/graph/void>"
    assert [ln for ln in data.splitlines() if void not in ln] == [
        ln for ln in again.splitlines() if void not in ln
    ]


def test_one_graph_only(mini_store):
    store, settings = mini_store
    graph = settings.base_iri + "graph/place/khojaly"
    data = to_bytes(store, RdfFormat.N_TRIPLES, graph=graph)
    expected = rdflib_bridge.to_graph(store.quads_for_pattern(None, None, None, NamedNode(graph)))
    _assert_isomorphic(expected, rdflib_bridge.to_graph(parse(data, format=RdfFormat.N_TRIPLES)))
    assert b"caliber-2026" not in data


def test_cli_export_turtle_of_the_whole_dataset_reparses_to_the_same_graph(built_settings, runner):
    """Issue 2, done-when: `kg export --format turtle` re-parses to the same graph."""
    result = runner.invoke(main, ["export", "--format", "turtle"], obj=built_settings)
    assert result.exit_code == 0, result.output
    back = rdflib_bridge.to_graph(parse(result.stdout_bytes, format=RdfFormat.TURTLE))
    _assert_isomorphic(union_of(open_store(built_settings)), back)


def test_cli_export_guesses_the_format_from_the_file_name(mini_store, runner, tmp_path):
    store, settings = mini_store
    out = tmp_path / "graph.nq"
    result = runner.invoke(main, ["export", "-o", str(out)], obj=settings)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == to_bytes(store, RdfFormat.N_QUADS)


def test_cli_export_media_type_and_graph(mini_store, runner):
    store, settings = mini_store
    graph = settings.base_iri + "graph/place/khojaly"
    args = ["export", "--format", "application/n-triples", "--graph", graph]
    result = runner.invoke(main, args, obj=settings)
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == to_bytes(store, RdfFormat.N_TRIPLES, graph=graph)


def test_cli_export_unknown_format_or_graph_exits_2(mini_store, runner):
    _, settings = mini_store
    result = runner.invoke(main, ["export", "--format", "docx"], obj=settings)
    assert result.exit_code == 2
    assert "unknown RDF format" in result.stderr
    result = runner.invoke(main, ["export", "--graph", "https://example.org/g"], obj=settings)
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("turtle", RdfFormat.TURTLE),
        ("ttl", RdfFormat.TURTLE),
        (".trig", RdfFormat.TRIG),
        ("text/turtle; charset=utf-8", RdfFormat.TURTLE),
        ("application/ld+json", RdfFormat.JSON_LD),
        ("jsonld", RdfFormat.JSON_LD),
        ("xml", RdfFormat.RDF_XML),
        ("nq", RdfFormat.N_QUADS),
    ],
)
def test_rdf_format_names(name, expected):
    assert rdf_format(name) == expected


def test_unknown_format_raises_our_error():
    with pytest.raises(UnknownFormat):
        rdf_format("application/pdf")


def test_turtle_dump_uses_our_prefixes(mini_store):
    store, settings = mini_store
    text = io.BytesIO(to_bytes(store, RdfFormat.TURTLE, base_iri=settings.base_iri)).read().decode()
    assert f"@prefix place: <{settings.base_iri}id/place/> ." in text
    assert "place:khojaly " in text
