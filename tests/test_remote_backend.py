"""The remote backend: the same answers and pages from a real Virtuoso as from the
embedded store, and its errors (syntax, timeout, partial answers) mapped to ours.

The Virtuoso tests use the session fixture `virtuoso` (tests/virtuoso.py): a server on 127.0.0.1
holding the real dataset, published with `kg publish`'s code. The query-text and result-parsing
tests need no server.
"""

from __future__ import annotations

import gc
import json
import re

import pytest
from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    RdfFormat,
    Store,
    Variable,
    parse,
    serialize,
)
from rdflib import Graph
from rdflib.compare import isomorphic
from standin import silent_listener

from endpoint import create_app
from graph.cli.main import main
from graph.errors import QueryTimeout
from graph.queries import examples, run
from graph.remote.publish import GraphStore
from graph.remote.store import RemoteStore, _solutions, wkt
from graph.sparql.reader import read
from graph.sparql.rewrite import bind_values, prepare, with_dataset
from graph.store import open_store

# -- query text (no server) ---------------------------------------------------------------------


RDFS = {"rdfs": "http://www.w3.org/2000/01/rdf-schema#"}


def test_values_go_first_in_the_top_level_where_group_and_the_term_in_place():
    q = 'SELECT ?e ?l WHERE { ?e rdfs:label ?l FILTER(?l != "}{?e") } ORDER BY ?e'
    out = bind_values(q, {Variable("e"): NamedNode("http://ex/a")}, prefixes=RDFS)
    assert out == (
        "SELECT ?e ?l WHERE { VALUES (?e) { (<http://ex/a>) }  <http://ex/a> rdfs:label ?l "
        'FILTER(?l != "}{?e") } ORDER BY ?e'
    )


def test_substitution_reaches_into_subqueries_as_pyoxigraph_does():
    """SEP-0007: a subquery sees the value too (a VALUES join alone would not give it)."""
    q = (
        "SELECT ?e ?t WHERE { { SELECT DISTINCT ?e ?t WHERE { { BIND(?e AS ?t) } UNION "
        "{ ?e ?t ?o } } GROUP BY ?e ?t ORDER BY DESC(?e) } }"
    )
    out = bind_values(q, {Variable("e"): NamedNode("http://ex/a")})
    assert "SELECT DISTINCT (<http://ex/a> AS ?e) ?t WHERE" in out
    assert "{ BIND(<http://ex/a> AS ?t) } UNION { <http://ex/a> ?t ?o }" in out
    assert "GROUP BY (<http://ex/a>) ?t ORDER BY DESC((<http://ex/a>))" in out
    from pyoxigraph import Store

    store = Store()
    store.add(__import__("pyoxigraph").Quad(NamedNode("http://ex/a"), NamedNode("http://ex/p"),
                                            Literal("x")))
    ours = {(r["e"].value, r["t"].value) for r in store.query(out)}
    assert ours == {("http://ex/a", "http://ex/a"), ("http://ex/a", "http://ex/p")}


def test_values_skip_a_construct_template_and_braces_in_strings_and_comments():
    q = (
        "# a comment with { braces }\n"
        'CONSTRUCT { ?e <http://ex/p#x> "{" } WHERE { ?e ?p ?o }'
    )
    found = read(q)
    assert found.form == "CONSTRUCT"
    assert q[found.where_at : found.where_at + 5] == "WHERE"
    out = bind_values(q, {Variable("o"): Literal('say "hi"', language="en")})
    assert 'WHERE { VALUES (?o) { ("say \\"hi\\""@en) }  ?e ?p "say \\"hi\\""@en }' in out
    assert out.startswith("# a comment with { braces }\nCONSTRUCT { ?e <http://ex/p#x> \"{\" }")


def test_values_trail_a_query_without_a_group_it_can_enter():
    q = "CONSTRUCT WHERE { ?e ?p ?o }"
    out = bind_values(q, {Variable("e"): NamedNode("http://ex/a")})
    assert out == "CONSTRUCT WHERE { <http://ex/a> ?p ?o }\nVALUES (?e) { (<http://ex/a>) }\n"


