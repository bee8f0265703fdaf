"""Markdown tables from bench/stages.py runs: the same-run ratios and the stage breakdown.

    python -m bench.stages_report LABEL=run.json [LABEL=run.json ...] > tables.md

Each ratio divides two numbers of one run (one JSON file); runs are only ever set side by side,
never divided into each other. CPU is µs per request of the whole server tree (under load) or
of the app's process and its query processes (in process).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RATIOS = [  # workload, ours against, the other server's workload
    ("lookup-uncached", "oxigraph", "lookup-uncached"),
    ("lookup-uncached", "baseline", "lookup-uncached"),
    ("entity-page-uncached", "baseline", "entity-page-uncached"),
    ("lookup", "oxigraph", "lookup"),
    ("lookup-304", "oxigraph", "lookup"),
]


def _row(run: dict, server: str, workload: str, conns: int) -> dict | None:
    for r in run.get("under_load", []):
        if (r.get("server"), r.get("workload"), r.get("connections")) == (server, workload, conns):
            return r
    return None


def _load(r: dict | None) -> str:
    return "/".join(f"{x:.1f}" for x in r["loadavg"]) if r and "loadavg" in r else "–"


def ratios(runs: dict[str, dict]) -> str:
    lines = ["| run | ours | vs | c | ours req/s | theirs req/s | ratio | ours: errors, p99 ms "
             "| load (ours) |", "|---|---|---|---|---|---|---|---|---|"]
    for label, run in runs.items():
        conns = sorted({r["connections"] for r in run.get("under_load", []) if "connections" in r})
        for ours_w, other, other_w in RATIOS:
            for c in conns:
                a, b = _row(run, "ours", ours_w, c), _row(run, other, other_w, c)
                if a is None or b is None:
                    continue
                ratio = a["rps"] / b["rps"] if b["rps"] else 0.0
                lines.append(f"| {label} | {ours_w} | {other} {other_w} | {c} | {a['rps']:,.0f} "
                             f"| {b['rps']:,.0f} | **{ratio:.2f}x** | {a['errors']}, "
                             f"{a['p99_ms']:.1f} | {_load(a)} |")
    return "\n".join(lines)


def asgi_layer(runs: dict[str, dict]) -> str:
    """What the event-loop cache layer earns: repeats and 304s with and without it, same run."""
    lines = ["| run | workload | c | with req/s | without req/s | with / without |",
             "|---|---|---|---|---|---|"]
    for label, run in runs.items():
        for w in ("lookup", "lookup-304"):
            for c in (8, 32):
                a = _row(run, "ours", w, c)
                b = _row(run, "ours without the ASGI cache layer", w, c)
                if a and b and b["rps"]:
                    lines.append(f"| {label} | {w} | {c} | {a['rps']:,.0f} | {b['rps']:,.0f} "
                                 f"| **{a['rps'] / b['rps']:.2f}x** |")
    return "\n".join(lines)


def layer_rounds(runs: dict[str, dict]) -> str:
    """Alternating rounds with and without the event-loop layer: the median of each side."""
    import statistics

    lines = ["| run | workload | c | rounds | with: median req/s | without: median req/s "
             "| ratio of medians | loads |", "|---|---|---|---|---|---|---|---|"]
    for label, run in runs.items():
        rows = run.get("layer_ab", [])
        for w in ("lookup", "lookup-304"):
            for c in sorted({r["connections"] for r in rows if "connections" in r}):
                side = {k: [r for r in rows if (r.get("layer"), r.get("workload"),
                                                r.get("connections")) == (k, w, c)]
                        for k in ("with", "without")}
                if not side["with"] or not side["without"]:
                    continue
                med = {k: statistics.median(r["rps"] for r in v) for k, v in side.items()}
                loads = ", ".join(f"{r['loadavg'][0]:.1f}" for r in side["with"] + side["without"])
                lines.append(f"| {label} | {w} | {c} | {len(side['with'])} | {med['with']:,.0f} "
                             f"| {med['without']:,.0f} | **{med['with'] / med['without']:.2f}x** "
                             f"| {loads} |")
    return "\n".join(lines)


def env_rounds(runs: dict[str, dict]) -> str:
    """Our server under each `--env-ab` setting, alternating rounds: medians of each."""
    import statistics

    lines = ["| run | setting | workload | c | rounds | median req/s | median µs CPU per request "
             "| loads |", "|---|---|---|---|---|---|---|---|"]
    for label, run in runs.items():
        rows = [r for r in run.get("env_ab", []) if "rps" in r]
        keys = sorted({(r["workload"], r["connections"], r["layer"]) for r in rows},
                      key=lambda k: (k[0], k[1], k[2]))
        for w, c, side in keys:
            mine = [r for r in rows
                    if (r["workload"], r["connections"], r["layer"]) == (w, c, side)]
            loads = ", ".join(f"{r['loadavg'][0]:.1f}" for r in mine)
            lines.append(f"| {label} | {side} | {w} | {c} | {len(mine)} "
                         f"| {statistics.median(r['rps'] for r in mine):,.0f} "
                         f"| {statistics.median(r['cpu_us_per_request'] for r in mine):,.1f} "
                         f"| {loads} |")
        lines += _versus_oxigraph(label, rows)
    return "\n".join(lines)


def _versus_oxigraph(label: str, rows: list[dict]) -> list[str]:
    """Each setting's median req/s over Oxigraph's, when Oxigraph's server was a side: the
    uncached lookup against its uncached lookup, the repeated one and the 304 against its
    repeated lookup (the targets of the query core)."""
    import statistics

    def median(side: str, w: str, c: int) -> float | None:
        got = [r["rps"] for r in rows
               if (r["layer"], r["workload"], r["connections"]) == (side, w, c)]
        return statistics.median(got) if got else None

    out = []
    for side in sorted({r["layer"] for r in rows} - {"oxigraph"}):
        for w, theirs in (("lookup-uncached", "lookup-uncached"), ("lookup", "lookup"),
                          ("lookup-304", "lookup")):
            for c in sorted({r["connections"] for r in rows}):
                ours, oxi = median(side, w, c), median("oxigraph", theirs, c)
                if ours and oxi:
                    out.append(f"| {label} | **{side} / Oxigraph's {theirs}** | {w} | {c} | "
                               f"| **{ours / oxi:.2f}x** | | |")
    return out


def _cpu(run: dict, server: str, workload: str) -> float | None:
    rows = [r for r in run.get("under_load", [])
            if r.get("server") == server and r.get("workload") == workload]
    rows.sort(key=lambda r: r["connections"])
    return rows[0]["cpu_us_per_request"] if rows else None


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f}"


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def breakdown(runs: dict[str, dict], kind: str = "lookup") -> str:
    """One column per run: where one uncached request's CPU goes (µs)."""
    labels = list(runs)
    rows: list[tuple[str, list[float | None]]] = []

    def add(name: str, values: list[float | None]) -> None:
        rows.append((name, values))

    work = "lookup-uncached" if kind == "lookup" else "entity-page-uncached"
    add(f"Oxigraph's server, whole request (c=8, {work})",
        [_cpu(r, "oxigraph", work) for r in runs.values()])
    add(f"minimal Flask app, whole request (c=8, {work})",
        [_cpu(r, "baseline", work) for r in runs.values()])
    add(f"**ours, whole request** (c=8, {work}, server tree)",
        [_cpu(r, "ours", work) for r in runs.values()])
    if kind == "lookup":
        add("  HTTP server alone (raw ASGI no-op; ASGI servers only)",
            [_cpu(r, "raw ASGI noop", "noop") for r in runs.values()])
        add("  HTTP server + WSGI adapter (no-op WSGI app)",
            [_cpu(r, "noop", "noop") for r in runs.values()])
        add("  access log (no-op with it − without)",
            [_diff(_cpu(r, "noop+log", "noop"), _cpu(r, "noop", "noop")) for r in runs.values()])
        add("  Flask (one-route app − no-op), under the server",
            [_diff(_cpu(r, "flask", "noop"), _cpu(r, "noop", "noop")) for r in runs.values()])
    key = "lookup" if kind == "lookup" else "entity-page"
    procs = [r.get("in_process", {}) for r in runs.values()]
    add("in process: Flask one-route app", [p.get("flask one-route app") for p in procs])
    stages = sorted({k for p in procs for k, v in p.get(key, {}).items()
                     if isinstance(v, int | float)} - {"n"})
    for name in stages:
        add(f"in process: {name}", [p.get(key, {}).get(name) for p in procs])
    if kind == "lookup":
        wake = []
        for p in procs:
            s = p.get(key, {})
            parts = [s.get("hop: pool.run wall"), s.get("hop: pool.run"), s.get("query processes")]
            wake.append(None if None in parts else parts[0] - parts[1] - parts[2])
        add("in process: hop wall − its CPU both sides (wake-ups, waiting)", wake)
        cheap = sorted({k for p in procs for k, v in p.get("cheap path", {}).items()
                        if isinstance(v, int | float) and k != "declined"})
        for name in cheap:
            add(f"in process, the cheap path: {name}",
                [p.get("cheap path", {}).get(name) for p in procs])
    add(f"engine alone ({'lookup' if kind == 'lookup' else 'DESCRIBE'}, Store.query + serialize)",
        [p.get("engine: lookup" if kind == "lookup" else "engine: describe") for p in procs])
    head = "| stage (µs CPU per request) | " + " | ".join(labels) + " |"
    out = [head, "|---|" + "---|" * len(labels)]
    out += [f"| {name} | " + " | ".join(_fmt(v) for v in vals) + " |" for name, vals in rows]
    loads = [_load(p) if p else "–" for p in procs]
    out.append("| load average (in-process part) | " + " | ".join(loads) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    runs = {}
    for arg in argv if argv is not None else sys.argv[1:]:
        label, _, path = arg.partition("=")
        runs[label] = json.loads(Path(path).read_text())
    if any("env_ab" in r for r in runs.values()):
        print("### Our server under each setting (alternating rounds)\n")
        print(env_rounds(runs))
        return 0
    print("### Same-run ratios\n")
    print(ratios(runs))
    print("\n### The event-loop cache layer, with and without (same run)\n")
    print(asgi_layer(runs))
    if any("layer_ab" in r for r in runs.values()):
        print("\nAlternating rounds (the layer's verdict):\n")
        print(layer_rounds(runs))
    print("\n### Uncached lookup: where the CPU goes\n")
    print(breakdown(runs, "lookup"))
    print("\n### Uncached entity page: where the CPU goes\n")
    print(breakdown(runs, "page"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
