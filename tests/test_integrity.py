"""Integrity checks (graph/queries/checks/*-violation.rq and the verbatim-quote check)."""

from __future__ import annotations

from helpers_graph import edit

from graph import integrity
from graph.load import load

SOURCE = "data/source/caliber-2026.ttl"


def _problems(settings):
    return integrity.check(load(settings), settings)


def test_mini_fixture_passes_every_check(mini_settings):
    assert _problems(mini_settings) == []


def test_real_data_passes_every_check(repo_settings):
    problems = _problems(repo_settings)
    assert problems == [], "\n".join(str(p) for p in problems)


def test_quote_may_span_a_line_break_but_not_change_a_character(mini_settings):
    text = mini_settings.texts_dir / "caliber-2026.txt"
    assert "613 people\nwere killed" in text.read_text(encoding="utf-8")  # the fixture wraps here
    assert _problems(mini_settings) == []
    edit(text, "63 children", "63 Children")
    (problem,) = _problems(mini_settings)
    assert problem.check == "quote-verbatim"
    assert problem.file == SOURCE
    assert problem.focus.endswith("id/claim/caliber-2026-killed")


def test_quotes_of_a_source_without_a_text_are_not_checked(mini_settings):
    (mini_settings.texts_dir / "caliber-2026.txt").unlink()
    edit(mini_settings.root / SOURCE, '"A total of 613 people', '"A total of 999 people')
    assert _problems(mini_settings) == []


def test_a_subclass_of_claim_without_source_is_found(mini_settings):
    edit(mini_settings.root / "ontology/khojaly.ttl", "kgo:SourceDocument a owl:Class",
         "kgo:DateClaim a owl:Class ; rdfs:subClassOf kgo:Claim .\nkgo:SourceDocument a owl:Class")
    with (mini_settings.root / SOURCE).open("a", encoding="utf-8") as fh:
        fh.write('\nclaim:caliber-2026-date a kgo:DateClaim ; rdfs:label "a date"@en .\n')
    (problem,) = _problems(mini_settings)
    assert problem.check == "claim-without-source"
    assert problem.focus.endswith("id/claim/caliber-2026-date")


def test_an_ill_typed_date_is_found(mini_settings):
    with (mini_settings.root / "data/place/khojaly.ttl").open("a", encoding="utf-8") as fh:
        fh.write('<> <https://schema.org/foundingDate> "1992-02-30"^^xsd:date .\n')
    (problem,) = _problems(mini_settings)
    assert problem.check == "ill-typed-literal"
    assert "1992-02-30" in problem.message
    assert problem.file == "data/place/khojaly.ttl"


def test_links_may_describe_external_iris(mini_settings):
    with (mini_settings.root / "data/links/wikidata.ttl").open("a", encoding="utf-8") as fh:
        fh.write(
            "<http://www.wikidata.org/entity/Q9248> "
            "<http://www.w3.org/2000/01/rdf-schema#label> \"Baku\"@en .\n"
        )
    assert _problems(mini_settings) == []
