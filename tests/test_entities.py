"""Linked Data: /id/ 303s, HTML pages and RDF documents, the base IRI mapped onto the host, 404s,
escaping. Most tests read the REAL data built once (`built_settings`); a small hand-made store
covers what the real data has no example of (hostile strings, many incoming links, another base).
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Store, parse, serialize
from rdflib import Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from endpoint import create_app
from graph.config import Settings

OA_EXACT = "http://www.w3.org/ns/oa#exact"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
FORMATS = {
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
    "rdf": "application/rdf+xml",
}


def as_graph(data: bytes, ext: str) -> Graph:
    """Parse with pyoxigraph (every format, no rdflib JSON-LD plugin warnings) into rdflib."""
    triples = parse(data, format=RdfFormat.from_extension(ext))
    return Graph().parse(data=serialize(triples, format=RdfFormat.N_TRIPLES), format="nt")


def make_app(settings: Settings):
    return create_app(settings)


@pytest.fixture(scope="module")
def base(built_settings) -> str:
    return built_settings.base_iri


def select(store: Store, query: str) -> list:
    return list(store.query(query, use_default_graph_as_union=True))


def some_figure_claim(store: Store, base: str) -> tuple[str, str]:
    """A figure claim of the real data and its quote, found with a query of the test's own."""
    rows = select(
        store,
        f"""SELECT ?c ?q WHERE {{ ?c a <{base}ontology#FigureClaim> ;
              <{base}ontology#evidence> ?e . ?e <http://www.w3.org/ns/oa#hasSelector> ?s .
              ?s <{OA_EXACT}> ?q }} ORDER BY ?c LIMIT 1""",
    )
    return rows[0]["c"].value, rows[0]["q"].value


def local(iri: str, base: str) -> str:
    return "/" + iri[len(base) :]


# -- 303 and negotiation ------------------------------------------------------------------------


def test_thing_303s_a_browser_to_the_html_page(client):
    r = client.get("/id/event/khojaly-massacre", headers={"Accept": "text/html"})
    assert r.status_code == 303
    assert r.headers["Location"].endswith("/page/event/khojaly-massacre")
    assert "Accept" in r.headers["Vary"]


def test_thing_without_accept_goes_to_the_page(client):
    r = client.get("/id/event/khojaly-massacre")
    assert r.status_code == 303
    assert "/page/event/khojaly-massacre" in r.headers["Location"]


@pytest.mark.parametrize("ext,media_type", FORMATS.items())
def test_thing_303s_a_machine_to_the_data_document(client, ext, media_type):
    r = client.get("/id/place/khojaly", headers={"Accept": media_type})
    assert r.status_code == 303
    assert r.headers["Location"].endswith(f"/data/place/khojaly.{ext}")
    followed = client.get(r.headers["Location"])
    assert followed.status_code == 200
    assert followed.mimetype == media_type


def test_q_values_decide_between_page_and_data(client):
    r = client.get("/id/place/khojaly", headers={"Accept": "text/html;q=0.5, text/turtle;q=0.9"})
    assert r.headers["Location"].endswith(".ttl")


def test_unacceptable_accept_is_406(client):
    r = client.get("/id/place/khojaly", headers={"Accept": "image/png"})
    assert r.status_code == 406


@pytest.mark.parametrize("ext", FORMATS)
def test_every_data_format_says_the_same_graph(client, ext, store, base):
    iri = base + "id/claim/" + some_figure_claim(store, base)[0].rsplit("/", 1)[1]
    path = local(iri, base).replace("/id/", "/data/", 1)
    reference = as_graph(client.get(path + ".nt").data, "nt")
    got = as_graph(client.get(f"{path}.{ext}").data, ext)
    assert len(reference) > 5
    assert isomorphic(reference, got)


