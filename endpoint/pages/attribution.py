"""Who uses each name of a thing, and its link status per target dataset, for the entity page.

A characterising name is shown with the claims that say who uses it (docs/decisions/
0009-attributed-names.md); the link status is derived from the linksets, one row a dataset.
Both come from page queries bound to the entity, so they cost the entity's names and links.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pyoxigraph import NamedNode, Store

from endpoint.pages import describe
from endpoint.pages.terms import Term
from graph.namespaces import entity_iri


@dataclass
class NameUse:
    """One attestation of a name: who uses it (or the source itself), per which source."""

    user: Term | None  # the claim's kgo:attributedTo; None: the source itself uses the name
    source: Term | None
    claim: Term
    name: Term  # the skosxl:Label, <entity#name-...>
    anchor: str  # its fragment, so /id/x#name-... lands on the name's row


@dataclass
class LinkState:
    dataset: str
    status: Term
    link: Term | None


def name_uses(
    store: Store, base_iri: str, iri: str, term: Callable[[object], Term]
) -> dict[tuple[str, str], list[NameUse]]:
    """(name, language) -> its attestations, for the names table."""
    uses: dict[tuple[str, str], list[NameUse]] = {}
    for s in describe.run(store, "name_attestations", base_iri, entity=NamedNode(iri)):
        form = s["form"]
        uses.setdefault((form.value, form.language or ""), []).append(
            NameUse(
                user=term(s["usedBy"]) if s["usedBy"] else None,
                source=term(s["source"]) if s["source"] else None,
                claim=term(s["claim"]),
                name=term(s["name"]),
                anchor=s["name"].value.partition("#")[2],
            )
        )
    return uses


def link_targets(store: Store, base_iri: str) -> list[tuple[str, str, str | None]]:
    """(target IRI, its namespace, its label) of every dataset we link to, in label order:
    the same for every page of a build (the page keeps it per version, pages/shared.py)."""
    rows = describe.run(store, "link_targets", base_iri, entity=NamedNode(base_iri))
    targets = [(r["target"].value, r["space"].value, r["name"].value if r["name"] else None)
               for r in rows]
    # link_status.rq's ORDER BY ?targetLabel: unlabelled first, then by label
    return sorted(targets, key=lambda t: (t[2] is not None, t[2] or ""))


def link_states(
    store: Store, base_iri: str, iri: str, term: Callable[[object], Term],
    targets: list[tuple[str, str, str | None]] | None = None,
) -> list[LinkState]:
    """One row a target dataset: the best status among the entity's links into its namespace
    (verified over proposed), pending without a link; link_status.rq's answer, read as the
    entity's links (entity_links.rq) grouped by the build's targets (link_targets.rq).

    Where several links fall in one namespace, the one shown is the least IRI (SPARQL's SAMPLE
    leaves it to the engine)."""
    if targets is None:
        targets = link_targets(store, base_iri)
    concept = entity_iri(base_iri, "concept", "link-status-")
    links = [(s["link"].value, s["status"].value)
             for s in describe.run(store, "entity_links", base_iri, entity=NamedNode(iri))]
    states = []
    for target, space, name in targets:
        inside = [(link, status) for link, status in links if link.startswith(space)]
        if not inside:
            best = "pending"
        elif any(status == concept + "verified" for _, status in inside):
            best = "verified"
        else:
            best = "proposed"
        states.append(LinkState(
            dataset=name if name is not None else target,
            status=term(NamedNode(concept + best)),
            link=term(NamedNode(min(link for link, _ in inside))) if inside else None,
        ))
    return states
