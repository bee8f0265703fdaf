"""Search: the index `kg build` writes next to the store, and GET /search (HTML and JSON)."""

from __future__ import annotations

import pytest

from graph.build.pipeline import build
from graph.errors import DataError
from graph.search import INDEX_FILE
from graph.search.lookup import SearchIndex
from graph.search.text import normalise
from graph.store import current_build_dir

ID = "https://w3id.org/khojaly/id/"


def hits(client, q: str, **args) -> list[dict]:
    response = client.get("/search", query_string={"q": q, "format": "json", **args})
    assert response.status_code == 200, response.text
    return response.json["hits"]


def iris(found: list[dict]) -> list[str]:
    return [h["iri"].removeprefix(ID) for h in found]


def test_normalise_folds_case_diacritics_and_azerbaijani_letters():
    assert normalise("Xocalı") == normalise("XOCALI") == "xocali"
    assert normalise("Xankəndi") == "xankendi"
    assert normalise("Mother’s  Cry!") == normalise("mothers cry") == "mothers cry"
    assert normalise("Ходжалы") == "ходжалы"
    assert normalise("?!…") == ""


def test_xocali_without_the_dotless_i_finds_the_town_first(client):
    found = hits(client, "Xocali")
    assert found[0]["iri"] == ID + "place/khojaly"
    assert found[0]["kind"] == "place" and found[0]["tier"] == "exact"
    assert found[0]["matched"] == "Xocalı"


def test_stepanakert_finds_khankendi_through_its_former_name(client):
    found = hits(client, "Stepanakert")
    assert found[0]["iri"] == ID + "place/khankendi"
    assert found[0]["label"] == "Khankendi"


def test_mothers_cry_finds_the_memorial(client):
    assert iris(hits(client, "Mother's Cry"))[0] == "memorial/ana-harayi"
    assert iris(hits(client, "ana harayi"))[0] == "memorial/ana-harayi"


def test_a_word_of_a_quote_finds_the_claim(client):
    found = {h["iri"].removeprefix(ID): h for h in hits(client, "murdered", size=50)}
    claim = found["claim/hrw-1993-killed-at-least-161"]
    assert claim["kind"] == "claim" and claim["field"] == "quote"
    assert "murdered" in claim["matched"]


def test_a_source_is_found_by_its_title(client):
    found = hits(client, "World Report 1993")
    assert found[0]["iri"] == ID + "source/hrw-world-report-1993"
    assert found[0]["kind"] == "source"


def test_an_exact_label_ranks_before_titles_and_longer_names(client):
    found = iris(hits(client, "Baku"))
    assert found[0] == "place/baku"
    assert found.index("source/wikipedia-en-baku") > 0


def test_a_misspelling_falls_back_to_similar_names(client):
    # a spelling no text of the graph holds ("Khodjaly" is a word of AZERTAC's French quote)
    found = hits(client, "Khojalli")
    assert found[0]["iri"] == ID + "place/khojaly" and found[0]["tier"] == "similar"


def test_pages_do_not_overlap_and_link_to_the_next(client):
    first = client.get("/search?q=human+rights&size=3&format=json").json
    second = client.get(first["next"]).json
    assert len(first["hits"]) == 3 and first["previous"] is None
    assert second["page"] == 2 and second["previous"]
    assert not set(iris(first["hits"])) & set(iris(second["hits"]))


def test_html_page_lists_hits_with_their_kind_and_the_header_has_a_search_box(client):
    response = client.get("/search?q=Xocali", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "Accept" in response.headers["Vary"]
    assert 'href="/page/place/khojaly"' in response.text
    assert '<span class="kind">place</span>' in response.text
    home = client.get("/").text
    assert 'class="site-search"' in home and 'action="/search"' in home


def test_accept_json_gets_json(client):
    response = client.get("/search?q=Baku", headers={"Accept": "application/json"})
    assert response.mimetype == "application/json"
    assert response.json["hits"][0]["iri"] == ID + "place/baku"


@pytest.mark.parametrize("args, words", [
    ({"q": ""}, "something to search for"),
    ({}, "something to search for"),
    ({"q": "x" * 201}, "at most 200"),
    ({"q": "?!*"}, "no letter or digit"),
    ({"q": "baku", "page": "0"}, "page must be"),
    ({"q": "baku", "page": "two"}, "page must be"),
    ({"q": "baku", "size": "100000"}, "size must be"),
])
def test_bad_input_is_a_400_that_says_why(client, args, words):
    as_json = client.get("/search", query_string={**args, "format": "json"})
    assert as_json.status_code == 400 and words in as_json.json["message"]
    as_html = client.get("/search", query_string=args, headers={"Accept": "text/html"})
    assert as_html.status_code == 400 and words in as_html.text


def test_the_query_is_never_reflected_unescaped(client):
    q = '<script>alert("x")</script> baku'
    html = client.get("/search", query_string={"q": q}, headers={"Accept": "text/html"}).text
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    bad = client.get("/search", query_string={"q": "<b>" * 100}, headers={"Accept": "text/html"})
    assert bad.status_code == 400 and "<b><b>" not in bad.text


@pytest.mark.parametrize("q", ["\x00", "\u200b", "\U0001f600", "a\u0301", "ﬁ", "%FF", "\ufffd"])
def test_odd_unicode_never_fails_the_server(client, q):
    response = client.get("/search", query_string={"q": q, "format": "json"})
    assert response.status_code in (200, 400)


def test_the_index_is_part_of_the_build_and_a_failed_build_keeps_the_old_one(mini_settings):
    build(mini_settings)
    old_dir = current_build_dir(mini_settings)
    index = SearchIndex(old_dir / INDEX_FILE)
    assert index.search("Xocali").hits[0].iri.endswith("/id/place/khojaly")
    target = mini_settings.data_dir / "place" / "khojaly.ttl"
    target.write_text(target.read_text(encoding="utf-8") + "\n<> a a .\n", encoding="utf-8")
    with pytest.raises(DataError):
        build(mini_settings)
    assert current_build_dir(mini_settings) == old_dir
    assert SearchIndex(old_dir / INDEX_FILE).search("Xocali").hits[0].iri == index.search(
        "Xocali").hits[0].iri