def test_prepare_reads_comments_and_prefixes_as_the_grammar_does():
    """A comment ends at a carriage return too; the old lexer read on to the next line feed,
    missed the WHERE group and put VALUES after the query. Prefixes the query declares are not
    declared again."""
    q = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n# note\rSELECT ?e ?l WHERE {\n" \
        "  ?e rdfs:label ?l # a { brace\n}"
    schema = {"schema": "https://schema.org/"}
    out = prepare(q, prefixes={**RDFS, **schema}, substitutions={Variable("e"): NamedNode("urn:a")})
    assert out.count("PREFIX rdfs:") == 1 and out.startswith("PREFIX schema: <https://schema.org/>")
    assert "WHERE { VALUES (?e) { (<urn:a>) } \n  <urn:a> rdfs:label ?l" in out
    assert read(out).form == "SELECT"


def test_a_subject_shared_by_a_predicate_object_list_is_replaced_once():
    """rdflib expands `?e :p ?a ; :q ?b , ?c` to triples sharing the one subject: it is still one
    place in the text (the page query entity_point.rq came out as `<x><x> wgs:lat ?lat ;`, a
    syntax error on Virtuoso, and every entity page answered 400)."""
    q = "SELECT * WHERE { ?e <http://ex/p> ?a ; <http://ex/q> ?b , ?c . }"
    assert [(u.name, u.start) for u in read(q).variables] == [
        (v, q.index("?" + v)) for v in "eabc"]
    out = bind_values(q, {Variable("e"): NamedNode("http://ex/x")})
    assert out == ("SELECT * WHERE { VALUES (?e) { (<http://ex/x>) }  <http://ex/x> <http://ex/p> "
                   "?a ; <http://ex/q> ?b , ?c . }")
    assert read(out).form == "SELECT"


def test_blank_nodes_cannot_be_sent():
    with pytest.raises(TypeError, match="blank node|cannot send"):
        bind_values("SELECT * { ?s ?p ?o }", {Variable("s"): BlankNode()})


def test_dataset_clauses_go_before_where_unless_the_query_names_its_own():
    q = "SELECT * WHERE { ?s ?p ?o }"
    out = with_dataset(q, ["http://ex/g1"], ["http://ex/g1"])
    assert out == "SELECT * \nFROM <http://ex/g1>\nFROM NAMED <http://ex/g1>\nWHERE { ?s ?p ?o }"
    own = "SELECT * FROM <http://ex/x> WHERE { ?s ?p ?o }"
    assert with_dataset(own, ["http://ex/g1"], []) == own
    assert with_dataset("DESCRIBE <http://ex/a>", ["http://ex/g1"], []) is None


# -- Virtuoso's results, normalised (no server) ---------------------------------------------------


def test_virtuoso_json_is_normalised_before_pyoxigraph_parses_it():
    body = json.dumps({
        "head": {"link": [], "vars": ["s", "n", "w"]},
        "results": {"distinct": False, "ordered": True, "bindings": [{
            "s": {"type": "bnode", "value": "nodeID://b10001"},
            "n": {"type": "typed-literal", "datatype": "http://www.w3.org/2001/XMLSchema#integer",
                  "value": "613"},
            "w": {"type": "typed-literal",
                  "datatype": "http://www.openlinksw.com/schemas/virtrdf#Geometry",
                  "value": "POINT(49.882221221924 40.395278930664)"},
        }]},
    }).encode()
    result = _solutions(body)
    assert isinstance(result, QuerySolutions)
    row = next(iter(result))
    assert isinstance(row["s"], BlankNode)
    assert row["n"] == Literal(613)
    assert row["w"] == Literal(
        "POINT(49.88222 40.39528)",
        datatype=NamedNode("http://www.opengis.net/ont/geosparql#wktLiteral"),
    )


def test_wkt_rewritten_by_virtuoso_comes_back_as_loaded():
    assert wkt("POINT(46.751941680908 39.815280914307)") == "POINT(46.75194 39.81528)"
    assert wkt("POINT(49.867000579834 40.382999420166)") == "POINT(49.867 40.383)"
    # not in Virtuoso's 12-decimal form: left alone
    assert wkt("POINT(49.873932 40.382991)") == "POINT(49.873932 40.382991)"


# -- errors from a server (local stand-ins, no Virtuoso) ------------------------------------------


