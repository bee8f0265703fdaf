"""What the site's pages show, read from the store with the .rq files in graph/queries/pages/.

Kept apart from the routes (endpoint/pages/site.py) and from the drawing
(endpoint/pages/pictures.py): each function here runs one or two queries from a bound predicate or
IRI and returns plain values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Store

from endpoint.pages import describe
from endpoint.pages.pictures import Bar, BarGroup, MapPlace, TimelineItem, year_fraction
from endpoint.pages.terms import Linker, Term

VOID = "http://rdfs.org/ns/void#"
DCT = "http://purl.org/dc/terms/"
STAT_PROPERTIES = (
    ("triples", VOID + "triples"),
    ("entities", VOID + "entities"),
    ("classes", VOID + "classes"),
    ("properties", VOID + "properties"),
    ("distinct subjects", VOID + "distinctSubjects"),
)


@dataclass(frozen=True)
class Page:
    """Where a listing page sits: its number (1-based) and whether another follows."""

    number: int
    has_next: bool

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.has_next else None


def window(rows: Iterable, key: Callable, number: int, size: int) -> tuple[list, Page]:
    """The rows of the `number`-th run of `size` distinct keys, read from a stream that is left
    unread past it.

    The page queries have no ORDER BY (a sort would read every solution in the store): they
    stream in index order, which is stable for one store, and a page reads offset + size keys and
    stops. Rows of one key (a claim with two quotes) come together in that order; a key seen
    again later still belongs to the page that first met it. Deep pages cost their offset; the
    first pages, which is what people and crawlers read, cost the page.
    """
    first, stop = (number - 1) * size, number * size
    index: dict[object, int] = {}
    picked = []
    for row in rows:
        k = key(row)
        if k not in index:
            if len(index) == stop:
                return picked, Page(number, True)
            index[k] = len(index)
        if index[k] >= first:
            picked.append(row)
    return picked, Page(number, False)


@dataclass
class Figure:
    """One source's figure for one thing counted, with what it rests on."""

    claim: Term
    value: float | None
    low: float | None
    high: float | None
    qualifier: Term | None
    reference_date: str | None
    source: Term
    source_date: str | None
    attributed_to: Term | None
    quotes: list[str] = field(default_factory=list)

    @property
    def bar(self) -> Bar:
        label = self.source.text
        if self.attributed_to is not None:
            label = f"{self.attributed_to.text}, per {label}"
        qualifier = self.qualifier.text if self.qualifier is not None else None
        return Bar(label, self.value, self.low, self.high, self.claim.href, qualifier)


@dataclass
class Counted:
    """A thing counted (an outcome, of a population group) and every source's figure for it."""

    counts: Term
    group: Term | None
    figures: list[Figure]

    @property
    def title(self) -> str:
        return f"{self.counts.text} — {self.group.text}" if self.group else self.counts.text


