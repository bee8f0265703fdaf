"""Dumps through pyoxigraph's native serializers, streamed, with no sorting in Python.

Oxigraph's store iterates in its index order, which depends only on the content (our blank
nodes have deterministic labels), so a native dump of the same content gives the same bytes:
two builds of the same input diff cleanly. Quad formats (TriG, N-Quads, JSON-LD) keep the named
graphs (`Store.dump`); triple formats (Turtle, N-Triples, RDF/XML) get the union of all graphs,
duplicates removed, through one native query (graph/queries/export_union.rq). `graph=` restricts
the dump to one named graph. Turtle and TriG use our prefixes; the serializer writes them in a
hash map's order, so the @prefix block (and only it) is sorted on the way out.

A build writes the formats it is told to (KG_DUMP_FORMATS, `kg build --dumps`); `ensure_dump`
makes any other one on first request, once, atomically.
"""

from __future__ import annotations

import fcntl
import io
import os
from pathlib import Path
from typing import IO

from pyoxigraph import NamedNode, RdfFormat, Store, serialize

from graph.errors import UnknownFormat
from graph.formats import DUMP_FORMATS, rdf_format
from graph.namespaces import all_prefixes
from graph.queries import run
from graph.store import DUMPS_DIR, STORE_DIR

#: Dump files are named <STEM>.<extension>.
STEM = "khojaly"
_PREFIXED = (RdfFormat.TURTLE, RdfFormat.TRIG)


def formats_of(names: tuple[str, ...] | list[str] | str) -> tuple[RdfFormat, ...]:
    """Dump formats from names, extensions or media types ("nq,ttl", ("nq", "ttl"), "all").

    Only the formats in DUMP_FORMATS are accepted; UnknownFormat names any other.
    """
    if isinstance(names, str):
        names = [n for n in names.replace(",", " ").split() if n]
    if not names or list(names) == ["all"]:
        return DUMP_FORMATS
    chosen = []
    for name in names:
        fmt = rdf_format(name)
        if fmt not in DUMP_FORMATS:
            raise UnknownFormat(f"not a dump format: {name} (one of: {_extensions()})")
        if fmt not in chosen:
            chosen.append(fmt)
    return tuple(f for f in DUMP_FORMATS if f in chosen)


def _extensions() -> str:
    return ", ".join(f.file_extension for f in DUMP_FORMATS)


def dump_name(fmt: RdfFormat, stem: str = STEM) -> str:
    return f"{stem}.{fmt.file_extension}"


class _SortedPrefixes(io.RawIOBase):
    """A write-through stream that sorts the leading `@prefix` lines and passes the rest on.

    Only that small block is buffered: once a line that is not a prefix starts, the block is
    written sorted and every later write goes straight to the destination.
    """

    def __init__(self, dest: IO[bytes]) -> None:
        super().__init__()
        self._dest = dest
        self._head: bytearray | None = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        if self._head is None:
            self._dest.write(data)
            return len(data)
        self._head += data
        head = bytes(self._head)
        n = 0  # bytes of complete @prefix lines
        while head.startswith(b"@prefix ", n):
            end = head.find(b"\n", n)
            if end < 0:
                return len(data)  # a prefix line not complete yet
            n = end + 1
        if len(head) - n < len(b"@prefix ") and b"@prefix ".startswith(head[n:]):
            return len(data)  # might still be the start of another prefix line
        self._release(head, n)
        return len(data)

    def _release(self, head: bytes, n: int) -> None:
        self._head = None
        self._dest.write(b"".join(sorted(head[:n].splitlines(keepends=True))) + head[n:])

    def close(self) -> None:
        if self._head is not None:  # only prefixes (or nothing) were written
            head = bytes(self._head)
            self._release(head, len(head))
        super().close()


def _union(store: Store):
    """The union of the named graphs as triples, each once (a native query, streamed)."""
    return run(store, "export_union")


def _write(
    store: Store, fmt: RdfFormat, out: IO[bytes] | str, graph: str | None, base_iri: str | None
) -> None:
    """Serialize natively to `out`, a stream or (fastest: no Python in the loop) a path."""
    prefixes = all_prefixes(base_iri) if base_iri and fmt in _PREFIXED else None
    if prefixes and isinstance(out, str):
        with open(out, "wb", buffering=1 << 20) as stream:
            return _write(store, fmt, stream, graph, base_iri)
    sink = _SortedPrefixes(out) if prefixes else out
    if graph is not None:
        store.dump(sink, fmt, from_graph=NamedNode(graph), prefixes=prefixes)
    elif fmt.supports_datasets:
        store.dump(sink, fmt, prefixes=prefixes)
    elif prefixes:  # the query result's own serializer takes no prefixes: serialize() does
        serialize(_union(store), sink, fmt, prefixes=prefixes)
    else:
        _union(store).serialize(sink, fmt)
    if isinstance(sink, _SortedPrefixes):
        sink.close()
    return None


def to_bytes(
    store: Store, fmt: RdfFormat, *, graph: str | None = None, base_iri: str | None = None
) -> bytes:
    """The dump as bytes; `base_iri` picks our prefixes (kgo:, place:, ...) for Turtle/TriG."""
    buf = io.BytesIO()
    _write(store, fmt, buf, graph, base_iri)
    return buf.getvalue()


def dump(
    store: Store,
    fmt: RdfFormat,
    dest: str | Path | IO[bytes],
    graph: str | None = None,
    *,
    base_iri: str | None = None,
) -> None:
    """Write the dataset (or one graph) to a path or a binary stream, streamed."""
    if isinstance(dest, str | Path):
        _write(store, fmt, str(dest), graph, base_iri)
    else:
        _write(store, fmt, dest, graph, base_iri)


def _dump_atomically(store: Store, fmt: RdfFormat, path: Path, base_iri: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        dump(store, fmt, tmp, base_iri=base_iri)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def dump_all(
    store: Store,
    folder: Path,
    *,
    base_iri: str,
    stem: str = STEM,
    formats: tuple[RdfFormat, ...] = DUMP_FORMATS,
) -> list[Path]:
    """The given dump formats (default: all) into `folder`, named <stem>.<ext>."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = folder / dump_name(fmt, stem)
        _dump_atomically(store, fmt, path, base_iri)
        paths.append(path)
    return paths


def ensure_dump(build_dir: Path, fmt: RdfFormat, base_iri: str) -> Path:
    """The build's dump in `fmt`, written now from its store if the build did not write it.

    Written once: a lock file serialises concurrent requests (the second waits, then finds the
    file), and the file appears atomically (tmp + os.replace), so no reader sees half of it.
    """
    if fmt not in DUMP_FORMATS:
        raise UnknownFormat(f"not a dump format: {fmt.name} (one of: {_extensions()})")
    folder = build_dir / DUMPS_DIR
    path = folder / dump_name(fmt)
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f".{path.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not path.is_file():  # another process may have written it while we waited
                store = Store.read_only(str(build_dir / STORE_DIR))
                try:
                    _dump_atomically(store, fmt, path, base_iri)
                finally:
                    del store
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return path
