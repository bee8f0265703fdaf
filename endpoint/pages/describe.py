"""Read what the pages show from the store: descriptions, labels, incoming links.

The SPARQL lives in graph/queries/pages/*.rq; this module binds the parameters with pyoxigraph
`substitutions` (never string formatting) and turns solutions into plain Python values that the
templates can print. Every query starts from a bound IRI, so a page costs the size of its answer,
not the size of the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from itertools import islice

from pyoxigraph import BlankNode, Literal, NamedNode, Store, Triple

from endpoint.pages.shared import SharedPageData
from graph.queries import Query, load_query
from graph.queries import run as run_query

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@cache
def page_query(name: str) -> Query:
    """graph/queries/pages/<name>.rq, read once per process."""
    return load_query(f"pages/{name}")


def run(store: Store, name: str, base_iri: str, **bindings: NamedNode | BlankNode | Literal):
    """Run a page query over the union of the named graphs, parameters bound by substitution.

    Our prefixes (kgo:, place:, ...) follow `base_iri`, so the same file works under any base.
    """
    return run_query(store, page_query(name), base_iri=base_iri, **bindings)


def exists(store: Store, base_iri: str, iri: str) -> bool:
    return bool(run(store, "entity_exists", base_iri, entity=NamedNode(iri)))


def description(store: Store, base_iri: str, iri: str) -> list[Triple]:
    """The entity's triples, its blank nodes and its hash resources, in a stable order."""
    triples = set(run(store, "entity_description", base_iri, entity=NamedNode(iri)))
    return sorted(triples, key=_triple_key)


def _triple_key(t: Triple) -> tuple[str, str, str]:
    return (str(t.subject), str(t.predicate), str(t.object))


@dataclass(frozen=True)
class IncomingLink:
    subject: str
    property: str


def incoming(
    store: Store, base_iri: str, iri: str, offset: int, limit: int
) -> tuple[list[IncomingLink], bool]:
    """One page of the links pointing at `iri`, and whether another page follows.

    Solutions are streamed and the iteration stops after the page, so page n costs
    offset + limit solutions, never the whole list.
    """
    solutions = run(store, "entity_inverse", base_iri, entity=NamedNode(iri))
    window = list(islice(solutions, offset, offset + limit + 1))
    links = [IncomingLink(s["subject"].value, s["property"].value) for s in window[:limit]]
    return links, len(window) > limit


#: entity_inverse_count.rq stops counting after this many links (its inner LIMIT is one more).
COUNT_CAP = 500


def incoming_counts(store: Store, base_iri: str, iri: str) -> dict[str, int]:
    """How many links point at `iri`, by property; past COUNT_CAP in all the counts are partial
    (`counts_capped` tells)."""
    rows = run(store, "entity_inverse_count", base_iri, entity=NamedNode(iri))
    return {r["property"].value: int(r["n"].value) for r in rows}


def counts_capped(counts: dict[str, int]) -> bool:
    return sum(counts.values()) > COUNT_CAP


@dataclass
class Labeller:
    """Labels of IRIs with language fallback: the reader's languages, English, untagged, any.

    One small query per distinct IRI, cached for the request: a page shows a few dozen IRIs.
    Within a language, rdfs:label beats skos:prefLabel, schema:name and dcterms:title.
    With `shared` (the build's SharedPageData), labels found by one page are kept for the
    others: a label is a function of the build, not of the request (only `best`'s choice among
    them follows the reader's languages, and that choice is made per request).
    """

    store: Store
    base_iri: str
    languages: tuple[str, ...] = ("en",)
    shared: SharedPageData | None = None
    _cache: dict[str, list[tuple[int, Literal]]] = field(default_factory=dict)

    def ranked(self, iri: str) -> list[tuple[int, Literal]]:
        found = self._cache.get(iri)
        if found is not None:
            return found
        found = self.shared.labels(iri) if self.shared is not None else None
        if found is None:
            rows = run(self.store, "label_lookup", self.base_iri, thing=NamedNode(iri))
            found = _rank((row["label"], row["rank"]) for row in rows)
            if self.shared is not None:
                self.shared.keep_labels({iri: found})
        self._cache[iri] = found
        return found

    def prime(self, query: str, iri: str, needed: Iterable[str] | None = None) -> None:
        """Fetch, in one query, the complete labels of every IRI a page block will name.

        `query` returns ?thing ?label ?rank for a bound ?entity (neighbour_labels.rq,
        claims_about_labels.rq); a thing without labels comes back with ?label unbound and is
        cached as having none, so the page does not ask again one IRI at a time. When the
        caller knows the IRIs (`needed`) and the shared table holds them all, no query runs.
        """
        if needed is not None and self.shared is not None:
            known = self.shared.known(needed)
            if known is not None:
                for thing, ranked in known.items():
                    self._cache.setdefault(thing, ranked)
                return
        found: dict[str, list] = {}
        for row in run(self.store, query, self.base_iri, entity=NamedNode(iri)):
            pairs = found.setdefault(row["thing"].value, [])
            if row["label"] is not None:
                pairs.append((row["label"], row["rank"]))
        ranked = {thing: _rank(pairs) for thing, pairs in found.items()}
        for thing, labels in ranked.items():
            self._cache.setdefault(thing, labels)
        if self.shared is not None:
            self.shared.keep_labels(ranked)

    def all(self, iri: str) -> list[Literal]:
        return [lit for _, lit in self.ranked(iri)]

    def best(self, iri: str) -> str | None:
        return pick_label(self.ranked(iri), self.languages)

    def best_language(self, iri: str) -> str | None:
        """The language tag of the label `best` picks (None when untagged or none): the page
        about `iri` declares it as its language, so a reader's tools (speech, hyphenation,
        translation) treat the page as written in it."""
        found = pick_literal(self.ranked(iri), self.languages)
        return found.language if found is not None else None


def _rank(pairs) -> list[tuple[int, Literal]]:
    """(label, rank) solutions -> one (rank, label) per distinct label, best rank first."""
    best: dict[tuple[str, str | None], tuple[int, Literal]] = {}
    for lit, rank_term in pairs:
        if isinstance(lit, Literal):
            rank = int(rank_term.value)
            key = (lit.value, lit.language)
            if key not in best or rank < best[key][0]:
                best[key] = (rank, lit)
    return sorted(best.values(), key=lambda x: (x[0], x[1].value))


def pick_label(labels: list[tuple[int, Literal]], languages: tuple[str, ...]) -> str | None:
    """The best-ranked label in the first language the reader asked for, then English,
    untagged, any. `labels` is sorted by rank."""
    found = pick_literal(labels, languages)
    return found.value if found is not None else None


def pick_literal(labels: list[tuple[int, Literal]], languages: tuple[str, ...]) -> Literal | None:
    """`pick_label`'s choice as the literal, with its language tag."""
    if not labels:
        return None
    for lang in (*languages, "en", ""):
        lang = lang.lower()
        if lang == "*":
            continue
        for _, lit in labels:
            tag = (lit.language or "").lower()
            if tag == lang or (lang and tag.split("-")[0] == lang.split("-")[0]):
                return lit
    return labels[0][1]


def objects(triples: list[Triple], subject: NamedNode | BlankNode, predicate: str) -> Iterator:
    """The objects of `subject predicate ?o` among already-fetched triples."""
    for t in triples:
        if t.subject == subject and t.predicate.value == predicate:
            yield t.object
