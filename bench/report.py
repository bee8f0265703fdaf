"""Markdown tables from one run's raw results, with the issue's targets checked as ratios.

Every ratio compares two numbers measured in the same invocation on the same data; absolute
numbers are printed for context only. A missing measurement says why instead of a number.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
import shutil
import subprocess

from bench.servers import OXIGRAPH_BIN
from bench.tasks import OTHER_TOOLS


def machine() -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")),
                       cpu)
        with open("/proc/meminfo") as fh:
            mem_kb = int(fh.readline().split()[1])
    except OSError:
        mem_kb = 0
    versions = {"python": platform.python_version()}
    for pkg in ("pyoxigraph", "flask", "gunicorn", "pyshacl", "rdflib"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = "absent"
    versions["wrk"] = _first_line(["wrk", "--version"]) if shutil.which("wrk") else "absent"
    versions["oxigraph server"] = (_first_line([str(OXIGRAPH_BIN), "--version"])
                                   if OXIGRAPH_BIN.exists() else "absent")
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_gib": round(mem_kb / 2**20, 1),
            "loadavg_start": os.getloadavg(),
            "os": platform.platform(), "versions": versions}


def _first_line(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return (proc.stdout or proc.stderr).strip().splitlines()[0] if (proc.stdout or proc.stderr) \
        else "unknown"


def _f(x, digits: int = 2) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("met" if ok else "**not met**")


def _table(head: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_f(c) for c in r) + " |" for r in rows]
    return lines + [""]


def _build(size: dict, targets: list) -> list[str]:
    b, raw = size.get("build", {}), size.get("bulk_load", {})
    out = [f"### Build ({size['size']}, {size['nquads_lines']:,} quads)", ""]
    if b.get("dump_formats"):
        out += [f"`kg build` wrote the dumps `{b['dump_formats']}` (KG_DUMP_FORMATS); what "
                "each other format adds is its `graph.build.export.dump` time in the export "
                "table.", ""]
    if "error" in raw:
        return out + [f"bulk_load failed: {raw['error']}", ""]
    rows = [["raw Store.bulk_load (N-Quads)", raw["seconds"], raw["peak_rss_mib"], "1.00"]]
    if "error" in b:
        out += _table(["what", "seconds", "peak RSS MiB", "x bulk_load"], rows)
        return out + [f"`kg build` failed: {b['error']}", ""]
    for stage, sec in b.get("stages", {}).items():
        rows.append([f"  build: {stage}", sec, None, f"{sec / raw['seconds']:.2f}"])
    validation = sum(s for k, s in b.get("stages", {}).items() if "validat" in k or "integr" in k)
    rows.append(["`kg build` total", b["seconds"], b["peak_rss_mib"],
                 f"{b['seconds'] / raw['seconds']:.2f}"])
    rows.append(["`kg build` without validation", b["seconds"] - validation, None,
                 f"{(b['seconds'] - validation) / raw['seconds']:.2f}"])
    out += _table(["what", "seconds", "peak RSS MiB", "x bulk_load"], rows)
    t = (b["seconds"] - validation) / raw["seconds"]
    targets.append([size["size"], "build (without validation) ≤ 1.5x bulk_load", f"{t:.2f}x",
                    _verdict(t <= 1.5)])
    m = b["peak_rss_mib"] / raw["peak_rss_mib"]
    targets.append([size["size"], "peak RSS of build ≤ 1.5x bulk_load's", f"{m:.2f}x",
                    _verdict(m <= 1.5)])
    return out


def _export(size: dict, targets: list) -> list[str]:
    e = size.get("export", {})
    out = [f"### Export ({size['size']}; median of repeats, seconds)", ""]
    if "error" in e:
        return out + [f"export failed: {e['error']}", ""]
    rows, worst = [], None
    for ext, r in e["formats"].items():
        if "ours" not in r:
            rows.append([ext, r["native"]["median"], r.get("error"), None, None, None])
            worst = 0.0
            continue
        ratio = r["native"]["median"] / r["ours"]["median"]
        worst = ratio if worst is None else min(worst, ratio)
        rows.append([ext, r["native"]["median"], r["ours"]["median"],
                     f"{r['ours']['min']:.2f}–{r['ours']['max']:.2f}", f"{ratio:.2f}",
                     r["bytes"]])
    out += _table(["format", "pyoxigraph native", "graph.build.export.dump", "ours min–max",
                   "speed vs native", "bytes"], rows)
    out += ["Native = `Store.dump` for N-Quads/TriG; for triple formats (the union of the graphs)"
            " a native CONSTRUCT serialized by pyoxigraph.", ""]
    targets.append([size["size"], "export ≥ 0.7x native (worst format)", f"{worst:.2f}x",
                    _verdict(worst >= 0.7)])
    return out


def _queries(size: dict, ref: dict, targets: list) -> list[str]:
    q = size.get("queries", {}).get("queries", {})
    r10k = ref.get("queries", {})
    out = [f"### Engine time of every query ({size['size']}; ms, median of 7, warm)", ""]
    if not q:
        return out + [f"queries failed: {size.get('queries', {}).get('error')}", ""]
    lookup = q["_reference"]["median"]
    rows, slow_site, grows_entity, grows_dataset = [], [], [], []
    for name, r in q.items():
        if name.split("/")[0] in OTHER_TOOLS:
            continue
        if "error" in r:
            if "SERVICE" in r["error"] or "lookup address" in r["error"]:
                r = {"error": "not run: SERVICE to a remote endpoint"}
            rows.append([name, r["error"], None, None, None, None])
            continue
        base = r10k.get(name, {}).get("median")
        growth = r["median"] / base if base else None
        grows = growth is not None and growth > 3 and r["median"] > 1
        scope = r.get("scope") or ""
        rows.append([name, scope or "–", r["median"], f"{r['min']:.2f}–{r['max']:.2f}",
                     r["rows"], f"{r['median'] / lookup:.1f}", "**grows**" if grows else
                     (f"{growth:.1f}x" if growth else "–")])
        if grows and name.startswith("examples/"):
            (grows_dataset if scope == "dataset" else grows_entity).append(name.split("/")[-1])
        site = name.startswith("pages/") and "[hub]" not in name
        if site and r["median"] > 2:
            slow_site.append(f"{name} {r['median']:.1f} ms")
    out += _table(["query", "scope", "median ms", "min–max", "rows", "x reference lookup",
                   "vs 10k store"], rows)
    out += ["'x reference lookup' divides by one rdfs:label look-up of the same entity in the same "
            "run; 'grows' = more than 3x its time on the 10k store and over 1 ms. [hub] binds the "
            "entity every source's first claim is about (its answer grows with the data); "
            "[place] and [event] ordinary ones. Scope (the query's `# scope:` header): 'dataset' "
            "lists or aggregates the whole dataset, so it must grow; 'entity' must not.", ""]
    targets.append([size["size"], "no example query grows with the store unless it must "
                    "(scope: dataset)", ("entity-scope queries that grow: " +
                                         ", ".join(grows_entity)) if grows_entity else
                    f"none of entity scope grows; dataset scope, grows by design: "
                    f"{', '.join(grows_dataset) or 'none'}", _verdict(not grows_entity)])
    targets.append([size["size"], "every site query ≤ 2 ms engine time (pages/*.rq, not [hub])",
                    "; ".join(slow_site) or "all ≤ 2 ms", _verdict(not slow_site)])
    return out


def _startup(size: dict, targets: list) -> list[str]:
    s = [x for x in size.get("startup", []) if "error" not in x]
    if not s:
        errs = [x.get("error") for x in size.get("startup", [])]
        return [f"Worker start-up: not measured ({errs[:1] or 'no built store'})", ""]
    best = min(s, key=lambda x: x["create_app_ms"] + x["import_ms"])
    total = (best["import_ms"] + best["create_app_ms"] + best["first_request_ms"]) / 1e3
    out = [f"### Worker start-up ({size['size']}; best of {len(s)} fresh processes)", ""]
    out += _table(["store open (raw)", "import app", "create_app", "first request",
                   "status", "RSS MiB"],
                  [[f"{best['store_open_ms']:.1f} ms", f"{best['import_ms']:.0f} ms",
                    f"{best['create_app_ms']:.0f} ms", f"{best['first_request_ms']:.0f} ms",
                    best["status"], best["rss_mib"]]])
    targets.append([size["size"], "worker start-up ≤ 1 s", f"{total:.2f} s",
                    _verdict(total <= 1.0)])
    return out


def _http(size: dict, targets: list) -> list[str]:
    h = size.get("http")
    if not h:
        return []
    out = [f"### Endpoint under load ({size['size']})", ""]
    srv = [[n, s.get("error") or f"{s['started_s']:.2f} s", s.get("rss_idle_mib")]
           for n, s in h["servers"].items()]
    out += _table(["server", "start-up to first answer", "idle RSS MiB"], srv)
    rows, by = [], {}
    for r in h["load"]:
        if "error" in r:
            rows.append([r["workload"], r["server"], None, r["error"], None, None, None, None])
            continue
        by[(r["workload"], r["server"], r["connections"])] = r
        rows.append([r["workload"], r["server"], r["status"], r["connections"], r["rps"],
                     r["p50_ms"], r["p99_ms"], r["errors"]])
    out += _table(["workload", "server", "status", "conns", "req/s", "p50 ms", "p99 ms",
                   "errors"], rows)
    out += _http_targets(size["size"], by, targets)
    for name, st in h.get("streaming", {}).items():
        out.append(f"Streaming {st['rows']:,} rows from {name} (status {st['status']}): "
                   f"{st['seconds']:.1f} s, server RSS {st['rss_idle_mib']:.0f} → "
                   f"{st['rss_peak_mib']:.0f} MiB (+{st['rss_growth_mib']:.0f} MiB).")
        if name == "ours":
            g = st["rss_growth_mib"]
            targets.append([size["size"], "streaming a 1M-row result grows RSS ≤ 64 MiB",
                            f"+{g:.0f} MiB ({st['rows']:,} rows, status {st['status']})",
                            _verdict(g <= 64 and st["status"] == 200)])
    return out + [""]


def _ratio(by, a, b, conns) -> float | None:
    vals = [by[(a[0], a[1], c)]["rps"] / by[(b[0], b[1], c)]["rps"] for c in conns
            if (a[0], a[1], c) in by and (b[0], b[1], c) in by and by[(b[0], b[1], c)]["rps"]]
    return min(vals) if vals else None


def _http_targets(size: str, by: dict, targets: list) -> list[str]:
    ex = next((w for (w, _, _) in by if w.startswith("example")), "example")
    checks = [
        ("cheap lookup ≥ 0.35x Oxigraph's server", ("lookup", "ours"), ("lookup", "oxigraph"),
         0.35, (8, 32)),
        ("cheap lookup ≥ 1.2x minimal baseline", ("lookup", "ours"), ("lookup", "baseline"),
         1.2, (8, 32)),
        ("uncached lookup ≥ 0.35x Oxigraph's server", ("lookup-uncached", "ours"),
         ("lookup-uncached", "oxigraph"), 0.35, (8, 32)),
        ("uncached lookup ≥ 1.2x minimal baseline", ("lookup-uncached", "ours"),
         ("lookup-uncached", "baseline"), 1.2, (8, 32)),
        ("entity page ≥ 1.2x Oxigraph's server", ("entity-page", "ours"),
         ("entity-page", "oxigraph"), 1.2, (1, 8, 32)),
        ("example query ≥ 1.2x Oxigraph's server", (ex, "ours"), (ex, "oxigraph"), 1.2,
         (1, 8, 32)),
        ("revalidated repeats (304) ≥ 2x minimal baseline", ("lookup-304", "ours"),
         ("lookup", "baseline"), 2.0, (8, 32)),
    ]
    for label, a, b, want, conns in checks:
        r = _ratio(by, a, b, conns)
        targets.append([size, label + f" (worst of c={','.join(map(str, conns))})",
                        "not measured" if r is None else f"{r:.2f}x",
                        _verdict(None if r is None else r >= want)])
    p_ours, p_base = by.get(("lookup", "ours", 32)), by.get(("lookup", "baseline", 32))
    if p_ours and p_base and p_base["p99_ms"]:
        r = p_ours["p99_ms"] / p_base["p99_ms"]
        targets.append([size, "p99 at 32 connections ≤ 1.5x baseline's (lookup)", f"{r:.2f}x",
                        _verdict(r <= 1.5)])
    p_ours = by.get(("lookup-uncached", "ours", 32))
    p_base = by.get(("lookup-uncached", "baseline", 32))
    if p_ours and p_base and p_base["p99_ms"]:
        r = p_ours["p99_ms"] / p_base["p99_ms"]
        targets.append([size, "p99 at 32 connections ≤ 1.5x baseline's (uncached lookup)",
                        f"{r:.2f}x", _verdict(r <= 1.5)])
    return []


def _load(avg) -> str:
    return "/".join(f"{x:.1f}" for x in avg) if avg else "not recorded"


def rerender(raw: str) -> None:
    """Write the markdown again from a run's raw JSON (after a change of this module)."""
    import json
    from pathlib import Path

    path = Path(raw)
    path.with_suffix(".md").write_text(render(json.loads(path.read_text()), path.name))


