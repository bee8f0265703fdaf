"""SHACL validation of the data with pySHACL; returns a Report and prints nothing.

Shapes: ontology/shapes.ttl. Data graph: every data/ file plus the ontology and concept schemes,
so `sh:targetClass` sees the class hierarchy (rdfs:subClassOf) and value shapes see the concepts'
skos:inScheme, without RDFS inference adding domain/range types we did not state. (pySHACL's
`ont_graph` did not make the concepts visible to nested shapes in 0.40.1, so we merge ourselves.)
Warnings and infos do not fail the build.

Large data: pySHACL holds an rdflib copy of everything (532 s, 4 GiB at 1M triples).
`use_pyshacl` says whether the data is small enough for it (KG_PYSHACL_MAX_TRIPLES, default
200 000: the curated data and the 100k benchmark); above that, `validate_store` runs the same
shapes compiled to SPARQL (graph/validate/shacl_sparql.py) inside the Oxigraph store the build
loaded.
Both return the same Report: same problems, messages, files, focus labels and order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import rdflib
from pyoxigraph import BlankNode, NamedNode, Store
from pyshacl import validate as shacl_validate
from rdflib.namespace import RDF, SH

from graph import queries
from graph.build.inputs import Parsed, parse_file
from graph.config import Settings
from graph.errors import Problem
from graph.validate import rdflib_bridge, shacl_sparql


@dataclass
class Report:
    conforms: bool
    problems: list[Problem] = field(default_factory=list)  # violations
    warnings: list[Problem] = field(default_factory=list)  # sh:Warning and sh:Info


def _describing_files(parsed: Parsed) -> dict[str, str]:
    """Subject (IRI or blank node label) -> the file that types it, or failing that mentions it."""
    where: dict[str, str] = {}
    typed: dict[str, str] = {}
    rdf_type = NamedNode(str(RDF.type))
    for f in parsed.files:
        for q in parsed.quads.get(f.graph, []):
            where.setdefault(q.subject.value, f.rel)
            if q.predicate == rdf_type:
                typed.setdefault(q.subject.value, f.rel)
    return {**where, **typed}


def _label(node: rdflib.term.Node, data: rdflib.Graph) -> tuple[str, rdflib.term.Node]:
    """How to show a focus node: a blank node is shown through the IRI that points to it."""
    seen = set()
    current = node
    while isinstance(current, rdflib.BNode) and current not in seen:
        seen.add(current)
        parent = next(data.subjects(None, current), None)
        if parent is None:
            break
        current = parent
    if current is node or not isinstance(current, rdflib.URIRef):
        return str(node), node
    return f"[] inside {current}", current


def _local(iri: rdflib.term.Node | None) -> str:
    return str(iri).rsplit("#", 1)[-1].lower()


def _namespaces(settings: Settings) -> rdflib.namespace.NamespaceManager:
    """How paths are shown: rdflib's usual prefixes plus ours (kgo:, id:)."""
    manager = rdflib.Graph().namespace_manager
    for prefix, ns in (("kgo", settings.ontology_ns), ("id", settings.base_iri + "id/")):
        manager.bind(prefix, ns, override=True)
    return manager


def _problem(text: str, value: str | None, severity, **where) -> Problem:
    """One result as a Problem; the value is named unless the message already shows it."""
    if value is not None and value not in text:
        text += f" (value: {value})"
    check = "shape" if str(severity) == str(SH.Violation) else f"shape-{_local(severity)}"
    return Problem(text, check=check, **where)


def _shown_value(value) -> str | None:
    """A value as a message shows it; a blank node's label is internal (it changes when the
    store loads the data), so it is shown as []."""
    if value is None:
        return None
    if isinstance(value, rdflib.BNode | BlankNode):
        return "[]"
    return str(value) if isinstance(value, rdflib.term.Node) else value.value


def _sort(report: Report) -> Report:
    report.problems.sort(key=lambda p: (p.file or "", p.focus or "", p.path or ""))
    return report


def _path(graph: rdflib.Graph, result) -> str | None:
    path = graph.value(result, SH.resultPath)
    if path is None:
        return None
    if isinstance(path, rdflib.URIRef):
        return graph.namespace_manager.normalizeUri(path)
    return str(path)


