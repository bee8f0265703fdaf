"""SPARQL 1.1 Protocol at /sparql through the Flask test client: every method, parameter and
media type, the dataset parameters, the service description, caching and CORS headers."""

from __future__ import annotations

import json

import pytest
from pyoxigraph import (
    NamedNode,
    QueryResultsFormat,
    RdfFormat,
    Store,
    parse,
    parse_query_results,
)
from sparql_support import (
    CLAIM,
    EVENT,
    G_EVENT,
    G_PLACE,
    G_SOURCE,
    PLACE,
    TRIG,
    make_settings,
)

from endpoint import create_app

LABELS = "SELECT ?l WHERE { ?s rdfs:label ?l } ORDER BY ?l"
CONSTRUCT = f"CONSTRUCT {{ <{EVENT}> ?p ?o }} WHERE {{ <{EVENT}> ?p ?o }}"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = create_app(make_settings(tmp_path_factory.mktemp("protocol")))
    yield app
    app.extensions["kg"].pool.close()


@pytest.fixture
def client(app):
    return app.test_client()


def expected_event_triples() -> set:
    store = Store()
    store.extend(parse(TRIG.encode(), format=RdfFormat.TRIG))
    return {q.triple for q in store if q.subject == NamedNode(EVENT)}


def labels_of(response) -> list[str]:
    assert response.status_code == 200, response.data
    data = json.loads(response.data)
    return [b["l"]["value"] for b in data["results"]["bindings"]]


# -- the three ways to send a query -----------------------------------------------------------


def test_get_select_answers_json_over_the_union_of_named_graphs(client):
    # every triple of the fixture is in a named graph: the labels prove the union default graph
    r = client.get("/sparql", query_string={"query": LABELS})
    assert r.mimetype == "application/sparql-results+json"
    assert "Khojaly massacre" in labels_of(r)
    assert "Xocalı" in labels_of(r)


def test_post_form_encoded(client):
    r = client.post("/sparql", data={"query": LABELS})
    assert "Khojaly" in labels_of(r)


def test_post_direct_sparql_query(client):
    r = client.post("/sparql", data=LABELS.encode(), content_type="application/sparql-query")
    assert "Khojaly" in labels_of(r)


def test_direct_post_takes_dataset_parameters_from_the_url(client):
    r = client.post(
        f"/sparql?default-graph-uri={G_PLACE}",
        data=LABELS.encode(),
        content_type="application/sparql-query",
    )
    assert sorted(labels_of(r)) == ["Khojaly", "Xocalı"]


def test_head_answers_headers_only(client):
    r = client.head("/sparql", query_string={"query": LABELS})
    assert r.status_code == 200
    assert r.data == b""
    assert int(r.headers["Content-Length"]) > 0


# -- results formats ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [QueryResultsFormat.JSON, QueryResultsFormat.XML,
                                 QueryResultsFormat.TSV])
def test_select_in_each_parseable_results_format(client, fmt):
    r = client.get("/sparql", query_string={"query": LABELS}, headers={"Accept": fmt.media_type})
    assert r.status_code == 200
    assert r.mimetype == fmt.media_type.split(";")[0]
    values = {s["l"].value for s in parse_query_results(r.data, format=fmt)}
    assert values == {"Khojaly", "Xocalı", "Khojaly massacre", "Xocalı soyqırımı"}


def test_select_as_csv(client):
    r = client.get("/sparql", query_string={"query": LABELS}, headers={"Accept": "text/csv"})
    assert r.mimetype == "text/csv"
    lines = r.data.decode().splitlines()
    assert lines[0] == "l"
    assert sorted(lines[1:]) == ["Khojaly", "Khojaly massacre", "Xocalı", "Xocalı soyqırımı"]


@pytest.mark.parametrize("fmt", [QueryResultsFormat.JSON, QueryResultsFormat.XML])
def test_ask(client, fmt):
    for query, expected in ((f"ASK {{ <{EVENT}> ?p ?o }}", True),
                            ("ASK { <urn:nothing> ?p ?o }", False)):
        r = client.get("/sparql", query_string={"query": query},
                       headers={"Accept": fmt.media_type})
        assert r.mimetype == fmt.media_type
        assert bool(parse_query_results(r.data, format=fmt)) is expected


@pytest.mark.parametrize("fmt", [RdfFormat.TURTLE, RdfFormat.N_TRIPLES, RdfFormat.N_QUADS,
                                 RdfFormat.TRIG, RdfFormat.JSON_LD, RdfFormat.RDF_XML])
def test_construct_in_each_graph_format(client, fmt):
    r = client.get("/sparql", query_string={"query": CONSTRUCT},
                   headers={"Accept": fmt.media_type})
    assert r.status_code == 200, r.data
    assert r.mimetype == fmt.media_type
    got = {q.triple for q in parse(r.data, format=fmt)}
    assert got == expected_event_triples()


