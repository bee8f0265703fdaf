"""Every name with its source (docs/decisions/0009-attributed-names.md).

The rule: a label that holds a word of the characterisation scheme (a concept's label or hidden
label: "massacre", "faciə", "резн"...) characterises, and must be a skosxl:Label of the thing
attested by a claim about it whose term is that name; any other label identifies and stays plain.
Who uses each name is read off ../shared/sources (REFERENCE.md: S6 names "Western governments
and the western media") and the stored pages quoted in data/texts/.
"""

from __future__ import annotations

import re

import pytest
from helpers_graph import edit
from pyoxigraph import Literal

from graph import queries
from graph.build.inputs import load
from graph.store import open_store
from graph.validate import integrity

BASE = "https://w3id.org/khojaly/"
EVENT = BASE + "id/event/khojaly-massacre"
LABEL_PROPERTIES = ("rdfs:label", "skos:prefLabel", "skos:altLabel", "skos:hiddenLabel",
                    "schema:name")


@pytest.fixture(scope="module")
def store(built_settings):
    return open_store(built_settings, read_only=True)


def select(store, text: str):
    return list(store.query(text, prefixes=queries.query_prefixes(BASE),
                            use_default_graph_as_union=True))


def characterisation_words(store) -> set[str]:
    rows = select(store, """SELECT ?w WHERE { ?c skos:inScheme concept:characterisation ;
        skos:prefLabel|skos:altLabel|skos:hiddenLabel ?w }""")
    return {r["w"].value.lower() for r in rows}


def attestations(store, entity: str, label: Literal) -> list[dict]:
    """The claims that attest `label` as a name of `entity`, with source, quote and user."""
    rows = select(store, f"""SELECT ?claim ?term ?source ?quote ?user WHERE {{
        <{entity}> skosxl:prefLabel|skosxl:altLabel|skosxl:hiddenLabel ?name .
        ?name skosxl:literalForm ?form ; kgo:attestedBy ?claim .
        FILTER(STR(?form) = {_str(label)} && LANG(?form) = "{label.language or ''}")
        ?claim kgo:about <{entity}> ; kgo:term ?term ; kgo:statedIn ?source ;
               kgo:evidence/oa:hasSelector/oa:exact ?quote .
        OPTIONAL {{ ?claim kgo:attributedTo ?user }}
    }}""")
    return [{k: (r[k].value if r[k] is not None else None) for k in
             ("claim", "term", "source", "quote", "user")} for r in rows]


def _str(lit: Literal) -> str:
    return '"' + lit.value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_issue_12_every_label_of_the_event_is_neutral_or_attributed(store):
    words = characterisation_words(store)
    assert {"massacre", "genocide", "faciə", "soyqırım", "резн", "արյունահեղություն"} <= words
    labels = [r["l"] for r in select(
        store, f"SELECT DISTINCT ?l WHERE {{ <{EVENT}> {'|'.join(LABEL_PROPERTIES)} ?l }}")]
    assert len(labels) >= 8
    characterising = [lit for lit in labels if any(w in lit.value.lower() for w in words)]
    # every name of the event says what it was: none is neutral by the rule
    assert characterising == labels
    for lit in characterising:
        found = attestations(store, EVENT, lit)
        assert found, f"{lit.value!r}@{lit.language}: characterises, but nothing says who uses it"
        for a in found:
            assert a["term"].lower() == lit.value.lower(), a
            assert a["quote"], a


