"""Link health (`kg link --check`): does each link still point at something plausible?

Targets change: items get merged (Wikidata answers `owl:sameAs` to the survivor, DBpedia
`dbo:wikiPageRedirects`), deleted, or edited into something else. For every link of ours to a
target we fetch, in VALUES batches, the item's labels, types and redirect, and judge:
"does not resolve" (the target knows nothing about it), "redirected", "label implausible" (none
of our labels, in any language, equals or closely resembles one of theirs) or "type implausible"
(a type of another kind of thing). A batch that fails after its retries is "unchecked", not bad.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher

from pyoxigraph import NamedNode

from graph.config import Settings
from graph.errors import RemoteUnavailable
from graph.linking.client import SparqlClient, batched, read_link_query, with_values
from graph.linking.ours import Link, existing_links, local_entities, read_data
from graph.linking.profiles import Profile
from graph.linking.scoring import LocalEntity, normalise

#: Two labels this similar (difflib ratio, after normalising) count as the same name.
SIMILAR = 0.8


@dataclass
class Seen:
    """What the target says now about one item."""

    labels: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)
    redirect: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Verdict:
    link: Link
    status: str  # "ok", "problem" or "unchecked"
    detail: str = ""


def check(
    settings: Settings, profile: Profile, client: SparqlClient, batch_size: int = 50
) -> list[Verdict]:
    """A verdict for every link of ours to the profile's dataset, in a stable order."""
    store = read_data(settings)
    links = existing_links(store, settings.base_iri, profile)
    entities = {e.iri: e for e in local_entities(store, settings.base_iri)}
    seen = fetch(client, profile, sorted({lk.target for lk in links}), batch_size)
    return [judge(profile, lk, entities.get(lk.entity), seen.get(lk.target)) for lk in links]


def fetch(
    client: SparqlClient, profile: Profile, items: list[str], batch_size: int
) -> dict[str, Seen]:
    query = read_link_query(profile.query_name("check"))
    seen: dict[str, Seen] = {}
    for batch in batched(items, batch_size):
        try:
            rows = client.select(with_values(query, [(NamedNode(t),) for t in batch]))
        except RemoteUnavailable as err:
            seen.update({t: Seen(error=str(err)) for t in batch})
            continue
        for row in rows:
            info = seen.setdefault(row["item"].value, Seen())
            if "label" in row:
                info.labels.add(row["label"].value)
            if "type" in row:
                info.types.add(row["type"].value)
            if "redirect" in row:
                info.redirect = row["redirect"].value
    return seen


def judge(profile: Profile, link: Link, entity: LocalEntity | None, info: Seen | None) -> Verdict:
    if info is not None and info.error:
        return Verdict(link, "unchecked", info.error)
    if info is None or not (info.labels or info.types or info.redirect):
        return Verdict(link, "problem", "does not resolve: the target knows nothing about it")
    if info.redirect:
        return Verdict(link, "problem", f"redirected to <{info.redirect}>")
    problems = []
    if entity is not None:
        ours = {normalise(t) for t, _ in entity.labels}
        theirs = {normalise(t) for t in info.labels}
        best = max((SequenceMatcher(None, a, b).ratio() for a in ours for b in theirs), default=0)
        if not ours & theirs and best < SIMILAR:
            problems.append(f"label implausible: ours {entity.label()!r}, theirs "
                            f"{sorted(info.labels)[:3]}")
        if profile.type_fit(entity.kind, info.types) == "wrong":
            problems.append("type implausible: " + ", ".join(sorted(info.types)))
    return Verdict(link, "problem", "; ".join(problems)) if problems else Verdict(link, "ok")