def render(results: dict, raw_name: str) -> str:
    m = results["machine"]
    v = ", ".join(f"{k} {val}" for k, val in m["versions"].items())
    out = [f"# Benchmark results — {results['started']}", "",
           f"Machine: {m['cpu']}, {m['cores']} cores, {m['mem_gib']} GiB; {m['os']}.",
           f"Load average (1/5/15 min) at start: {_load(m.get('loadavg_start'))}, at end: "
           f"{_load(results.get('loadavg_end'))} (other work on the machine distorts absolute "
           "numbers; ratios within this file were measured side by side).",
           f"Versions: {v}.",
           f"Invocation: `python -m bench.run --sizes {results['args']['sizes']}` "
           f"({results['seconds']:.0f} s). Raw numbers: [{raw_name}]({raw_name}).", ""]
    targets: list = []
    body: list[str] = []
    for size in results["sizes"]:
        body += [f"## {size['size']}", ""]
        if size.get("store"):
            body += [f"Queries, start-up and HTTP ran on the {size['store']}.", ""]
        body += _build(size, targets)
        body += _export(size, targets)
        body += _queries(size, results.get("reference", {}), targets)
        body += _startup(size, targets)
        body += _http(size, targets)
    out += ["## Targets of issue 5", ""]
    out += _table(["size", "target", "measured", "verdict"], targets)
    return "\n".join(out + body) + "\n"
