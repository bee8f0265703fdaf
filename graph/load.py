"""Find every input file, map it to its base IRI and named graph (ADR 0001), and parse it.

Parsing uses pyoxigraph's native Turtle parser. Every file is parsed before we fail, so one run
reports every syntax error with file:line:column. Blank nodes get deterministic labels derived
from the file's path, so two builds of the same input give byte-identical dumps and blank nodes
of different files never merge.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import BlankNode, NamedNode, Quad, RdfFormat, parse

from graph.config import Settings
from graph.errors import DataError, Problem
from graph.namespaces import KINDS, graph_iri

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
    """Every input file with its quads (already placed in the file's named graph)."""

    files: list[InputFile]
    quads: dict[str, list[Quad]] = field(default_factory=dict)  # graph IRI -> quads

    def all_quads(self) -> Iterator[Quad]:
        for quads in self.quads.values():
            yield from quads

    def file_of_graph(self, graph: str) -> InputFile | None:
        return next((f for f in self.files if f.graph == graph), None)

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


def parse_file(f: InputFile) -> list[Quad]:
    """Parse one Turtle file with its base IRI; raises SyntaxError as pyoxigraph does."""
    with f.path.open("rb") as fh:
        quads = parse(fh, format=RdfFormat.TURTLE, base_iri=f.base_iri, without_named_graphs=True)
        return _relabel(quads, f)


def load(settings: Settings) -> Parsed:
    """Parse every input file; collect every syntax error before raising one DataError."""
    files = discover(settings)
    parsed = Parsed(files)
    problems: list[Problem] = []
    for f in files:
        try:
            parsed.quads[f.graph] = parse_file(f)
        except SyntaxError as err:
            problems.append(_syntax_problem(f, err))
        except UnicodeDecodeError as err:
            problems.append(Problem(f"not UTF-8: {err}", file=f.rel, check="syntax"))
    if problems:
        raise DataError(problems)
    return parsed