@pytest.fixture
def silent_server():
    with silent_listener() as (url, _):
        yield url


def test_a_server_that_does_not_answer_is_a_query_timeout(silent_server):
    store = RemoteStore(silent_server, base_iri="http://ex/", timeout=0.3, graphs=[])
    with pytest.raises(QueryTimeout, match="did not answer"):
        store.query("ASK {}")


def test_a_partial_virtuoso_answer_is_refused(httpserver):
    httpserver.expect_request("/sparql", method="POST").respond_with_data(
        json.dumps({"head": {"vars": ["s"]}, "results": {"bindings": []}}),
        content_type="application/sparql-results+json",
        headers={"X-SQL-State": "S1TAT"},
    )
    store = RemoteStore(httpserver.url_for("/sparql"), base_iri="http://ex/", graphs=[])
    with pytest.raises(QueryTimeout, match="partial"):
        store.query("SELECT * WHERE { ?s ?p ?o }")


def test_queries_go_as_a_form_post(httpserver):
    """Virtuoso hangs on a direct application/sparql-query POST: we must never send one."""
    httpserver.expect_request(
        "/sparql", method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}
    ).respond_with_data('{"head": {}, "boolean": true}',
                        content_type="application/sparql-results+json")
    store = RemoteStore(httpserver.url_for("/sparql"), base_iri="http://ex/", graphs=[])
    assert bool(store.query("ASK {}")) is True
    (request, _), = httpserver.log
    assert "query=ASK" in request.get_data(as_text=True)


# -- against Virtuoso ------------------------------------------------------------------------------


def _order_keys(text: str) -> list[str]:
    m = re.search(r"(?is)ORDER\s+BY\s+(.*?)(LIMIT|OFFSET|$)", text)
    return re.findall(r"\?(\w+)", m.group(1)) if m else []


