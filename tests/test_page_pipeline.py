"""The entity page reads what does not depend on the request once per build, and is the same page.

Labels, the datasets we link to and a point's mini-map are kept per dataset version
(endpoint/pages/shared.py); the entity's own triples, claims and links are read for every page.
These tests hold the page to what the per-request pipeline (every query run, nothing kept)
renders, byte for byte, and show that a warm page skips the shared queries.
"""

from __future__ import annotations

import pytest
from pyoxigraph import NamedNode

from endpoint.pages import attribution, describe, entities, entity_model, shared, term_html
from endpoint.pages.terms import Linker, Term
from graph import queries

HTML = {"Accept": "text/html"}
#: a place with a mini-map and links, the hub event (213 claims, paged incoming links), a source,
#: a claim (quotes), a concept, the dataset page; in two reader languages
PAGES = [
    "/page/place/khojaly",
    "/page/event/khojaly-massacre",
    "/page/event/khojaly-massacre?incoming=50",
    "/page/memorial/ana-harayi",
    "/page/organisation/human-rights-watch",
    "/page/concept/link-status-verified",
    "/dataset",
]
LANGUAGES = [{}, {"Accept-Language": "az, ru;q=0.5"}]


def _entities(store, base: str) -> list[str]:
    rows = store.query(
        "SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s a ?c } }", use_default_graph_as_union=False)
    return sorted(r["s"].value for r in rows
                  if r["s"].value.startswith(base + "id/") and "#" not in r["s"].value)


def _render(client, path: str, headers: dict) -> bytes:
    response = client.get(path, headers={**HTML, **headers})
    assert response.status_code == 200, path
    return response.data


