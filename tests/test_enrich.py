"""Enrichment and federation against the real HTTP stand-in for Wikidata.

`kg enrich` must put imported facts in their own graph with provenance and replace it whole or
not at all; federated example queries must run through our endpoint when the target is on the
allow-list and be refused when it is not. Nothing here reaches the internet.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from link_support import BASE, WD, fast, write_data
from pyoxigraph import Literal, NamedNode, Quad, Store

from graph.build.inputs import load
from graph.cli.main import main
from graph.config import Settings
from graph.queries import load_query

WIKIDATA_SPARQL = "https://query.wikidata.org/sparql"
ENRICHMENT_GRAPH = f"{BASE}graph/enrichment/wikidata"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return write_data(tmp_path / "repo")


def run(runner, settings, *args):
    return runner.invoke(main, list(args), obj=settings, catch_exceptions=False)


def load_repo(settings: Settings) -> Store:
    """Every file of the repository loaded by the build's own loader, one graph per file."""
    store = Store()
    store.extend(load(settings).all_quads())
    return store


# --- kg enrich ---------------------------------------------------------------------------


def test_enrichment_lands_in_its_own_graph_with_provenance(runner, settings, standin):
    result = run(runner, settings, "enrich", *fast(standin.url))
    assert result.exit_code == 0, result.output
    store = load_repo(settings)
    facts = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    PREFIX wdt: <http://www.wikidata.org/prop/direct/> PREFIX prov: <http://www.w3.org/ns/prov#>
    ASK {{ GRAPH <{ENRICHMENT_GRAPH}> {{
      <{WD}Q9248> rdfs:label "Bakou"@fr ; wdt:P1082 ?population ; wdt:P625 ?point .
      <{WD}Q187052> wdt:P571 ?inception .
      <{ENRICHMENT_GRAPH}> a prov:Entity ; prov:generatedAtTime ?when ;
          prov:wasDerivedFrom <{standin.url}> ; prov:wasGeneratedBy ?activity .
      ?activity a prov:Activity ; prov:startedAtTime ?start ; prov:endedAtTime ?end .
    }} }}"""
    assert store.query(facts)
    # only items we link to are enriched: the stand-in's candidates and noise are not
    subjects = {q.subject.value for q in store if q.subject.value.startswith(WD)}
    assert subjects == {WD + "Q9248", WD + "Q187052", WD + "Q399"}
    # imported facts are in the enrichment graph only, never in a graph of ours
    assert {q.graph_name.value for q in store if q.subject.value.startswith(WD)} == {
        ENRICHMENT_GRAPH}


def test_enrichment_keeps_only_the_chosen_languages(runner, settings, standin):
    run(runner, settings, "enrich", *fast(standin.url, "--languages", "en,fr"))
    store = load_repo(settings)
    labels = [q.object for q in store if q.predicate.value.endswith("#label")
              and q.subject.value.startswith(WD)]
    assert labels and {lbl.language for lbl in labels} == {"en", "fr"}


def test_rerunning_replaces_the_graph(runner, settings, standin):
    run(runner, settings, "enrich", *fast(standin.url))
    path = settings.data_dir / "enrichment" / "wikidata.ttl"
    assert "Bakou" in path.read_text(encoding="utf-8")
    bakou = Literal("Bakou", language="fr")
    standin.store.remove(Quad(NamedNode(WD + "Q9248"),
                              NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), bakou))
    try:
        result = run(runner, settings, "enrich", *fast(standin.url))
        assert result.exit_code == 0, result.output
        assert "Bakou" not in path.read_text(encoding="utf-8")  # replaced, not appended to
    finally:
        standin.store.add(Quad(NamedNode(WD + "Q9248"),
                               NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), bakou))
    assert [p.name for p in path.parent.iterdir()] == ["wikidata.ttl"]  # no temp file left


def test_a_failing_endpoint_leaves_the_previous_enrichment_untouched(runner, settings, standin):
    run(runner, settings, "enrich", *fast(standin.url))
    path = settings.data_dir / "enrichment" / "wikidata.ttl"
    before = path.read_bytes()
    standin.fail_next(503, count=100)
    sent = len(standin.received)
    result = run(runner, settings, "enrich", *fast(standin.url, "--retries", "2"))
    assert result.exit_code == 2
    assert "HTTP 503" in result.output and "previous enrichment is unchanged" in result.output
    assert len(standin.received) - sent == 3  # the request and its two retries
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["wikidata.ttl"]


def test_a_stalling_endpoint_is_reported_not_fatal(runner, settings, standin):
    standin.stall_next(1.0, count=2)
    result = run(runner, settings, "enrich",
                 *fast(standin.url, "--timeout", "0.3", "--retries", "1"))
    assert result.exit_code == 2
    assert "no answer within 0.3s" in result.output
    assert not (settings.data_dir / "enrichment" / "wikidata.ttl").exists()


# --- federation through our endpoint ----------------------------------------------------------


def _federated(name: str, url: str) -> str:
    """The example as shipped, pointed at the stand-in instead of Wikidata."""
    text = load_query(f"examples/{name}").text
    assert f"SERVICE <{WIKIDATA_SPARQL}>" in text
    return text.replace(WIKIDATA_SPARQL, url)


@pytest.fixture
def endpoint_for(built_settings):
    apps = []

    def make(allowlist: tuple[str, ...]):
        from endpoint import create_app

        app = create_app(built_settings.replace(service_allowlist=allowlist))
        apps.append(app)
        return app.test_client()

    yield make
    for app in apps:
        app.extensions["kg"].pool.close()


def test_federated_example_runs_when_the_target_is_allow_listed(endpoint_for, standin):
    client = endpoint_for((standin.url,))
    response = client.post("/sparql", data={"query": _federated("federated-population",
                                                                 standin.url)},
                           headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.data
    rows = json.loads(response.data)["results"]["bindings"]
    got = {(r["label"]["value"], r["population"]["value"]) for r in rows}
    assert got == {("Baku", "2222"), ("Azerbaijan", "3333")}  # the stand-in's test values
    assert len(standin.received) == 1


def test_federated_labels_example_joins_our_places(endpoint_for, standin):
    client = endpoint_for((standin.url,))
    response = client.post("/sparql", data={"query": _federated("federated-labels", standin.url)},
                           headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.data
    rows = json.loads(response.data)["results"]["bindings"]
    assert {(r["label"]["value"], r["name"]["value"]) for r in rows} >= {
        ("Baku", "Bakou"), ("Azerbaijan", "Azerbaïdjan")}


def test_federated_query_to_a_target_not_allow_listed_is_refused(endpoint_for, standin):
    client = endpoint_for(("http://127.0.0.1:1/another",))
    response = client.post("/sparql", data={"query": _federated("federated-population",
                                                                 standin.url)})
    assert response.status_code == 403
    assert standin.received == []  # refused before anything was sent
