"""The benchmark runner: every measurement against its baseline, same invocation, same data.

    python -m bench.run --sizes 100k            # `make bench-quick`
    python -m bench.run --sizes 1M,10M          # `make bench`

For each size: generate (cached under var/bench/), `kg build` vs raw `Store.bulk_load`, export
per format vs pyoxigraph's serializer, the engine time of every .rq file (and its growth against
a 10k store built in the same run), worker start-up, the endpoint under load vs the minimal
baseline app and Oxigraph's server, and RSS while streaming a large result. Raw numbers go to
bench/results/<date>-<sizes>.json, the tables to bench/results/<date>-<sizes>.md
(see bench/report.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import generate, report
from bench.http import measure_http

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
BASE = generate.DEFAULT_BASE


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


MEM_LIMIT_GIB = 12.0  # per measured child: a runaway stage fails alone, not the shared machine


def task(name: str, *args: str, timeout: float = 7200, env: dict[str, str] | None = None) -> dict:
    """Run one bench.tasks operation in a child process; its JSON, or the error it gave."""
    cmd = [sys.executable, "-m", "bench.tasks", "--mem-limit-gib", str(MEM_LIMIT_GIB), name,
           *args]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})})
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after the time limit of {timeout:.0f}s"}
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        return {"error": " | ".join(tail) or f"exit {proc.returncode}"}
    return json.loads(proc.stdout)


def inputs_digest(size: int, seed: int, real: bool) -> str:
    """Cache key of a generated data set: the generator, the real data and the ontology."""
    h = hashlib.sha256(f"{generate.GENERATOR_VERSION}:{size}:{seed}:{real}".encode())
    h.update((ROOT / "bench" / "generate.py").read_bytes())
    for folder in ("data", "ontology"):
        for p in sorted((ROOT / folder).rglob("*")):
            if p.is_file():
                h.update(p.relative_to(ROOT).as_posix().encode() + p.read_bytes())
    return h.hexdigest()[:16]


def ensure_data(label: str, seed: int, real: bool, folder: str = "") -> tuple[Path, Path]:
    size = generate.parse_size(label)
    where = WORK / (folder or label)
    stamp = where / "stamp"
    digest = inputs_digest(size, seed, real)
    data, nq = where / "data", where / "dataset.nq"
    if stamp.exists() and stamp.read_text() == digest and nq.exists():
        return data, nq
    log(f"{label}: generating")
    where.mkdir(parents=True, exist_ok=True)
    generate.generate(size, data, seed=seed, base=BASE, real_data=ROOT / "data" if real else None)
    generate.write_nquads(data, nq, base=BASE)
    stamp.write_text(digest)
    return data, nq


def bindings(label: str) -> dict[str, str]:
    """IRIs the parameterised queries are bound to: an ordinary place and event, and the hub
    (the event every source's first claim is about, so its incoming links grow with the data)."""
    return {"place": f"{BASE}id/place/syn-000001-town", "event": f"{BASE}id/event/syn-000001",
            "hub": f"{BASE}id/event/syn-000000", "source": f"{BASE}id/source/syn-000001",
            "dataset": f"{BASE}dataset"}


def measure_size(label: str, args) -> dict:
    data, nq = ensure_data(label, args.seed, args.real_data)
    where = WORK / label
    res: dict = {"size": label, "nquads_lines": sum(1 for _ in open(nq, "rb"))}
    raw_dir = where / "raw-store"
    shutil.rmtree(raw_dir, ignore_errors=True)
    log(f"{label}: raw bulk_load")
    res["bulk_load"] = task("bulk_load", "--nquads", str(nq), "--dir", str(raw_dir))
    store_link = where / "store"
    store_link.unlink(missing_ok=True)  # never measure a store left by an earlier run
    shutil.rmtree(where / "builds", ignore_errors=True)
    if args.build:
        log(f"{label}: kg build")
        res["build"] = task("build", "--data-dir", str(data), "--store", str(store_link),
                            timeout=args.build_timeout,
                            env={"KG_DUMP_FORMATS": args.build_dumps})
        res["build"]["dump_formats"] = args.build_dumps
    else:
        res["build"] = {"error": "not run in this invocation (--no-build)"}
    store_dir = store_link / "oxigraph"
    if not store_dir.is_dir():
        log(f"{label}: build gave no store ({res['build'].get('error')}); using the raw store")
        store_link, store_dir = raw_build(where, raw_dir), raw_dir
        res["store"] = "raw bulk_load store (kg build did not finish): no VoID graph, no dumps"
    log(f"{label}: export")
    repeat = args.repeat if generate.parse_size(label) < 5_000_000 else 1
    res["export"] = task("export", "--store", str(store_dir), "--out", str(where / "export"),
                         "--repeat", str(repeat), "--formats", args.export_formats)
    log(f"{label}: queries")
    b = json.dumps(bindings(label))
    res["queries"] = task("queries", "--store", str(store_dir), "--bindings", b,
                          "--base-iri", BASE)
    if store_link is not None:  # always set now; kept for stores that cannot be served
        log(f"{label}: worker start-up")
        res["startup"] = [task("startup", "--store", str(store_link), "--store-dir",
                               str(store_dir)) for _ in range(3)]
    if args.http:
        res["http"] = measure_http(store_link, store_dir, bindings(label), args, log)
    return res


def raw_build(where: Path, raw_dir: Path) -> Path:
    """A build directory around the raw store, so the endpoint can serve it when `kg build`
    could not finish: the same quads, without the build's VoID graph and dumps."""
    build_dir = where / "raw-build"
    shutil.rmtree(build_dir, ignore_errors=True)
    build_dir.mkdir()
    (build_dir / "oxigraph").symlink_to(raw_dir.resolve())
    (build_dir / "build.json").write_text(json.dumps({"version": "raw-" + where.name}))
    link = where / "store-raw"
    link.unlink(missing_ok=True)
    link.symlink_to(build_dir.resolve())
    return link


def reference_queries(args) -> dict:
    """The same queries on a 10k store of this run: what 'grows with the store' is measured by."""
    data, nq = ensure_data("10k", args.seed, args.real_data)
    ref_dir = WORK / "10k" / "raw-store"
    shutil.rmtree(ref_dir, ignore_errors=True)
    task("bulk_load", "--nquads", str(nq), "--dir", str(ref_dir))
    return task("queries", "--store", str(ref_dir), "--bindings", json.dumps(bindings("10k")),
                "--base-iri", BASE)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Khojaly KG benchmarks")
    ap.add_argument("--sizes", default="100k", help="comma-separated: 10k,100k,1M,10M")
    ap.add_argument("--seed", type=int, default=1992)
    ap.add_argument("--repeat", type=int, default=3, help="repetitions of build-side timings")
    ap.add_argument("--duration", type=float, default=3.0, help="seconds per load test")
    ap.add_argument("--connections", default="1,8,32")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers, all servers")
    ap.add_argument("--no-http", dest="http", action="store_false")
    ap.add_argument("--synthetic-only", dest="real_data", action="store_false",
                    help="leave the curated data/ out of the generated data sets")
    ap.add_argument("--build-timeout", type=float, default=3600, help="seconds for kg build")
    ap.add_argument("--no-build", dest="build", action="store_false",
                    help="skip kg build (the raw store is served instead)")
    ap.add_argument("--export-formats", default="ttl,nt,jsonld,rdf,nq,trig")
    ap.add_argument("--build-dumps", default="nq",
                    help="KG_DUMP_FORMATS of the measured kg build (each other format's cost is "
                         "its row in the export table; the endpoint writes it on first request)")
    ap.add_argument("--out", type=Path, help="markdown report (default bench/results/<date>.md)")
    args = ap.parse_args(argv)
    started = time.time()
    results = {"started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
               "machine": report.machine(), "args": vars(args) | {"out": str(args.out)}}
    log("reference 10k store")
    results["reference"] = reference_queries(args)
    results["sizes"] = []
    for label in args.sizes.split(","):
        results["sizes"].append(measure_size(label.strip(), args))
    results["seconds"] = time.time() - started
    results["loadavg_end"] = os.getloadavg()
    name = f"{dt.date.today().isoformat()}-{args.sizes.replace(',', '-')}"
    out = args.out or ROOT / "bench" / "results" / f"{name}.md"
    raw = out.with_suffix(".json")
    # paths relative to the checkout: results are committed and must not name this machine
    raw.write_text(json.dumps(results, indent=1).replace(str(ROOT) + "/", ""))
    out.write_text(report.render(results, raw.name))
    log(f"wrote {out} and {raw.name} in {results['seconds']:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