@pytest.mark.parametrize(("name", "lang", "users"), [
    ("Khojaly massacre", "en", {"Western governments and media"}),
    ("Battle for Khojaly", "en", {"Western governments and media"}),
    ("Khojaly tragedy", "en", {"Western governments and media",
                               "source/caliber-2026-khojaly-commemoration"}),
    ("Khojaly genocide", "en", {"source/mfa-azerbaijan-khojaly-genocide-2021"}),
    ("Xocalı soyqırımı", "az", {"Azerbaijani sources"}),
    ("Xocalı faciəsi", "az", {"Azerbaijani sources"}),
    ("Ходжалинская резня", "ru", {"source/wikipedia-ru-khojaly-massacre"}),
    ("Խոջալուի արյունահեղություն", "hy", {"source/wikipedia-en-khojaly-massacre"}),
])
def test_issue_12_who_uses_each_name(store, name, lang, users):
    """The user is the group the source names, or the source itself when it names none."""
    found = attestations(store, EVENT, Literal(name, language=lang))
    got = set()
    for a in found:
        if a["user"]:
            [row] = select(store, f"SELECT ?l WHERE {{ <{a['user']}> rdfs:label ?l }}")
            got.add(row["l"].value)
        else:
            got.add(a["source"].removeprefix(BASE + "id/"))
    assert got == users


def test_issue_12_the_page_shows_who_uses_each_name(client):
    html = client.get("/page/event/khojaly-massacre").data.decode()
    rows = {re.sub(r"<[^>]+>", "", m.group(1)): m.group(2) for m in re.finditer(
        r'<td lang="[a-z]*">([^<]*)</td><td>.*?</td>\s*<td class="name-uses">(.*?)</td>', html,
        re.S)}
    assert "Azerbaijani sources" in rows["Xocalı soyqırımı"]
    assert "Western governments and media" in rows["Battle for Khojaly"]
    assert "Russian Wikipedia" in rows["Ходжалинская резня"]
    assert 'href="/page/claim/' in rows["Khojaly genocide"]


def _problems(settings):
    return integrity.check(load(settings), settings)


def test_issue_12_an_unattributed_characterising_label_fails(repo_settings):
    path = repo_settings.root / "data/event/khojaly-massacre.ttl"
    edit(path, '"Battle for Khojaly"@en, ', '"Battle for Khojaly"@en, "Khojaly bloodshed"@en, ')
    (problem,) = _problems(repo_settings)
    assert problem.check == "unattributed-name"
    assert problem.file == "data/event/khojaly-massacre.ttl"
    assert problem.focus == EVENT
    assert "Khojaly bloodshed" in problem.message


def test_issue_12_a_name_attested_by_a_claim_about_another_thing_fails(repo_settings):
    """The attesting claim must be about the named thing and use the name as its term."""
    path = repo_settings.root / "data/memorial/khojaly-town-memorial-2026.ttl"
    edit(path, "kgo:attestedBy claim:report-az-2026-name-genocide-memorial",
         "kgo:attestedBy claim:mfa-2021-genocide")
    problems = _problems(repo_settings)
    assert [(p.check, p.focus) for p in problems] == [
        ("unattributed-name", BASE + "id/memorial/khojaly-town-memorial-2026")]


def test_issue_12_a_neutral_label_needs_no_attribution(repo_settings):
    path = repo_settings.root / "data/place/khojaly.ttl"
    edit(path, 'skos:altLabel "Khojali"@en', 'skos:altLabel "Khojali"@en, "Xocali"@en')
    assert _problems(repo_settings) == []


def test_issue_12_a_label_naming_the_event_by_its_attested_name_adds_nothing(repo_settings):
    """"commemoration of the Khojaly massacre" refers to the event by its display name; drop the
    display name's attestation and the commemorations' labels fail too."""
    path = repo_settings.root / "data/event/khojaly-massacre.ttl"
    edit(path, "kgo:attestedBy claim:wikipedia-2017-name-massacre", "rdfs:comment \"none\"@en")
    edit(path, "<#name-khojaly-massacre> a skosxl:Label ;", "<#name-khojaly-massacre> a kgo:Gone ;")
    focuses = {p.focus.removeprefix(BASE + "id/") for p in _problems(repo_settings)
               if p.check == "unattributed-name"}
    assert focuses == {"event/khojaly-massacre", "event/commemoration-2026",
                       "event/yearly-commemoration"}
