"""One measured operation per child process, printed as one JSON object on stdout.

Why a child per operation: peak RSS (ru_maxrss) is per process, caches must start cold, and a
crash or a runaway stage must not take the runner down. `bench.run` calls these; each is also
runnable by hand:

    python -m bench.tasks bulk_load --nquads var/bench/1M/dataset.nq --dir var/bench/raw-1M
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import sys
import time
from pathlib import Path

import pyoxigraph as ox

TRIPLE_FORMATS = ("ttl", "nt", "jsonld", "rdf")
#: Query folders of other tools (linking, publishing to a remote store): not the site's queries.
OTHER_TOOLS = ("link", "remote", "publish")
#: Parameters that take "an entity"; bound in turn to a place, an event and the hub.
ENTITY_PARAMS = ("entity", "thing")
QUAD_FORMATS = ("nq", "trig")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def task_bulk_load(args) -> dict:
    """Raw pyoxigraph: one N-Quads file into a new on-disk store. The build's baseline."""
    t0 = time.perf_counter()
    store = ox.Store(args.dir)
    store.bulk_load(path=args.nquads, format=ox.RdfFormat.N_QUADS)
    store.flush()
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "quads": len(store), "peak_rss_mib": peak_rss_mib()}


def task_build(args) -> dict:
    """`kg build` as the CLI runs it, on the generated data directory, timed stage by stage
    through the build's own progress callback (each stage ends when the next one starts)."""
    from graph.build.pipeline import build
    from graph.config import Settings

    data = Path(args.data_dir)
    settings = Settings.from_env(data_dir=data, texts_dir=data / "texts",
                                 store_path=Path(args.store))
    marks: list[tuple[str, float]] = []

    def on_step(name: str) -> None:
        marks.append((name, time.perf_counter()))

    t0 = time.perf_counter()
    report = build(settings, on_step)
    end = time.perf_counter()
    stages = {name: (marks[i + 1][1] if i + 1 < len(marks) else end) - at
              for i, (name, at) in enumerate(marks)}
    if marks:
        stages = {"(before first step)": marks[0][1] - t0, **stages}
    return {"seconds": end - t0, "stages": stages, "peak_rss_mib": peak_rss_mib(),
            "report": _plain(report)}


def _plain(obj):
    """A build report as JSON-able data, whatever its exact shape (dataclass, dict, object)."""
    if hasattr(obj, "__dataclass_fields__"):
        obj = {k: getattr(obj, k) for k in obj.__dataclass_fields__}
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        obj = vars(obj)
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj][:50]
    if isinstance(obj, int | float | str | bool) or obj is None:
        return obj
    return str(obj)


def _timed(fn, repeat: int) -> dict:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def task_export(args) -> dict:
    """Each format through graph.build.export.dump vs pyoxigraph's own serializer, same store."""
    from graph.build.export import dump

    store = ox.Store.read_only(args.store)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for ext in args.formats.split(","):
        fmt = ox.RdfFormat.from_extension(ext)
        dest = out / f"dump.{ext}"
        if ext in QUAD_FORMATS:
            def native(fmt=fmt, dest=dest):
                store.dump(str(dest), fmt)
        else:  # a triple format: the union of the graphs, serialized natively
            def native(fmt=fmt, dest=dest):
                union = store.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
                union.serialize(str(dest), fmt)
        ours = out / f"ours.{ext}"
        results[ext] = {"native": _timed(native, args.repeat)}
        try:
            results[ext]["ours"] = _timed(lambda fmt=fmt, ours=ours: dump(store, fmt, ours),
                                          args.repeat)
            results[ext]["bytes"] = ours.stat().st_size
        except MemoryError:  # the address-space cap: report it, keep the native numbers
            results[ext]["error"] = f"graph.build.export.dump ran out of memory ({ext})"
        for p in (dest, ours):
            p.unlink(missing_ok=True)
    return {"formats": results, "peak_rss_mib": peak_rss_mib()}


def _consume(result, cap: int) -> int:
    n = 0
    if isinstance(result, ox.QueryBoolean):
        return 1
    for _ in result:
        n += 1
        if n >= cap:
            break
    return n


