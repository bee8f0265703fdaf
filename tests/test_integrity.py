"""Integrity checks (graph/queries/checks/*-violation.rq and the verbatim-quote check)."""

from __future__ import annotations

from helpers_graph import edit

from graph.build.inputs import load
from graph.validate import integrity

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


def test_a_source_without_a_text_fails_unless_marked_not_checkable(mini_settings):
    (mini_settings.texts_dir / "caliber-2026.txt").unlink()
    (problem,) = _problems(mini_settings)
    assert problem.check == "stored-text"
    assert problem.file == SOURCE
    assert problem.focus.endswith("id/source/caliber-2026")
    assert "data/texts/caliber-2026.txt" in problem.message
    edit(mini_settings.root / SOURCE, "<> a kgo:SourceDocument ;",
         '<> a kgo:SourceDocument ;\n    kgo:notCheckable "No copy could be read."@en ;')
    edit(mini_settings.root / SOURCE, '"A total of 613 people', '"A total of 999 people')
    assert _problems(mini_settings) == []  # marked: its quotes are not checked, and that is said


def test_a_source_marked_not_checkable_must_not_also_have_a_text(mini_settings):
    edit(mini_settings.root / SOURCE, "<> a kgo:SourceDocument ;",
         '<> a kgo:SourceDocument ;\n    kgo:notCheckable "No copy could be read."@en ;')
    (problem,) = _problems(mini_settings)
    assert problem.check == "stored-text" and "kgo:notCheckable" in problem.message


def test_a_text_without_its_header_fails(mini_settings):
    edit(mini_settings.texts_dir / "caliber-2026.txt", "# read-on: 2026-12-04\n", "")
    (problem,) = _problems(mini_settings)
    assert problem.check == "stored-text" and "read-on" in problem.message


def test_a_quote_is_never_found_in_the_header(mini_settings):
    text = mini_settings.texts_dir / "caliber-2026.txt"
    edit(text, "# extent: excerpt: three sentences",
         "# extent: excerpt: three sentences\n# note: A total of 999 people were killed, including"
         " 106 women, 63 children and 70 elderly individuals.")
    edit(mini_settings.root / SOURCE, '"A total of 613 people', '"A total of 999 people')
    (problem,) = _problems(mini_settings)
    assert problem.check == "quote-verbatim"


def test_typographic_quotes_and_dashes_count_as_plain_ones(mini_settings):
    edit(mini_settings.root / SOURCE, "106 women, 63 children", "106 women\u2014 63 children")
    assert [p.check for p in _problems(mini_settings)] == ["quote-verbatim"]
    edit(mini_settings.texts_dir / "caliber-2026.txt", "106 women, 63 children",
         "106 women- 63 children")
    assert _problems(mini_settings) == []


def test_a_fact_of_a_source_with_a_text_needs_a_quote(mini_settings):
    place = mini_settings.data_dir / "place" / "khojaly.ttl"
    text = place.read_text(encoding="utf-8")
    cut = text[:text.index("    kgo:evidence")].rstrip(" ;\n")
    place.write_text(cut + " .\n", encoding="utf-8")
    (problem,) = _problems(mini_settings)
    assert problem.check == "fact-quote"
    assert problem.focus.endswith("id/place/khojaly#fact-coordinates")


def test_a_reference_fact_without_its_source_is_found(mini_settings):
    edit(mini_settings.data_dir / "place" / "khojaly.ttl", "kgo:sourcedProperty wgs:lat, wgs:long",
         "kgo:sourcedProperty wgs:lat")
    (problem,) = _problems(mini_settings)
    assert problem.check == "fact-without-source"
    assert problem.focus.endswith("id/place/khojaly") and "wgs84_pos#long" in problem.message


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