def test_data_document_holds_the_claims_blank_nodes_down_to_the_quote(client, store, base):
    claim, quote = some_figure_claim(store, base)
    r = client.get(local(claim, base).replace("/id/", "/data/", 1) + ".nt")
    graph = Graph().parse(data=r.data, format="nt")
    quotes = {str(o) for _, p, o in graph if str(p) == OA_EXACT}
    assert quote in quotes
    assert r.headers["Link"] == f'<{claim}>; rel="describes"'


def test_data_document_is_the_store_description_exactly(client, store, base):
    iri = base + "id/place/khojaly"
    r = client.get("/data/place/khojaly.nt")
    got = Graph().parse(data=r.data, format="nt")
    # the same triples, read with a plain SPARQL of the test's own: the subject, its blank nodes
    # and its hash resources, and the blank nodes under those (a fact's quote and its selector)
    expected = Graph()
    rows = select(
        store,
        f"""SELECT DISTINCT ?s ?p ?o WHERE {{ {{ BIND(<{iri}> AS ?s) ?s ?p ?o }} UNION
        {{ <{iri}> ?x ?s . FILTER(STRSTARTS(STR(?s), "{iri}#") || isBlank(?s)) ?s ?p ?o }} UNION
        {{ <{iri}> ?x ?h . FILTER(STRSTARTS(STR(?h), "{iri}#") || isBlank(?h))
           ?h ?y ?s . FILTER(isBlank(?s)) ?s ?p ?o }} UNION
        {{ <{iri}> ?x ?h . FILTER(STRSTARTS(STR(?h), "{iri}#") || isBlank(?h))
           ?h ?y ?b . FILTER(isBlank(?b)) ?b ?z ?s . FILTER(isBlank(?s)) ?s ?p ?o }} }}""",
    )
    nt = "".join(f"{r['s']} {r['p']} {r['o']} .\n" for r in rows)
    expected.parse(data=nt, format="nt")
    _, only_expected, only_got = graph_diff(to_isomorphic(expected), to_isomorphic(got))
    assert isomorphic(expected, got), (
        [t[1:] for t in sorted(only_expected)], [t[1:] for t in sorted(only_got)])


def test_data_without_extension_is_negotiated(client):
    r = client.get("/data/place/khojaly", headers={"Accept": "application/n-triples"})
    assert r.status_code == 200
    assert r.mimetype == "application/n-triples"
    assert r.headers["Content-Location"].endswith("/data/place/khojaly.nt")
    assert "Accept" in r.headers["Vary"]


def test_format_parameter_overrides_accept(client):
    r = client.get(
        "/data/place/khojaly", query_string={"format": "ttl"}, headers={"Accept": "text/html"}
    )
    assert r.mimetype == "text/turtle"


# -- 404 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/id/event/no-such-event",
        "/page/event/no-such-event",
        "/data/event/no-such-event.ttl",
        "/id/spaceship/khojaly",
        "/nothing/here",
        "/id/event/a%20b",
        "/page/event/a%3Cb%3E",
        "/data/event/x%22y.ttl",
    ],
)
def test_unknown_iris_are_a_404_page(client, path):
    r = client.get(path, headers={"Accept": "text/html"})
    assert r.status_code == 404
    assert "Location" not in r.headers
    assert b"Nothing in the graph has the address" in r.data


# -- the page -----------------------------------------------------------------------------------


