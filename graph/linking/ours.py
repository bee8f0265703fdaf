"""Our side of linking: our entities and existing links, read from data/; reviewed links written.

Linking reads the curated files (not the built store) so that `kg link` sees what a curator just
edited. Accepted links are written to `data/links/<target>-reviewed-<date>.ttl`, one file (so one
named graph and one reviewable diff) per day of review, described as a `void:Linkset` with where
the candidates came from (the endpoint), when they were accepted, and how (`kgo:linkMethod`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pyoxigraph import Literal, NamedNode, RdfFormat, Store, parse

from graph.build.inputs import load
from graph.config import Settings
from graph.linking.profiles import Profile
from graph.linking.scoring import LocalEntity, parse_point
from graph.queries import run

#: Kinds of thing (data/<kind>/) that external datasets describe and we try to link.
LINKABLE_KINDS = ("event", "place", "organisation", "memorial", "person")

LINK_PREDICATES = {
    "sameAs": "http://www.w3.org/2002/07/owl#sameAs",
    "exactMatch": "http://www.w3.org/2004/02/skos/core#exactMatch",
    "closeMatch": "http://www.w3.org/2004/02/skos/core#closeMatch",
}


@dataclass(frozen=True)
class Link:
    entity: str
    predicate: str
    target: str
    graph: str


def read_data(settings: Settings) -> Store:
    """Our curated files (ontology and data) in an in-memory store, one named graph per file."""
    store = Store()
    store.extend(load(settings).all_quads())
    return store


def kind_of(iri: str, base_iri: str) -> str | None:
    """The kind of a thing IRI {base}id/{kind}/{slug}; None for anything else (fragments too)."""
    prefix = base_iri + "id/"
    if not iri.startswith(prefix) or "#" in iri:
        return None
    parts = iri[len(prefix) :].split("/")
    return parts[0] if len(parts) == 2 and parts[1] else None


def local_entities(
    store: Store, base_iri: str, kinds: Iterable[str] = LINKABLE_KINDS
) -> list[LocalEntity]:
    """Our things of the given kinds with every label (text, language) and their point, if any."""
    wanted = set(kinds)
    labels: dict[str, set[tuple[str, str]]] = {}
    for row in run(store, "link/local-labels", base_iri=base_iri):
        iri = row["entity"].value
        if kind_of(iri, base_iri) in wanted:
            labels.setdefault(iri, set()).add((row["label"].value, row["label"].language or ""))
    points: dict[str, tuple[float, float]] = {}
    for row in run(store, "link/local-points", base_iri=base_iri):
        iri = row["entity"].value
        if iri in points:
            continue
        if row["lat"] is not None and row["long"] is not None:
            points[iri] = (float(row["long"].value), float(row["lat"].value))
        elif row["wkt"] is not None and (p := parse_point(row["wkt"].value)):
            points[iri] = p
    return [
        LocalEntity(iri, kind_of(iri, base_iri) or "", tuple(sorted(labels[iri])), points.get(iri))
        for iri in sorted(labels)
    ]


def existing_links(store: Store, base_iri: str, profile: Profile | None = None) -> list[Link]:
    """Every owl:sameAs / skos:exactMatch / skos:closeMatch of ours, optionally to one target."""
    links = []
    for row in run(store, "link/local-links", base_iri=base_iri):
        target = row["target"].value
        if profile is None or profile.is_identifier(target):
            links.append(
                Link(row["entity"].value, row["predicate"].value, target, row["g"].value)
            )
    return sorted(set(links), key=lambda link: (link.entity, link.target, link.predicate))


@dataclass(frozen=True)
class Accepted:
    entity: str
    predicate: str  # full IRI
    target: str


def reviewed_path(settings: Settings, profile: Profile, day: date) -> Path:
    return settings.data_dir / "links" / f"{profile.name}-reviewed-{day.isoformat()}.ttl"


def write_reviewed(
    settings: Settings,
    profile: Profile,
    links: Iterable[Accepted],
    *,
    endpoint: str,
    review_file: str,
    day: date,
) -> tuple[Path, int]:
    """Merge accepted links into the day's reviewed linkset file (atomically); return it and
    the number of links it now holds."""
    path = reviewed_path(settings, profile, day)
    all_links = set(links) | set(_links_in(path, settings.base_iri))
    text = render_reviewed(
        settings.base_iri, profile, sorted(all_links, key=lambda a: (a.entity, a.target)),
        endpoint=endpoint, review_file=review_file, day=day, stem=path.stem,
    )
    atomic_write(path, text)
    return path, len(all_links)


def _links_in(path: Path, base_iri: str) -> list[Accepted]:
    if not path.exists():
        return []
    wanted = set(LINK_PREDICATES.values())
    with path.open("rb") as fh:
        triples = parse(fh, format=RdfFormat.TURTLE, base_iri=base_iri)
        return [
            Accepted(t.subject.value, t.predicate.value, t.object.value)
            for t in triples
            if t.predicate.value in wanted
        ]


def render_reviewed(
    base_iri: str,
    profile: Profile,
    links: list[Accepted],
    *,
    endpoint: str,
    review_file: str,
    day: date,
    stem: str,
) -> str:
    """Deterministic Turtle for one reviewed linkset (absolute IRIs, sorted links).

    Literal values are written through pyoxigraph terms, so no input can break the syntax.
    """
    linkset = NamedNode(f"{base_iri}dataset/linkset/{stem}")
    predicates = sorted({a.predicate for a in links}) or [LINK_PREDICATES["exactMatch"]]
    xsd_date = NamedNode("http://www.w3.org/2001/XMLSchema#date")
    title = f"links to {profile.title} accepted in review, {day}"
    lines = [
        f"# Links to {profile.title} proposed by `kg link` and accepted by a curator on {day}.",
        "# Generated by `kg link --accept`: change the review file and accept again rather",
        "# than editing this file by hand.",
        "",
        "@prefix void:    <http://rdfs.org/ns/void#> .",
        "@prefix dcterms: <http://purl.org/dc/terms/> .",
        "@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .",
        "@prefix prov:    <http://www.w3.org/ns/prov#> .",
        "",
        f"{linkset} a void:Linkset ;",
        f"    rdfs:label {Literal(title, language='en')} ;",
        f"    void:subjectsTarget {NamedNode(base_iri + 'dataset')} ;",
        f"    void:objectsTarget {NamedNode(profile.dataset)} ;",
        "    void:linkPredicate " + ", ".join(str(NamedNode(p)) for p in predicates) + " ;",
        f"    void:triples {len(links)} ;",
        f"    dcterms:source {NamedNode(endpoint)} ;",
        f"    prov:wasDerivedFrom {NamedNode(endpoint)} ;",
        f"    dcterms:created {Literal(day.isoformat(), datatype=xsd_date)} ;",
        f"    {NamedNode(base_iri + 'ontology#linkMethod')} "
        f"{NamedNode(base_iri + 'ontology#ReviewedReconciliation')} ;",
        "    dcterms:description "
        + str(Literal(
            f"Candidates found by `kg link --profile {profile.name}` (label, type and distance "
            f"scoring) and accepted one by one by a curator in the review file {review_file}.",
            language="en",
        ))
        + " .",
        "",
    ]
    for a in links:
        lines.append(f"{NamedNode(a.entity)} {NamedNode(a.predicate)} {NamedNode(a.target)} .")
    return "\n".join(lines) + "\n"


def atomic_write(path: Path, text: str) -> None:
    """Write a file so that readers see the old content or the new, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
