"""Every quote of the real data is checked against its source's stored text (data/texts/).

The central test changes one quote of every source (a digit, or else one letter of a word) in a
copy of data/ and asserts that `kg validate` and `kg build` both fail, each naming the file, the
claim or fact and the differing text, and that the build leaves the previous store as it was.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers_graph import edit, store_fingerprint

from graph.build.inputs import load
from graph.build.pipeline import build
from graph.cli.main import main
from graph.queries import run
from graph.validate import integrity, source_texts

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "data" / "source").glob("*.ttl"))
NOT_CHECKABLE = re.compile(r"kgo:notCheckable\s+\"")
SUBJECT = re.compile(r"^(claim:[\w-]+|<#[\w-]+>) ", re.M)


def test_every_source_has_a_stored_text_or_says_why_not():
    for path in SOURCES:
        text = (ROOT / "data" / "texts" / f"{path.stem}.txt")
        marked = bool(NOT_CHECKABLE.search(path.read_text(encoding="utf-8")))
        assert text.is_file() != marked, f"{path.name}: a text xor a kgo:notCheckable reason"
        if text.is_file():
            assert source_texts.read(text).errors == [], text.name


def _mutate(exact: str) -> tuple[str, str, str] | None:
    """(old, new, token of the text the message must show): a digit changed, else a letter."""
    m = re.search(r"\d", exact)
    if m is None:
        m = re.search(r"[^\W\d_]{4,}", exact)
    if m is None:
        return None
    old = m[0][0]
    if old.isdigit():
        new = "7" if old != "7" else "2"
    else:
        new = "Q" if old != "Q" else "Z"
    return old, new, m[0]


def _escaped(exact: str) -> str:
    return exact.replace("\\", "\\\\").replace('"', '\\"')


def _mutate_one_quote_per_source(settings) -> dict[str, tuple[str, str, str, str]]:
    """Change the first quote of each source's file in place; -> file: (focus, old, new, word)."""
    quotes = {}
    for row in run(integrity.in_memory_store(load(settings)), "quotes", base_iri=settings.base_iri):
        quotes.setdefault(row["source"].value, []).append(row["exact"].value)
    done = {}
    for source, exacts in sorted(quotes.items()):
        slug = source.rsplit("/", 1)[-1]
        if not (settings.data_dir / "texts" / f"{slug}.txt").is_file():
            continue  # marked not checkable (test below): nothing to check a change against
        for path in sorted(settings.data_dir.rglob("*.ttl")):
            text = path.read_text(encoding="utf-8")
            hits = [e for e in exacts if f'"{_escaped(e)}"' in text and _mutate(e)]
            if hits and str(path) not in done:
                exact = hits[0]
                at = text.index(f'"{_escaped(exact)}"')
                old, new, word = _mutate(exact)
                changed = exact.replace(old, new, 1)
                end = at + len(_escaped(exact)) + 2  # the quote as written, escapes included
                path.write_text(text[:at] + f'"{_escaped(changed)}"' + text[end:], encoding="utf-8")
                subject = [m[1] for m in SUBJECT.finditer(text[:at])][-1]
                done[str(path)] = (slug, subject, old, new, word)
                break
    return done


def _focus(settings, path: Path, subject: str) -> str:
    if subject.startswith("claim:"):
        return settings.base_iri + "id/claim/" + subject.removeprefix("claim:")
    kind, slug = path.parent.name, path.stem
    return f"{settings.base_iri}id/{kind}/{slug}#{subject[2:-1]}"


def _assert_named(output: str, settings, mutated) -> None:
    for file, (slug, subject, old, new, word) in mutated.items():
        path = Path(file)
        rel = str(path.relative_to(settings.root))
        focus = f"<{_focus(settings, path, subject)}>"
        lines = [ln for ln in output.splitlines()
                 if ln.removeprefix("error: ").startswith(rel) and focus in ln
                 and "[quote-verbatim]" in ln]
        assert lines, f"no quote-verbatim problem for {subject} in {rel}:\n{output}"
        (line,) = lines
        assert f"data/texts/{slug}.txt" in line
        assert f"the quote has {new!r} where the text has {old!r}" in line, line
        assert word in line.split("in the text:", 1)[1], line


