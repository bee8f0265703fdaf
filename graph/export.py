"""Deterministic dumps through pyoxigraph's native serializers.

Quads are sorted before serialization (graph, subject, predicate, object), so the same store
always gives the same bytes and two builds of the same input diff cleanly. Quad formats (TriG,
N-Quads, JSON-LD) keep the named graphs; triple formats (Turtle, N-Triples, RDF/XML) get the union
of all graphs, duplicates removed. `graph=` restricts the dump to one named graph.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from pyoxigraph import NamedNode, Quad, RdfFormat, Store, Triple, serialize

from graph.namespaces import all_prefixes

#: The dump files a build writes, by format.
DUMP_FORMATS = (
    RdfFormat.TURTLE,
    RdfFormat.TRIG,
    RdfFormat.N_TRIPLES,
    RdfFormat.N_QUADS,
    RdfFormat.JSON_LD,
    RdfFormat.RDF_XML,
)


def _sort_key(t: Quad | Triple) -> tuple[str, ...]:
    graph = str(t.graph_name) if isinstance(t, Quad) else ""
    return (graph, str(t.subject), str(t.predicate), str(t.object))


def _items(store: Store, fmt: RdfFormat, graph: str | None) -> list[Quad] | list[Triple]:
    if graph is not None:
        quads: Iterable[Quad] = store.quads_for_pattern(None, None, None, NamedNode(graph))
    else:
        quads = store.quads_for_pattern(None, None, None, None)
    if fmt.supports_datasets and graph is None:
        return sorted(quads, key=_sort_key)
    triples = {Triple(q.subject, q.predicate, q.object) for q in quads}
    return sorted(triples, key=_sort_key)


def to_bytes(
    store: Store, fmt: RdfFormat, *, graph: str | None = None, base_iri: str | None = None
) -> bytes:
    """The dump as bytes; `base_iri` picks our prefixes (kgo:, place:, ...) for Turtle/TriG."""
    items = _items(store, fmt, graph)
    prefixes = all_prefixes(base_iri) if base_iri else None
    if fmt in (RdfFormat.TURTLE, RdfFormat.TRIG) and prefixes:
        return _sorted_prefix_lines(serialize(items, format=fmt, prefixes=prefixes))
    out = serialize(items, format=fmt)
    if fmt in (RdfFormat.N_TRIPLES, RdfFormat.N_QUADS):
        out = b"".join(sorted(set(out.splitlines(keepends=True))))
    return out


def _sorted_prefix_lines(out: bytes) -> bytes:
    """The serializer keeps prefixes in a hash map: sort the @prefix block so bytes are stable."""
    lines = out.splitlines(keepends=True)
    n = 0
    while n < len(lines) and lines[n].startswith(b"@prefix "):
        n += 1
    return b"".join(sorted(lines[:n]) + lines[n:])


def dump(
    store: Store,
    fmt: RdfFormat,
    dest: str | Path | IO[bytes],
    graph: str | None = None,
    *,
    base_iri: str | None = None,
) -> None:
    """Write the dataset (or one graph) to a path or a binary stream."""
    data = to_bytes(store, fmt, graph=graph, base_iri=base_iri)
    if isinstance(dest, str | Path):
        Path(dest).write_bytes(data)
    else:
        dest.write(data)


def dump_all(store: Store, folder: Path, *, base_iri: str, stem: str = "khojaly") -> list[Path]:
    """Every dump format into `folder`, named <stem>.<ext>."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in DUMP_FORMATS:
        path = folder / f"{stem}.{fmt.file_extension}"
        buf = io.BytesIO()
        dump(store, fmt, buf, base_iri=base_iri)
        path.write_bytes(buf.getvalue())
        paths.append(path)
    return paths
