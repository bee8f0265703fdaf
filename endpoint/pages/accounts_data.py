"""What the "accounts compared" and recognitions pages show, read with graph/queries/pages/.

Competing accounts stand side by side: every claim on a disputed question is listed with its
source, the party it is attributed to, its date and the quote, sorted so that claims giving the
same answer come together and the disagreement is what a reader sees first. Nothing here ranks
or merges claims.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyoxigraph import NamedNode

from endpoint.pages import describe
from endpoint.pages.accounts_map import MapPoint, PlacedBody, body_anchor
from endpoint.pages.site_data import Page, SiteData, window

#: The most claims one question page reads (accounts_compared.rq caps its answer likewise).
CLAIMS_PER_QUESTION = 500


@dataclass
class Question:
    term: object  # Term
    slug: str
    definition: str


@dataclass
class Position:
    """One claim's answer to a question: an account's position, a date or a figure."""

    claim: object  # Term
    kind: str
    about: object | None
    answer: str
    sort_key: tuple
    qualifier: object | None
    source: object
    source_date: str | None
    perspective: object | None
    attributed_to: list = field(default_factory=list)
    answers: list = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)


@dataclass
class Recognition:
    claim: object
    body: object
    kind: object | None
    document: str | None
    adopted: str | None
    source: object
    source_date: str | None
    perspective: object | None
    terms: list[str] = field(default_factory=list)
    attributed_to: list = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)


def _number(lit) -> str | None:
    if lit is None:
        return None
    try:
        return f"{int(lit.value):,}"
    except ValueError:
        return lit.value


def _figure_text(r) -> tuple[str, tuple]:
    """The figure as the source bounds it, and a key that sorts figures by size."""
    value, low, high = (_number(r[k]) for k in ("value", "min", "max"))
    first = next((float(r[k].value) for k in ("value", "min", "max") if r[k] is not None), 0.0)
    if value is not None:
        text = value
    elif low is not None and high is not None:
        text = f"{low}–{high}"
    elif low is not None:
        text = f"≥ {low}"
    else:
        text = f"≤ {high}"
    return text, (1, first)


class AccountsData:
    """Reads the two pages for one request, through the site's labeller and linker."""

    def __init__(self, site: SiteData):
        self.site = site
        self.kgo = site.base + "ontology#"
        self.concept = site.base + "id/concept/"

    def _run(self, name: str, **bindings):
        return describe.run(self.site.store, name, self.site.base, **bindings)

    def questions(self) -> list[Question]:
        rows = self._run("questions")
        found: dict[str, Question] = {}
        for r in rows:
            iri = r["question"].value
            if iri not in found:
                found[iri] = Question(self.site.term(r["question"]),
                                      iri.removeprefix(self.concept + "question-"),
                                      r["definition"].value if r["definition"] else "")
        return sorted(found.values(), key=lambda q: q.slug)

    def question(self, slug: str) -> Question | None:
        return next((q for q in self.questions() if q.slug == slug), None)

    def positions(self, slug: str) -> list[Position]:
        """Every claim on the question, sorted by what it says, then by the source's date."""
        iri = NamedNode(self.concept + "question-" + slug)
        positions: dict[str, Position] = {}
        for r in self._run("accounts_compared", question=iri):
            key = r["claim"].value
            if key not in positions:
                positions[key] = self._position(r)
            p = positions[key]
            for attr, var in (("attributed_to", "attributedTo"), ("answers", "answers")):
                if r[var] is not None and all(t.value != r[var].value for t in getattr(p, attr)):
                    getattr(p, attr).append(self.site.term(r[var]))
            if r["quote"] is not None and r["quote"].value not in p.quotes:
                p.quotes.append(r["quote"].value)
        for p in positions.values():
            _in_order(p.attributed_to, p.answers, p.quotes)
        return sorted(positions.values(),
                      key=lambda p: (p.sort_key, str(p.source_date or "9999"), p.source.text,
                                     p.claim.value))

    def _position(self, r) -> Position:
        kind = r["type"].value.rpartition("#")[2] if r["type"] is not None else "Claim"
        about = self.site.term(r["about"])
        if r["counts"] is not None and any(r[k] is not None for k in ("value", "min", "max")):
            text, key = _figure_text(r)
            counted = self.site.term(r["counts"]).text
            group = self.site.term(r["group"]).text if r["group"] is not None else ""
            answer = f"{text} {group} — {counted}".replace("  ", " ")
            key = (0, counted, group, *key)
        elif r["position"] is not None:
            answer = r["position"].value
            key = (1, about.text if about else "", answer.lower())
        else:
            answer = r["date"].value if r["date"] is not None else ""
            key = (2, answer)
        return Position(claim=self.site.term(r["claim"]), kind=kind, about=about, answer=answer,
                        sort_key=key, qualifier=self.site.term(r["qualifier"]),
                        source=self.site.term(r["source"]),
                        source_date=r["sourceDate"].value if r["sourceDate"] else None,
                        perspective=self.site.term(r["perspective"]))

    def recognitions(self, number: int = 1) -> tuple[list[Recognition], Page]:
        """One page of recognition claims, sorted by the date adopted (or, lacking one, the
        source's date) within the page."""
        rows, page = window(self._run("recognitions"), lambda r: r["claim"], number,
                            self.site.page_size)
        found: dict[str, Recognition] = {}
        for r in rows:
            key = r["claim"].value
            if key not in found:
                found[key] = Recognition(
                    claim=self.site.term(r["claim"]), body=self.site.term(r["body"]),
                    kind=self.site.term(r["kind"]),
                    document=r["document"].value if r["document"] else None,
                    adopted=r["adopted"].value if r["adopted"] else None,
                    source=self.site.term(r["source"]),
                    source_date=r["sourceDate"].value if r["sourceDate"] else None,
                    perspective=self.site.term(r["perspective"]))
            rec = found[key]
            if r["term"] is not None and r["term"].value not in rec.terms:
                rec.terms.append(r["term"].value)
            if r["attributedTo"] is not None and all(
                    t.value != r["attributedTo"].value for t in rec.attributed_to):
                rec.attributed_to.append(self.site.term(r["attributedTo"]))
            if r["quote"] is not None and r["quote"].value not in rec.quotes:
                rec.quotes.append(r["quote"].value)
        for rec in found.values():
            _in_order(rec.terms, rec.attributed_to, rec.quotes)
        listed = sorted(found.values(), key=lambda x: (str(x.adopted or x.source_date or "9999"),
                                                       x.body.text, x.claim.value))
        return listed, page


    def recognition_bodies(self) -> tuple[list[MapPoint], list[PlacedBody]]:
        """The recognising bodies the graph places at a point with coordinates (one point per
        place, bodies by name), and the others (no place, or a place without coordinates)."""
        points: dict[str, MapPoint] = {}
        placed: set[str] = set()
        everyone: dict[str, PlacedBody] = {}
        for r in self._run("recognition_bodies"):
            body = self.site.term(r["body"])
            entry = everyone.setdefault(body.value, PlacedBody(body, body_anchor(body.value)))
            if r["place"] is None or r["lat"] is None or r["long"] is None:
                continue
            try:
                lat, long = float(r["lat"].value), float(r["long"].value)
            except ValueError:
                continue
            point = points.setdefault(r["place"].value, MapPoint(self.site.term(r["place"]),
                                                                 lat, long))
            if body.value not in placed:
                point.bodies.append(entry)
                placed.add(body.value)
        for point in points.values():
            point.bodies.sort(key=lambda b: (b.body.text, b.body.value))
        unplaced = sorted((b for v, b in everyone.items() if v not in placed),
                          key=lambda b: (b.body.text, b.body.value))
        return sorted(points.values(), key=lambda p: (p.place.text, p.place.value)), unplaced


def _in_order(*lists: list) -> None:
    """Sort the values of multi-valued properties (terms, answers, quotes…) in place.

    RDF gives them no order and the query has no ORDER BY, so they arrive in the store's index
    order, which is not the same on two engines (Oxigraph, Virtuoso); by text, then IRI,
    they read the same from either.
    """
    for values in lists:
        values.sort(key=lambda v: (v, "") if isinstance(v, str) else (v.text, v.value))
