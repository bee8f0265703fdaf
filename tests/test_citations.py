"""Cite this: BibTeX, RIS and CSL-JSON for sources, a one-line citation for claims, each naming
the dataset version; parsed with citeproc-py and bibtexparser, as reference managers would."""

from __future__ import annotations

import json

import bibtexparser
import pytest
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON

from graph.config import DEFAULT_BASE_IRI as BASE
from graph.queries import query_prefixes

CSL = "application/vnd.citationstyles.csl+json"
ID = "https://w3id.org/khojaly/id/"


@pytest.fixture(scope="module")
def version(app) -> str:
    return app.extensions["kg"].version


def test_csl_json_of_a_source_renders_with_citeproc_and_names_the_version(client, version):
    response = client.get("/cite/source/hrw-world-report-1993.csl.json")
    assert response.mimetype == CSL
    items = response.json
    assert version in items[0]["note"]
    source = CiteProcJSON(items)
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, source, formatter.plain)
    bibliography.register(Citation([CitationItem("hrw-world-report-1993")]))
    text = str(bibliography.bibliography()[0])
    assert "World Report 1993, Azerbaijan chapter" in text and "1993" in text


def test_bibtex_parses_and_carries_title_year_and_version(client, version):
    text = client.get("/cite/source/caliber-2026-khojaly-commemoration.bib").text
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    (entry,) = library.entries
    assert entry.entry_type == "article"
    assert "Flowers and prayers in Baku" in entry["title"]
    assert entry["year"] == "2026" and entry["journal"] == "Caliber.az"
    assert version in entry["note"]


def test_bibtex_escapes_latex_specials():
    from endpoint.pages.citations import _bib

    assert _bib("50% & {x}_1 #2 $") == r"50\% \& \{x\}\_1 \#2 \$"


def test_ris_has_its_tags_and_the_version(client, version):
    text = client.get("/cite/source/hrw-seven-years-of-conflict-1994.ris").text
    lines = text.splitlines()
    assert lines[0] == "TY  - RPRT" and lines[-1] == "ER  - "
    assert any(line.startswith("PY  - 1994") for line in lines)
    assert any(version in line for line in lines if line.startswith("N1  - "))


def test_a_claim_page_shows_a_one_line_citation_with_iri_version_source_and_quote(client, version):
    html = client.get("/page/claim/hrw-1993-killed-at-least-161").text
    assert 'id="cite"' in html
    line = html.split('<p class="citation">')[1].split("</p>")[0]
    assert f"{ID}claim/hrw-1993-killed-at-least-161" in line and version in line
    assert "World Report 1993" in line and "At least 161 civilians" in line


def test_csl_by_content_negotiation_on_the_iri_and_the_page(client, version):
    seen = client.get("/id/source/hrw-world-report-1993", headers={"Accept": CSL})
    assert seen.status_code == 303 and seen.location.endswith("/cite/source/hrw-world-report-1993")
    cited = client.get(seen.location, headers={"Accept": CSL})
    assert json.loads(cited.text)[0]["type"] == "report"
    page = client.get("/page/claim/hrw-1993-killed-at-least-161", headers={"Accept": CSL})
    assert page.mimetype == CSL and "Accept" in page.headers["Vary"]
    claim, source = page.json
    assert claim["version"] == version and claim["URL"].endswith("hrw-1993-killed-at-least-161")
    assert source["id"] == "hrw-world-report-1993"
    browser = client.get("/id/source/hrw-world-report-1993", headers={"Accept": "text/html,*/*"})
    assert browser.location.endswith("/page/source/hrw-world-report-1993")


def test_every_source_and_claim_page_offers_a_citation(client, store):
    query = ("SELECT DISTINCT ?x WHERE { { ?x a kgo:SourceDocument } UNION "
             "{ ?x kgo:statedIn ?s } FILTER(STRSTARTS(STR(?x), STR(kgid:)) "
             '&& !CONTAINS(STR(?x), "#")) }')
    things = [row["x"].value for row in store.query(query, prefixes=query_prefixes(BASE),
                                                    use_default_graph_as_union=True)]
    assert len(things) > 20
    for iri in things:
        html = client.get("/page/" + iri.removeprefix(ID)).text
        assert 'class="cite"' in html, iri
