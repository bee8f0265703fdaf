"""Statistics of a store: triples per named graph, instances per class, dataset totals."""

from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import Store

from graph.config import DEFAULT_BASE_IRI
from graph.queries import run


@dataclass(frozen=True)
class Totals:
    triples: int
    entities: int
    classes: int
    properties: int
    subjects: int
    objects: int


def triples_per_graph(store: Store, base_iri: str = DEFAULT_BASE_IRI) -> list[tuple[str, int]]:
    rows = run(store, "stats_graphs", base_iri=base_iri)
    return [(r["graph"].value, int(r["triples"].value)) for r in rows]


def instances_per_class(store: Store, base_iri: str = DEFAULT_BASE_IRI) -> list[tuple[str, int]]:
    return [
        (r["class"].value, int(r["instances"].value))
        for r in run(store, "stats_classes", base_iri=base_iri)
    ]


def totals(store: Store, base_iri: str = DEFAULT_BASE_IRI, triples: int | None = None) -> Totals:
    """Dataset totals; pass `triples` when already counted (skips one scan of the store)."""
    if triples is None:
        row = next(iter(run(store, "stats_totals", base_iri=base_iri)))
        return Totals(*(int(row[name].value) for name in Totals.__dataclass_fields__))
    row = next(iter(run(store, "stats_distinct", base_iri=base_iri)))
    names = [n for n in Totals.__dataclass_fields__ if n != "triples"]
    return Totals(triples, *(int(row[name].value) for name in names))


def distinct_triples(store: Store, base_iri: str = DEFAULT_BASE_IRI) -> int:
    """Distinct triples in the union of the named graphs: a triple stated in two graphs once."""
    row = next(iter(run(store, "stats_distinct_triples", base_iri=base_iri)))
    return int(row["triples"].value)
