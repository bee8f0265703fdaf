"""Shape regression check: no query the site runs may slow down as the store grows.

pyoxigraph 0.5 evaluates some innocent shapes in time proportional to the store, not to the
answer (a star-shaped OPTIONAL, a property path inside OPTIONAL or written from its unbound
end). Absolute times depend on the machine, so this compares, in one run, each query's time
divided by a one-triple lookup on a 10k store and on a big one. Every query is read the way the
site reads it: the listing pages (places, sources, timeline, sources compared) and an entity's
incoming links and claims stream in index order and stop after a page, so they are timed up to
the end of their first page; the rest are read whole. A query whose normalised time grows by
more than --factor has an O(store) shape. When the answer itself differs between the sizes (a
hub, whose page fills only in the big store), the time per row is compared instead.

    python -m bench.shapes --size 1M          # `make bench-shapes`; exit 1 on a regression

tests/test_query_shapes.py runs the same check in the test suite.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from bench.run import BASE, WORK, bindings, ensure_data

REF = "SELECT ?e ?l WHERE { ?e <http://www.w3.org/2000/01/rdf-schema#label> ?l }"
#: Keys a listing query is read for. Smaller than the site's page (KG_PAGE_SIZE, 50) so that
#: the first page is full in the 10k store too (13 sources there) and both sizes return the
#: same answer; the cost of a page is linear in its size, the shape is what is tested.
SHAPE_PAGE = 10


@dataclass(frozen=True)
class Reading:
    """How the site reads one page query: the variable whose distinct values make a page (None:
    the whole answer) and how many of them it reads (one more than it shows, to know of a next
    page). `weight` names a count the query returns (a capped COUNT): its rows stand for that
    many links of the answer."""

    key: str | None = None
    keys: int = 0
    weight: str | None = None


def readings(page: int = SHAPE_PAGE) -> dict[str, Reading]:
    """Every query in graph/queries/pages/, with the way endpoint/ reads it; listings read one
    page of `page` keys (the site's is KG_PAGE_SIZE, 50: pass it to time what a reader waits
    for, as the benchmark's query table should)."""
    from endpoint.pages.entity_model import CLAIMS_SHOWN, INCOMING_PAGE

    paged = {
        "places": Reading("place", page + 1),
        "sources": Reading("source", page + 1),
        "timeline": Reading("thing", page + 1),
        "schedules": Reading("thing", page + 1),
        "sources_compared": Reading("claim", page + 1),
        "recognitions": Reading("claim", page + 1),
        "entity_inverse": Reading("subject", INCOMING_PAGE + 1),
        "claims_about": Reading("claim", CLAIMS_SHOWN + 1),
        "entity_inverse_count": Reading(weight="n"),
        "claims_about_count": Reading(weight="n"),
    }
    return {q.name.removeprefix("pages/"): paged.get(q.name.removeprefix("pages/"), Reading())
            for q in site_queries()}


def store_for(label: str) -> ox.Store:
    """The generated data of this size (seed 1992), bulk-loaded once under var/bench/."""
    _, nq = ensure_data(label, 1992, False, folder=f"shapes-{label}")
    where = WORK / f"shapes-{label}" / "store"
    stamp = where / "done"
    if not stamp.exists() or stamp.stat().st_mtime < nq.stat().st_mtime:
        shutil.rmtree(where, ignore_errors=True)
        store = ox.Store(str(where))
        store.bulk_load(path=nq, format=ox.RdfFormat.N_QUADS)
        store.flush()
        del store
        stamp.write_text("ok")
    return ox.Store.read_only(str(where))


def site_queries() -> list:
    from graph.queries import load_query

    root = Path(__file__).resolve().parent.parent / "graph" / "queries" / "pages"
    return [load_query(f"pages/{p.stem}") for p in sorted(root.glob("*.rq"))]


def read(result, reading: Reading) -> int:
    """Consume a result the way the page does; the size of the answer read (rows, or the sum
    of the counts of a counting query)."""
    if isinstance(result, ox.QueryBoolean):
        return 1
    rows, seen = 0, set()
    for row in result:
        if reading.key is not None:
            k = row[reading.key]
            if k not in seen:
                if len(seen) == reading.keys:
                    break
                seen.add(k)
        rows += int(row[reading.weight].value) if reading.weight else 1
    return rows


def timed(store: ox.Store, text: str, subs: dict, prefixes: dict, reading: Reading,
          repeat: int) -> tuple[float, int]:
    """The fastest of `repeat` warm runs (one run first warms the block cache), and rows.

    The minimum, not the median: other work on a shared machine only ever adds time, and the
    check compares shapes, not load."""
    def once() -> int:
        res = store.query(text, substitutions=subs, prefixes=prefixes,
                          use_default_graph_as_union=True)
        return read(res, reading)

    rows = once()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        once()
        times.append(time.perf_counter() - t0)
    return min(times), rows


@dataclass
class Measure:
    name: str
    small: float  # time / reference lookup, 10k store
    big: float  # same, big store
    rows_small: int
    rows_big: int
    ms_big: float

    @property
    def growth(self) -> float:
        """Normalised time big / small; per row when the answers differ."""
        if self.rows_small == self.rows_big:
            return self.big / self.small
        return (self.big / max(self.rows_big, 1)) / (self.small / max(self.rows_small, 1))


def measure(small: ox.Store, big: ox.Store, size: str, repeat: int = 7,
            texts: dict[str, str] | None = None) -> list[Measure]:
    """Every site query (with each entity role for those about one entity) at both sizes.

    `texts` replaces the text of named queries (tests use it to prove a bad shape is caught).
    """
    from graph.queries import query_prefixes

    prefixes = query_prefixes(BASE)
    b = bindings(size)
    ref_subs = {ox.Variable("e"): ox.NamedNode(b["place"])}
    how = readings()
    out = []
    for q in site_queries():
        short = q.name.removeprefix("pages/")
        text = (texts or {}).get(short, q.text)
        roles = ("place", "event", "hub") if any(p not in b for p in q.params) else ("-",)
        for role in roles:
            subs = {ox.Variable(p): ox.NamedNode(b.get(p) or b[role]) for p in q.params}
            norm, rows, ms = [], [], 0.0
            for store in (small, big):
                ref, _ = timed(store, REF, ref_subs, {}, Reading(), repeat)
                t, n = timed(store, text, subs, prefixes, how[short], repeat)
                norm.append(t / ref)
                rows.append(n)
                ms = t * 1e3
            name = q.name if role == "-" else f"{q.name} [{role}]"
            out.append(Measure(name, norm[0], norm[1], rows[0], rows[1], ms))
    return out


def report(results: list[Measure], size: str, factor: float) -> tuple[list[str], list[str]]:
    """Printable lines, and the names of the queries whose shape grows with the store."""
    lines, failures = [], []
    for m in results:
        bad = m.growth > factor
        per = "" if m.rows_small == m.rows_big else f", per row ({m.rows_small} -> {m.rows_big})"
        lines.append(f"  {'FAIL' if bad else 'ok  '}  {m.name}: {m.growth:.1f}x{per} "
                     f"(x lookup {m.small:.1f} at 10k, {m.big:.1f} at {size}; "
                     f"{m.ms_big:.2f} ms at {size})")
        if bad:
            failures.append(m.name)
    return lines, failures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="1M")
    ap.add_argument("--factor", type=float, default=5.0)
    args = ap.parse_args(argv)
    results = measure(store_for("10k"), store_for(args.size), args.size)
    lines, failures = report(results, args.size, args.factor)
    print(f"site queries, normalised time at {args.size} over 10k (limit {args.factor}x):")
    print("\n".join(lines))
    if failures:
        print(f"O(store) shape in: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
