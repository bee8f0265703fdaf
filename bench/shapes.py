"""Shape regression check: no site query about one entity may slow down as the store grows.

pyoxigraph 0.5 evaluates some innocent shapes in time proportional to the store, not to the
answer (a star-shaped OPTIONAL, a property path inside OPTIONAL or written from its unbound
end). Absolute times depend on the machine, so this compares, in one run, each query's time
divided by a one-triple lookup on a 10k store and on a big one. A query whose answer is the same
at both sizes but whose normalised time grows by more than --factor has an O(store) shape.

    python -m bench.shapes --size 1M          # `make bench-shapes`; exit 1 on a regression
"""

from __future__ import annotations

import argparse
import shutil
import sys
from argparse import Namespace
from pathlib import Path

import pyoxigraph as ox

from bench.run import BASE, WORK, bindings, ensure_data
from bench.tasks import _measure

REF = "SELECT ?e ?l WHERE { ?e <http://www.w3.org/2000/01/rdf-schema#label> ?l }"


def store_for(label: str) -> ox.Store:
    _, nq = ensure_data(label, 1992, False, folder=f"shapes-{label}")
    where = WORK / f"shapes-{label}" / "store"
    if not (where / "done").exists():
        shutil.rmtree(where, ignore_errors=True)
        store = ox.Store(str(where))
        store.bulk_load(path=nq, format=ox.RdfFormat.N_QUADS)
        store.flush()
        del store
        (where / "done").write_text("ok")
    return ox.Store.read_only(str(where))


def site_queries() -> list:
    from graph.queries import load_query

    root = Path(__file__).resolve().parent.parent / "graph" / "queries" / "pages"
    return [load_query(f"pages/{p.stem}") for p in sorted(root.glob("*.rq"))]


def normalised(store: ox.Store, q, b: dict, role: str, opts: Namespace) -> tuple[float, int]:
    from graph.queries import query_prefixes

    ref = _measure(store, REF, {ox.Variable("e"): ox.NamedNode(b["place"])}, {}, opts)
    subs = {ox.Variable(p): ox.NamedNode(b.get(p) or b[role]) for p in q.params}
    r = _measure(store, q.text, subs, query_prefixes(BASE), opts)
    return r["median"] / ref["median"], r["rows"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="1M")
    ap.add_argument("--factor", type=float, default=5.0)
    args = ap.parse_args(argv)
    opts = Namespace(repeat=7, cap=100_000)
    small, big = store_for("10k"), store_for(args.size)
    b = bindings(args.size)
    failures, lines = [], []
    for q in site_queries():
        roles = ("place", "event") if any(p not in b for p in q.params) else ("-",)
        for role in roles:
            n_small, rows_small = normalised(small, q, b, role, opts)
            n_big, rows_big = normalised(big, q, b, role, opts)
            name = q.name if role == "-" else f"{q.name} [{role}]"
            if rows_big != rows_small:
                lines.append(f"  skip  {name}: its answer grows ({rows_small} -> {rows_big} rows)")
                continue
            growth = n_big / n_small
            bad = growth > args.factor
            lines.append(f"  {'FAIL' if bad else 'ok  '}  {name}: {growth:.1f}x "
                         f"(x lookup {n_small:.1f} at 10k, {n_big:.1f} at {args.size})")
            if bad:
                failures.append(name)
    print(f"site queries, normalised time at {args.size} over 10k (limit {args.factor}x):")
    print("\n".join(lines))
    if failures:
        print(f"O(store) shape in: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