def test_one_changed_quote_of_every_source_fails_build_and_validate(repo_settings, runner):
    settings = repo_settings
    build(settings)
    before = store_fingerprint(settings)
    mutated = _mutate_one_quote_per_source(settings)
    checked = {slug for slug, *_ in mutated.values()}
    with_text = {p.stem for p in (settings.data_dir / "texts").glob("*.txt")}
    quoted = {row["source"].value.rsplit("/", 1)[-1] for row in run(
        integrity.in_memory_store(load(settings)), "quotes", base_iri=settings.base_iri)}
    assert checked == with_text & quoted  # every source with a text and a quote was changed
    assert len(checked) >= 12

    validated = runner.invoke(main, ["validate"], obj=settings)
    assert validated.exit_code == 1, validated.output
    _assert_named(validated.output, settings, mutated)

    built = runner.invoke(main, ["build"], obj=settings)
    assert built.exit_code == 1, built.output
    _assert_named(built.output, settings, mutated)
    assert store_fingerprint(settings) == before


def test_quotes_of_sources_marked_not_checkable_are_the_only_unchecked_ones(repo_settings):
    settings = repo_settings
    for path in sorted((settings.data_dir / "source").glob("*.ttl")):
        if NOT_CHECKABLE.search(path.read_text(encoding="utf-8")) and "oa:exact" in path.read_text(
                encoding="utf-8"):
            edit(path, 'oa:exact "', 'oa:exact "Not what it says: ')
    assert integrity.check(load(settings), settings) == []
    coverage = integrity.quote_coverage(integrity.in_memory_store(load(settings)), settings)
    assert coverage["checked"] > 0 and coverage["not_checkable"] == 10  # HRW 1993: 3, 1994: 7


def test_source_record_without_publisher_url_or_date_fails_validate(repo_settings, runner):
    path = repo_settings.data_dir / "source" / "xocali-org.ttl"
    for line in ("    dcterms:publisher organisation:xocali-org ;\n",
                 "    schema:url <http://xocali.org/en/index.php?p=memory> ;\n",
                 '    dcterms:date "2012"^^xsd:gYear ;\n'):
        edit(path, line, "")
    result = runner.invoke(main, ["validate"], obj=repo_settings)
    assert result.exit_code == 1, result.output
    for message in ("must name its publisher", "schema:url", "dcterms:date"):
        assert message in result.output, result.output


@pytest.mark.parametrize("quote, text, found", [
    ("a “quoted” word — here", 'a "quoted" word - here', True),
    ("it’s", "it's", True),
    ("two\n  lines", "two lines", True),
    ("613", "612", False),
    ("Khojaly", "khojaly", False),
])
def test_normalisation_is_only_whitespace_quotes_and_dashes(tmp_path, quote, text, found):
    path = tmp_path / "t.txt"
    path.write_text(f"# read-from: x\n# read-on: 2026-12-04\n# extent: full text\n\n{text}\n",
                    encoding="utf-8")
    assert source_texts.contains(source_texts.read(path), quote) is found


def test_void_and_home_page_say_how_many_quotes_are_checked(built_settings, client):
    store = integrity.in_memory_store(load(built_settings))
    coverage = integrity.quote_coverage(store, built_settings)
    assert coverage["checked"] > 40 and coverage["not_checkable"] > 0
    void = client.get("/void", headers={"Accept": "application/n-triples"}).get_data(as_text=True)
    kgo = built_settings.base_iri + "ontology#"
    for prop, n in (("quotedClaims", coverage["checked"]),
                    ("uncheckedClaims", coverage["not_checkable"])):
        assert f'<{kgo}{prop}> "{n}"^^<http://www.w3.org/2001/XMLSchema#integer>' in void
    home = client.get("/").get_data(as_text=True)
    assert f"<strong>{coverage['checked']}</strong> claims and sourced facts" in home
    assert f"<strong>{coverage['not_checkable']}</strong> claims whose source" in home