class Links(HTMLParser):
    """Collects hrefs, element ids and the JSON-LD script of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.jsonld: list[str] = []
        self._in_jsonld = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "href" in a:
            self.hrefs.append(a["href"])
        if "id" in a:
            self.ids.add(a["id"])
        self._in_jsonld = tag == "script" and a.get("type") == "application/ld+json"

    def handle_endtag(self, tag):
        self._in_jsonld = False

    def handle_data(self, data):
        if self._in_jsonld:
            self.jsonld.append(data)


def parse_page(html: bytes) -> Links:
    parser = Links()
    parser.feed(html.decode("utf-8"))
    return parser


def test_page_shows_every_label_in_every_language(client, store, base):
    iri = base + "id/event/khojaly-massacre"
    html = client.get("/page/event/khojaly-massacre").data.decode()
    labels = [
        r["l"]
        for r in select(store, f"SELECT ?l WHERE {{ <{iri}> <{SKOS_PREF}>|<{RDFS_LABEL}> ?l }}")
    ]
    assert {lit.language for lit in labels} >= {"en", "az", "ru", "hy"}
    for lit in labels:
        assert f'lang="{lit.language}">{lit.value}<' in html


def test_page_links_our_iris_on_this_host(client, store, base):
    iri = base + "id/event/khojaly-massacre"
    page = parse_page(client.get("/page/event/khojaly-massacre").data)
    targets = [
        r["o"].value
        for r in select(store, f"SELECT ?o WHERE {{ <{iri}> ?p ?o . FILTER(isIRI(?o)) }}")
        if r["o"].value.startswith(base + "id/")
    ]
    assert targets
    for target in targets:
        assert "/page/" + target[len(base) + 3 :] in page.hrefs
    assert not [h for h in page.hrefs if h.startswith(base)], "our IRIs must link locally"


def test_page_shows_types_and_the_external_links(client, store, base):
    iri = base + "id/event/khojaly-massacre"
    html = client.get("/page/event/khojaly-massacre").data.decode()
    external = [
        r["o"].value
        for r in select(
            store,
            f"""PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
            SELECT ?o WHERE {{ <{iri}> skos:exactMatch|skos:closeMatch
                |<http://www.w3.org/2002/07/owl#sameAs> ?o }}""",
        )
    ]
    assert external
    section = html.split('class="external-links"')[1].split("</section>")[0]
    for target in external:
        assert f'href="{target}"' in section
    assert "DBpedia" in section
    assert "sem:Event" in html


def test_page_embeds_its_description_as_json_ld(client, base):
    page = parse_page(client.get("/page/place/khojaly").data)
    assert len(page.jsonld) == 1
    doc = json.loads(page.jsonld[0])
    ids = {node.get("@id") for node in (doc if isinstance(doc, list) else doc.get("@graph", [doc]))}
    assert base + "id/place/khojaly" in ids


def test_claim_page_shows_source_and_verbatim_quote(client, store, base):
    claim, quote = some_figure_claim(store, base)
    html = client.get(local(claim, base).replace("/id/", "/page/", 1)).data.decode()
    box = html.split('class="claim-box"')[1].split("</section>")[0]
    assert "Stated in" in box
    from markupsafe import escape

    assert str(escape(quote)) in box


@pytest.mark.parametrize("path", ["event/khojaly-massacre",
                                  "organisation/366th-guards-motor-rifle-regiment"])
def test_event_page_lists_the_claims_about_it(client, store, base, path):
    """Every claim about a thing is on its page, or, past a page of them (the event: every
    source's figures and accounts), the page shows the first ones and links a query for all."""
    from endpoint.pages.entity_model import CLAIMS_SHOWN

    iri = base + "id/" + path
    claims = select(store, f"SELECT ?c WHERE {{ ?c <{base}ontology#about> <{iri}> }}")
    pages = {local(row["c"].value, base).replace("/id/", "/page/", 1) for row in claims}
    html = client.get("/page/" + path).data.decode()
    section = html.split('class="claims"')[1].split("</section>")[0]
    shown = set(re.findall(r'href="(/page/claim/[^"#]+)"', section))
    if len(claims) <= CLAIMS_SHOWN:
        assert shown == pages
        assert "all-claims" not in section
    else:
        assert shown <= pages and len(shown) == CLAIMS_SHOWN
        assert 'class="all-claims"' in section


def test_hash_resources_have_their_own_anchored_section(client, store, base):
    page = parse_page(client.get("/page/place/khojaly").data)
    iri = base + "id/place/khojaly"
    hashes = {
        r["o"].value.partition("#")[2]
        for r in select(store, f"SELECT ?o WHERE {{ <{iri}> ?p ?o . FILTER(isIRI(?o)) }}")
        if r["o"].value.startswith(iri + "#")
    }
    assert hashes
    assert hashes <= page.ids