def task_queries(args) -> dict:
    """Engine time of every .rq file (bound to real IRIs of the data), plus a reference lookup."""
    from graph.queries import _queries_dir, parse_header, query_prefixes

    store = ox.Store.read_only(args.store)
    bindings = json.loads(args.bindings)
    prefixes = query_prefixes(args.base_iri)
    root = Path(str(_queries_dir()))
    from bench import shapes  # imports this module: not at the top
    from graph.config import Settings

    # Page queries are read the way the site reads them (one page of KG_PAGE_SIZE keys, the
    # capped counts): that, not the whole answer, is what a reader waits for.
    pages = shapes.readings(page=Settings.from_env().page_size)
    out = {}
    ref = "SELECT ?e ?l WHERE { ?e <http://www.w3.org/2000/01/rdf-schema#label> ?l }"
    ref_subs = {ox.Variable("e"): ox.NamedNode(bindings["place"])}
    out["_reference"] = _measure(store, ref, ref_subs, {}, args)
    for path in sorted(root.rglob("*.rq")):
        rel = path.relative_to(root).as_posix()
        if rel.split("/")[0] in OTHER_TOOLS:
            continue
        q = parse_header(rel, path.read_text(encoding="utf-8"))
        if re.search(r"\bSERVICE\b", q.text, re.I):  # never leave 127.0.0.1, not even for DNS
            out[rel] = {"error": "not run: SERVICE to a remote endpoint"}
            continue
        unknown = [p for p in q.params if p not in ENTITY_PARAMS and p not in bindings]
        if unknown:
            out[rel] = {"error": f"not run: no value for ?{unknown[0]}"}
            continue
        by_name = all(p in bindings for p in q.params)  # e.g. ?dataset: one IRI fits
        for role in ("-",) if by_name else ("place", "event", "hub"):
            subs = {ox.Variable(p): ox.NamedNode(bindings.get(p) or bindings[role])
                    for p in q.params}
            key = rel if role == "-" else f"{rel} [{role}]"
            reading = pages.get(rel.removeprefix("pages/").removesuffix(".rq"))
            try:
                out[key] = {**_measure(store, q.text, subs, prefixes, args, reading),
                            "scope": q.scope}
            except (SyntaxError, OSError, ValueError, RuntimeError) as e:
                out[key] = {"error": f"{type(e).__name__}: {e}"}
    return {"queries": out}


def _measure(store, text, subs, prefixes, args, reading=None) -> dict:
    rows = [0]

    def once():
        res = store.query(text, substitutions=subs, prefixes=prefixes,
                          use_default_graph_as_union=True)
        if reading is not None:
            from bench.shapes import read

            rows[0] = read(res, reading)
        else:
            rows[0] = _consume(res, args.cap)

    t0 = time.perf_counter()
    once()  # warm the block cache: we report steady-state engine time
    warm = time.perf_counter() - t0
    if warm > 2:  # a slow query's first run is its measurement, so a 10M run stays bounded
        return {"median": warm * 1e3, "min": warm * 1e3, "max": warm * 1e3, "rows": rows[0]}
    stats = _timed(once, args.repeat if warm < 0.2 else 3)
    return {**{k: v * 1e3 for k, v in stats.items()}, "rows": rows[0]}


def task_startup(args) -> dict:
    """A fresh worker: import the app, open the store, answer one request; time and RSS."""
    t0 = time.perf_counter()
    store = ox.Store.read_only(args.store_dir)
    open_ms = (time.perf_counter() - t0) * 1e3
    del store
    t0 = time.perf_counter()
    from endpoint import create_app
    from graph.config import Settings

    import_ms = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    app = create_app(Settings.from_env(store_path=Path(args.store)))
    create_ms = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    resp = app.test_client().get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"},
                                 headers={"Accept": "application/sparql-results+json"})
    first_ms = (time.perf_counter() - t0) * 1e3
    return {"store_open_ms": open_ms, "import_ms": import_ms, "create_app_ms": create_ms,
            "first_request_ms": first_ms, "status": resp.status_code, "rss_mib": rss_mib()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mem-limit-gib", type=float, default=0, help="address-space cap (0: none)")
    sub = ap.add_subparsers(dest="task", required=True)
    p = sub.add_parser("bulk_load")
    p.add_argument("--nquads", required=True)
    p.add_argument("--dir", required=True)
    p = sub.add_parser("build")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--store", required=True)
    p = sub.add_parser("export")
    p.add_argument("--store", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--formats", default=",".join(TRIPLE_FORMATS + QUAD_FORMATS))
    p.add_argument("--repeat", type=int, default=3)
    p = sub.add_parser("queries")
    p.add_argument("--store", required=True)
    p.add_argument("--bindings", required=True, help='JSON {"place"|"event"|"hub": iri}')
    p.add_argument("--base-iri", default="https://w3id.org/khojaly/")
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--cap", type=int, default=100_000)
    p = sub.add_parser("startup")
    p.add_argument("--store", required=True, help="settings.store_path (the symlink)")
    p.add_argument("--store-dir", required=True, help="the oxigraph directory inside it")
    args = ap.parse_args(argv)
    if args.mem_limit_gib:
        limit = int(args.mem_limit_gib * 2**30)  # a runaway task fails alone, not the machine
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    result = globals()[f"task_{args.task}"](args)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
