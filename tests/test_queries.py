"""Every .rq file parses; headers are read; parameters are bound, never formatted in."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Store

from graph.config import DEFAULT_BASE_IRI
from graph.errors import KGError, QuerySyntaxError
from graph.queries import checks, examples, load_query, parse_header, query_prefixes, run

QUERIES = Path(__file__).resolve().parent.parent / "graph" / "queries"
ALL_RQ = sorted(QUERIES.rglob("*.rq"))


def test_there_are_queries():
    assert len(ALL_RQ) >= 10
    assert len(checks()) >= 6


@pytest.mark.parametrize("path", ALL_RQ, ids=lambda p: str(p.relative_to(QUERIES)))
def test_every_rq_file_parses(path):
    """Run against an empty store: only a SyntaxError fails (our prefixes may stay undeclared)."""
    store = Store()
    text = path.read_text(encoding="utf-8")
    try:
        store.query(text, prefixes=query_prefixes(DEFAULT_BASE_IRI))
    except SyntaxError as err:
        pytest.fail(f"{path.relative_to(QUERIES)}: {err}")


@pytest.mark.parametrize("query", checks(), ids=lambda q: q.name)
def test_check_queries_have_a_title_and_the_agreed_columns(query):
    assert query.title
    assert query.name.endswith("-violation")
    assert "?focus ?g ?message" in query.text


def test_examples_have_titles():
    for query in examples():
        assert query.title, f"{query.name} has no '# title:' line"


def test_header_parsing():
    q = parse_header(
        "x",
        "# title: Who?\n# description: line one\n# description: line two\n"
        "# param: ?entity ?lang\nSELECT * WHERE {}\n# title: not a header\n",
    )
    assert (q.title, q.description, q.params) == ("Who?", "line one line two", ("entity", "lang"))


def test_load_query_by_name():
    q = load_query("checks/claim-without-source-violation")
    assert q.name == "checks/claim-without-source-violation"
    assert "kgo:statedIn" in q.text
    with pytest.raises(KGError):
        load_query("no-such-query")


def test_run_binds_with_substitutions():
    store = Store()
    entity = NamedNode(DEFAULT_BASE_IRI + "id/place/khojaly")
    q = parse_header("t", "SELECT ?entity ?label WHERE { ?entity rdfs:label ?label }")
    from pyoxigraph import Quad

    store.add(Quad(entity, NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), Literal("K")))
    other = NamedNode(DEFAULT_BASE_IRI + "id/place/baku")
    store.add(Quad(other, NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), Literal("B")))
    rows = list(run(store, q, entity=entity))
    assert [(r["entity"], r["label"].value) for r in rows] == [(entity, "K")]
    # a string is bound as a literal, so it cannot inject syntax
    assert list(run(store, q, entity="} ; DROP ALL ; {")) == []


def test_run_reports_syntax_errors():
    with pytest.raises(QuerySyntaxError):
        run(Store(), parse_header("bad", "SELECT WHERE {"))


def test_prefixes_follow_the_base_iri():
    prefixes = query_prefixes("https://example.org/kg/")
    assert prefixes["kgo"] == "https://example.org/kg/ontology#"
    assert prefixes["kgid"] == "https://example.org/kg/id/"
