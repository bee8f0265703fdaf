"""The settings table (graph/config.py): declared once, documented, read, and the only reader.

Datasette's habit: settings are one table of (name, default, help), and a test fails when the
docs and the table differ. Here docs/settings.md is generated from the table, a setting nobody
reads is dead configuration, and a module reading KG_* variables itself would bypass the table.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from graph.cli.main import main
from graph.cli.serve import settings_markdown
from graph.config import Settings, as_env, env_name, table

ROOT = Path(__file__).resolve().parent.parent
CODE = [p for d in ("graph", "endpoint", "bench") for p in (ROOT / d).rglob("*.py")]


def test_docs_settings_md_is_the_generated_table():
    written = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert written == settings_markdown(list(table())), (
        "docs/settings.md differs from graph/config.py: run `make settings-doc`")


def test_every_declared_setting_is_documented_with_help_and_where_it_applies():
    documented = set(re.findall(r"^\| `(KG_[A-Z_]+)` \|", (ROOT / "docs" / "settings.md")
                                .read_text(encoding="utf-8"), flags=re.M))
    assert documented == {env_name(name) for name in Settings.model_fields}
    for name, _kind, _default, applies, text in table():
        assert text and applies, f"{name} has no help or no 'applies to'"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_declared_setting_is_read_somewhere(name):
    pattern = re.compile(rf"\.{name}\b")
    readers = [p for p in CODE if p.name != "config.py"
               and pattern.search(p.read_text(encoding="utf-8"))]
    assert readers, f"{env_name(name)} is declared in graph/config.py but read nowhere"


def test_no_module_reads_kg_variables_but_the_table():
    reading = re.compile(r"(os\.environ(\.get)?|os\.getenv)\s*[\[(]\s*['\"]KG_")
    offenders = [str(p.relative_to(ROOT)) for p in CODE if reading.search(p.read_text("utf-8"))]
    assert offenders == []


def test_every_setting_parses_from_its_variable_and_round_trips(tmp_path):
    changed = Settings(root=tmp_path, port=9, sandbox=False, fast_budget=0.5,
                       service_allowlist=("https://a.example/sparql", "https://b.example/"),
                       dump_formats=("nq",), publish_password="secret")
    assert Settings.from_env(as_env(changed)) == changed
    assert "secret" not in repr(changed)


def test_types_come_from_the_declaration_not_the_value():
    s = Settings.from_env({"KG_PUBLISH_PASSWORD": "123", "KG_SANDBOX": "off",
                           "KG_ACCESS_LOG": "", "KG_DUMP_FORMATS": "nq, ttl",
                           "KG_QUERY_TIMEOUT": "3", "KG_BASE_IRI": "http://x.example"})
    assert s.publish_password == "123" and s.sandbox is False and s.access_log is False
    assert s.dump_formats == ("nq", "ttl") and s.query_timeout == 3.0
    assert s.base_iri == "http://x.example/"
    with pytest.raises(ValueError, match="KG_SANDBOX='maybe'"):
        Settings.from_env({"KG_SANDBOX": "maybe"})


def test_constructing_settings_never_reads_the_environment(monkeypatch):
    monkeypatch.setenv("KG_PORT", "9")
    assert Settings().port == 8000
    assert Settings.from_env().port == 9


def test_kg_settings_prints_every_setting(runner):
    result = runner.invoke(main, ["settings", "--markdown"])
    assert result.exit_code == 0
    for name in Settings.model_fields:
        assert f"`{env_name(name)}`" in result.output
    result = runner.invoke(main, ["settings"])
    assert result.exit_code == 0 and "KG_QUERY_TIMEOUT" in result.output