def validate(parsed: Parsed, settings: Settings) -> Report:
    """Validate the data files against ontology/shapes.ttl."""
    shapes = rdflib_bridge.to_graph(parsed.quads_of("shapes"))
    if len(shapes) == 0:
        return Report(conforms=True)
    data = rdflib_bridge.to_graph(parsed.quads_of("data"))
    rdflib_bridge.to_graph(parsed.quads_of("ontology"), data)
    conforms, results, _text = shacl_validate(  # type: ignore[misc]
        data,
        shacl_graph=shapes,
        inference="none",
        allow_warnings=True,
        advanced=True,
    )
    results.namespace_manager = _namespaces(settings)
    files = _describing_files(parsed)
    report = Report(conforms=bool(conforms))
    # Only the results of the shapes themselves: the nested results pySHACL attaches with
    # sh:detail (why a value failed sh:node) explain one of those, and the compiled checks of
    # validate_store report exactly the top-level ones.
    details = set(results.objects(None, SH.detail))
    top_level = set(results.subjects(RDF.type, SH.ValidationResult)) - details
    for result in sorted(top_level, key=str):
        focus = results.value(result, SH.focusNode)
        shown, anchor = _label(focus, data)
        severity = results.value(result, SH.resultSeverity)
        message = results.value(result, SH.resultMessage)
        value = results.value(result, SH.value)
        problem = _problem(
            str(message) if message is not None else "does not conform",
            _shown_value(value),
            severity,
            file=files.get(str(anchor)),
            focus=shown,
            path=_path(results, result),
        )
        (report.problems if severity == SH.Violation else report.warnings).append(problem)
    return _sort(report)


def use_pyshacl(n_data_quads: int, settings: Settings) -> bool:
    """Whether data of this size is validated with pySHACL (`validate`), else `validate_store`."""
    return n_data_quads <= settings.pyshacl_max_triples


def _shapes_quads(parsed: Parsed) -> tuple[str, list]:
    """The quads of ontology/shapes.ttl: kept by the parse when small, else parsed again."""
    for f in parsed.files:
        if f.role == "shapes":
            quads = parsed.quads.get(f.graph)
            return f.rel, quads if quads is not None else parse_file(f)
    return "ontology/shapes.ttl", []


class _Locator:
    """Where a focus node is described (its file) and how it is shown, looked up in the store.

    Mirrors `_describing_files` and `_label`: the first input file (in input order) that types
    the node, or failing that has it as subject; a blank node is shown through the IRI that
    points to it. Graphs that are not input files (shapes, metadata) describe nothing.
    """

    def __init__(self, store: Store, parsed: Parsed, settings: Settings):
        self.store = store
        self.base_iri = settings.base_iri
        inputs = [f for f in parsed.files if f.role != "shapes"]
        self.order = {f.graph: (i, f.rel) for i, f in enumerate(inputs)}

    def file_of(self, node) -> str | None:
        rows = queries.run(self.store, "shacl/focus-graphs", base_iri=self.base_iri, this=node)
        found = [
            (row["typed"].value != "true", *self.order[row["g"].value])
            for row in rows
            if row["g"].value in self.order
        ]
        return min(found)[2] if found else None

    def label(self, node) -> tuple[str, object]:
        seen, current = set(), node
        while isinstance(current, BlankNode) and current not in seen:
            seen.add(current)
            rows = list(queries.run(self.store, "shacl/focus-parent", this=current))
            if not rows:
                break
            current = rows[0]["parent"]
        if current == node or not isinstance(current, NamedNode):
            return node.value, node
        return f"[] inside {current.value}", current


def validate_store(store: Store, parsed: Parsed, settings: Settings) -> Report:
    """Validate the data loaded in a store (data and ontology files as named graphs).

    The shapes are compiled to SPARQL and run natively (graph/validate/shacl_sparql.py): no rdflib
    copy of the data, so this scales to millions of triples. Same Report as `validate`.
    """
    source, quads = _shapes_quads(parsed)
    shapes = shacl_sparql.read_shapes(quads, source=source)
    checks = shacl_sparql.compile_checks(shapes, store)
    names, where = _namespaces(settings), _Locator(store, parsed, settings)
    report = Report(conforms=True)
    files: dict = {}
    for v in shacl_sparql.run_checks(store, checks):
        shown, anchor = where.label(v.focus)
        if anchor not in files:
            files[anchor] = where.file_of(anchor)
        if files[anchor] is None and where.file_of(v.focus) is None:
            continue  # described only outside the input files (e.g. generated metadata)
        problem = _problem(
            v.message if v.message is not None else _generic_message(v),
            _shown_value(v.value),
            v.severity,
            file=files[anchor],
            focus=shown,
            path=names.normalizeUri(rdflib.URIRef(v.path.value)) if v.path else None,
        )
        (report.problems if v.severity == str(SH.Violation) else report.warnings).append(problem)
    report.conforms = not report.problems
    return _sort(report)


def _generic_message(v: shacl_sparql.Violation) -> str:
    """A message for a shape without sh:message, in the spirit of pySHACL's."""
    return f"does not satisfy sh:{v.component}"