def test_pages_from_the_shared_data_are_the_per_request_pages(app, client, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(entities, "shared_data",
                  lambda extensions, version: shared.SharedPageData(version))
        cold = {(p, str(h)): _render(client, p, h) for p in PAGES for h in LANGUAGES}
    for _ in range(2):  # the first fills the shared table, the second reads only from it
        for p in PAGES:
            for h in LANGUAGES:
                assert _render(client, p, h) == cold[(p, str(h))], (p, h)


def test_every_entity_page_is_the_same_warm_and_cold(app, client, store, monkeypatch):
    base = app.extensions["kg"].settings.base_iri
    paths = ["/page/" + iri[len(base) + 3:] for iri in _entities(store, base)]
    assert len(paths) > 300
    warm = {p: _render(client, p, {}) for p in paths}
    monkeypatch.setattr(entities, "shared_data",
                        lambda extensions, version: shared.SharedPageData(version))
    for p in paths:
        assert _render(client, p, {}) == warm[p], p


def test_a_warm_page_runs_only_its_own_queries(app, client, monkeypatch):
    ran: list[str] = []
    original = describe.run

    def counting(store, name, base_iri, **bindings):
        ran.append(name)
        return original(store, name, base_iri, **bindings)

    monkeypatch.setattr(describe, "run", counting)
    _render(client, "/page/place/khojaly?u=first", {})  # unique: the response cache misses
    ran.clear()
    _render(client, "/page/place/khojaly?u=second", {})
    shared_queries = {"neighbour_labels", "claims_about_labels", "label_lookup", "link_targets"}
    assert not shared_queries & set(ran), ran
    assert ran.count("entity_description") == 1  # the page and its JSON-LD share one read
    assert {"claims_about", "entity_links", "name_attestations", "entity_inverse"} <= set(ran)


def test_the_link_status_per_dataset_is_link_status_rq(app, store):
    """The page reads its links and groups them by the build's target datasets; the answer is
    link_status.rq's, for every entity of the graph."""
    base = app.extensions["kg"].settings.base_iri
    linker = Linker(base)
    targets = attribution.link_targets(store, base)
    assert len(targets) == 5
    checked = 0
    for iri in _entities(store, base):
        got = attribution.link_states(store, base, iri, linker.term, targets)
        rows = queries.run(store, "pages/link_status", base_iri=base, entity=NamedNode(iri))
        want = [(r["targetLabel"].value, r["status"].value, r["link"].value if r["link"] else None)
                for r in rows]
        assert [(s.dataset, s.status.value, s.link.value if s.link else None)
                for s in got] == want, iri
        checked += any(s.link for s in got)
    assert checked >= 10  # entities with links, not only "pending" everywhere


def test_the_neighbours_read_off_the_triples_are_those_the_query_labels(app, store):
    """The IRIs the page checks in the shared table before skipping neighbour_labels.rq are
    among those the query returns, so one run of it makes them all known."""
    base = app.extensions["kg"].settings.base_iri
    for iri in _entities(store, base)[::7]:
        triples = describe.description(store, base, iri)
        by_subject: dict = {}
        for t in triples:
            by_subject.setdefault(t.subject, []).append(t)
        mine = entity_model._neighbours(NamedNode(iri), by_subject)
        rows = describe.run(store, "neighbour_labels", base, entity=NamedNode(iri))
        assert mine <= {r["thing"].value for r in rows}, iri
        assert len(mine) > 1


def test_shared_data_belongs_to_one_version():
    extensions: dict = {}
    first = shared.for_version(extensions, "v1")
    first.keep_labels({"https://example.org/x": []})
    assert shared.for_version(extensions, "v1") is first
    assert first.known(["https://example.org/x"]) == {"https://example.org/x": []}
    second = shared.for_version(extensions, "v2")
    assert second is not first and second.known(["https://example.org/x"]) is None
    made = []
    assert second.value("k", lambda: made.append(1) or "drawn") == "drawn"
    assert second.value("k", lambda: made.append(1) or "again") == "drawn" and made == [1]


def _terms(value):
    """Every Term and Node in an entity page's model."""
    if isinstance(value, Term):
        yield value
    elif isinstance(value, entity_model.Node):
        yield value
        yield value.term
        for prop, values in value.properties:
            yield prop
            for v in values:
                yield from _terms(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _terms(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _terms(v)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            yield from _terms(getattr(value, name))


@pytest.mark.parametrize(
    ("t", "html"),
    [
        (Term("iri", "https://w3id.org/khojaly/id/place/baku", "Baku",
              "/page/place/baku", "place:baku", ours=True),
         '<a href="/page/place/baku" title="https://w3id.org/khojaly/id/place/baku">Baku</a>'),
        (Term("iri", "https://ex.org/", None, "https://ex.org/", "ex:", ours=False),
         '<a href="https://ex.org/" title="https://ex.org/" class="external">ex:</a>'),
        (Term("iri", "urn:x:<y>", "a & b", None),
         '<span title="urn:x:&lt;y&gt;">a &amp; b</span>'),
        (Term("bnode", "b0"), '<span class="bnode">[ ]</span>'),
        (Term("literal", '<b>&"\'', language="en-GB", datatype=None),
         '<span class="literal">&lt;b&gt;&amp;&#34;&#39;</span> <span class="lang">en-GB</span>'),
        (Term("literal", "3", datatype="xsd:integer"),
         '<span class="literal">3</span> <span class="datatype">xsd:integer</span>'),
    ],
)
def test_a_term_is_printed_escaped_and_linked(t, html):
    assert term_html.term(t) == html


def test_every_template_prints_terms_with_term_html(app, store):
    """`term` and `node_table` are globals of every template, and they are term_html's: a
    property table nests its blank nodes and prints each value as `term` does."""
    assert app.jinja_env.globals["term"] is term_html.term
    assert app.jinja_env.globals["node_table"] is term_html.node_table
    base = app.extensions["kg"].settings.base_iri
    with app.test_request_context("/"):
        labeller = describe.Labeller(store, base, ("en",))
        model = entity_model.PageBuilder(store, Linker(base), labeller, base).build(
            base + "id/event/khojaly-massacre")
        table = term_html.node_table(model.main)
        rendered = app.jinja_env.from_string("{{ node_table(n) }}").render(n=model.main)
    assert table == rendered and table.startswith('<table class="props">')
    for prop, values in model.main.properties:
        assert f'<th scope="row">{term_html.term(prop)}</th>' in table
        for v in values:
            if not hasattr(v, "properties"):
                assert f"<li>{term_html.term(v)}</li>" in table


def test_a_thing_with_no_triples_of_its_own_still_has_a_page(client, monkeypatch):
    """The page's 404 is read off the description, and a thing the graph only links to (no
    triples of its own) falls back to entity_exists.rq: a page, not a 404."""
    monkeypatch.setattr(describe, "description", lambda store, base, iri: [])
    assert client.get("/page/place/khojaly?u=bare", headers=HTML).status_code == 200
    assert client.get("/page/place/no-such-place", headers=HTML).status_code == 404
    assert client.get("/page/place/a%22b", headers=HTML).status_code == 404
