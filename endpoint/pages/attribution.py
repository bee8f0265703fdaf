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


def link_states(
    store: Store, base_iri: str, iri: str, term: Callable[[object], Term]
) -> list[LinkState]:
    return [
        LinkState(
            dataset=s["targetLabel"].value if s["targetLabel"] else s["target"].value,
            status=term(s["status"]),
            link=term(s["link"]) if s["link"] else None,
        )
        for s in describe.run(store, "link_status", base_iri, entity=NamedNode(iri))
    ]
