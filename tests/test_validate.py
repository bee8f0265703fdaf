""""Bad input": each case gets a clear, located error and an exit code; nothing changes.

Every case runs through the CLI (`kg build` and `kg validate`) on a copy of the mini fixture that
was built once before it was broken; the live store must answer exactly as before.
"""

from __future__ import annotations

import pytest
from helpers_graph import edit, store_fingerprint

from graph.build.pipeline import build, check_inputs
from graph.cli.main import main

SOURCE = "data/source/caliber-2026.ttl"
PLACE = "data/place/khojaly.ttl"


def _typo_in_iri(root):
    edit(root / SOURCE, "kgo:about place:khojaly", "kgo:about place:khojali")


def _typo_in_syntax(root):
    edit(root / PLACE, '"Xocalı"@az ;', '"Xocalı"@az ,;')


def _unknown_prefix(root):
    edit(root / SOURCE, "oa:exact", "ox:exact")


def _wrong_datatype(root):
    edit(root / SOURCE, "schema:value 613 ;", 'schema:value "613 people"^^xsd:integer ;')


def _claim_without_source(root):
    edit(root / SOURCE, "kgo:statedIn source:caliber-2026 ;", "")


def _quote_not_in_source(root):
    edit(root / SOURCE, '"A total of 613 people', '"A total of 614 people')


def _duplicate_iri(root):
    (root / "data/place/khojaly-town.ttl").write_text(
        "@prefix schema: <https://schema.org/> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        '<khojaly> a schema:Place ; rdfs:label "Khojaly town"@en .\n',
        encoding="utf-8",
    )


def _iri_outside_namespace(root):
    with (root / PLACE).open("a", encoding="utf-8") as fh:
        fh.write('\n<http://w3id.org/khojaly/id/place/baku> a schema:Place ;\n')
        fh.write('    rdfs:label "Baku"@en .\n')


def _file_outside_layout(root):
    (root / "data/misc").mkdir()
    (root / "data/misc/notes.ttl").write_text("", encoding="utf-8")


def _undeclared_term(root):
    edit(root / SOURCE, "kgo:counts concept:outcome-killed", "kgo:counted concept:outcome-killed")


# (case, what the message must contain: file[:line], and the check or text that names the fault)
CASES = [
    (_typo_in_iri, [SOURCE, "undescribed-iri", "id/place/khojali"]),
    (_typo_in_syntax, [f"{PLACE}:10:", "syntax"]),
    (_unknown_prefix, [f"{SOURCE}:24:13:", "ox:"]),
    (_wrong_datatype, [SOURCE, "ill-typed-literal", "613 people"]),
    (_claim_without_source, [SOURCE, "claim-without-source", "claim/caliber-2026-killed"]),
    (_quote_not_in_source, [SOURCE, "quote-verbatim", "614 people"]),
    (_duplicate_iri, ["duplicate-description", "id/place/khojaly", "graph/place/khojaly"]),
    (_iri_outside_namespace, [PLACE, "foreign-subject", "http://w3id.org/khojaly/id/place/baku"]),
    (_file_outside_layout, ["data/misc/notes.ttl", "outside the layout"]),
    (_undeclared_term, [SOURCE, "undeclared-term", "ontology#counted"]),
]


@pytest.mark.parametrize(("breakage", "expected"), CASES, ids=[c[0].__name__[1:] for c in CASES])
def test_bad_input_is_located_exits_1_and_changes_nothing(
    mini_settings, runner, breakage, expected
):
    build(mini_settings)
    before = store_fingerprint(mini_settings)
    breakage(mini_settings.root)

    built = runner.invoke(main, ["build"], obj=mini_settings)
    assert built.exit_code == 1, built.output
    for text in expected:
        assert text in built.stderr, f"{text!r} missing from:\n{built.stderr}"
    assert "nothing was changed" in built.stderr
    assert store_fingerprint(mini_settings) == before

    checked = runner.invoke(main, ["validate"], obj=mini_settings)
    assert checked.exit_code == 1
    assert checked.stderr == built.stderr


def test_the_real_data_conforms(repo_settings):
    parsed, report = check_inputs(repo_settings)
    assert report.conforms, "\n".join(str(p) for p in report.problems)
    assert len(parsed.files) > 10


def test_validate_exits_0_on_good_data(mini_settings, runner):
    result = runner.invoke(main, ["validate"], obj=mini_settings)
    assert result.exit_code == 0, result.output
    assert "conforms" in result.stderr


def test_issue_5_store_validation_reports_what_pyshacl_reports(mini_settings, runner):
    """`kg validate` on data above KG_PYSHACL_MAX_TRIPLES validates inside a store (the compiled
    SPARQL checks); the same broken input gets the same output, line for line."""
    edit(mini_settings.root / SOURCE, "schema:value 613 ;", 'schema:value "613" ;')
    edit(mini_settings.root / SOURCE, "kgo:counts concept:outcome-killed ;", "")
    in_memory = runner.invoke(main, ["validate"], obj=mini_settings)
    in_store = runner.invoke(main, ["validate"], obj=mini_settings.replace(pyshacl_max_triples=0))
    assert in_memory.exit_code == in_store.exit_code == 1
    assert "A figure's value is one xsd:integer. (value: 613)" in in_store.stderr
    assert "A figure must say what it counts" in in_store.stderr
    assert in_store.stderr == in_memory.stderr
