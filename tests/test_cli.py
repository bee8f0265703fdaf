"""The `kg` command line through click's CliRunner: commands, formats, stdin, exit codes, docs."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat, parse

from graph.build.pipeline import build
from graph.cli.main import main

CLI_DOC = Path(__file__).resolve().parent.parent / "docs" / "cli.md"

COUNT_FIGURES = "SELECT (COUNT(*) AS ?n) WHERE { ?c a kgo:FigureClaim }"


@pytest.fixture
def built_mini(mini_settings):
    build(mini_settings)
    return mini_settings


def test_build_prints_a_summary_and_exits_0(mini_settings, runner):
    result = runner.invoke(main, ["build"], obj=mini_settings)
    assert result.exit_code == 0, result.output
    assert re.search(r"built version [0-9a-f]{16}: \d+ triples in \d+ named graphs", result.stderr)
    assert result.stdout == ""  # logs go to stderr, data to stdout
    assert mini_settings.store_path.is_symlink()


def test_query_from_argument_as_json(built_mini, runner):
    result = runner.invoke(main, ["query", COUNT_FIGURES, "--format", "json"], obj=built_mini)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["results"]["bindings"][0]["n"]["value"] == "1"


def test_query_from_stdin_as_csv(built_mini, runner):
    text = "SELECT ?label WHERE { place:khojaly rdfs:label ?label } ORDER BY ?label"
    result = runner.invoke(main, ["query", "-", "--format", "csv"], input=text, obj=built_mini)
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows == [["label"], ["Khojaly"], ["Xocalı"]]


def test_query_from_file_as_tsv_and_table(built_mini, runner, tmp_path):
    path = tmp_path / "q.rq"
    path.write_text("# title: values\nSELECT ?v WHERE { ?c schema:value ?v }\n", encoding="utf-8")
    tsv = runner.invoke(main, ["query", "--file", str(path), "--format", "tsv"], obj=built_mini)
    assert tsv.exit_code == 0, tsv.output
    assert tsv.stdout.splitlines() == ["?v", "613"]
    table = runner.invoke(main, ["query", "-f", str(path)], obj=built_mini)
    assert table.exit_code == 0, table.output
    assert table.stdout.split() == ["v", "613"]


def test_query_table_compacts_iris(built_mini, runner):
    text = "SELECT ?c WHERE { ?c a kgo:FigureClaim }"
    result = runner.invoke(main, ["query", text], obj=built_mini)
    assert result.stdout.split() == ["c", "claim:caliber-2026-killed"]


def test_ask_and_construct(built_mini, runner):
    ask = runner.invoke(main, ["query", "ASK { place:khojaly a schema:Place }"], obj=built_mini)
    assert ask.stdout.strip() == "true"
    text = "CONSTRUCT { ?s a schema:Place } WHERE { ?s a schema:Place }"
    construct = runner.invoke(main, ["query", text], obj=built_mini)
    assert construct.exit_code == 0, construct.output
    assert "place:khojaly a schema:Place" in construct.stdout


def test_bad_query_is_a_usage_error(built_mini, runner):
    result = runner.invoke(main, ["query", "SELECT WHERE {"], obj=built_mini)
    assert result.exit_code == 2
    assert "line 1, column 8: syntax error, expected `*` or the variables to select" in (
        result.stderr)
    assert "1 | SELECT WHERE {\n           ^" in result.stderr  # the line, a caret under column 8
    assert "Prefix not found" not in result.stderr and "expected one of" not in result.stderr


def test_query_needs_a_query(built_mini, runner):
    assert runner.invoke(main, ["query"], obj=built_mini).exit_code == 2


def test_commands_without_a_store_exit_2(mini_settings, runner):
    for args in (["query", COUNT_FIGURES], ["stats"], ["export"], ["serve"]):
        result = runner.invoke(main, args, obj=mini_settings)
        assert result.exit_code == 2, args
        assert "kg build" in result.stderr


def test_stats(built_mini, runner):
    result = runner.invoke(main, ["stats"], obj=built_mini)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    place = built_mini.data_dir / "place" / "khojaly.ttl"
    stated = len(list(parse(path=place, format=RdfFormat.TURTLE,
                            base_iri=f"{built_mini.base_iri}id/place/khojaly")))
    assert f"{built_mini.base_iri}graph/place/khojaly\t{stated}" in lines
    assert "kgo:FigureClaim\t1" in lines


def test_global_options_override_settings(built_mini, runner, tmp_path):
    result = runner.invoke(main, ["--store", str(tmp_path / "none"), "stats"], obj=built_mini)
    assert result.exit_code == 2
    assert str(tmp_path / "none") in result.stderr


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help(runner, command):
    result = runner.invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_every_command_appears_in_the_cli_doc():
    text = CLI_DOC.read_text(encoding="utf-8")
    missing = [c for c in sorted(main.commands) if f"kg {c}" not in text]
    assert not missing, f"docs/cli.md does not document: {missing}"
    assert "Exit codes" in text


@pytest.mark.parametrize(
    ("iri", "shown"),
    [
        ("https://w3id.org/khojaly/ontology#Claim", "kgo:Claim"),
        ("https://schema.org/name", "schema:name"),
        ("https://schema.org/a/b", None),  # a slash in the local part
        ("https://schema.org/name.", None),  # a trailing dot is not a local name
        ("https://schema.org/-x", None),
        ("https://schema.org/", None),
        ("http://example.org/x", None),
    ],
)
def test_the_cli_and_the_pages_shorten_an_iri_by_one_rule(iri, shown):
    from pyoxigraph import NamedNode

    from endpoint.pages.terms import Linker
    from graph.cli.query import _cell
    from graph.config import DEFAULT_BASE_IRI

    assert Linker(DEFAULT_BASE_IRI).curie(iri) == shown
    assert _cell(NamedNode(iri), DEFAULT_BASE_IRI) == (shown or f"<{iri}>")
