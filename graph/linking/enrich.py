"""`kg enrich`: copy selected facts about our linked entities from an external dataset.

Imported facts never mix with our claims: they go to their own file, `data/enrichment/<target>.ttl`,
which the build loads into the named graph `{base}graph/enrichment/<target>`. They keep the
target's own predicates (wdt:P1082, not a property of ours) and stay statements about the
target's IRIs (wd:Q9248 rdfs:label "Bakou"@fr), joined to our things through the reviewed links.
The graph says when and from where it was retrieved (PROV-O): prov:generatedAtTime,
prov:wasDerivedFrom the endpoint, and the retrieval activity with its start and end.

All or nothing: the file is written (atomically, temp file + rename) only when every request
succeeded; a failure leaves the previous enrichment untouched and is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, serialize

from graph.config import Settings
from graph.linking.client import SparqlClient, batched, read_link_query, with_values
from graph.linking.ours import atomic_write, existing_links, read_data
from graph.linking.profiles import Profile

#: Label languages kept by default: ours (en, az, ru, hy) and a few more for readers.
DEFAULT_LANGUAGES = ("en", "az", "ru", "hy", "tr", "de", "fr", "es", "ar", "fa", "ka", "uk")

RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
PROV = "http://www.w3.org/ns/prov#"
XSD_DATETIME = NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")


@dataclass(frozen=True)
class EnrichReport:
    path: Path
    graph: str
    items: int
    facts: int
    requests: int


def enrichment_graph(base_iri: str, profile: Profile) -> str:
    return f"{base_iri}graph/enrichment/{profile.name}"


def enrichment_path(settings: Settings, profile: Profile) -> Path:
    return settings.data_dir / "enrichment" / f"{profile.name}.ttl"


def fetch_facts(
    client: SparqlClient,
    profile: Profile,
    items: Iterable[str],
    languages: Iterable[str] = DEFAULT_LANGUAGES,
    batch_size: int = 50,
) -> list[Triple]:
    """The selected facts about `items`, as triples in the target's own vocabulary.

    Raises RemoteUnavailable if any batch fails after its retries: nothing partial is returned.
    """
    query = read_link_query(profile.query_name("facts"))
    wanted_langs = set(languages)
    triples: set[Triple] = set()
    for batch in batched(sorted(set(items)), batch_size):
        for row in client.select(with_values(query, [(NamedNode(i),) for i in batch])):
            item = row.get("item")
            if item is None:
                continue
            for var, predicate in profile.facts.items():
                value = row.get(var)
                if value is None:
                    continue
                if var == "label" and (
                    not isinstance(value, Literal) or value.language not in wanted_langs
                ):
                    continue
                triples.add(Triple(item, NamedNode(predicate), value))
    return sorted(triples, key=str)


def provenance(
    graph: str, endpoint: str, profile: Profile, started: datetime, ended: datetime
) -> list[Triple]:
    """The enrichment graph describes itself: when, from where, by which activity."""
    g, activity = NamedNode(graph), NamedNode(graph + "#retrieval")

    def p(local: str) -> NamedNode:
        return NamedNode(PROV + local)

    def stamp(t: datetime) -> Literal:
        return Literal(t.isoformat(timespec="seconds"), datatype=XSD_DATETIME)

    label = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    source = NamedNode("http://purl.org/dc/terms/source")
    return [
        Triple(g, RDF_TYPE, p("Entity")),
        Triple(g, label, Literal(f"facts imported from {profile.title}", language="en")),
        Triple(g, p("generatedAtTime"), stamp(ended)),
        Triple(g, p("wasDerivedFrom"), NamedNode(endpoint)),
        Triple(g, source, NamedNode(profile.dataset)),
        Triple(g, p("wasGeneratedBy"), activity),
        Triple(activity, RDF_TYPE, p("Activity")),
        Triple(activity, label, Literal(f"kg enrich --profile {profile.name}", language="en")),
        Triple(activity, p("used"), NamedNode(endpoint)),
        Triple(activity, p("startedAtTime"), stamp(started)),
        Triple(activity, p("endedAtTime"), stamp(ended)),
    ]


def enrich(
    settings: Settings,
    profile: Profile,
    client: SparqlClient,
    *,
    out: Path | None = None,
    languages: Iterable[str] = DEFAULT_LANGUAGES,
    batch_size: int = 50,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> EnrichReport:
    """Fetch facts about every entity we link to the target and replace its enrichment file."""
    store = read_data(settings)
    items = sorted({link.target for link in existing_links(store, settings.base_iri, profile)})
    started = now()
    facts = fetch_facts(client, profile, items, languages, batch_size)
    graph = enrichment_graph(settings.base_iri, profile)
    triples = provenance(graph, client.endpoint, profile, started, now()) + facts
    path = out or enrichment_path(settings, profile)
    header = (
        f"# Facts imported from {profile.title} by `kg enrich --profile {profile.name}` about the\n"
        "# items our reviewed links point to. Generated: re-run `kg enrich` rather than editing.\n"
        f"# Named graph: {graph}\n"
    )
    body = serialize(triples, format=RdfFormat.N_TRIPLES).decode("utf-8")
    atomic_write(path, header + "".join(sorted(body.splitlines(keepends=True))))
    return EnrichReport(path, graph, len(items), len(facts), client.requests)