_CONCAT = re.compile(r"(?is)GROUP_CONCAT\s*\(((?:[^()]|\([^()]*\))*)\)\s*AS\s+\?(\w+)")
_SEPARATOR = re.compile(r"""(?is);\s*SEPARATOR\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _concatenated(text: str) -> dict[str, str]:
    """The variables a query binds with GROUP_CONCAT, and their separators.

    SPARQL leaves the order of the joined values to the engine ("The order of the strings is not
    specified", SPARQL 1.1 Query, GroupConcat), and Oxigraph and Virtuoso join the same values in
    different orders; the comparison sorts them. Everything else of the value must agree.
    """
    found = {}
    for args, name in _CONCAT.findall(text):
        sep = _SEPARATOR.search(args)
        found[name] = " " if sep is None else next(g for g in sep.groups() if g is not None)
    return found


def _cell(term, separator: str | None) -> str:
    if isinstance(term, BlankNode):
        return "_:"
    if separator and isinstance(term, Literal):
        joined = separator.join(sorted(term.value.split(separator)))
        term = Literal(joined, language=term.language) if term.language \
            else Literal(joined, datatype=term.datatype)
    return str(term)


def _rows(result, variables: list[str], concatenated: dict[str, str] | None = None
          ) -> list[tuple[str, ...]]:
    concatenated = concatenated or {}
    return [tuple(_cell(s[v], concatenated.get(v)) for v in variables) for s in result]


#: Federated examples (SERVICE to Wikidata) would reach the internet from the embedded store; they
#: are tested against a stand-in in test_enrich.py. Virtuoso refuses SERVICE to its anonymous
#: user anyway (SQ070, "Must have select privileges on view DB.DBA.SPARQL_SINV_2").
LOCAL_EXAMPLES = [q for q in examples() if not re.search(r"(?i)\bSERVICE\s*<", q.text)]


def test_the_federated_examples_are_the_only_ones_left_out():
    left_out = {q.name for q in examples()} - {q.name for q in LOCAL_EXAMPLES}
    assert all("federated" in name for name in left_out)
    assert len(LOCAL_EXAMPLES) >= 19


#: Examples that must find nothing in the real data (integrity questions): that both engines
#: find nothing proves little, so each is compared again over the data plus a quad it must find,
#: as test_example_queries.py does for the embedded store. The quad goes into a graph of its own,
#: on the server for the length of the comparison only.
PLANTED_GRAPH = "urn:x-khojaly-test:planted"
PLANTED = {
    "examples/unclaimed-figures": lambda base: Quad(
        NamedNode(base + "id/event/khojaly-massacre"), NamedNode("https://schema.org/value"),
        Literal(613), NamedNode(PLANTED_GRAPH)),
}


def _answer_the_same(query, store, remote, base_iri: str, *, may_be_empty: bool) -> None:
    ours = run(store, query, base_iri=base_iri)
    theirs = run(remote, query, base_iri=base_iri)
    if isinstance(ours, QueryBoolean):
        assert bool(theirs) == bool(ours)
        return
    if not isinstance(ours, QuerySolutions):
        assert sorted(map(str, theirs)) == sorted(map(str, ours))
        return
    names = [v.value for v in ours.variables]
    assert [v.value for v in theirs.variables] == names
    concatenated = _concatenated(query.text)
    a, b = _rows(ours, names, concatenated), _rows(theirs, names, concatenated)
    assert a or may_be_empty, "an example query with no answer proves nothing"
    assert sorted(b) == sorted(a)
    keys = [names.index(k) for k in _order_keys(query.text) if k in names]
    if keys:  # ORDER BY: the same sequence of sort keys (ties may come in any order)
        assert [tuple(r[i] for i in keys) for r in b] == [tuple(r[i] for i in keys) for r in a]


@pytest.mark.server
@pytest.mark.parametrize("query", LOCAL_EXAMPLES, ids=lambda q: q.name.removeprefix("examples/"))
def test_every_example_query_answers_the_same(query, built_settings, virtuoso):
    base = built_settings.base_iri
    store = open_store(built_settings)
    remote = RemoteStore(virtuoso.sparql_url, base_iri=base, server_dataset=True)
    plant = PLANTED.get(query.name)
    _answer_the_same(query, store, remote, base, may_be_empty=plant is not None)
    if plant is None:
        return
    quad = plant(base)
    scratch = Store()
    scratch.extend(store.quads_for_pattern(None, None, None, None))
    scratch.add(quad)
    gsp = GraphStore(virtuoso.gsp_url, "dba", virtuoso.password)
    gsp.send("PUT", PLANTED_GRAPH, serialize([quad.triple], format=RdfFormat.N_TRIPLES))
    try:
        _answer_the_same(query, scratch, remote, base, may_be_empty=False)
    finally:
        gsp.send("DELETE", PLANTED_GRAPH)


def test_group_concat_values_are_compared_in_any_order():
    text = 'SELECT (GROUP_CONCAT(DISTINCT STR(?m); separator=", ") AS ?ms) ' \
        "(GROUP_CONCAT(?x) AS ?xs) (SAMPLE(?y) AS ?y1) WHERE { }"
    assert _concatenated(text) == {"ms": ", ", "xs": " "}
    assert _cell(Literal("b, a"), ", ") == _cell(Literal("a, b"), ", ") == '"a, b"'
    assert _cell(Literal("b a", language="en"), " ") == '"a b"@en'
    assert _cell(Literal("b, a"), None) == '"b, a"'


@pytest.mark.server
def test_listed_graphs_mode_gives_the_same_answer(built_settings, virtuoso):
    """FROM / FROM NAMED of our graphs (for a shared server) instead of its default graph."""
    query = next(q for q in examples() if q.name.endswith("killed-by-source"))
    store = open_store(built_settings)
    remote = RemoteStore(virtuoso.sparql_url, base_iri=built_settings.base_iri,
                         server_dataset=False, timeout=60)
    ours = run(store, query, base_iri=built_settings.base_iri)
    names = [v.value for v in ours.variables]
    theirs = run(remote, query, base_iri=built_settings.base_iri)
    assert sorted(_rows(theirs, names)) == sorted(_rows(ours, names))


# -- the site over Virtuoso ---------------------------------------------------------------------

_LD_JSON = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


_INCOMING = re.compile(r'<section class="incoming">.*?</section>', re.S)
_CLAIMS = re.compile(r'<section class="claims">.*?</section>', re.S)


def _first_page_only(html: str, section: re.Pattern, more: str) -> str:
    """The section reduced to its counts and the number of its rows, when it shows only the
    first page of a longer list (its text holds `more`)."""
    found = section.search(html)
    if found and more in found.group(0):
        counts = re.search(r'<p class="counts">.*?</p>', found.group(0), re.S)
        rows = found.group(0).count("<tr")
        html = html.replace(found.group(0), f"{counts.group(0) if counts else ''} rows={rows}")
    return html


def _page_parts(html: str) -> tuple[Graph, list[str]]:
    """The page's embedded JSON-LD as a graph, and the rest as a multiset of lines (rows of an
    unordered query, such as incoming links or blank nodes, may come in any order).

    When the incoming links, or the claims about a hub, run to more than a page, which ones fill
    the first page is not defined (entity_inverse.rq and claims_about.rq have no ORDER BY, by
    design: a page costs one page, read in the store's index order, which is not Virtuoso's);
    then only the counts and the number of rows shown are compared. The whole list of claims is
    compared in test_every_claim_about_a_hub_reads_the_same.
    """
    html = _first_page_only(html, _INCOMING, "?incoming=")
    html = _first_page_only(html, _CLAIMS, 'class="all-claims"')
    graph = Graph()
    for block in _LD_JSON.findall(html):
        triples = parse(block.encode(), RdfFormat.JSON_LD)
        graph.parse(data=serialize(triples, format=RdfFormat.N_TRIPLES).decode(), format="nt")
    rest = _LD_JSON.sub("", html).replace("><", ">\n<")
    return graph, sorted(rest.splitlines())


#: Rows of a listing page in the clients below: more than any listing of the real data holds.
#: A listing reads its first KG_PAGE_SIZE keys in the store's index order and sorts that page
#: (README, /sources: "in the order the store keeps them, a page at a time; sorted within the
#: page"). Virtuoso's index order is not Oxigraph's, so with 50 a page, page 1 of a longer
#: listing holds other sources or claims on each engine, both right. With every listing on one
#: page, each page must agree row for row; test_listings_page_through_the_same_rows walks small
#: pages of both engines and compares every row they hold together.
WHOLE_LISTING = 100_000


@pytest.fixture(scope="module")
def clients(built_settings, virtuoso):
    settings = built_settings.replace(page_size=WHOLE_LISTING)
    local = create_app(settings)
    remote = create_app(settings.replace(backend_url=virtuoso.sparql_url))
    yield local.test_client(), remote.test_client()
    local.extensions["kg"].pool.close()


QUESTIONS = [
    "campaign-start", "captives", "commanders", "corridor", "death-toll", "families", "fled",
    "memorials-abroad", "population", "recognition-count", "sargsyan-quote", "start-of-assault",
    "sumgait-date", "supporting-troops", "suspects", "who-fired", "wounded",
]

PAGES = [
    "/",
    "/sources-compared",
    "/sources",
    "/places",
    "/timeline",
    "/accounts",
    *(f"/accounts/{q}" for q in QUESTIONS),
    "/recognitions",
    "/query",
    "/pictures/map.svg",
    "/pictures/timeline.svg",
    "/pictures/figures.svg",
    "/page/event/khojaly-massacre",
    "/page/place/khojaly",
    "/page/place/baku",
    "/page/claim/caliber-2026-killed",
    "/page/source/hrw-seven-years-of-conflict-1994",
    "/page/memorial/ana-harayi",
    "/page/organisation/human-rights-watch",
    "/void",
    "/ontology",
]


def _assert_same_page(a, b) -> None:
    assert (b.status_code, b.mimetype) == (a.status_code, a.mimetype) == (200, a.mimetype)
    if a.data == b.data:
        return
    graph_a, lines_a = _page_parts(a.get_data(as_text=True))
    graph_b, lines_b = _page_parts(b.get_data(as_text=True))
    assert isomorphic(graph_a, graph_b)
    assert lines_b == lines_a


@pytest.mark.server
@pytest.mark.parametrize("path", PAGES)
def test_pages_render_the_same(path, clients):
    local, remote = clients
    a = local.get(path, headers={"Accept": "text/html"})
    b = remote.get(path, headers={"Accept": "text/html"})
    _assert_same_page(a, b)


def test_every_disputed_question_has_its_page_compared(client):
    """QUESTIONS above is the list /accounts links to (a new question is compared too)."""
    html = client.get("/accounts").get_data(as_text=True)
    assert sorted(set(re.findall(r'href="/accounts/([^"/?#]+)"', html))) == QUESTIONS


@pytest.mark.server
def test_every_claim_about_a_hub_reads_the_same(clients, built_settings, virtuoso, monkeypatch):
    """The hub's page shows its first CLAIMS_SHOWN claims in index order (compared by count in
    test_pages_render_the_same); shown all at once, they must be the same claims, kinds,
    sources and quotes on both engines."""
    from endpoint.pages import entity_model

    path = "/page/event/khojaly-massacre"
    capped = clients[0].get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'class="all-claims"' in capped  # a hub: more claims than a page shows
    monkeypatch.setattr(entity_model, "CLAIMS_SHOWN", entity_model.CLAIMS_COUNT_CAP)
    settings = built_settings.replace(result_cache_bytes=0)  # not the capped page, cached
    local = create_app(settings)
    remote = create_app(settings.replace(backend_url=virtuoso.sparql_url))
    try:
        a = local.test_client().get(path, headers={"Accept": "text/html"})
        b = remote.test_client().get(path, headers={"Accept": "text/html"})
    finally:
        local.extensions["kg"].pool.close()
        # the apps go here, on this thread: pyoxigraph's results may only be dropped on the
        # thread that made them, and a later collection could run on a server's thread
        del local, remote
        gc.collect()
    assert 'class="all-claims"' not in a.get_data(as_text=True)
    _assert_same_page(a, b)


def _every_page(read, key=lambda row: row) -> tuple[list, int]:
    """Every row of a listing, page after page, and how many pages it took."""
    rows, number = [], 1
    while True:
        found, page = read(number)
        rows.extend(key(row) for row in found)
        if not page.has_next:
            return rows, number
        number += 1


def _listings(store, base_iri: str, page_size: int) -> dict[str, tuple[list, int]]:
    from endpoint.pages.accounts_data import AccountsData
    from endpoint.pages.site_data import SiteData
    from endpoint.pages.terms import Linker

    site = SiteData(store, base_iri, Linker(base_iri), ("en",), page_size=page_size)

    def figures(number: int):
        counted, page = site.sources_compared(number)
        return [(c.title, repr(f)) for c in counted for f in c.figures], page

    return {
        "sources": _every_page(site.sources, repr),
        "places": _every_page(site.places, repr),
        "timeline": _every_page(lambda n: site.timeline(n)[::2], repr),
        "sources_compared": _every_page(figures),
        "recognitions": _every_page(AccountsData(site).recognitions, repr),
    }


@pytest.mark.server
def test_listings_page_through_the_same_rows(built_settings, virtuoso):
    """Small pages (3 keys) over both engines: which rows fill which page is each store's index
    order, but together the pages hold every row once, the same rows with the same values and
    quotes (a claim's rows split across a page boundary would lose a quote here)."""
    base = built_settings.base_iri
    ours = _listings(open_store(built_settings), base, 3)
    theirs = _listings(RemoteStore(virtuoso.sparql_url, base_iri=base, server_dataset=True),
                       base, 3)
    for name, (rows, pages) in ours.items():
        assert pages > 1, f"{name}: the data fills more than one page of 3"
        assert len(rows) == len(set(rows)), f"{name}: a row on two pages"
        other_rows, other_pages = theirs[name]
        assert (other_pages, sorted(other_rows)) == (pages, sorted(rows)), name


@pytest.mark.server
@pytest.mark.parametrize("path", ["/data/claim/caliber-2026-killed.ttl", "/void?format=ttl"])
def test_data_documents_are_the_same_graph(path, clients):
    local, remote = clients
    a, b = local.get(path), remote.get(path)
    assert a.status_code == b.status_code == 200
    ga = Graph().parse(data=a.get_data(as_text=True), format="turtle")
    gb = Graph().parse(data=b.get_data(as_text=True), format="turtle")
    assert len(ga) > 0
    assert isomorphic(ga, gb)


@pytest.mark.server
def test_sparql_endpoint_over_virtuoso(clients):
    local, remote = clients
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
    headers = {"Accept": "application/sparql-results+json"}
    a = local.get("/sparql", query_string={"query": query}, headers=headers)
    b = remote.get("/sparql", query_string={"query": query}, headers=headers)
    assert a.status_code == b.status_code == 200
    ours = {r["g"]["value"]: r["n"]["value"] for r in a.json["results"]["bindings"]}
    theirs = {r["g"]["value"]: r["n"]["value"] for r in b.json["results"]["bindings"]}
    assert {g: theirs.get(g) for g in ours} == ours
    malformed = {"query": "SELECT * WHERE {"}
    bad = remote.get("/sparql", query_string=malformed)
    assert bad.status_code == 400
    assert "line 1, column 17: syntax error" in bad.get_data(as_text=True)
    assert bad.data == local.get("/sparql", query_string=malformed).data
    update = remote.post("/sparql", data={"update": "CLEAR ALL"})
    assert update.status_code in (400, 403)


@pytest.mark.server
def test_kg_query_backend_prints_the_same_table(runner, built_settings, virtuoso):
    query = next(q for q in examples() if q.name.endswith("children-killed"))
    args = ["query", "--file", "-"]
    local = runner.invoke(main, args, input=query.text, obj=built_settings)
    remote = runner.invoke(main, [*args, "--backend", virtuoso.sparql_url], input=query.text,
                           obj=built_settings)
    assert local.exit_code == remote.exit_code == 0, remote.output
    assert sorted(remote.stdout.splitlines()) == sorted(local.stdout.splitlines())
    assert "63" in local.stdout
    bad = runner.invoke(main, ["query", "--backend", virtuoso.sparql_url, "SELECT * WHERE {"],
                        obj=built_settings)
    assert bad.exit_code == 2
    assert "SPARQL query:" not in bad.output  # Virtuoso's copy of the query is cut off


@pytest.mark.server
def test_kg_serve_backend_needs_no_local_build(runner, built_settings, virtuoso, tmp_path):
    settings = built_settings.replace(store_path=tmp_path / "nothing-built" / "store")
    result = runner.invoke(
        main, ["serve", "--backend", virtuoso.sparql_url, "--get", "/page/place/baku"],
        obj=settings,
    )
    assert result.exit_code == 0, result.output
    assert "Bakı" in result.stdout  # the Azerbaijani label, read from Virtuoso
    home = runner.invoke(main, ["serve", "--backend", virtuoso.sparql_url, "--get", "/"],
                         obj=settings)
    assert home.exit_code == 0, home.output
    nothing = runner.invoke(main, ["serve", "--get", "/"], obj=settings)
    assert nothing.exit_code == 2  # without --backend, no build is still an error


def test_a_failing_backend_is_a_502_that_names_neither_it_nor_its_error(
        httpserver, built_settings, caplog):
    """Internal details never reach a client: the address and the backend's own words go to the
    log, the client gets a general 502 (HTML, JSON, and on /sparql plain text)."""
    version = {"head": {"vars": ["version"]}, "results": {"bindings": [
        {"version": {"type": "literal", "value": "v1"}}]}}
    httpserver.expect_ordered_request("/sparql", method="POST").respond_with_json(
        version, content_type="application/sparql-results+json")
    secret = "Virtuoso 37000 Error SQ156: Internal Optimized compiler error : Bad dfe"
    httpserver.expect_request("/sparql", method="POST").respond_with_data(secret, status=500)
    url = httpserver.url_for("/sparql")
    app = create_app(built_settings.replace(backend_url=url))
    client = app.test_client()
    address = f"{httpserver.host}:{httpserver.port}"
    for path, accept in [("/page/place/baku", "text/html"),
                         ("/page/place/baku", "application/json"),
                         ("/sparql?query=ASK%20%7B%7D", "application/sparql-results+json")]:
        with caplog.at_level("WARNING", logger="endpoint.http.errors"):
            caplog.clear()
            r = client.get(path, headers={"Accept": accept})
        body = r.get_data(as_text=True)
        assert r.status_code == 502, body
        assert address not in body and "Virtuoso" not in body and "SQ156" not in body
        assert "backend" in body
        assert address in caplog.text and "SQ156" in caplog.text
