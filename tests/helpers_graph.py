"""Small helpers shared by the pipeline tests (not fixtures: plain functions)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import rdflib
from pyoxigraph import Quad, Store

from graph.config import Settings
from graph.store import open_store
from graph.validate import rdflib_bridge


def edit(path: Path, old: str, new: str) -> None:
    """Replace one exact occurrence of `old` in a file (fails loudly if the fixture changed)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def store_fingerprint(settings: Settings) -> tuple[str, int]:
    """What the live store answers now: where the symlink points and how many quads it holds."""
    store = open_store(settings)
    count = next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")))
    return str(settings.store_path.resolve()), int(count["n"].value)


def graphs_of(quads) -> dict[str, rdflib.Graph]:
    """Quads grouped into one rdflib Graph per graph name (for isomorphism checks)."""
    grouped: dict[str, list[Quad]] = defaultdict(list)
    for q in quads:
        grouped[str(q.graph_name)].append(q)
    return {g: rdflib_bridge.to_graph(qs) for g, qs in grouped.items()}


def union_of(store: Store) -> rdflib.Graph:
    return rdflib_bridge.to_graph(store.quads_for_pattern(None, None, None, None))