def test_describe_defaults_to_turtle(client):
    r = client.get("/sparql", query_string={"query": f"DESCRIBE <{PLACE}>"})
    assert r.mimetype == "text/turtle"
    subjects = {q.subject for q in parse(r.data, format=RdfFormat.TURTLE)}
    assert subjects == {NamedNode(PLACE)}


def test_accept_q_values_are_honoured(client):
    accept = "application/sparql-results+xml;q=0.5, text/csv;q=0.9, */*;q=0.1"
    r = client.get("/sparql", query_string={"query": LABELS}, headers={"Accept": accept})
    assert r.mimetype == "text/csv"
    assert "Accept" in r.headers["Vary"]


@pytest.mark.parametrize(
    ("query", "fmt", "mimetype"),
    [
        (LABELS, "csv", "text/csv"),
        (LABELS, "tsv", "text/tab-separated-values"),
        (LABELS, "xml", "application/sparql-results+xml"),
        (LABELS, "application/sparql-results+json", "application/sparql-results+json"),
        (CONSTRUCT, "ttl", "text/turtle"),
        (CONSTRUCT, "nt", "application/n-triples"),
        (CONSTRUCT, "json", "application/ld+json"),
        (CONSTRUCT, "jsonld", "application/ld+json"),
        (CONSTRUCT, "rdf", "application/rdf+xml"),
        (CONSTRUCT, "trig", "application/trig"),
    ],
)
def test_format_parameter_overrides_accept(client, query, fmt, mimetype):
    r = client.get("/sparql", query_string={"query": query, "format": fmt},
                   headers={"Accept": "application/sparql-results+json, text/turtle"})
    assert r.status_code == 200, r.data
    assert r.mimetype == mimetype


def test_large_result_is_streamed_whole_without_a_length(client, app):
    # 200 x 200 solutions is far past the inline limit: the worker streams it as it serializes,
    # so the length is not known when the 200 goes out, and such a result is never cached
    values = " ".join(str(n) for n in range(200))
    query = f"SELECT ?a ?b WHERE {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} }}"
    cache = app.extensions["kg"].response_cache
    r = client.get("/sparql", query_string={"query": query}, headers={"Accept": "text/csv"})
    assert r.status_code == 200
    assert "Content-Length" not in r.headers and len(r.data) > 256 * 1024
    head, *rows = r.data.decode().splitlines()
    assert head == "a,b"
    assert sorted(rows) == sorted(f"{a},{b}" for a in range(200) for b in range(200))
    assert cache.get(r.headers["ETag"].strip('"'), app.extensions["kg"].version) is None


# -- the dataset --------------------------------------------------------------------------------


def test_default_graph_uri_restricts_the_default_graph(client):
    r = client.get("/sparql", query_string={"query": LABELS, "default-graph-uri": G_EVENT})
    assert sorted(labels_of(r)) == ["Khojaly massacre", "Xocalı soyqırımı"]


def test_two_default_graph_uris_merge(client):
    r = client.get("/sparql", query_string=[("query", LABELS), ("default-graph-uri", G_EVENT),
                                            ("default-graph-uri", G_PLACE)])
    assert len(labels_of(r)) == 4


def test_named_graph_uri_restricts_graph_patterns(client):
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    r = client.get("/sparql", query_string={"query": query, "named-graph-uri": G_SOURCE})
    data = json.loads(r.data)
    assert [b["g"]["value"] for b in data["results"]["bindings"]] == [G_SOURCE]


def test_from_in_the_query_is_not_overridden_by_the_union(client):
    # pyoxigraph ignores FROM when asked for the union default graph: the endpoint must not ask
    query = f"SELECT ?l FROM <{G_PLACE}> WHERE {{ ?s rdfs:label ?l }}"
    r = client.get("/sparql", query_string={"query": query})
    assert sorted(labels_of(r)) == ["Khojaly", "Xocalı"]


def test_graph_patterns_see_every_named_graph(client):
    query = f"SELECT ?g WHERE {{ GRAPH ?g {{ <{CLAIM}> ?p ?o }} }} LIMIT 1"
    r = client.get("/sparql", query_string={"query": query})
    assert json.loads(r.data)["results"]["bindings"][0]["g"]["value"] == G_SOURCE


# -- protocol errors ----------------------------------------------------------------------------


