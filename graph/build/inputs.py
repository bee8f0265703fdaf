"""Find every input file, map it to its base IRI and named graph (ADR 0001), and parse it.

Parsing uses pyoxigraph's native Turtle parser, one file at a time, and can stream each file's
quads, serialized natively as N-Quads, to a staging file that `kg build` bulk-loads: a big input
is never held in Python as a whole (only when it is small enough for pySHACL). Every file is
parsed before we fail, so one run reports every syntax error with file:line:column. Blank nodes
get deterministic labels derived from the file's path, so two builds of the same input give
byte-identical dumps and blank nodes of different files never merge.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.pool import Pool
from pathlib import Path
from typing import IO

from pyoxigraph import BlankNode, NamedNode, Quad, RdfFormat, parse, serialize

from graph.build import canonical
from graph.config import Settings
from graph.errors import DataError, Problem
from graph.namespaces import KINDS, graph_iri

#: Inputs bigger than this (bytes of Turtle) are parsed by a pool of processes, one per core.
PARALLEL_MIN_BYTES = 4 << 20
#: Files per task sent to a parsing process (fewer round trips than one file per task).
_CHUNK_FILES = 64
#: Where a blank node can stand in an N-Triples line: the subject, or the object just before
#: the final " ." (a literal's last token always holds a quote, so it never matches).
_BLANK_AT = re.compile(rb'^_:[^\s"]+ | _:[^\s"]+ \.$', re.MULTILINE)

#: data/ folders that hold no Turtle of their own.
_NOT_RDF_DIRS = {"texts"}
#: data/<dir>/<name>.ttl parsed against the base IRI itself, into graph {base}graph/<dir>/<name>:
#: reviewed links (kg link) and facts imported about linked external things (kg enrich).
_BASE_RELATIVE_DIRS = ("links", "enrichment")


@dataclass(frozen=True)
class InputFile:
    """One Turtle file of the repository and where its triples go."""

    path: Path
    rel: str  # path relative to the repository root, for messages
    base_iri: str
    graph: str  # named graph IRI
    role: str = "data"  # "ontology", "shapes" (ontology/shapes.ttl) or "data"


@dataclass
class Parsed:
    """Every input file, what each holds, and (when small) its quads.

    `quads` always holds the ontology and shapes files; it holds the data files too while
    `in_memory` is true (the loader's `keep_data` decided the data is small enough to keep).
    `triples` counts each graph's distinct triples as the parser saw them (one file per graph),
    so the build describes the dataset without scanning the store. `version` is the content hash
    of the inputs and the base IRI: the dataset version.
    """

    files: list[InputFile]
    quads: dict[str, list[Quad]] = field(default_factory=dict)  # graph IRI -> quads
    triples: dict[str, int] = field(default_factory=dict)  # graph IRI -> distinct triples
    in_memory: bool = True
    version: str = ""

    def all_quads(self) -> Iterator[Quad]:
        for quads in self.quads.values():
            yield from quads

    def file_of_graph(self, graph: str) -> InputFile | None:
        return self._by_graph().get(graph)

    def _by_graph(self) -> dict[str, InputFile]:
        index = self.__dict__.get("_graph_index")
        if index is None or len(index) != len(self.files):
            index = {f.graph: f for f in self.files}
            self.__dict__["_graph_index"] = index
        return index

    def quads_of(self, role: str) -> Iterator[Quad]:
        """Quads of the files with one role: "data", "ontology" or "shapes"."""
        for f in self.files:
            if f.role == role:
                yield from self.quads.get(f.graph, [])


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def discover(settings: Settings) -> list[InputFile]:
    """Every input file in a stable order, mapped per ADR 0001; files outside the layout fail."""
    base = settings.base_iri
    root = settings.root
    files: list[InputFile] = []
    problems: list[Problem] = []
    onto = settings.ontology_dir
    if onto.is_dir():
        for p in sorted(onto.glob("*.ttl")):
            role = "shapes" if p.stem == "shapes" else "ontology"
            graph = graph_iri(base, f"ontology/{p.stem}")
            files.append(InputFile(p, _rel(p, root), base, graph, role))
    data = settings.data_dir
    if data.is_dir():
        for p in sorted(data.rglob("*.ttl")):
            parts = p.relative_to(data).parts
            if parts[0] in _NOT_RDF_DIRS:
                continue
            if parts == ("dataset.ttl",):
                files.append(InputFile(p, _rel(p, root), base, graph_iri(base, "dataset")))
            elif len(parts) == 2 and parts[0] in _BASE_RELATIVE_DIRS:
                graph = graph_iri(base, f"{parts[0]}/{p.stem}")
                files.append(InputFile(p, _rel(p, root), base, graph))
            elif len(parts) == 2 and parts[0] in KINDS:
                kind, slug = parts[0], p.stem
                files.append(
                    InputFile(
                        p,
                        _rel(p, root),
                        f"{base}id/{kind}/{slug}",
                        graph_iri(base, f"{kind}/{slug}"),
                    )
                )
            else:
                problems.append(
                    Problem(
                        "file is outside the layout: expected data/<kind>/<slug>.ttl with kind "
                        f"one of {', '.join(KINDS)}, data/links/<target>.ttl, "
                        "data/enrichment/<target>.ttl or data/dataset.ttl",
                        file=_rel(p, root),
                        check="layout",
                    )
                )
    if problems:
        raise DataError(problems)
    return files


def _syntax_problem(f: InputFile, err: SyntaxError) -> Problem:
    message = err.msg or str(err)
    # pyoxigraph prefixes the message with the position we report separately.
    if message.startswith("Parser error at line") and ": " in message:
        message = message.split(": ", 1)[1]
    return Problem(message, file=f.rel, line=err.lineno, column=err.offset, check="syntax")


def _relabel(quads: Iterable[Quad], f: InputFile) -> list[Quad]:
    """Place quads in the file's graph and give blank nodes stable, file-specific labels."""
    prefix = "b" + hashlib.sha1(f.rel.encode()).hexdigest()[:8]
    labels: dict[str, BlankNode] = {}
    graph = NamedNode(f.graph)

    def term(t):
        if isinstance(t, BlankNode):
            node = labels.get(t.value)
            if node is None:
                node = labels[t.value] = BlankNode(f"{prefix}x{len(labels)}")
            return node
        return t

    return [Quad(term(q.subject), q.predicate, term(q.object), graph) for q in quads]


def _parse_bytes(f: InputFile, data: bytes) -> list[Quad]:
    quads = parse(data, format=RdfFormat.TURTLE, base_iri=f.base_iri, without_named_graphs=True)
    return _relabel(quads, f)


def parse_file(f: InputFile) -> list[Quad]:
    """Parse one Turtle file with its base IRI; raises SyntaxError as pyoxigraph does."""
    return _parse_bytes(f, f.path.read_bytes())


def _relabel_text(triples: bytes, f: InputFile) -> bytes | None:
    """`_relabel` on N-Triples text: the same labels (first appearance, subject before object),
    without building a Python term per quad; None when "_:" also occurs inside a literal."""
    n = triples.count(b"_:")
    if n == 0:
        return triples
    if len(_BLANK_AT.findall(triples)) != n:
        return None
    prefix = ("b" + hashlib.sha1(f.rel.encode()).hexdigest()[:8] + "x").encode()
    labels: dict[bytes, bytes] = {}
    parts = triples.split(b"_:")
    out = [parts[0]]
    for part in parts[1:]:
        end = part.index(b" ")
        label = part[:end]
        new = labels.get(label)
        if new is None:
            new = labels[label] = prefix + str(len(labels)).encode()
        out.append(new + part[end:])
    return b"_:".join(out)


def _to_nquads(f: InputFile, raw: bytes) -> tuple[bytes, int]:
    """One file as N-Quads in its graph with our blank-node labels, each distinct quad once in
    the parser's order, and how many there are. Raises SyntaxError / UnicodeDecodeError.

    N-Quads escapes line breaks inside literals, so one line is one quad and " .\n" only ends a
    line; our labels and literals are canonical, so equal lines are equal quads.
    """
    quads = parse(raw, format=RdfFormat.TURTLE, base_iri=f.base_iri, without_named_graphs=True)
    triples = serialize(quads, format=RdfFormat.N_TRIPLES)
    text = _relabel_text(triples, f)
    if text is None:
        text = serialize(_relabel(parse(raw, format=RdfFormat.TURTLE, base_iri=f.base_iri), f),
                         format=RdfFormat.N_QUADS)
    else:
        text = text.replace(b" .\n", b" <" + f.graph.encode() + b"> .\n")
    # literals as the store keeps them ("034" -> "34"), so the N-Quads dump matches the others
    lines = dict.fromkeys(canonical.canonicalise(text).splitlines(keepends=True))
    return b"".join(lines), len(lines)


#: One file staged: its N-Quads lines without blank nodes, those with, how many in all, and
#: the SHA-256 of its bytes (for the dataset version, so the file is read once).
Staged = tuple[bytes, bytes, int, bytes]


def _split_blank(text: bytes) -> tuple[bytes, bytes]:
    """Lines without "_:" (no blank node: safe for Store.bulk_load, which relabels blank nodes
    at random) and lines with it (a blank node, or a literal that spells "_:")."""
    if b"_:" not in text:
        return text, b""
    plain: list[bytes] = []
    blank: list[bytes] = []
    for line in text.splitlines(keepends=True):
        (blank if b"_:" in line else plain).append(line)
    return b"".join(plain), b"".join(blank)


def _stage_chunk(files: list[InputFile]) -> list[Staged | Problem]:
    """Each file staged, or the Problem that stops it (runs in a parsing process)."""
    results: list[Staged | Problem] = []
    for f in files:
        try:
            raw = f.path.read_bytes()
            text, n = _to_nquads(f, raw)
            results.append((*_split_blank(text), n, hashlib.sha256(raw).digest()))
        except SyntaxError as err:
            results.append(_syntax_problem(f, err))
        except UnicodeDecodeError as err:
            results.append(Problem(f"not UTF-8: {err}", file=f.rel, check="syntax"))
        except OSError as err:
            results.append(Problem(f"cannot read: {err}", file=f.rel, check="syntax"))
    return results


def _workers(files: list[InputFile]) -> int:
    size = sum(f.path.stat().st_size for f in files if f.path.is_file())
    if size < PARALLEL_MIN_BYTES:
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


@contextmanager
def parsing_pool(settings: Settings) -> Iterator[Pool | None]:
    """A pool of parsing processes (one per core) when the input is big, else None.

    Open it before the process starts threads (the store, the bulk loader): the workers are
    forked, and a fork copies only the calling thread. (Spawned workers would re-import the
    caller's main module, which a script without a main guard does not survive.)
    """
    workers = _workers(discover(settings))
    if workers < 2:
        yield None
        return
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()


def _staged(
    files: list[InputFile], pool: Pool | None
) -> Iterator[tuple[InputFile, Staged | Problem]]:
    """Each file with its N-Quads (or Problem), in input order; on the pool if given."""
    chunks = [files[i : i + _CHUNK_FILES] for i in range(0, len(files), _CHUNK_FILES)]
    results = map(_stage_chunk, chunks) if pool is None else pool.imap(_stage_chunk, chunks)
    for chunk, chunk_results in zip(chunks, results, strict=True):
        yield from zip(chunk, chunk_results, strict=True)


def stage(
    settings: Settings,
    out: IO[bytes] | None = None,
    keep_data: Callable[[int], bool] | None = None,
    pool: Pool | None = None,
    blank_out: IO[bytes] | None = None,
) -> Parsed:
    """Parse every input file; collect every syntax error before raising one DataError.

    `out`: if given, each file's quads are appended to it as N-Quads (duplicates within a file
    dropped), for a native bulk load. `keep_data(n)`: asked with the running count of data
    triples; once it says no, data quads are no longer kept in `Parsed.quads` (and those kept
    so far are dropped). Ontology and shapes quads are always kept (they are small and
    validation needs them). Without `keep_data` everything is kept. `pool`
    (see parsing_pool) parses on several cores; the output is the same, in the same order.
    `blank_out`: if given, the lines holding a blank node go there instead of to `out`.
    """
    files = discover(settings)
    parsed = Parsed(files)
    problems: list[Problem] = []
    version = hashlib.sha256(settings.base_iri.encode())
    data_triples = 0
    for f, result in _staged(files, pool):
        if isinstance(result, Problem):
            problems.append(result)
            continue
        if problems:
            continue  # we will fail: the rest is parsed only to report its errors too
        plain, blank, parsed.triples[f.graph], digest = result
        version.update(b"\0" + f.rel.encode() + b"\0" + digest)
        if out is not None:
            out.write(plain)
            (out if blank_out is None else blank_out).write(blank)
        if f.role == "data":
            data_triples += parsed.triples[f.graph]
            if parsed.in_memory and keep_data is not None and not keep_data(data_triples):
                parsed.in_memory = False
                for g in [x.graph for x in files if x.role == "data"]:
                    parsed.quads.pop(g, None)
            if not parsed.in_memory:
                continue
        parsed.quads[f.graph] = list(parse(plain + blank, format=RdfFormat.N_QUADS))
    if problems:
        raise DataError(problems)
    parsed.version = version.hexdigest()[:16]
    return parsed


def load(settings: Settings) -> Parsed:
    """Parse every input file into memory (small inputs: tests, linking, enrichment)."""
    return stage(settings)
