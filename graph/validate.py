"""SHACL validation of the data with pySHACL; returns a Report and prints nothing.

Shapes: ontology/shapes.ttl. Data graph: every data/ file plus the ontology and concept schemes,
so `sh:targetClass` sees the class hierarchy (rdfs:subClassOf) and value shapes see the concepts'
skos:inScheme, without RDFS inference adding domain/range types we did not state. (pySHACL's
`ont_graph` did not make the concepts visible to nested shapes in 0.40.1, so we merge ourselves.)
Warnings and infos do not fail the build.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import rdflib
from pyoxigraph import NamedNode
from pyshacl import validate as shacl_validate
from rdflib.namespace import RDF, SH

from graph import rdflib_bridge
from graph.config import Settings
from graph.errors import Problem
from graph.load import Parsed


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
    conforms, results, _text = shacl_validate(
        data,
        shacl_graph=shapes,
        inference="none",
        allow_warnings=True,
        advanced=True,
    )
    for prefix, ns in (("kgo", settings.ontology_ns), ("id", settings.base_iri + "id/")):
        results.namespace_manager.bind(prefix, ns, override=True)
    files = _describing_files(parsed)
    report = Report(conforms=bool(conforms))
    for result in sorted(results.subjects(RDF.type, SH.ValidationResult), key=str):
        focus = results.value(result, SH.focusNode)
        shown, anchor = _label(focus, data)
        severity = results.value(result, SH.resultSeverity)
        message = results.value(result, SH.resultMessage)
        value = results.value(result, SH.value)
        text = str(message) if message is not None else "does not conform"
        if value is not None and str(value) not in text:
            text += f" (value: {value})"
        problem = Problem(
            text,
            file=files.get(str(anchor)),
            focus=shown,
            path=_path(results, result),
            check="shape" if severity == SH.Violation else f"shape-{_local(severity)}",
        )
        (report.problems if severity == SH.Violation else report.warnings).append(problem)
    report.problems.sort(key=lambda p: (p.file or "", p.focus or "", p.path or ""))
    return report