def test_malformed_query_is_400_with_the_parser_message(client):
    r = client.get("/sparql", query_string={"query": "SELECT ?x WHERE { ?x ?p }"})
    assert r.status_code == 400
    assert r.mimetype == "text/plain"
    assert "line 1, column " in r.data.decode()


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"method": "POST", "data": {"format": "json"}}, 400),  # form POST without query
        ({"method": "GET", "query_string": {"default-graph-uri": G_EVENT}}, 400),  # no query
        ({"method": "GET", "query_string": [("query", LABELS), ("query", LABELS)]}, 400),
        ({"method": "GET", "query_string": {"query": "   "}}, 400),
        ({"method": "GET", "query_string": {"query": LABELS, "default-graph-uri": "not an iri"}},
         400),
        ({"method": "POST", "data": LABELS, "content_type": "text/plain"}, 415),
        ({"method": "POST", "data": b"\xff\xfe", "content_type": "application/sparql-query"},
         400),
        ({"method": "GET", "query_string": {"query": LABELS}, "headers": {"Accept": "image/png"}},
         406),
        ({"method": "GET", "query_string": {"query": CONSTRUCT},
          "headers": {"Accept": "application/sparql-results+json"}}, 406),
        ({"method": "GET", "query_string": {"query": LABELS, "format": "pdf"}}, 406),
        ({"method": "PUT", "data": LABELS}, 405),
    ],
)
def test_protocol_errors(client, kwargs, status):
    r = client.open("/sparql", **kwargs)
    assert r.status_code == status, r.data
    assert r.mimetype == "text/plain"
    assert r.data.strip()


# -- service description --------------------------------------------------------------------------


SD = "http://www.w3.org/ns/sparql-service-description#"


@pytest.mark.parametrize("fmt", [RdfFormat.TURTLE, RdfFormat.N_TRIPLES, RdfFormat.JSON_LD,
                                 RdfFormat.RDF_XML, RdfFormat.TRIG, RdfFormat.N_QUADS])
def test_bare_get_is_the_service_description(client, fmt):
    r = client.get("/sparql", headers={"Accept": fmt.media_type})
    assert r.status_code == 200
    assert r.mimetype == fmt.media_type
    store = Store()
    store.extend(parse(r.data, format=fmt))
    # the configured IRI, as VoID names it (tests/test_site_consistency.py), not the host asked
    endpoint = NamedNode(client.application.config["KG_SETTINGS"].base_iri + "sparql")
    assert store.query(f"ASK {{ ?s a <{SD}Service> ; <{SD}endpoint> ?e }}")
    assert next(store.query(f"SELECT ?e {{ ?s <{SD}endpoint> ?e }}"))["e"] == endpoint
    graphs = store.query(f"SELECT ?g {{ ?d <{SD}namedGraph>/<{SD}name> ?g }}")
    names = {s["g"].value for s in graphs}
    assert names == {G_EVENT, G_PLACE, G_SOURCE}
    assert store.query(f"ASK {{ ?s <{SD}feature> <{SD}UnionDefaultGraph> }}")


def test_bare_get_for_any_type_is_turtle(client):
    r = client.get("/sparql", headers={"Accept": "*/*"})
    assert r.mimetype == "text/turtle"


def test_bare_get_from_a_browser_goes_to_the_query_ui(client):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    r = client.get("/sparql", headers={"Accept": accept})
    assert r.status_code == 303
    assert r.headers["Location"].endswith("/query")
    assert "Accept" in r.headers["Vary"]


# -- caching and CORS -----------------------------------------------------------------------------


def test_etag_is_stable_and_if_none_match_gives_304(client):
    r1 = client.get("/sparql", query_string={"query": LABELS})
    r2 = client.get("/sparql", query_string={"query": LABELS})
    etag = r1.headers["ETag"]
    assert etag == r2.headers["ETag"] and not etag.startswith("W/")
    assert r1.headers["Cache-Control"] in ("public, max-age=300", "max-age=300, public")
    r3 = client.get("/sparql", query_string={"query": LABELS}, headers={"If-None-Match": etag})
    assert r3.status_code == 304
    assert r3.data == b""


def test_etag_differs_by_query_and_by_format(client):
    a = client.get("/sparql", query_string={"query": LABELS}).headers["ETag"]
    b = client.get("/sparql", query_string={"query": LABELS + " LIMIT 1"}).headers["ETag"]
    c = client.get("/sparql", query_string={"query": LABELS, "format": "csv"}).headers["ETag"]
    assert len({a, b, c}) == 3


def test_post_is_not_marked_cacheable(client):
    r = client.post("/sparql", data={"query": LABELS})
    assert "ETag" not in r.headers


def test_cors_is_open_for_reads_without_credentials(client):
    r = client.get("/sparql", query_string={"query": LABELS},
                   headers={"Origin": "https://evil.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers
    pre = client.options("/sparql", headers={
        "Origin": "https://yasgui.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 200
    assert pre.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert "content-type" in pre.headers["Access-Control-Allow-Headers"].lower()


def test_error_responses_carry_cors_too(client):
    r = client.get("/sparql", query_string={"query": "SELEC"})
    assert r.status_code == 400
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_a_query_that_fails_in_evaluation_is_400(client):
    query = "SELECT * WHERE { ?s ?p ?o FILTER(<http://example.org/no-such-function>(?s)) }"
    r = client.get("/sparql", query_string={"query": query})
    assert r.status_code == 400
    assert "no-such-function" in r.data.decode()
