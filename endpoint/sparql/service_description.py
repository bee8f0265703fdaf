"""The SPARQL 1.1 Service Description of /sparql: https://www.w3.org/TR/sparql11-service-description/

Returned on a GET of the endpoint with no query (§2). It says what a client may rely on: SPARQL
1.1 Query only (no Update), the union of the named graphs as the default graph, the result formats
offered, the named graphs, and where the VoID description of the dataset is.

The endpoint's IRI is the configured one, `{KG_BASE_IRI}sparql`, the IRI VoID's
void:sparqlEndpoint names, not the address it was reached at: like every IRI of the dataset it
is canonical, and the server maps the base onto whatever host it runs on (docs/site.md).
"""

from __future__ import annotations

from pyoxigraph import BlankNode, Literal, NamedNode, Store, Triple

from graph.formats import GRAPH_FORMATS, RESULTS_FORMATS
from graph.namespaces import STANDARD_PREFIXES

SD = STANDARD_PREFIXES["sd"]
RDF_TYPE = NamedNode(STANDARD_PREFIXES["rdf"] + "type")
DCTERMS = STANDARD_PREFIXES["dcterms"]
VOID = STANDARD_PREFIXES["void"]


def named_graphs(store: Store) -> list[NamedNode]:
    """Every named graph in the store, sorted (the description is deterministic)."""
    return sorted(
        (g for g in store.named_graphs() if isinstance(g, NamedNode)), key=lambda g: g.value
    )


def describe_service(endpoint_url: str, dataset_iri: str, graphs: list[NamedNode]) -> list[Triple]:
    """The triples of the service description, for pyoxigraph's serializers."""
    service = NamedNode(endpoint_url)
    # fixed labels: the same request must give the same bytes (the ETag is strong)
    dataset = BlankNode("dataset")
    default_graph = BlankNode("defaultGraph")
    triples = [
        Triple(service, RDF_TYPE, NamedNode(SD + "Service")),
        Triple(service, NamedNode(SD + "endpoint"), service),
        Triple(service, NamedNode(SD + "supportedLanguage"), NamedNode(SD + "SPARQL11Query")),
        Triple(service, NamedNode(SD + "feature"), NamedNode(SD + "UnionDefaultGraph")),
        Triple(service, NamedNode(SD + "defaultEntailmentRegime"),
               NamedNode("http://www.w3.org/ns/entailment/Simple")),
        Triple(service, NamedNode(DCTERMS + "title"),
               Literal("Khojaly Knowledge Graph SPARQL endpoint (read-only)", language="en")),
        Triple(service, NamedNode(SD + "defaultDataset"), dataset),
        Triple(dataset, RDF_TYPE, NamedNode(SD + "Dataset")),
        Triple(dataset, NamedNode(DCTERMS + "source"), NamedNode(dataset_iri)),
        Triple(dataset, NamedNode(SD + "defaultGraph"), default_graph),
        Triple(default_graph, RDF_TYPE, NamedNode(SD + "Graph")),
    ]
    for fmt in (*RESULTS_FORMATS, *GRAPH_FORMATS):
        triples.append(Triple(service, NamedNode(SD + "resultFormat"), NamedNode(fmt.iri)))
    for i, graph in enumerate(graphs):
        node = BlankNode(f"namedGraph{i}")
        triples += [
            Triple(dataset, NamedNode(SD + "namedGraph"), node),
            Triple(node, RDF_TYPE, NamedNode(SD + "NamedGraph")),
            Triple(node, NamedNode(SD + "name"), graph),
        ]
    triples.append(Triple(NamedNode(dataset_iri), RDF_TYPE, NamedNode(VOID + "Dataset")))
    return triples