class SiteData:
    """Reads the site's data for one request (shares one Labeller, so labels are fetched once)."""

    def __init__(
        self, store: Store, base_iri: str, linker: Linker, languages=("en",), page_size: int = 50
    ):
        self.store = store
        self.base = base_iri
        self.linker = linker
        self.page_size = page_size
        self.labeller = describe.Labeller(store, base_iri, tuple(languages))

    def term(self, node) -> Term | None:
        if node is None:
            return None
        label = self.labeller.best(node.value) if isinstance(node, NamedNode) else None
        return self.linker.term(node, label)

    def _run(self, name: str, **bindings):
        return describe.run(self.store, name, self.base, **bindings)

    def dataset(self) -> dict[str, str]:
        """Literal properties of {base}dataset: its title, description and build statistics."""
        rows = self._run("dataset", dataset=NamedNode(self.base + "dataset"))
        values: dict[str, str] = {}
        for r in rows:
            lit = r["value"]
            if isinstance(lit, Literal) and lit.language in (None, "", "en"):
                values.setdefault(r["property"].value, lit.value)
        return values

    def statistics(self, dataset: dict[str, str]) -> list[tuple[str, str]]:
        kgo = self.base + "ontology#"
        wanted = (*STAT_PROPERTIES,
                  ("claims and sourced facts whose quotes are checked at build against "
                   "their source's stored text", kgo + "quotedClaims"),
                  ("claims whose source's text cannot be held (marked not checkable)",
                   kgo + "uncheckedClaims"))
        return [(name, dataset[p]) for name, p in wanted if p in dataset]

    def class_counts(self) -> dict[str, int]:
        """Instances of kgo:SourceDocument and kgo:FigureClaim, as the build's VoID class
        partitions count them (by local name); empty when the store has no VoID graph."""
        rows = self._run("class_counts", dataset=NamedNode(self.base + "dataset"))
        return {r["class"].value.rpartition("#")[2]: int(r["n"].value) for r in rows}

    def _page(self, name: str, key: str, number: int) -> tuple[list, Page]:
        return window(self._run(name), lambda r: r[key], number, self.page_size)

    def sources(self, number: int = 1) -> tuple[list[dict[str, Term | str | None]], Page]:
        """One page of source documents, sorted by date and title within the page."""
        rows, page = self._page("sources", "source", number)
        seen: dict[str, dict[str, Term | str | None]] = {}
        for r in rows:
            key = r["source"].value
            if key in seen:
                continue
            seen[key] = {
                "source": self.term(r["source"]),
                "date": r["date"].value if r["date"] else None,
                "publisher": self.term(r["publisher"]),
                "url": r["url"].value if r["url"] else None,
            }
        listed = sorted(seen.values(),
                        key=lambda s: (str(s["date"] or "9999"), s["source"].text,
                                       s["source"].value))
        return listed, page

    def places(self, number: int = 1) -> tuple[list[MapPlace], Page]:
        """One page of places with coordinates, sorted by label within the page."""
        rows, page = self._page("places", "place", number)
        places: dict[str, MapPlace] = {}
        for r in rows:
            try:
                lat, long = float(r["lat"].value), float(r["long"].value)
            except ValueError:
                continue
            term = self.term(r["place"])
            places.setdefault(term.value, MapPlace(term.text, lat, long, term.href))
        return sorted(places.values(), key=lambda p: (p.label, p.href or "", p.lat, p.long)), page

    def timeline(self, number: int = 1) -> tuple[list[TimelineItem], list[TimelineItem], Page]:
        """One page of dated things (by date within the page) and the recurring events (the
        first page of them: a handful in any real graph)."""
        rows, page = self._page("timeline", "thing", number)
        items: dict[tuple[str, str], TimelineItem] = {}
        for r in rows:
            when = year_fraction(r["date"].value)
            if when is None:
                continue
            term = self.term(r["thing"])
            items[(term.value, r["date"].value)] = TimelineItem(
                term.text, when, r["date"].value, term.href
            )
        recurring = []
        schedules, _ = window(self._run("schedules"), lambda r: r["thing"], 1, self.page_size)
        for r in schedules:
            term = self.term(r["thing"])
            month, day = int(r["month"].value), int(r["day"].value)
            when = 2000 + (month - 1) / 12 + (day - 1) / 365  # only the fraction is used
            text = f"{term.text} (every year on {day} {_MONTHS[month - 1]})"
            recurring.append(TimelineItem(text, when, f"--{month:02d}-{day:02d}", term.href))
        # ties broken by label, then the link: the order must not depend on the store
        # (Oxigraph and Virtuoso differ: the remote backend)
        recurring.sort(key=lambda i: (i.date_text, i.label, i.href or ""))
        dated = sorted(items.values(), key=lambda i: (i.when, i.label, i.href or "", i.date_text))
        return dated, recurring, page

    def sources_compared(self, number: int = 1) -> tuple[list[Counted], Page]:
        """One page of figure claims, grouped by what they count (outcome + population group).

        The query streams claims in the order of what they count, so a group is split only
        where a page ends; groups and figures are sorted within the page.
        """
        by_claim: dict[str, list] = {}
        rows, page = self._page("sources_compared", "claim", number)
        for r in rows:
            by_claim.setdefault(r["claim"].value, []).append(r)
        figures: dict[str, Figure] = {}
        keys: dict[str, tuple[Term, Term | None]] = {}
        for claim, claim_rows in by_claim.items():
            # a claim with several values of a field (two attributions, two dates) has a row for
            # each: the one shown is chosen by value, so every store shows the same, whatever
            # order its rows come in
            r = min(claim_rows, key=_row_key)
            figures[claim] = Figure(
                claim=self.term(r["claim"]),
                value=_number(r["value"]),
                low=_number(r["min"]),
                high=_number(r["max"]),
                qualifier=self.term(r["qualifier"]),
                reference_date=r["refDate"].value if r["refDate"] else None,
                source=self.term(r["source"]),
                source_date=r["sourceDate"].value if r["sourceDate"] else None,
                attributed_to=self.term(r["attributedTo"]),
            )
            keys[claim] = (self.term(r["counts"]), self.term(r["group"]))
            for row in claim_rows:
                quote = row["quote"].value if row["quote"] else None
                if quote and quote not in figures[claim].quotes:
                    figures[claim].quotes.append(quote)
        groups: dict[tuple[str, str], Counted] = {}
        for claim, figure in figures.items():
            counts, group = keys[claim]
            key = (counts.value, group.value if group else "")
            groups.setdefault(key, Counted(counts, group, [])).figures.append(figure)
        for g in groups.values():
            g.figures.sort(key=lambda f: (f.source_date or "9999", f.source.text, f.claim.text,
                                          f.claim.value))
        for f in figures.values():
            f.quotes.sort()  # several quotes of one claim come in the store's order
        return sorted(groups.values(),
                      key=lambda g: (-len(g.figures), g.title, g.counts.value,
                                     g.group.value if g.group else "")), page

    @staticmethod
    def chart_groups(counted: list[Counted]) -> list[BarGroup]:
        return [
            BarGroup(c.title, [f.bar for f in c.figures])
            for c in counted
            if any(x is not None for f in c.figures for x in (f.value, f.low, f.high))
        ]


_MONTHS = (
    "January February March April May June July August September October November December"
).split()


def _number(lit) -> float | None:
    if lit is None:
        return None
    try:
        return float(lit.value)
    except ValueError:
        return None


_FIGURE_FIELDS = ("counts", "group", "value", "min", "max", "qualifier", "refDate", "source",
                  "sourceDate", "attributedTo")


def _row_key(row) -> tuple[str, ...]:
    """A total order on a claim's rows by the values shown, for a choice every store agrees on."""
    return tuple(row[name].value if row[name] is not None else "" for name in _FIGURE_FIELDS)