def test_reader_language_picks_the_title(client):
    html = client.get("/page/place/khojaly", headers={"Accept-Language": "az"}).data.decode()
    assert "<h1>Xocalı</h1>" in html
    html = client.get("/page/place/khojaly", headers={"Accept-Language": "en"}).data.decode()
    assert "<h1>Khojaly</h1>" in html


def test_other_iris_of_ours_dereference_too(client, base):
    r = client.get("/dataset", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    g = Graph().parse(data=r.data, format="turtle")
    assert any(str(s) == base + "dataset" for s in g.subjects())
    assert client.get("/dataset", headers={"Accept": "text/html"}).status_code == 200


# -- a small store of our own: hostile strings, many incoming links, another base ---------------

OTHER_BASE = "http://kg.example.org/khojaly/"
HOSTILE = '<script>alert("x")</script> & </script>'


CLAIMS_ABOUT_POPULAR = 60


def build_tiny_store(root: Path, base: str) -> Settings:
    """A store laid out the way `kg build` lays one out (symlink -> build dir with build.json)."""
    build = root / "builds" / "tiny"
    (build / "dumps").mkdir(parents=True)
    store = Store(str(build / "oxigraph"))
    g = NamedNode(base + "graph/test")
    thing = NamedNode(base + "id/event/test")
    label = NamedNode(RDFS_LABEL)
    quads = [
        Quad(thing, NamedNode(RDF_TYPE), NamedNode("https://schema.org/Event"), g),
        Quad(thing, label, Literal(HOSTILE, language="en"), g),
        Quad(thing, NamedNode("https://schema.org/url"), NamedNode("javascript:alert(1)"), g),
        Quad(thing, NamedNode(base + "ontology#evidence"), (ev := BlankNode()), g),
        Quad(ev, NamedNode(OA_EXACT), Literal(HOSTILE), g),
    ]
    for i in range(120):
        source = NamedNode(f"{base}id/source/s{i:03d}")
        quads.append(Quad(source, NamedNode("https://schema.org/about"), thing, g))
        quads.append(Quad(source, label, Literal(f"source {i:03d}", language="en"), g))
    popular = NamedNode(base + "id/concept/popular")
    quads.append(Quad(popular, label, Literal("popular", language="en"), g))
    for i in range(10_050):
        quads.append(Quad(NamedNode(f"{base}id/claim/c{i}"), NamedNode(RDF_TYPE), popular, g))
    for i in range(CLAIMS_ABOUT_POPULAR):  # a hub of claims: more than a page shows
        claim = NamedNode(f"{base}id/claim/k{i:03d}")
        quads.append(Quad(claim, NamedNode(base + "ontology#about"), popular, g))
        quads.append(Quad(claim, NamedNode(RDF_TYPE), NamedNode(base + "ontology#Claim"), g))
        quads.append(Quad(claim, label, Literal(f"claim {i:03d}", language="en"), g))
        quads.append(Quad(claim, NamedNode(base + "ontology#statedIn"),
                          NamedNode(f"{base}id/source/s{i % 3:03d}"), g))
    store.extend(quads)
    store.flush()
    del store
    (build / "build.json").write_text(json.dumps({"version": "tiny-1"}), encoding="utf-8")
    (root / "var").mkdir()
    os.symlink(build, root / "var" / "store")
    return Settings(base_iri=base, store_path=root / "var" / "store")


@pytest.fixture(scope="module")
def tiny_client(tmp_path_factory):
    app = make_app(build_tiny_store(tmp_path_factory.mktemp("tiny"), OTHER_BASE))
    yield app.test_client()
    app.extensions["kg"].pool.close()


def test_base_iri_is_mapped_onto_the_serving_host(tiny_client):
    r = tiny_client.get("/id/event/test", headers={"Accept": "text/turtle"})
    assert r.status_code == 303
    data = tiny_client.get(r.headers["Location"])
    g = Graph().parse(data=data.data, format="turtle")
    assert {str(s) for s in g.subjects()} >= {OTHER_BASE + "id/event/test"}
    page = parse_page(tiny_client.get("/page/source/s000").data)
    assert "/page/event/test" in page.hrefs
    assert not [h for h in page.hrefs if h.startswith(OTHER_BASE)]


def strings_in(doc) -> set[str]:
    if isinstance(doc, str):
        return {doc}
    values = doc.values() if isinstance(doc, dict) else doc if isinstance(doc, list) else []
    return set().union(*(strings_in(v) for v in values)) if values else set()


def test_hostile_strings_are_escaped_everywhere(tiny_client):
    html = tiny_client.get("/page/event/test").data.decode()
    assert '<script>alert("x")' not in html
    assert "&lt;script&gt;alert(" in html
    assert 'href="javascript:' not in html
    # the JSON-LD block holds the label escaped, so it cannot close its <script> early
    page = parse_page(html.encode())
    assert HOSTILE in strings_in(json.loads(page.jsonld[0]))
    assert len(re.findall(r"</script>", html)) == html.count("<script")


def test_incoming_links_are_paginated(tiny_client):
    first = tiny_client.get("/page/event/test").data.decode()
    incoming = first.split('class="incoming"')[1]
    assert incoming.count("/page/source/s") == 50
    assert "?incoming=50" in incoming
    assert "schema:about: 120" in re.sub(r"<[^>]+>", "", incoming)
    last = (
        tiny_client.get("/page/event/test?incoming=100").data.decode().split('class="incoming"')[1]
    )
    assert last.count("/page/source/s") == 20
    assert "?incoming=150" not in last
    assert "?incoming=50" in last  # previous
    pages = [
        set(
            re.findall(
                r"/page/source/s\d+",
                tiny_client.get(f"/page/event/test?incoming={o}").data.decode(),
            )
        )
        for o in (0, 50, 100)
    ]
    assert len(set().union(*pages)) == 120


def test_incoming_counts_stop_at_a_cap(tiny_client):
    from endpoint.pages.describe import COUNT_CAP

    html = tiny_client.get("/page/concept/popular").data.decode()
    incoming = re.sub(r"<[^>]+>", "", html.split('class="incoming"')[1])
    assert f"More than {COUNT_CAP:,} links (counting stops there)" in incoming
    assert "rdf:type:" not in incoming  # a partial count by property would mislead
    assert html.count("/page/claim/c") == 50


def test_a_hub_of_links_links_a_query_that_lists_them_all(tiny_client):
    html = tiny_client.get("/page/concept/popular").data.decode()
    incoming = html.split('class="incoming"')[1]
    href = re.search(r'class="all-links" href="([^"]+)"', incoming).group(1)
    text = _linked_query(tiny_client, href)
    rows = _sparql_rows(tiny_client, text)
    assert len(rows) == 10_050 + CLAIMS_ABOUT_POPULAR + 0  # every rdf:type and kgo:about link


def test_a_hub_of_claims_shows_a_page_of_them_a_count_and_a_query(tiny_client):
    from endpoint.pages.entity_model import CLAIMS_SHOWN

    html = tiny_client.get("/page/concept/popular").data.decode()
    claims = html.split('class="claims"')[1].split("</section>")[0]
    shown = re.findall(r"/page/claim/k\d+", claims)
    assert len(shown) == CLAIMS_SHOWN < CLAIMS_ABOUT_POPULAR
    text = re.sub(r"<[^>]+>|\s+", " ", claims)
    assert f"The first {CLAIMS_SHOWN} of {CLAIMS_ABOUT_POPULAR} claims" in text
    assert len(re.findall(r">claim \d{3}<", claims)) == CLAIMS_SHOWN  # labelled, not bare IRIs
    href = re.search(r'class="all-claims" href="([^"]+)"', claims).group(1)
    rows = _sparql_rows(tiny_client, _linked_query(tiny_client, href))
    assert len({r["claim"]["value"] for r in rows}) == CLAIMS_ABOUT_POPULAR


def test_an_ordinary_page_shows_every_claim_without_a_query_link(client, base):
    html = client.get("/page/organisation/366th-guards-motor-rifle-regiment").data.decode()
    assert 'class="claims"' in html
    assert "all-claims" not in html


def _linked_query(client, href: str) -> str:
    """The query a page links to, as the query UI opens it (its first tab)."""
    from html import unescape
    from urllib.parse import parse_qs, urlsplit

    sent = parse_qs(urlsplit(unescape(href)).query)["query"][0]
    ui = client.get(unescape(href)).data.decode()
    config = json.loads(re.search(r'id="kg-tabs"[^>]*>(.*?)</script>', ui, re.S).group(1))
    assert config["selected"] == "linked" and config["tabs"][0]["query"] == sent.strip()
    return sent


def _sparql_rows(client, text: str) -> list:
    r = client.post("/sparql", data={"query": text},
                    headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.data[:300]
    return r.get_json()["results"]["bindings"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(slug=st.text(min_size=1, max_size=40).filter(lambda t: "/" not in t and t.strip(".")))
def test_no_slug_makes_a_server_error(client, slug):
    from urllib.parse import quote

    for prefix in ("/id/event/", "/page/event/", "/data/event/"):
        r = client.get(prefix + quote(slug, safe=""), headers={"Accept": "text/html"})
        assert r.status_code in (303, 404), (prefix, slug, r.status_code)


@pytest.mark.parametrize("slug", ["place/khojaly", "event/khojaly-massacre",
                                  "organisation/366th-guards-motor-rifle-regiment"])
def test_label_priming_queries_stay_within_the_page(store, base, slug):
    """The one-query label fetches name only what the page shows (a regression: a BIND inside
    its own group once left ?thing unbound and fetched every label of the store)."""
    from endpoint.pages import describe

    iri = f"{base}id/{slug}"
    triples = describe.description(store, base, iri)
    shown = {iri} | {t.predicate.value for t in triples}
    shown |= {t.object.value for t in triples if isinstance(t.object, NamedNode)}
    shown |= {t.subject.value for t in triples if isinstance(t.subject, NamedNode)}
    neighbours = {
        r["thing"].value
        for r in describe.run(store, "neighbour_labels", base, entity=NamedNode(iri))
    }
    assert iri in neighbours
    assert neighbours <= shown
    claims = select(store, f"SELECT ?c WHERE {{ ?c <{base}ontology#about> <{iri}> }}")
    related = {r["c"].value for r in claims}
    for c in list(related):
        related |= {
            r["o"].value
            for r in select(
                store,
                f"SELECT ?o WHERE {{ <{c}> <{RDF_TYPE}>|<{base}ontology#statedIn> ?o }}",
            )
        }
    primed = {
        r["thing"].value
        for r in describe.run(store, "claims_about_labels", base, entity=NamedNode(iri))
    }
    from endpoint.pages.entity_model import CLAIMS_SHOWN

    if len(claims) <= CLAIMS_SHOWN:
        assert primed == related
    else:  # a hub of claims: the labels of the page's claims, one more, and nothing else
        assert primed <= related
        assert len(primed & {r["c"].value for r in claims}) == CLAIMS_SHOWN + 1


def test_404_page_names_the_iri_the_path_stands_for(client, base):
    html = client.get("/page/event/no-such-event", headers={"Accept": "text/html"}).data.decode()
    assert f"<code>{base}id/event/no-such-event</code>" in html
    hostile = client.get("/id/event/%3Cb%3Ex", headers={"Accept": "text/html"}).data.decode()
    assert "<b>x" not in hostile and "&lt;b&gt;x" in hostile
