"""Score candidate links: label match in all our languages, type compatibility, distance.

A wrong owl:sameAs is worse than none, so the scoring is built to be suspicious. A candidate
whose type belongs to another kind of thing (a film called "Khojaly") or that lies more than
`far_km` from our coordinates (a village of the same name 300 km away) is a *near-miss*: it is
flagged in the review file and `kg link --accept` refuses it unless the curator clears the flag.
Only the best candidate that is no near-miss, has a recognised type and scores at least
`propose_at` is marked "proposed"; even that is only a proposal until a curator accepts it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from pyoxigraph import Literal

from graph.linking.client import Row
from graph.linking.profiles import Profile

#: Kinds of thing (data/<kind>/) whose distance from a candidate is meaningful.
LOCATED_KINDS = frozenset({"place", "memorial"})
NEAR_MISS_FLAGS = frozenset({"wrong-type", "far"})

_POINT = re.compile(
    r"point\s*\(\s*([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s+([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*\)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class LocalEntity:
    """One thing of ours: IRI, kind (data/<kind>/), labels as (text, language), point (lon, lat)."""

    iri: str
    kind: str
    labels: tuple[tuple[str, str], ...]
    point: tuple[float, float] | None = None

    @property
    def languages(self) -> set[str]:
        return {lang for _, lang in self.labels}

    def label(self, lang: str = "en") -> str:
        for text, language in self.labels:
            if language == lang:
                return text
        return self.labels[0][0] if self.labels else self.iri


@dataclass
class Candidate:
    """One external item proposed for one of our entities, gathered from the candidates query."""

    entity: str
    item: str
    matched: set[tuple[str, str]] = field(default_factory=set)  # our labels it carries
    types: set[str] = field(default_factory=set)
    points: list[tuple[float, float]] = field(default_factory=list)
    description: str = ""


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    score: float
    label_score: float
    type_fit: str
    distance_km: float | None
    flags: tuple[str, ...]
    status: str = "candidate"  # "proposed", "candidate" or "near-miss"

    @property
    def near_miss(self) -> bool:
        return bool(NEAR_MISS_FLAGS & set(self.flags))


@dataclass(frozen=True)
class Thresholds:
    far_km: float = 50.0
    propose_at: float = 0.75
    ambiguous_within: float = 0.05


def normalise(text: str) -> str:
    """Compare labels case-, width- and space-insensitively (NFKC, casefold)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def parse_point(wkt: str) -> tuple[float, float] | None:
    """(longitude, latitude) from a WKT point, with or without a leading CRS IRI."""
    match = _POINT.search(wkt)
    if not match:
        return None
    return float(match.group(1)), float(match.group(2))


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle (haversine) distance between two (lon, lat) points, in kilometres."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, h)))


def gather(rows: Iterable[Row]) -> dict[str, dict[str, Candidate]]:
    """Fold candidate-query rows into {our entity: {item: Candidate}}."""
    found: dict[str, dict[str, Candidate]] = {}
    for row in rows:
        entity, item = row.get("entity"), row.get("item")
        if entity is None or item is None:
            continue
        cand = found.setdefault(entity.value, {}).setdefault(
            item.value, Candidate(entity.value, item.value)
        )
        label = row.get("label")
        if isinstance(label, Literal):
            cand.matched.add((label.value, label.language or ""))
        if "type" in row:
            cand.types.add(row["type"].value)
        point = _row_point(row)
        if point and point not in cand.points:
            cand.points.append(point)
        if "description" in row and not cand.description:
            cand.description = row["description"].value
    return found


def _row_point(row: Row) -> tuple[float, float] | None:
    if "coord" in row:
        return parse_point(row["coord"].value)
    if "lat" in row and "long" in row:
        try:
            return float(row["long"].value), float(row["lat"].value)
        except ValueError:
            return None
    return None


def score(
    entity: LocalEntity, cand: Candidate, profile: Profile, limits: Thresholds = Thresholds()
) -> Scored:
    """Weighted score in [0, 1]: label 0.4, type 0.4, distance 0.2 (when both sides have points)."""
    ours = {normalise(t) for t, _ in entity.labels}
    langs = entity.languages or {""}
    matched_langs = {lang for text, lang in cand.matched if normalise(text) in ours}
    label_score = 0.5 + 0.5 * len(matched_langs & langs) / len(langs) if matched_langs else 0.0
    fit = profile.type_fit(entity.kind, cand.types)
    type_score = {"ok": 1.0, "unrecognised": 0.5, "none": 0.5, "wrong": 0.0}[fit]
    flags: list[str] = []
    if fit == "wrong":
        flags.append("wrong-type")
    elif fit in ("unrecognised", "none"):
        flags.append("type-unrecognised" if fit == "unrecognised" else "no-type")
    km = None
    parts = [(0.4, label_score), (0.4, type_score)]
    if entity.kind in LOCATED_KINDS and entity.point:
        if cand.points:
            km = min(distance_km(entity.point, p) for p in cand.points)
            parts.append((0.2, 1.0 / (1.0 + km / 10.0)))
            if km > limits.far_km:
                flags.append("far")
        else:
            flags.append("no-coordinates")
    total = sum(w * s for w, s in parts) / sum(w for w, _ in parts)
    return Scored(cand, round(total, 4), round(label_score, 4), fit, km, tuple(flags))


def rank(
    entity: LocalEntity,
    candidates: Iterable[Candidate],
    profile: Profile,
    limits: Thresholds = Thresholds(),
) -> list[Scored]:
    """Best first; mark the proposal (if any), the near-misses and ambiguity between the best."""
    scored = sorted(
        (score(entity, c, profile, limits) for c in candidates),
        key=lambda s: (s.near_miss, -s.score, s.candidate.item),
    )
    clean = [s for s in scored if not s.near_miss]
    ambiguous = (
        len(clean) > 1 and clean[0].score - clean[1].score <= limits.ambiguous_within
    )
    out = []
    for s in scored:
        flags = s.flags + (("ambiguous",) if ambiguous and not s.near_miss else ())
        if s.near_miss:
            status = "near-miss"
        elif (
            clean and s is clean[0] and not ambiguous
            and s.type_fit == "ok" and s.score >= limits.propose_at
        ):
            status = "proposed"
        else:
            status = "candidate"
        out.append(Scored(s.candidate, s.score, s.label_score, s.type_fit, s.distance_km,
                          flags, status))
    return out
