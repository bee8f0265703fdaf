"""Link status per target dataset, derived from the linksets.

An entity's status for Wikidata, GeoNames, DBpedia, VIAF and GND is read off its links and the
kgo:linkMethod of the linkset that holds each (graph/queries/pages/link_status.rq); a status
typed by hand on an entity is refused by checks/link-status-violation.rq unless a verified link
backs it. The expected statuses are read off ../shared/sources/REFERENCE.md ("Verified external
identifiers": the DBpedia IRIs are derived from titles, DBpedia itself not checked).
"""

from __future__ import annotations

import pytest
from helpers_graph import edit
from pyoxigraph import NamedNode

from graph import queries
from graph.build.inputs import load
from graph.store import open_store
from graph.validate import integrity

KINDS = ("event", "place", "organisation", "memorial", "person")
TARGETS = {"Wikidata", "GeoNames", "DBpedia", "VIAF", "GND"}


@pytest.fixture(scope="module")
def store(built_settings):
    return open_store(built_settings, read_only=True)


def statuses(store, base: str, entity: str) -> dict[str, str]:
    rows = queries.run(store, "pages/link_status", base_iri=base,
                       entity=NamedNode(base + "id/" + entity))
    return {r["targetLabel"].value: r["status"].value.rsplit("-", 1)[-1] for r in rows}


def linkable(store, base: str) -> list[str]:
    rows = store.query("SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s a ?c } }")
    prefix = base + "id/"
    return sorted(
        r["s"].value[len(prefix):] for r in rows
        if r["s"].value.startswith(prefix) and "#" not in r["s"].value
        and r["s"].value[len(prefix):].split("/")[0] in KINDS
    )


def test_issue_12_each_entity_has_one_status_per_target(store, built_settings):
    base = built_settings.base_iri
    things = linkable(store, base)
    assert len(things) >= 25
    for thing in things:
        assert set(statuses(store, base, thing)) == TARGETS, thing


@pytest.mark.parametrize(("entity", "expected"), [
    # verified only through VIAF/GND: its Wikidata link is still pending
    ("place/khojaly", {"VIAF": "verified", "GND": "verified", "Wikidata": "pending",
                       "GeoNames": "pending", "DBpedia": "pending"}),
    # its only link is a DBpedia IRI derived from a title: proposed, not verified
    ("event/khojaly-massacre", {"DBpedia": "proposed", "Wikidata": "pending",
                                "GeoNames": "pending", "VIAF": "pending", "GND": "pending"}),
    ("place/khankendi", {"DBpedia": "proposed", "Wikidata": "pending"}),
    ("organisation/366th-guards-motor-rifle-regiment", {"DBpedia": "proposed",
                                                        "Wikidata": "pending"}),
    ("place/azerbaijan", {"Wikidata": "verified", "GeoNames": "verified", "DBpedia": "proposed",
                          "VIAF": "pending"}),
    ("organisation/human-rights-watch-helsinki", {"Wikidata": "verified"}),  # skos:closeMatch
    ("memorial/ana-harayi", {t: "pending" for t in TARGETS}),
])
def test_issue_12_status_is_derived_from_the_linksets(store, built_settings, entity, expected):
    got = statuses(store, built_settings.base_iri, entity)
    assert {t: got[t] for t in expected} == expected


def test_issue_12_no_status_is_typed_by_hand(store):
    rows = store.query("SELECT ?s WHERE { ?s kgo:linkStatus ?o FILTER NOT EXISTS "
                       "{ ?s a kgo:LinkMethod } }", prefixes=queries.query_prefixes(
                           "https://w3id.org/khojaly/"))
    assert [r["s"].value for r in rows] == []


def _problems(settings):
    return integrity.check(load(settings), settings)


def test_issue_12_verified_by_hand_without_a_verified_link_fails(repo_settings):
    """The event's only link is derived from a title: 'verified' typed on it is refused."""
    path = repo_settings.root / "data/event/khojaly-massacre.ttl"
    edit(path, "    sem:hasPlace place:khojaly ;",
         "    sem:hasPlace place:khojaly ;\n"
         "    kgo:linkStatus <../concept/link-status-verified> ;")
    (problem,) = _problems(repo_settings)
    assert problem.check == "link-status"
    assert problem.file == "data/event/khojaly-massacre.ttl"
    assert problem.focus == repo_settings.base_iri + "id/event/khojaly-massacre"


def test_issue_12_verified_by_hand_with_a_verified_link_passes(repo_settings):
    path = repo_settings.root / "data/place/azerbaijan.ttl"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "\n<> kgo:linkStatus <../concept/link-status-verified> .\n",
                    encoding="utf-8")
    assert _problems(repo_settings) == []


def test_issue_12_the_page_shows_the_status_per_dataset(client):
    html = client.get("/page/place/khojaly").data.decode()
    table = html.split('class="link-status"')[1].split("</table>")[0]
    rows = {}
    for row in table.split("<tr>")[2:]:
        cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
        rows[cells[0]] = cells[1]
    assert set(rows) == TARGETS
    assert "verified" in rows["VIAF"] and "verified" in rows["GND"]
    assert "pending" in rows["Wikidata"] and "pending" in rows["DBpedia"]
