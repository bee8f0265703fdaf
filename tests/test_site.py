"""The site: home, query UI, ontology docs, VoID, dumps, sources compared and the SVG pictures.

Expected values are read from the built store with queries of the tests' own, never typed in.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape
from pyoxigraph import RdfFormat, parse

from endpoint.pages import pictures
from endpoint.pages.site import with_prefixes
from graph.queries import examples
from graph.store import dumps_dir

SVG = "{http://www.w3.org/2000/svg}"
VOID = "http://rdfs.org/ns/void#"
STATIC = Path(__file__).resolve().parent.parent / "endpoint" / "static"


@pytest.fixture(scope="module")
def base(built_settings) -> str:
    return built_settings.base_iri


def select(store, query: str) -> list:
    return list(store.query(query, use_default_graph_as_union=True))


class Page(HTMLParser):
    """hrefs, script srcs and link hrefs of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and "href" in a:
            self.hrefs.append(a["href"])
        if tag == "script" and "src" in a:
            self.scripts.append(a["src"])
        if tag == "link" and a.get("rel") == "stylesheet":
            self.stylesheets.append(a["href"])


def svgs_in(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg .*?</svg>", html, flags=re.S)]


def svg_texts(svg: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in svg.iter(SVG + "text")]


# -- home ---------------------------------------------------------------------------------------


def test_home_tells_the_story_with_counts_from_the_void_graph(client, store, base):
    html = client.get("/").data.decode()
    rows = select(
        store,
        f"SELECT ?t ?d WHERE {{ <{base}dataset> <http://purl.org/dc/terms/title> ?t ; "
        f"<http://purl.org/dc/terms/description> ?d }}",
    )
    assert str(escape(rows[0]["t"].value)) in html
    assert str(escape(rows[0]["d"].value)) in html
    triples = select(store, f"SELECT ?n WHERE {{ <{base}dataset> <{VOID}triples> ?n }}")
    assert f"<strong>{triples[0]['n'].value}</strong> triples" in html


def test_home_lists_every_source_document(client, store, base):
    """The home page shows the first page of sources and links to the rest; together with the
    listing's further pages every source document is one click away."""
    html = client.get("/").data.decode()
    sources = select(store, f"SELECT ?s WHERE {{ ?s a <{base}ontology#SourceDocument> }}")
    assert len(sources) >= 6
    size = client.application.extensions["kg"].settings.page_size
    slugs = ["/page/source/" + row["s"].value.rsplit("/", 1)[1] for row in sources]
    on_home = [s for s in slugs if s in html]
    assert len(on_home) == min(size, len(slugs))
    pages, n = html, 2
    if len(slugs) > size:
        assert 'rel="next" href="/sources?page=2"' in html
        while (response := client.get(f"/sources?page={n}")).status_code == 200:
            pages += response.data.decode()
            n += 1
    for slug in slugs:
        assert slug in pages


def test_home_puts_every_example_query_one_click_away(client):
    page = Page(client.get("/").data.decode())
    for q in examples():
        assert f"/query?example={q.name.removeprefix('examples/')}" in page.hrefs


def test_home_links_every_dump_and_each_downloads(client, built_settings):
    page = Page(client.get("/").data.decode())
    files = sorted(p.name for p in dumps_dir(built_settings).iterdir())
    assert {"khojaly.ttl", "khojaly.nq", "khojaly.jsonld"} <= set(files)
    for name in files:
        assert f"/dumps/{name}" in page.hrefs
        fmt = RdfFormat.from_extension(name.rsplit(".", 1)[1])
        with client.get(f"/dumps/{name}") as r:
            assert r.status_code == 200
            assert len(list(parse(r.data, format=fmt))) > 100


def test_dumps_do_not_leave_their_folder(client):
    assert client.get("/dumps/../build.json").status_code == 404
    assert client.get("/dumps/no-such-dump.ttl").status_code == 404


def test_home_draws_the_map_timeline_and_chart_as_inline_svg(client):
    html = client.get("/").data.decode()
    classes = [svg.get("class") for svg in svgs_in(html)]
    assert classes == ["picture map", "picture timeline", "picture chart"]


# -- pictures -----------------------------------------------------------------------------------


def test_map_has_a_label_for_every_place_with_coordinates(client, store, base):
    svg = ET.fromstring(client.get("/pictures/map.svg").data)
    rows = select(
        store,
        "SELECT ?p WHERE { ?p <http://www.w3.org/2003/01/geo/wgs84_pos#lat> ?lat }",
    )
    texts = svg_texts(svg)
    hrefs = {a.get("href") for a in svg.iter(SVG + "a")}
    assert len(rows) >= 4
    for row in rows:
        assert "/page/" + row["p"].value[len(base) + 3 :] in hrefs
    assert len(svg.findall(f"{SVG}circle")) == len(rows)
    assert any("km" in t for t in texts)


def test_map_places_points_by_their_coordinates(app):
    with app.app_context():  # the pictures are drawn from Jinja templates
        svg = ET.fromstring(str(pictures.map_svg(
            [pictures.MapPlace("west", 40.0, 46.0), pictures.MapPlace("east", 40.0, 50.0)])))
    west, east = svg.findall(f"{SVG}circle")
    assert float(west.get("cx")) < float(east.get("cx"))
    assert west.get("cy") == east.get("cy")


def test_timeline_reads_its_dates_from_the_graph(client, store):
    svg = ET.fromstring(client.get("/pictures/timeline.svg").data)
    texts = svg_texts(svg)
    dated = select(
        store,
        "SELECT ?d WHERE { { ?x <https://schema.org/startDate> ?d } UNION "
        "{ ?x <https://schema.org/dateCreated> ?d } }",
    )
    assert dated
    for row in dated:
        assert row["d"].value in texts
    years = {row["d"].value[:4] for row in dated}
    assert {"1992", "1993", "2008", "2026"} <= years
    assert any("every year on 26 February" in t for t in texts)


def _every_page(client, path: str) -> tuple[str, int]:
    """The HTML of every page of a paged listing (?page=N until past the end), and how many."""
    html, n = "", 1
    while (response := client.get(f"{path}?page={n}")).status_code == 200:
        html += response.data.decode()
        n += 1
    return html, n - 1


def test_chart_has_one_bar_per_figure_claim_with_a_number(client, store, base):
    _, pages = _every_page(client, "/sources-compared")
    hrefs = []
    for n in range(1, pages + 1):  # the chart draws the figures of one page of the listing
        svg = ET.fromstring(client.get(f"/pictures/figures.svg?page={n}").data)
        hrefs += [a.get("href") for a in svg.iter(SVG + "a")]
    claims = select(
        store,
        f"""SELECT DISTINCT ?c WHERE {{ ?c a <{base}ontology#FigureClaim> .
            {{ ?c <https://schema.org/value> ?v }} UNION {{ ?c <https://schema.org/minValue> ?v }}
            UNION {{ ?c <https://schema.org/maxValue> ?v }} }}""",
    )
    assert len(claims) >= 10
    assert sorted(hrefs) == sorted("/page/claim/" + r["c"].value.rsplit("/", 1)[1] for r in claims)


def test_pictures_escape_what_they_print(app):
    hostile = '<b onload="x">Baku & co</b>'
    with app.app_context():
        drawn = (
            pictures.map_svg([pictures.MapPlace(hostile, 40.4, 49.9, '/page/x?a=1&b="2"')]),
            pictures.timeline_svg([pictures.TimelineItem(hostile, 1992.1, hostile)]),
            pictures.bar_chart_svg([pictures.BarGroup(hostile, [pictures.Bar(hostile, 3.0)])]),
        )
    for svg in drawn:
        root = ET.fromstring(str(svg))  # well-formed: nothing was injected
        assert not root.findall(f".//{SVG}b")
        assert any(hostile in t or t.startswith("<b onload") for t in svg_texts(root))


def test_bars_show_ranges_and_bounds():
    assert pictures.Bar("a", None, 500, 1000).text == "500–1,000"
    assert pictures.Bar("a", None, 200, None).text == "≥ 200"
    assert pictures.Bar("a", 613).text == "613"
    assert pictures.year_fraction("1994-12") == pytest.approx(1994 + 11 / 12)
    assert pictures.year_fraction("nonsense") is None


def test_unknown_picture_is_404(client):
    assert client.get("/pictures/nothing.svg").status_code == 404


# -- sources compared ---------------------------------------------------------------------------


def test_sources_compared_shows_every_figure_with_its_quote(client, store, base):
    html, _ = _every_page(client, "/sources-compared")
    rows = select(
        store,
        f"""PREFIX oa: <http://www.w3.org/ns/oa#>
        SELECT ?c ?q WHERE {{ ?c a <{base}ontology#FigureClaim> ;
            <{base}ontology#evidence>/oa:hasSelector/oa:exact ?q }}""",
    )
    assert len(rows) >= 10
    for row in rows:
        assert "/page/claim/" + row["c"].value.rsplit("/", 1)[1] in html
        assert str(escape(row["q"].value)) in html


def test_sources_compared_groups_by_what_is_counted(client, store, base):
    html, _ = _every_page(client, "/sources-compared")
    groups = select(
        store,
        f"""SELECT DISTINCT ?cl ?gl WHERE {{ ?c a <{base}ontology#FigureClaim> ;
              <{base}ontology#counts> ?k ; <{base}ontology#populationGroup> ?g .
              ?k <http://www.w3.org/2000/01/rdf-schema#label> ?cl .
              ?g <http://www.w3.org/2000/01/rdf-schema#label> ?gl }}""",
    )
    headings = re.findall(r"<h2>(.*?)</h2>", html)
    for row in groups:
        assert str(escape(f"{row['cl'].value} — {row['gl'].value}")) in headings
    # the same thing counted by several sources stands in one table, side by side
    killed = [h for h in headings if h.startswith("killed")]
    assert killed
    section = html.split(f"<h2>{killed[0]}</h2>")[1].split("</section>")[0]
    assert section.count("<tr>") >= 3


# -- query UI -----------------------------------------------------------------------------------


def test_query_ui_is_served_from_our_own_files(client):
    page = Page(client.get("/query").data.decode())
    assert "/static/vendor/yasgui-4.6.2/yasgui.min.js" in page.scripts
    assert "/static/vendor/yasgui-4.6.2/yasgui.min.css" in page.stylesheets
    for url in page.scripts + page.stylesheets:
        assert url.startswith("/"), f"{url} is not served by us"
        with client.get(url) as r:
            assert r.status_code == 200
    assert (STATIC / "vendor" / "yasgui-4.6.2" / "LICENSE").read_text().count("MIT") >= 1


def test_query_ui_has_every_example_as_a_tab_on_our_endpoint(client):
    html = client.get("/query?example=sources").data.decode()
    raw = re.search(r'<script id="kg-tabs" type="application/json">(.*?)</script>', html, re.S)
    config = json.loads(raw.group(1))
    assert config["endpoint"] == "/sparql"
    assert config["selected"] == "sources"
    by_name = {q.name.removeprefix("examples/"): q for q in examples()}
    names = [t["name"] for t in config["tabs"]]
    assert sorted(names) == sorted(by_name)
    for tab in config["tabs"]:
        assert by_name[tab["name"]].text in tab["query"]
    # grouped: the examples that need KG_SERVICE_ALLOWLIST come after the ones that answer
    needs = [t["needs"] is not None for t in config["tabs"] if t["group"] != "Other"]
    assert needs == sorted(needs)


def test_query_ui_turns_off_third_party_autocompleters():
    js = (STATIC / "query.js").read_text()
    assert 'var local = ["variables"]' in js
    assert "autocompleters" in js and "persistenceId: null" in js


def test_query_ui_selected_example_is_escaped(client):
    html = client.get("/query", query_string={"example": "</script><script>alert(1)"}).data
    assert b"<script>alert(1)" not in html


def test_with_prefixes_declares_only_what_is_missing(base):
    text = (
        "PREFIX schema: <https://schema.org/>\nSELECT * WHERE { ?c kgo:statedIn ?s ; schema:x ?y }"
    )
    out = with_prefixes(text, base)
    assert out.startswith(f"PREFIX kgo: <{base}ontology#>\n")
    assert out.count("PREFIX schema:") == 1
    assert with_prefixes("SELECT * WHERE { <http://x/a:b> ?p ?o }", base).startswith("SELECT")


# -- ontology and VoID --------------------------------------------------------------------------


def test_ontology_page_documents_every_class_and_property(client, store, base):
    r = client.get("/ontology", headers={"Accept": "text/html"})
    assert r.status_code == 200
    html = r.data.decode()
    terms = select(
        store,
        f"""SELECT ?t WHERE {{ GRAPH <{base}graph/ontology/khojaly> {{
              ?t a ?k . FILTER(?k IN (<http://www.w3.org/2002/07/owl#Class>,
              <http://www.w3.org/2002/07/owl#ObjectProperty>,
              <http://www.w3.org/2002/07/owl#DatatypeProperty>)) FILTER(isIRI(?t)) }} }}""",
    )  # a blank node class (a union used as a domain) is not a term of its own
    assert len(terms) >= 20
    for row in terms:
        assert row["t"].value.rsplit("#", 1)[1] in html
    assert "<script src=" not in html


def test_ontology_as_turtle(client, base):
    r = client.get("/ontology", headers={"Accept": "text/turtle"})
    assert r.mimetype == "text/turtle"
    triples = list(parse(r.data, format=RdfFormat.TURTLE))
    assert any(t.subject.value == base + "ontology#FigureClaim" for t in triples)


@pytest.mark.parametrize("path", ["/void", "/.well-known/void"])
def test_void_is_negotiated(client, path, base):
    ttl = client.get(path, headers={"Accept": "text/turtle"})
    assert ttl.mimetype == "text/turtle"
    assert "Accept" in ttl.headers["Vary"]
    triples = list(parse(ttl.data, format=RdfFormat.TURTLE))
    props = {t.predicate.value for t in triples if t.subject.value == base + "dataset"}
    assert {VOID + "triples", VOID + "sparqlEndpoint", "http://purl.org/dc/terms/title"} <= props
    jsonld = client.get(path, headers={"Accept": "application/ld+json"})
    assert len(list(parse(jsonld.data, format=RdfFormat.JSON_LD))) == len(triples)
    html = client.get(path, headers={"Accept": "text/html"})
    assert html.mimetype == "text/html"
    assert b"void:triples" in html.data


PAGES_RQ = sorted(
    (Path(__file__).resolve().parent.parent / "graph" / "queries" / "pages").glob("*.rq")
)


@pytest.mark.parametrize("path", PAGES_RQ, ids=lambda p: p.name)
def test_page_queries_keep_optional_bodies_to_one_pattern(path):
    """O(answer) shapes: no star-shaped two-triple OPTIONAL (split it into two), so an optional
    value never multiplies or drops rows of another; a path from the bound end counts as one."""
    text = "\n".join(line.split("#", 1)[0] for line in path.read_text().splitlines())
    for body in re.findall(r"OPTIONAL\s*\{([^{}]*)\}", text):
        pattern = body.strip().rstrip(".").strip()
        assert " . " not in f" {pattern} " and ";" not in pattern, f"{path.name}: {body.strip()}"


@pytest.mark.parametrize("path", PAGES_RQ, ids=lambda p: p.name)
def test_page_queries_say_what_they_are_for(path):
    from graph.queries import load_query

    query = load_query(f"pages/{path.stem}")
    assert query.title and query.description


# -- listing pages, a page at a time --------------------------------------------------------------


@pytest.fixture(scope="module")
def small_pages(built_settings):
    """The real build served with pages of 3 rows, so every listing has several pages."""
    from endpoint import create_app

    app = create_app(built_settings.replace(page_size=3))
    yield app.test_client()
    app.extensions["kg"].pool.close()


def _all_pages(client, path: str, pattern: str) -> list[set[str]]:
    """Follow the `next` links of a listing from its first page; the links matching `pattern`
    on each page."""
    pages, url = [], path
    while url:
        html = client.get(url).data.decode()
        body = html.split("<main", 1)[1]
        listing = re.sub(r'<p class="pager">.*?</p>', "", body, flags=re.S)
        pages.append(set(re.findall(pattern, listing)))
        nxt = re.search(r'<a rel="next" href="([^"]+)"', body)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
        assert len(pages) < 50, "the next links do not end"
    return pages


@pytest.mark.parametrize(
    ("path", "query", "prefix"),
    [
        ("/sources", "SELECT ?s WHERE {{ ?s a <{base}ontology#SourceDocument> }}", "/page/source/"),
        ("/places", "SELECT ?s WHERE {{ ?s <http://www.w3.org/2003/01/geo/wgs84_pos#lat> ?x }}",
         "/page/"),
    ],
)
def test_listing_pages_partition_the_list(small_pages, store, base, path, query, prefix):
    """Pages of 3: each full but the last, none shared, together every item, in a stable order."""
    expected = {
        r["s"].value[len(base) + 3:] for r in select(store, query.format(base=base))
    }
    pattern = re.escape(prefix) + r"[\w./-]+"
    pages = _all_pages(small_pages, path, pattern)
    found = [{p.removeprefix("/page/") for p in page} for page in pages]
    assert len(found) > 1
    assert all(len(p) == 3 for p in found[:-1]) and 1 <= len(found[-1]) <= 3
    assert sum(len(p) for p in found) == len(set().union(*found)) == len(expected)
    assert set().union(*found) == expected
    assert _all_pages(small_pages, path, pattern) == pages  # the same pages when asked again


def test_a_page_past_the_end_is_404_and_page_two_links_back(small_pages):
    assert small_pages.get("/sources?page=999").status_code == 404
    second = small_pages.get("/sources?page=2").data.decode()
    assert 'rel="prev" href="/sources"' in second


def test_sources_compared_pages_hold_every_claim_once(small_pages, store, base):
    claims = {
        r["c"].value.rsplit("/", 1)[1]
        for r in select(store, f"SELECT ?c WHERE {{ ?c a <{base}ontology#FigureClaim> }}")
    }
    figure = r'class="num"><a href="/page/claim/([^"]+)"'
    pages = _all_pages(small_pages, "/sources-compared", figure)
    assert all(len(p) == 3 for p in pages[:-1])
    assert sum(len(p) for p in pages) == len(claims)
    assert set().union(*pages) == claims


def test_home_shows_a_first_page_with_links_to_the_rest(small_pages, client, store, base):
    html = small_pages.get("/").data.decode()
    assert 'href="/sources?page=2"' in html
    assert 'href="/places"' in html and 'href="/timeline"' in html
    # the counts come from the build's VoID description, not from the page shown
    n = select(store, f"SELECT (COUNT(?s) AS ?n) WHERE {{ ?s a <{base}ontology#SourceDocument> }}")
    assert f"<strong>{n[0]['n'].value}</strong> source documents" in html
    # on the real site the places fit on one page; the sources (94) do not, so they link on
    full = client.get("/").data.decode()
    size = client.application.extensions["kg"].settings.page_size
    assert ("/sources?page=2" in full) == (int(n[0]["n"].value) > size)
    assert 'href="/places"' not in full


def test_timeline_page_lists_its_dated_things(small_pages):
    html = small_pages.get("/timeline").data.decode()
    assert len(re.findall(r"<tr><td>\d{4}", html)) == 3
    assert 'class="picture timeline"' in html


def test_window_reads_only_as_far_as_its_page():
    from endpoint.pages.site_data import window

    read = []

    def rows():
        for k in "aabcdde":
            read.append(k)
            yield k

    picked, page = window(rows(), lambda r: r, 2, 2)
    assert picked == ["c", "d", "d"] and page.has_next and page.previous == 1
    assert read == list("aabcdde")  # stopped at "e", the first key of page 3
    picked, page = window(iter("aab"), lambda r: r, 1, 2)
    assert picked == list("aab") and not page.has_next
    assert page.previous is None and page.next is None


# -- HTTP caching of pages ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/sources-compared", "/page/event/khojaly-massacre",
                                  "/pictures/map.svg", "/data/event/khojaly-massacre.ttl"])
def test_pages_carry_a_strong_etag_and_revalidate_with_304(client, path):
    first = client.get(path)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert not etag.startswith("W/")
    assert "public" in first.headers["Cache-Control"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    repeat = client.get(path)  # from the result cache: the same bytes and tag
    assert repeat.data == first.data and repeat.headers["ETag"] == etag
    assert repeat.content_type == first.content_type


def test_what_selects_a_page_changes_its_etag(client):
    tags = {
        client.get(path, headers=headers).headers["ETag"]
        for path, headers in [
            ("/page/event/khojaly-massacre", {}),
            ("/page/event/khojaly-massacre?incoming=50", {}),
            ("/page/event/khojaly-massacre", {"Accept-Language": "az"}),
            ("/sources-compared", {}),
        ]
    }
    assert len(tags) == 4
    missing = client.get("/page/event/no-such-event")
    assert missing.status_code == 404 and "ETag" not in missing.headers
    assert "Accept-Language" in client.get("/").headers["Vary"]
