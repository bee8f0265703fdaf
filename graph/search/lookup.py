"""Reading the search index: ranked, paged hits for /search and candidates for /reconcile.

Every lookup is an index lookup that stops after the rows it needs (docs/decisions/
0012-search-index.md). Hits come in tiers, best first:

    exact    a name equal to the query (after normalisation)          B-tree `name_norm`
    prefix   a name that starts with the query                        B-tree range
    words    a name, title or quote holding every word (the last one may be cut short)  FTS5
    any      (reconciliation) a name holding any of the words          FTS5
    similar  names sharing a four-character piece with the query (reconciliation, or a search
             the other tiers left empty)                               FTS5 trigram

Every tier reads its matches in rowid order, which the build made the static rank (labels
first, shorter first), and stops at its limit; candidates are then scored in Python.

A page takes the first `offset + size + 1` rows of each tier in turn, keeps an entity's first
(best) hit, and returns the slice; the extra row says whether there is a next page.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from graph.search.text import normalise, similarity, trigrams

#: The deepest page we answer (size × page): past it the user should narrow the query.
MAX_DEPTH = 1_000
#: Rows the reconciliation tiers read, each (then scored by similarity in Python).
SIMILAR_LIMIT = 50


@dataclass
class Hit:
    iri: str
    kind: str
    label: str
    description: str
    matched: str  # the name, title or quote that matched
    field: str  # label, title, name or quote
    tier: str  # exact, prefix, words, similar
    score: float = 0.0
    types: list[tuple[str, str]] = field(default_factory=list)  # (IRI, label)


@dataclass
class Results:
    query: str
    hits: list[Hit]
    page: int
    size: int
    more: bool


def _fts_words(norm: str) -> str:
    """An FTS5 query for all the words of a normalised text, the last one as a prefix."""
    words = [f'"{w}"' for w in norm.split()]
    if words:
        words[-1] += "*"
    return " ".join(words)


def _fts_any(norm: str) -> str:
    return " OR ".join(f'"{w}"' for w in norm.split())


def _fts_grams(norm: str) -> str:
    """Names sharing any four-character piece with the query (two overlapping trigrams): a
    typo spoils the pieces around it, not the others, and a piece is rarer than a trigram."""
    grams = [g for g in trigrams(norm) if '"' not in g]
    if len(grams) < 2:
        return " OR ".join(f'"{g}"' for g in grams)
    return " OR ".join(f'("{a}" AND "{b}")' for a, b in zip(grams, grams[1:], strict=False))


_HIT = ("SELECT e.iri, e.kind, e.label, e.description, n.text, n.field FROM name n "
        "JOIN entity e ON e.id = n.entity ")
_TIERS = {
    "exact": _HIT + "WHERE n.norm = :q ORDER BY n.id LIMIT :n",
    "prefix": _HIT + "WHERE n.norm > :q AND n.norm < :q || char(1114111) ORDER BY n.norm LIMIT :n",
    "words": _HIT + "WHERE n.id IN (SELECT rowid FROM name_words WHERE name_words MATCH :fts "
                    "ORDER BY rowid LIMIT :n) ORDER BY n.id",
    "any": _HIT + "WHERE n.id IN (SELECT rowid FROM name_words WHERE name_words MATCH :fts "
                  "ORDER BY rowid LIMIT :n)",
    "similar": _HIT + "WHERE n.id IN (SELECT rowid FROM name_grams WHERE name_grams MATCH :fts "
                      "ORDER BY rowid LIMIT :n)",
}


class SearchIndex:
    """The index of one build, opened read-only (a connection per call: cheap, thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no search index at {self.path}: run `kg build`")

    def _connect(self) -> closing[sqlite3.Connection]:
        return closing(sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True))

    def _tier(self, db: sqlite3.Connection, tier: str, norm: str, n: int) -> list[Hit]:
        fts = {"words": _fts_words, "any": _fts_any, "similar": _fts_grams}.get(tier)
        params = {"q": norm, "n": n, "fts": fts(norm) if fts else ""}
        if fts and not params["fts"]:
            return []
        rows = db.execute(_TIERS[tier], params).fetchall()
        return [Hit(iri, kind, label, desc, text, fld, tier)
                for iri, kind, label, desc, text, fld in rows]

    def search(self, query: str, page: int = 1, size: int = 20) -> Results:
        """Hits for a query, best first, one page of `size`; `similar` only if nothing else."""
        norm = normalise(query)
        want = min(page * size, MAX_DEPTH) + 1
        seen: dict[str, Hit] = {}
        with self._connect() as db:
            for tier in ("exact", "prefix", "words"):
                for hit in self._tier(db, tier, norm, want):
                    seen.setdefault(hit.iri, hit)
                if len(seen) >= want:
                    break
            if not seen:
                for hit in self._tier(db, "similar", norm, min(want, SIMILAR_LIMIT)):
                    if similarity(norm, normalise(hit.matched)) >= 0.5:
                        seen.setdefault(hit.iri, hit)
        hits = list(seen.values())
        start = (page - 1) * size
        return Results(query, hits[start : start + size], page, size, len(hits) > start + size)

    def candidates(self, query: str, type_iri: str | None = None, limit: int = 5) -> list[Hit]:
        """Reconciliation candidates, scored 0..100 by the best of their names (not quotes)."""
        norm = normalise(query)
        found: dict[str, Hit] = {}
        with self._connect() as db:
            for tier in ("exact", "prefix", "words", "any", "similar"):
                for hit in self._tier(db, tier, norm, SIMILAR_LIMIT):
                    if hit.field != "quote":
                        found.setdefault(hit.iri, hit)
            if type_iri:
                allowed = self._with_type(db, list(found), type_iri)
                found = {iri: h for iri, h in found.items() if iri in allowed}
            for hit in found.values():
                hit.matched, hit.score = self._best_name(db, hit.iri, norm)
                hit.types = self._types(db, hit.iri)
        ranked = sorted(found.values(), key=lambda h: (-h.score, len(h.label), h.iri))
        return ranked[:limit]

    def _with_type(self, db: sqlite3.Connection, iris: list[str], type_iri: str) -> set[str]:
        marks = ",".join("?" * len(iris))
        rows = db.execute(
            f"SELECT e.iri FROM entity e JOIN entity_type t ON t.entity = e.id "  # noqa: S608
            f"WHERE t.type = ? AND e.iri IN ({marks})", [type_iri, *iris])
        return {r[0] for r in rows}

    def _best_name(self, db: sqlite3.Connection, iri: str, norm: str) -> tuple[str, float]:
        """The name of `iri` most like the query, and the score: 100 for an exact label, a
        little less for an exact title or former name, else the similarity."""
        best, score = "", -1.0
        rows = db.execute("SELECT n.text, n.norm, n.field FROM name n JOIN entity e "
                          "ON e.id = n.entity WHERE e.iri = ? AND n.field != 'quote'", (iri,))
        for text, name_norm, fld in rows:
            s = similarity(norm, name_norm) * 100 - (0 if fld == "label" else 2)
            if s > score:
                best, score = text, s
        return best, round(max(score, 0.0), 1)

    def _types(self, db: sqlite3.Connection, iri: str) -> list[tuple[str, str]]:
        rows = db.execute("SELECT t.iri, t.label FROM entity_type et "
                          "JOIN type t ON t.iri = et.type JOIN entity e ON e.id = et.entity "
                          "WHERE e.iri = ? ORDER BY t.iri", (iri,))
        return [(a, b) for a, b in rows]

    def entity(self, iri: str) -> Hit | None:
        with self._connect() as db:
            row = db.execute("SELECT iri, kind, label, description FROM entity WHERE iri = ?",
                             (iri,)).fetchone()
            if row is None:
                return None
            hit = Hit(row[0], row[1], row[2], row[3], row[2], "label", "exact")
            hit.types = self._types(db, iri)
            return hit

    def types(self, query: str = "", limit: int = 20) -> list[tuple[str, str]]:
        """Classes whose label or IRI holds the query (the type suggest service)."""
        like = f"%{query.strip()}%"
        with self._connect() as db:
            rows = db.execute("SELECT iri, label FROM type WHERE label LIKE ? OR iri LIKE ? "
                              "ORDER BY length(label), label LIMIT ?", (like, like, limit))
            return [(a, b) for a, b in rows]

    def version(self) -> str:
        with self._connect() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            return row[0] if row else ""
