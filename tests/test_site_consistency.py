"""The site agrees with itself: VoID and the service description name the same endpoint and the
pages show it; a browser on /data/… gets the page; <html lang> follows the label shown; the
ontology page has the site's header; federated examples say they need KG_SERVICE_ALLOWLIST."""

from __future__ import annotations

from pyoxigraph import RdfFormat, Store, parse

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def _graph(response) -> Store:
    store = Store()
    store.extend(parse(response.data, format=RdfFormat.TURTLE))
    return store


def test_void_and_the_service_description_name_the_same_endpoint(client):
    base = client.application.config["KG_SETTINGS"].base_iri
    void = _graph(client.get("/void", headers={"Accept": "text/turtle"}))
    sd = _graph(client.get("/sparql", headers={"Accept": "text/turtle"}))
    endpoints = {r["e"].value for r in void.query(f"SELECT ?e {{ ?d <{VOID}sparqlEndpoint> ?e }}")}
    served = {r["e"].value for r in sd.query(f"SELECT ?e {{ ?s <{SD}endpoint> ?e }}")}
    assert endpoints == served == {base + "sparql"}
    dumps = {r["u"].value for r in void.query(f"SELECT ?u {{ ?d <{VOID}dataDump> ?u }}")}
    assert dumps and all(u.startswith(base + "dumps/") for u in dumps)
    home = client.get("/").get_data(as_text=True)
    for url in dumps:  # every dump VoID names is linked from the home page, on this host
        assert f'href="/dumps/{url.rsplit("/", 1)[1]}"' in home
    assert f"<code>{base}sparql</code>" in client.get("/query").get_data(as_text=True)


def test_a_browser_on_data_gets_html_and_a_program_rdf(client):
    page = client.get("/data/place/khojaly", headers={"Accept": BROWSER})
    assert page.status_code == 303 and page.headers["Location"].endswith("/page/place/khojaly")
    assert "Accept" in page.headers["Vary"]
    for accept in ("*/*", "text/turtle", None):
        headers = {"Accept": accept} if accept else {}
        data = client.get("/data/place/khojaly", headers=headers)
        assert data.status_code == 200 and data.mimetype == "text/turtle"
    assert client.get("/data/place/khojaly.rdf", headers={"Accept": BROWSER}).mimetype == \
        "application/rdf+xml"


def test_html_lang_follows_the_label_shown(client):
    az = client.get("/page/place/khojaly", headers={"Accept-Language": "az"}).get_data(True)
    assert '<html lang="az">' in az and "<h1>Xocalı</h1>" in az
    en = client.get("/page/place/khojaly", headers={"Accept-Language": "en"}).get_data(True)
    assert '<html lang="en">' in en and "<h1>Khojaly</h1>" in en
    ru = client.get("/page/place/khojaly", headers={"Accept-Language": "ru"}).get_data(True)
    assert '<html lang="ru">' in ru


def test_the_ontology_page_is_inside_the_site(client):
    html = client.get("/ontology", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert '<header class="site-header">' in html and 'class="brand" href="/"' in html
    assert html.count("<body") == 1 and html.count("<html") == 1
    assert 'class="ontology-docs"' in html and "Khojaly knowledge graph ontology" in html


def test_federated_examples_say_they_need_the_allow_list(client):
    html = client.get("/query").get_data(as_text=True)
    assert html.count("(needs KG_SERVICE_ALLOWLIST)") == 2  # the two federated options
    assert html.count('"needs": "needs KG_SERVICE_ALLOWLIST"') == 2
    assert '<optgroup label="Figures">' in html


def test_place_and_memorial_pages_have_a_mini_map_over_the_basemap(client):
    for path in ("/page/place/khojaly", "/page/memorial/ana-harayi"):
        html = client.get(path).get_data(as_text=True)
        assert 'class="picture minimap"' in html, path
        assert '<path class="land" d="M' in html and '<circle class="point"' in html
    event = client.get("/page/event/khojaly-massacre").get_data(as_text=True)
    assert "minimap" not in event  # no coordinates, no map


def test_the_chart_has_a_value_axis_whole_labels_and_qualifiers(client):
    svg = client.get("/pictures/figures.svg").get_data(as_text=True)
    assert 'class="value-axis"' in svg and 'class="tick-label"' in svg
    assert "…" not in svg  # labels wrap, never cut
    assert 'class="qualifier"' in svg and "(at least)" in svg or "(more than)" in svg
