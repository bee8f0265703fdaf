"""A SPARQL syntax error says where (line, column, the line with a caret) and, in one sentence,
what was expected: the same words from the reader, the endpoint (text, JSON, HTML) and `kg query`.
Oxigraph's grammar dump ("expected one of Prefix not found, ['%'], …") never reaches anyone."""

from __future__ import annotations

import pytest

from graph.build.pipeline import build
from graph.cli.main import main
from graph.errors import QuerySyntaxError
from graph.sparql.reader import read
from graph.sparql.syntax_errors import from_engine

BAD_PREFIX = "PREFIX schema: <https://schema.org/>\nSELECT * WHERE { ?s schem:name ?o }"


@pytest.mark.parametrize(
    ("text", "line", "column", "sentence"),
    [
        (BAD_PREFIX, 2, 21, "unknown prefix `schem:` — did you mean `schema:`?"),
        ("SELECT * WHERE { ?s ?p ?o ", 1, 26,
         "the query ends before the `{` of line 1, column 16 is closed: a `}` is missing"),
        ("SELECT * { ?s ?p ?o } }", 1, 23, "`}` closes nothing: no `{` is open here"),
        ("SELECT * WHERE { ?s ?p ?o } LIMT 5", 1, 29,
         "`LIMT` is not a SPARQL keyword — did you mean `LIMIT`?"),
        ("SELEC * WHERE { ?s ?p ?o }", 1, 1,
         "`SELEC` is not a SPARQL keyword — did you mean `SELECT`?"),
        ("SELECT * { ?s ?p ?o } LIMIT ten", 1, 23, "`LIMIT` takes a whole number, found `ten`"),
        ("SELECT * { ?s ?p ?o } ORDER ?s", 1, 23, "expected `ORDER BY`, found `ORDER ?s`"),
        ("SELECT WHERE { ?s ?p ?o }", 1, 8,
         "expected `*` or the variables to select after `SELECT`"),
        # a brace inside a string is no brace: the real problem is the parenthesis
        ('SELECT * WHERE { ?s ?p "a}" ) }', 1, 29,
         "expected `}` to close the `{` of line 1, column 16, found `)`"),
    ],
)
def test_the_reader_names_line_column_and_what_was_expected(text, line, column, sentence):
    with pytest.raises(QuerySyntaxError) as caught:
        read(text, prefixes={})
    err = caught.value
    assert (err.line, err.column, err.expected) == (line, column, sentence)
    assert str(err) == f"line {line}, column {column}: syntax error, {sentence}"
    source_line, caret = err.excerpt().split("\n")
    assert source_line == f"{line} | {text.split(chr(10))[line - 1]}"
    assert caret.index("^") == len(f"{line} | ") + column - 1


def test_a_cached_error_is_raised_whole_again():
    for _ in range(2):  # the second read comes from the reader's cache
        with pytest.raises(QuerySyntaxError) as caught:
            read(BAD_PREFIX)
        assert caught.value.excerpt().endswith("^")


def test_oxigraph_s_message_is_replaced_by_ours():
    dump = ("error at 1:31: expected one of Prefix not found, ['%'], ['-' | '0' ..= '9' | "
            "'\\u{00B7}'], ['.'], [':']")
    err = from_engine("SELECT * WHERE { ?s schem:name ?o }", dump)
    assert str(err) == "line 1, column 21: syntax error, unknown prefix `schem:` — declare it " \
        "with a PREFIX line"
    assert "expected one of" not in str(err) + err.excerpt()


def test_the_endpoint_answers_text_json_and_html(client):
    query = {"query": "SELECT * WHERE { ?s schem:name ?o }"}
    text = client.get("/sparql", query_string=query)
    assert text.status_code == 400 and text.mimetype == "text/plain"
    assert text.get_data(as_text=True) == (
        "Bad Request: line 1, column 21: syntax error, unknown prefix `schem:` — did you mean "
        "`schema:`?\n1 | SELECT * WHERE { ?s schem:name ?o }\n" + " " * 24 + "^\n")
    as_json = client.get("/sparql", query_string=query, headers={"Accept": "application/json"})
    assert as_json.status_code == 400
    body = as_json.get_json()
    assert {k: body[k] for k in ("ok", "status", "error", "line", "column")} == {
        "ok": False, "status": 400, "error": "QuerySyntaxError", "line": 1, "column": 21}
    assert body["expected"] == "unknown prefix `schem:` — did you mean `schema:`?"
    assert body["source_line"] == "SELECT * WHERE { ?s schem:name ?o }"
    # a SPARQL client asking for results still gets text it can print
    results = client.get("/sparql", query_string=query,
                         headers={"Accept": "application/sparql-results+json,application/json"})
    assert results.mimetype == "text/plain"


def test_kg_query_prints_the_line_and_the_caret(mini_settings, runner):
    build(mini_settings)
    result = runner.invoke(main, ["query", BAD_PREFIX], obj=mini_settings)
    assert result.exit_code == 2
    assert "line 2, column 21: syntax error, unknown prefix `schem:` — did you mean `schema:`?" \
        in result.stderr
    assert "2 | SELECT * WHERE { ?s schem:name ?o }\n" + " " * 24 + "^" in result.stderr
    assert "expected one of" not in result.stderr
