"""Find candidate links for our entities that have none yet (`kg link --out`).

Our entities come from the curated files; each batch of them costs one request (their labels in
every language as VALUES rows); the answers are scored by graph.linking.scoring. A batch that fails
after its retries is recorded per entity, and the run goes on with the next batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode

from graph.config import Settings
from graph.errors import RemoteUnavailable
from graph.linking.client import SparqlClient, batched, read_link_query, with_values
from graph.linking.ours import LINKABLE_KINDS, existing_links, local_entities, read_data
from graph.linking.profiles import Profile
from graph.linking.scoring import LocalEntity, Scored, Thresholds, gather, rank


@dataclass
class Proposal:
    todo: list[LocalEntity]
    ranked: dict[str, tuple[LocalEntity, list[Scored]]] = field(default_factory=dict)
    failed: dict[str, tuple[LocalEntity, str]] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for _, scored in self.ranked.values() for s in scored if s.status == status)


def propose(
    settings: Settings,
    profile: Profile,
    client: SparqlClient,
    *,
    kinds: Iterable[str] = LINKABLE_KINDS,
    include_linked: bool = False,
    batch_size: int = 20,
    limits: Thresholds | None = None,
) -> Proposal:
    store = read_data(settings)
    entities = local_entities(store, settings.base_iri, kinds)
    linked = {lk.entity for lk in existing_links(store, settings.base_iri, profile)}
    result = Proposal([e for e in entities if include_linked or e.iri not in linked])
    query = read_link_query(profile.query_name("candidates"))
    for batch in batched(result.todo, batch_size):
        rows = [(NamedNode(e.iri), Literal(t, language=lang) if lang else Literal(t))
                for e in batch for t, lang in e.labels]
        try:
            found = gather(client.select(with_values(query, rows)))
        except RemoteUnavailable as err:
            result.failed.update({e.iri: (e, str(err)) for e in batch})
            continue
        for e in batch:
            cands = found.get(e.iri, {}).values()
            result.ranked[e.iri] = (e, rank(e, cands, profile, limits or Thresholds()))
    return result
