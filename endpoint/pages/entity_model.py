"""The entity page as data: what the template prints, built from the entity's triples.

Kept apart from the routes so it can be read (and tested) without HTTP. Blank nodes are nested
under the property that reaches them (a claim's evidence shows its quote in place); hash resources
(<entity#geometry>) get their own section with an anchor, so /id/x#geometry lands on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyoxigraph import BlankNode, Literal, NamedNode, Store, Triple

from endpoint.pages import describe
from endpoint.pages.attribution import LinkState, NameUse, link_states, link_targets, name_uses
from endpoint.pages.shared import SharedPageData
from endpoint.pages.terms import Linker, Term, dataset_of

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL_PROPERTIES = (
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2004/02/skos/core#altLabel",
    "https://schema.org/name",
)
#: a thing's names as resources (SKOS-XL): shown in the names table with who uses them
NAME_PROPERTIES = tuple(
    "http://www.w3.org/2008/05/skos-xl#" + p for p in ("prefLabel", "altLabel", "hiddenLabel")
)
EXTERNAL_LINK_PROPERTIES = (
    "http://www.w3.org/2002/07/owl#sameAs",
    "http://www.w3.org/2004/02/skos/core#exactMatch",
    "http://www.w3.org/2004/02/skos/core#closeMatch",
)
OA_EXACT = "http://www.w3.org/ns/oa#exact"
OA_SELECTOR = "http://www.w3.org/ns/oa#hasSelector"
OA_SOURCE = "http://www.w3.org/ns/oa#hasSource"
INCOMING_PAGE = 50
#: claims listed on an entity page; a hub shows these, a capped count and a query for them all.
#: claims_about_labels.rq primes the labels of the first CLAIMS_SHOWN + 1 (its inner LIMIT).
CLAIMS_SHOWN = 50
#: claims_about_count.rq stops counting after this many claims (its inner LIMIT is one more).
CLAIMS_COUNT_CAP = 500


@dataclass
class Node:
    """A subject printed as a table of properties; values are Terms or nested Nodes."""

    term: Term
    anchor: str | None = None
    properties: list[tuple[Term, list[Term | Node]]] = field(default_factory=list)


@dataclass
class Quote:
    text: str
    source: Term | None


@dataclass
class ExternalLink:
    property: Term
    target: Term
    dataset: str | None


@dataclass
class EntityPage:
    iri: str
    title: str
    labels: list[tuple[Term, Term]]  # (property, literal)
    types: list[Term]
    main: Node
    hash_nodes: list[Node]
    external: list[ExternalLink]
    quotes: list[Quote]
    sources: list[Term]
    claims_about: list[dict[str, Term | None]]
    incoming: list[tuple[Term, Term]]
    incoming_counts: list[tuple[Term, int]]
    incoming_next: int | None
    incoming_prev: int | None
    incoming_capped: bool = False
    claims_total: int = 0  # capped at CLAIMS_COUNT_CAP + 1 (shown as "500+")
    claims_query: str = ""  # SPARQL that lists every claim about the entity, for the query UI
    incoming_query: str = ""  # SPARQL that lists every link to the entity
    #: (name, language) -> who uses it, per which claim and source (attested names only)
    name_uses: dict[tuple[str, str], list[NameUse]] = field(default_factory=dict)
    link_states: list[LinkState] = field(default_factory=list)  # one per target dataset


class PageBuilder:
    """Builds an EntityPage for one IRI with one Linker and Labeller (one request).

    With `shared` (the build's SharedPageData) the request-independent parts (labels, the
    datasets we link to) are read once per dataset version; the entity's own triples, claims,
    names and links are read for every page.
    """

    def __init__(self, store: Store, linker: Linker, labeller: describe.Labeller, base_iri: str,
                 shared: SharedPageData | None = None):
        self.store = store
        self.linker = linker
        self.labeller = labeller
        self.base_iri = base_iri
        self.shared = shared

    def term(self, node) -> Term:
        label = self.labeller.best(node.value) if isinstance(node, NamedNode) else None
        return self.linker.term(node, label)

    def build(self, iri: str, offset: int = 0, triples: list[Triple] | None = None) -> EntityPage:
        """The page; `triples` is the entity's description when the caller has read it already
        (the page's JSON-LD is serialized from the same triples)."""
        if triples is None:
            triples = describe.description(self.store, self.base_iri, iri)
        subject = NamedNode(iri)
        by_subject: dict[object, list[Triple]] = {}
        for t in triples:
            by_subject.setdefault(t.subject, []).append(t)
        self.labeller.prime("neighbour_labels", iri, _neighbours(subject, by_subject))
        claims = self._claims_rows(iri)
        self.labeller.prime("claims_about_labels", iri, _claim_iris(claims))
        own = by_subject.get(subject, [])
        main = self._node(subject, by_subject, skip=(RDF_TYPE, *LABEL_PROPERTIES, *NAME_PROPERTIES))
        names = {t.object for t in own if t.predicate.value in NAME_PROPERTIES}
        hash_nodes = [
            self._node(s, by_subject, anchor=s.value.partition("#")[2])
            for s in by_subject
            if isinstance(s, NamedNode) and s.value.startswith(iri + "#") and s not in names
        ]
        links, has_more = describe.incoming(self.store, self.base_iri, iri, offset, INCOMING_PAGE)
        counts = describe.incoming_counts(self.store, self.base_iri, iri)
        return EntityPage(
            iri=iri,
            title=self.labeller.best(iri) or self.linker.curie(iri) or iri,
            labels=sorted(
                (
                    (self.term(t.predicate), self.term(t.object))
                    for t in own
                    if t.predicate.value in LABEL_PROPERTIES and isinstance(t.object, Literal)
                ),
                key=lambda pair: (pair[1].language or "", pair[1].value),
            ),
            types=[self.term(t.object) for t in own if t.predicate.value == RDF_TYPE],
            main=main,
            hash_nodes=hash_nodes,
            external=self._external(own),
            quotes=self._quotes(subject, triples),
            sources=self._sources(subject, triples),
            claims_about=self._claims_about(claims),
            claims_total=self._claims_total(iri),
            claims_query=CLAIMS_QUERY.format(iri=iri, kgo=self.kgo("")),
            incoming_query=INCOMING_QUERY.format(iri=iri),
            incoming=[
                (self.term(NamedNode(x.subject)), self.term(NamedNode(x.property))) for x in links
            ],
            incoming_counts=sorted(
                ((self.term(NamedNode(p)), n) for p, n in counts.items()), key=lambda x: x[0].text
            ),
            incoming_next=offset + INCOMING_PAGE if has_more else None,
            incoming_prev=max(0, offset - INCOMING_PAGE) if offset > 0 else None,
            incoming_capped=describe.counts_capped(counts),
            name_uses=name_uses(self.store, self.base_iri, iri, self.term),
            link_states=link_states(self.store, self.base_iri, iri, self.term, self._targets()),
        )

    def kgo(self, local: str) -> str:
        return self.base_iri + "ontology#" + local

    def _node(self, subject, by_subject, skip=(), anchor=None, depth=0) -> Node:
        node = Node(self.term(subject), anchor)
        grouped: dict[str, list] = {}
        for t in by_subject.get(subject, []):
            if t.predicate.value not in skip:
                grouped.setdefault(t.predicate.value, []).append(t.object)
        for pred in sorted(grouped, key=lambda p: (self.labeller.best(p) or p).lower()):
            values: list[Term | Node] = []
            for obj in grouped[pred]:
                if isinstance(obj, BlankNode) and depth < 4:
                    values.append(self._node(obj, by_subject, depth=depth + 1))
                else:
                    values.append(self.term(obj))
            node.properties.append((self.term(NamedNode(pred)), values))
        return node

    def _external(self, own: list[Triple]) -> list[ExternalLink]:
        links = []
        for t in own:
            if t.predicate.value in EXTERNAL_LINK_PROPERTIES and isinstance(t.object, NamedNode):
                if not self.linker.is_ours(t.object.value):
                    links.append(
                        ExternalLink(
                            self.term(t.predicate),
                            self.linker.term(t.object),
                            dataset_of(t.object.value),
                        )
                    )
        return sorted(links, key=lambda x: (x.dataset or "~", x.target.value))

    def _sources(self, subject: NamedNode, triples: list[Triple]) -> list[Term]:
        return [self.term(o) for o in describe.objects(triples, subject, self.kgo("statedIn"))]

    def _quotes(self, subject: NamedNode, triples: list[Triple]) -> list[Quote]:
        """The verbatim quotes of a claim: evidence -> selector -> oa:exact, with the source."""
        quotes = []
        for evidence in describe.objects(triples, subject, self.kgo("evidence")):
            sources = list(describe.objects(triples, evidence, OA_SOURCE))
            for selector in describe.objects(triples, evidence, OA_SELECTOR):
                for exact in describe.objects(triples, selector, OA_EXACT):
                    source = self.term(sources[0]) if sources else None
                    quotes.append(Quote(exact.value, source))
        return quotes

    def _targets(self):
        """The datasets we link to: the same for every page of a build."""
        if self.shared is None:
            return None
        return self.shared.value("link_targets", lambda: link_targets(self.store, self.base_iri))

    def _claims_rows(self, iri: str) -> list[list]:
        """The solutions of the first CLAIMS_SHOWN claims in index order (streamed: the rest is
        never read), grouped by claim."""
        found: dict[str, list] = {}
        solutions = describe.run(self.store, "claims_about", self.base_iri, entity=NamedNode(iri))
        for s in solutions:
            claim = s["claim"].value
            if claim not in found and len(found) >= CLAIMS_SHOWN:
                break
            found.setdefault(claim, []).append(s)
        return list(found.values())

    def _claims_about(self, claims: list[list]) -> list[dict[str, Term | None]]:
        """The claims of `_claims_rows`, sorted by label (then IRI) for the page.

        A claim with several rows (two types, sources or quotes) shows one of each, chosen by
        value, not by which row came last: the rows come in the store's index order, which two
        engines do not share. Our own claim class (kgo:FigureClaim) wins over
        schema:Claim etc.
        """
        rows = []
        for solutions_of_claim in claims:
            s = min(solutions_of_claim, key=lambda r: (
                not self.linker.is_ours(r["type"].value), r["type"].value,
                r["source"] is None, r["source"].value if r["source"] else "",
                r["quote"] is None, str(r["quote"]) if r["quote"] else ""))
            rows.append({
                "claim": self.term(s["claim"]),
                "type": self.term(s["type"]),
                "source": self.term(s["source"]) if s["source"] else None,
                "quote": self.linker.term(s["quote"]) if s["quote"] else None,
            })
        return sorted(rows, key=lambda r: (r["claim"].text, r["claim"].value))

    def _claims_total(self, iri: str) -> int:
        rows = describe.run(self.store, "claims_about_count", self.base_iri, entity=NamedNode(iri))
        return sum(int(r["n"].value) for r in rows)


def _neighbours(subject: NamedNode, by_subject: dict) -> set[str]:
    """The IRIs neighbour_labels.rq labels, read from the description's triples: the entity,
    the properties and IRI values of it, of its blank nodes and hash resources, and of their
    blank nodes. When all are in the build's label table the query is not run."""
    iris = {subject.value}
    prefix = subject.value + "#"
    level = [subject]
    for depth in range(3):
        following = []
        for node in level:
            for t in by_subject.get(node, ()):
                iris.add(t.predicate.value)
                obj = t.object
                if isinstance(obj, NamedNode):
                    iris.add(obj.value)
                    if depth == 0 and obj.value.startswith(prefix):
                        following.append(obj)
                elif isinstance(obj, BlankNode) and (depth == 0 or isinstance(node, BlankNode)):
                    following.append(obj)
        level = following
    return iris


def _claim_iris(claims: list[list]) -> set[str]:
    """The IRIs the claims table names: each claim, its kinds and its sources."""
    iris = set()
    for solutions in claims:
        for s in solutions:
            iris.update(s[v].value for v in ("claim", "type", "source") if s[v] is not None)
    return iris


# Shown in the query UI (a link from a hub's page), so written for people: the IRIs are
# validated IRIs of our graph (NamedNode accepted them), never text from the request.
CLAIMS_QUERY = """# Every claim about <{iri}>, with its kind and its source
SELECT ?claim ?type ?source
WHERE {{
  ?claim <{kgo}about> <{iri}> .
  ?claim a ?type .
  OPTIONAL {{ ?claim <{kgo}statedIn> ?source }}
}}
"""
INCOMING_QUERY = """# Every link to <{iri}>: the subject and property of each triple naming it
SELECT ?subject ?property
WHERE {{
  ?subject ?property <{iri}> .
}}
"""
