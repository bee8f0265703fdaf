"""The VoID and DCAT description of the dataset, with statistics, generated at build time.

It goes into the named graph {base}graph/void. The hand-written metadata (title, licence,
creators) lives in data/dataset.ttl, about the same dataset IRI `{base}dataset`; this module adds
what only the build knows: counts (VoID, https://www.w3.org/TR/void/#statistics), one
void:subset per named graph, the SPARQL endpoint, the dumps (VoID data dumps, DCAT distributions),
the modification time and the version (a content hash of the inputs).
"""

from __future__ import annotations

from datetime import datetime

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Store

from graph.build.stats import instances_per_class, totals, triples_per_graph
from graph.namespaces import STANDARD_PREFIXES, graph_iri

VOID = STANDARD_PREFIXES["void"]
DCAT = STANDARD_PREFIXES["dcat"]
DCT = STANDARD_PREFIXES["dcterms"]
RDF_TYPE = NamedNode(STANDARD_PREFIXES["rdf"] + "type")
XSD = STANDARD_PREFIXES["xsd"]
OWL = STANDARD_PREFIXES["owl"]


def dataset_iri(base_iri: str) -> str:
    return base_iri + "dataset"


def dump_iri(base_iri: str, fmt: RdfFormat, stem: str = "khojaly") -> str:
    """Where the endpoint serves a dump: {base}dumps/<stem>.<ext>."""
    return f"{base_iri}dumps/{stem}.{fmt.file_extension}"


def describe(
    store: Store,
    *,
    base_iri: str,
    version: str,
    modified: datetime,
    dump_formats: tuple[RdfFormat, ...],
    graph_counts: dict[str, int] | None = None,
    quote_coverage: dict[str, int] | None = None,
) -> list[Quad]:
    """The quads of the {base}graph/void graph for the store as it is now.

    "Triples" (void:triples) are statements in the named graphs served, this graph included: a
    triple stated in two graphs counts twice, as in the N-Quads dump and in COUNT(*) over the
    endpoint's default graph (Oxigraph's union keeps it once per graph). The triple formats
    (Turtle, N-Triples, RDF/XML) merge the graphs and may hold a few fewer; `kg stats --distinct`
    counts those. Each void:subset (a graph, this one too) has its own count, and
    they add up to the dataset's.

    `graph_counts` (graph IRI -> triples), when the caller already counted them (the build's
    parser does), spares two scans of the whole store; the other totals need distinct values
    and come from the store. `quote_coverage` (graph/validate/integrity.py) says how many claims
    were checked against a stored source text at build and how many could not be.
    """
    g = NamedNode(graph_iri(base_iri, "void"))
    ds = NamedNode(dataset_iri(base_iri))
    quads: list[Quad] = []

    def add(s, p: str, o) -> None:
        quads.append(Quad(s, NamedNode(p), o, g))

    def count(n: int) -> Literal:
        return Literal(str(n), datatype=NamedNode(XSD + "integer"))

    if graph_counts is None:
        t = totals(store, base_iri)
        per_graph = triples_per_graph(store, base_iri)
    else:
        t = totals(store, base_iri, triples=sum(graph_counts.values()))
        per_graph = sorted(graph_counts.items())
    add(ds, STANDARD_PREFIXES["rdf"] + "type", NamedNode(VOID + "Dataset"))
    add(ds, STANDARD_PREFIXES["rdf"] + "type", NamedNode(DCAT + "Dataset"))
    add(ds, VOID + "entities", count(t.entities))
    add(ds, VOID + "classes", count(t.classes))
    add(ds, VOID + "properties", count(t.properties))
    add(ds, VOID + "distinctSubjects", count(t.subjects))
    add(ds, VOID + "distinctObjects", count(t.objects))
    add(ds, VOID + "sparqlEndpoint", NamedNode(base_iri + "sparql"))
    add(ds, VOID + "uriSpace", Literal(base_iri + "id/"))
    stamp = modified.isoformat(timespec="seconds")
    add(ds, DCT + "modified", Literal(stamp, datatype=NamedNode(XSD + "dateTime")))
    if quote_coverage is not None:
        kgo = base_iri + "ontology#"
        add(ds, kgo + "quotedClaims", count(quote_coverage["checked"]))
        add(ds, kgo + "uncheckedClaims", count(quote_coverage["not_checkable"]))
    add(ds, OWL + "versionInfo", Literal(version))
    add(ds, DCT + "hasVersion", Literal(version))
    for fmt in dump_formats:
        url = NamedNode(dump_iri(base_iri, fmt))
        add(ds, VOID + "dataDump", url)
        dist = BlankNode(f"dist{fmt.file_extension}")
        add(ds, DCAT + "distribution", dist)
        add(dist, STANDARD_PREFIXES["rdf"] + "type", NamedNode(DCAT + "Distribution"))
        add(dist, DCAT + "downloadURL", url)
        add(dist, DCAT + "mediaType", Literal(fmt.media_type))
        add(dist, DCT + "format", Literal(fmt.name))
    for graph, n in per_graph:
        add(ds, VOID + "subset", NamedNode(graph))
        add(NamedNode(graph), STANDARD_PREFIXES["rdf"] + "type", NamedNode(VOID + "Dataset"))
        add(NamedNode(graph), VOID + "triples", count(n))
    for i, (cls, n) in enumerate(instances_per_class(store, base_iri)):
        part = BlankNode(f"class{i}")
        add(ds, VOID + "classPartition", part)
        add(part, VOID + "class", NamedNode(cls))
        add(part, VOID + "entities", count(n))
    # This graph is part of what is served, so it counts itself: its own subset entry and the
    # dataset total come last, when its size (these four quads included) is known.
    own = len(quads) + 4
    add(ds, VOID + "subset", g)
    add(g, STANDARD_PREFIXES["rdf"] + "type", NamedNode(VOID + "Dataset"))
    add(g, VOID + "triples", count(own))
    add(ds, VOID + "triples", count(t.triples + own))
    return quads
