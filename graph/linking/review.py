"""The review file between `kg link` and `kg link --accept`: a TSV a curator edits by hand.

One row per (our entity, candidate), best first, with the evidence for the score (labels that
matched, type fit, distance, flags). The curator accepts a row by writing the link strength into
the `decision` column: `sameAs` (true identity), `exactMatch` or `closeMatch`. Nothing else is
accepted, and a near-miss (flags `wrong-type` or `far`) is refused unless the curator also
clears its flags, so that accepting one is always deliberate. Entities whose request failed are
listed with status `error`, so a partial run is visible in the file itself.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from graph.errors import DataError, Problem
from graph.linking.ours import LINK_PREDICATES, Accepted, atomic_write
from graph.linking.profiles import Profile
from graph.linking.scoring import NEAR_MISS_FLAGS, LocalEntity, Scored

COLUMNS = (
    "entity", "label", "kind", "rank", "candidate", "matched_labels", "description",
    "score", "type_fit", "distance_km", "flags", "status", "decision",
)


@dataclass(frozen=True)
class ReviewFile:
    meta: dict[str, str]
    accepted: list[Accepted]


def render(
    profile: Profile,
    endpoint: str,
    generated: str,
    ranked: dict[str, tuple[LocalEntity, list[Scored]]],
    failed: dict[str, tuple[LocalEntity, str]],
) -> str:
    """The review file's text: comment lines with where and when, then the TSV table."""
    out = io.StringIO()
    out.write(
        "# kg link review file. Accept a row by writing sameAs, exactMatch or closeMatch in\n"
        "# its decision column, then run: kg link --accept <this file>. Near-misses (flags\n"
        "# wrong-type, far) are refused unless you also clear their flags.\n"
        f"# profile: {profile.name}\n# endpoint: {endpoint}\n# generated: {generated}\n"
    )
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(COLUMNS)
    for iri in sorted(set(ranked) | set(failed)):
        if iri in failed:
            entity, reason = failed[iri]
            writer.writerow(_cells(entity, "", "", "", "", "", "", "", reason, "error"))
            continue
        entity, scored = ranked[iri]
        if not scored:
            writer.writerow(_cells(entity, "", "", "", "", "", "", "", "", "no-candidate"))
        for rank, s in enumerate(scored, start=1):
            c = s.candidate
            matched = "; ".join(f"{t}@{lang}" if lang else t for t, lang in sorted(c.matched))
            km = "" if s.distance_km is None else f"{s.distance_km:.1f}"
            writer.writerow(_cells(
                entity, str(rank), c.item, matched, c.description, f"{s.score:.3f}",
                s.type_fit, km, ",".join(s.flags), s.status,
            ))
    return out.getvalue()


def _cells(entity: LocalEntity, *rest: str) -> list[str]:
    return [entity.iri, _clean(entity.label()), entity.kind, *(_clean(x) for x in rest), ""]


def _clean(text: str) -> str:
    """Tabs and newlines would break the table: a cell is one line."""
    return " ".join(text.split())


def write(path: Path, text: str) -> None:
    atomic_write(path, text)


def read(path: Path, profile: Profile, known: Iterable[str]) -> ReviewFile:
    """The accepted rows of a review file; every problem found, with file:line, or DataError."""
    known_entities = set(known)
    meta: dict[str, str] = {}
    problems: list[Problem] = []
    accepted: list[Accepted] = []
    seen: dict[str, int] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    header: list[str] | None = None
    for number, line in enumerate(lines, start=1):
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep and key.strip() in ("profile", "endpoint", "generated"):
                meta[key.strip()] = value.strip()
            continue
        if not line.strip():
            continue
        cells = next(csv.reader([line], delimiter="\t"))
        if header is None:
            header = cells
            missing = {"entity", "candidate", "flags", "status", "decision"} - set(header)
            if missing:
                problems.append(Problem(f"missing columns: {', '.join(sorted(missing))}",
                                        file=str(path), line=number))
                break
            continue
        row = dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=False))
        problem, link = _accepted_row(row, profile, known_entities)
        if problem:
            problems.append(Problem(problem, file=str(path), line=number))
        elif link:
            if link.entity in seen:
                problems.append(Problem(
                    f"a second candidate accepted for <{link.entity}> (first on line "
                    f"{seen[link.entity]}); accept one per entity", file=str(path), line=number))
            seen[link.entity] = number
            accepted.append(link)
    if meta.get("profile", profile.name) != profile.name:
        problems.append(Problem(f"review file is for profile {meta['profile']!r}, "
                                f"not {profile.name!r}", file=str(path), line=1))
    if problems:
        raise DataError(problems)
    return ReviewFile(meta, accepted)


def _accepted_row(
    row: dict[str, str], profile: Profile, known: set[str]
) -> tuple[str | None, Accepted | None]:
    decision = row.get("decision", "").strip()
    if decision in ("", "-", "reject", "no"):
        return None, None
    if decision not in LINK_PREDICATES:
        return (f"decision {decision!r} is not one of {', '.join(LINK_PREDICATES)} "
                "(or empty / reject)"), None
    entity, candidate = row["entity"].strip(), row["candidate"].strip()
    flags = {f.strip() for f in row.get("flags", "").split(",") if f.strip()}
    if row.get("status") == "error" or not candidate:
        return "this row has no candidate to accept", None
    if flags & NEAR_MISS_FLAGS:
        near = ", ".join(sorted(flags & NEAR_MISS_FLAGS))
        return (f"candidate <{candidate}> is a near-miss ({near}); "
                "clear its flags cell to accept it deliberately"), None
    if entity not in known:
        return f"<{entity}> is not one of our entities", None
    if not candidate.startswith(profile.namespace):
        return f"<{candidate}> is not a {profile.title} identifier ({profile.namespace}...)", None
    return None, Accepted(entity, LINK_PREDICATES[decision], candidate)
