"""Integrity checks SHACL cannot express well, run inside Oxigraph over the input.

Each `graph/queries/checks/*-violation.rq` must return zero rows (the ODK convention); a row is
a violation with ?focus, ?g (the graph, mapped back to its file) and ?message. One check needs
files outside the graph and lives here in Python: every quote attributed to a source whose full
text the repository holds (data/texts/<source-slug>.txt) occurs in that text verbatim. Runs of
whitespace (line breaks, indentation) count as one space on both sides; every other character,
including typographic quotes and dashes, must match exactly.
"""

from __future__ import annotations

import re
from pathlib import Path

from pyoxigraph import Store

from graph.config import Settings
from graph.errors import Problem
from graph.load import Parsed
from graph.queries import checks, run

_WS = re.compile(r"\s+")


def in_memory_store(parsed: Parsed) -> Store:
    store = Store()
    store.extend(parsed.all_quads())
    return store


def _file(parsed: Parsed, graph: str | None) -> str | None:
    f = parsed.file_of_graph(graph) if graph else None
    return f.rel if f else graph


def run_checks(store: Store, parsed: Parsed, settings: Settings) -> list[Problem]:
    """Every row of every *-violation.rq as a located Problem."""
    problems = []
    for check in checks():
        for row in run(store, check, base_iri=settings.base_iri):
            graph = row["g"].value if row["g"] is not None else None
            problems.append(
                Problem(
                    row["message"].value if row["message"] is not None else check.title,
                    file=_file(parsed, graph),
                    focus=row["focus"].value if row["focus"] is not None else None,
                    check=check.name.removeprefix("checks/").removesuffix("-violation"),
                )
            )
    return problems


def _normalise(text: str) -> str:
    return _WS.sub(" ", text).strip()


def source_text(settings: Settings, source_iri: str) -> str | None:
    """The full text of a source of ours, when data/texts/<source-slug>.txt exists."""
    prefix = settings.base_iri + "id/source/"
    if not source_iri.startswith(prefix):
        return None
    path: Path = settings.texts_dir / f"{source_iri[len(prefix):]}.txt"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def check_quotes(store: Store, parsed: Parsed, settings: Settings) -> list[Problem]:
    """Every oa:exact attributed to a source with a stored full text occurs in it verbatim."""
    problems = []
    texts: dict[str, str | None] = {}
    for row in run(store, "quotes", base_iri=settings.base_iri):
        source = row["source"]
        if source is None:
            continue  # a claim without a source: reported by its own check
        if source.value not in texts:
            text = source_text(settings, source.value)
            texts[source.value] = _normalise(text) if text is not None else None
        text = texts[source.value]
        if text is None:
            continue
        exact = row["exact"].value
        if _normalise(exact) not in text:
            problems.append(
                Problem(
                    f"quote not found verbatim in the text of <{source.value}>: {exact!r}",
                    file=_file(parsed, row["g"].value),
                    focus=row["claim"].value,
                    check="quote-verbatim",
                )
            )
    return problems


def check(parsed: Parsed, settings: Settings, store: Store | None = None) -> list[Problem]:
    """All integrity problems of the input (empty list: it passes).

    `store`: a store already holding exactly the input's graphs (the build's new store, before
    its description is added); without it, the parsed quads go into a store in memory.
    """
    if store is None:
        store = in_memory_store(parsed)
    problems = run_checks(store, parsed, settings) + check_quotes(store, parsed, settings)
    # rows come in the store's index order, which differs between an in-memory and an on-disk
    # store: sort, so `kg validate` and `kg build` report the same problems the same way
    return sorted(problems, key=lambda p: (p.file or "", p.focus or "", p.check or "", p.message))
