"""Load with correctness: N concurrent clients against the production server, every answer checked.

    python -m bench.stress --clients 16 --seconds 60          # `make stress`

Speed alone proves little: a server that answers fast and wrong under concurrency (a result
spooled to the wrong client, a truncated stream, a half-open store) must fail. So each request of
the mix has an expected answer computed in-process first, and every answer the server gives is
compared with it:

  lookup     SELECT the labels of one entity          rows compared with pyoxigraph in-process
  example    every example query (graph/queries/examples)  rows compared, in any order
  page       the HTML page of an entity               bytes compared with the Flask test client
  construct  CONSTRUCT one named graph as N-Triples   graph compared (isomorphic, blank nodes)
  dump       a dump file of the current build         bytes compared with the file

The server is `kg serve` (gunicorn, the production config) on 127.0.0.1 with a free port; the
client is a small bounded Python client (keep-alive connections, one per client thread) that
stops at a request count or a deadline, whichever comes first. The report (requests/s,
p50/p95/p99 per kind, errors) goes to bench/results/stress-<date>.md. `tests/test_stress.py`
runs the same code with small bounds inside `make test`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench.servers import Server, free_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
JSON = "application/sparql-results+json"
NT = "application/n-triples"
FORM = "application/x-www-form-urlencoded"


# -- the server --------------------------------------------------------------------------------

def kg_command() -> list[str]:
    """The `kg` console script of this interpreter's environment (what `make serve` runs)."""
    script = Path(sys.executable).with_name("kg")
    return [str(script)] if script.exists() else [shutil.which("kg") or "kg"]


def server_env(store_path: Path, **settings: object) -> dict[str, str]:
    """The environment of a server over `store_path`; extra KG_* settings by keyword."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    env["KG_STORE_PATH"] = str(store_path)
    env.update({f"KG_{k.upper()}": str(v) for k, v in settings.items()})
    return env


def wait_until_answers(proc: subprocess.Popen, port: int, timeout: float = 60) -> None:
    """Poll the trivial ASK until it answers 200 (datasette's wait_until_responds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before it answered")
        status, _ = fetch(port, "GET", "/sparql?" + urlencode({"query": "ASK {}"}),
                          {"Accept": JSON}, timeout=5)
        if status == 200:
            return
        time.sleep(0.1)
    raise RuntimeError(f"no answer on 127.0.0.1:{port} within {timeout:.0f} s")


@contextmanager
def serve(store_path: Path, log: Path, workers: int = 2, **settings: object) -> Iterator[Server]:
    """`kg serve` over `store_path` on a free loopback port; stopped (TERM, then KILL) at exit."""
    port = free_port()
    cmd = kg_command() + ["serve", "--host", "127.0.0.1", "--port", str(port),
                          "--workers", str(workers)]
    t0 = time.perf_counter()
    with open(log, "ab") as fh:
        proc = subprocess.Popen(cmd, env=server_env(store_path, **settings), stdout=fh,
                                stderr=subprocess.STDOUT, cwd=ROOT)
    server = Server("kg serve", proc, port, 0.0)
    try:
        wait_until_answers(proc, port)
        server.started_s = time.perf_counter() - t0
        yield server
    finally:
        server.stop()


def fetch(port: int, method: str, target: str, headers: dict[str, str],
          body: bytes | None = None, timeout: float = 60) -> tuple[int, bytes]:
    """One request on a fresh connection; (0, error text) when the connection itself fails."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, target, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    except (OSError, http.client.HTTPException) as e:
        return 0, repr(e).encode()
    finally:
        conn.close()


# -- the mix and its expected answers -----------------------------------------------------------

@dataclass(frozen=True)
class Call:
    kind: str
    name: str
    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None = None


def _sparql(kind: str, name: str, query: str, accept: str) -> Call:
    body = urlencode({"query": query}).encode()
    return Call(kind, name, "POST", "/sparql",
                (("Accept", accept), ("Content-Type", FORM)), body)


def _entities(store, base: str, limit: int) -> list[str]:
    """Up to `limit` typed things of ours with a page (events, places, people...), sorted."""
    rows = store.query("SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s a ?t } } ORDER BY ?s")
    prefix = base + "id/"
    kinds = ("event/", "place/", "organisation/", "person/", "memorial/", "source/")
    return [r["s"].value for r in rows
            if r["s"].value.startswith(prefix) and "#" not in r["s"].value  # parts of a page
            and r["s"].value[len(prefix):].startswith(kinds)][:limit]


def build_mix(settings, entities: int = 12, graphs: int = 6) -> list[Call]:
    """The requests of the mix, over the store `settings` points to."""
    from graph.queries import examples, query_prefixes
    from graph.sparql.reader import read
    from graph.store import dumps_dir, open_store

    store = open_store(settings)
    base = settings.base_iri
    calls: list[Call] = []
    for iri in _entities(store, base, entities):
        slug = iri.removeprefix(base + "id/")
        query = f"SELECT ?label WHERE {{ <{iri}> rdfs:label ?label }}"
        calls.append(_sparql("lookup", slug, query, JSON))
        calls.append(Call("page", slug, "GET", f"/page/{slug}", (("Accept", "text/html"),)))
    for q in examples():
        # federated examples call an allow-listed remote endpoint: not on loopback, not here
        if not q.params and not read(q.text, base, query_prefixes(base)).services:
            calls.append(_sparql("example", q.name, q.text, JSON))
    names = [r["g"].value for r in store.query(
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { } } ORDER BY ?g")]
    for g in [n for n in names if "/graph/source/" in n][:graphs]:
        query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"
        calls.append(_sparql("construct", g.removeprefix(base), query, NT))
    for path in sorted(dumps_dir(settings).iterdir()):
        calls.append(Call("dump", path.name, "GET", f"/dumps/{path.name}", (("Accept", "*/*"),)))
    return calls


def canonical(call: Call, status: int, body: bytes):
    """What two answers must share to count as equal: rows as a sorted list, graphs as a
    canonical (blank-node-free) rdflib form, documents as bytes."""
    if status != 200:
        return ("status", status)
    if call.kind in ("lookup", "example"):
        data = json.loads(body)
        rows = [json.dumps(b, sort_keys=True) for b in data["results"]["bindings"]]
        return (tuple(data["head"]["vars"]), tuple(sorted(rows)))
    if call.kind == "construct":
        import rdflib
        from rdflib.compare import to_canonical_graph

        g = rdflib.Graph().parse(data=body.decode(), format="nt")
        return frozenset(to_canonical_graph(g))
    return body


def expected_answers(settings, calls: list[Call]) -> dict[Call, object]:
    """Each call's answer computed in-process: pyoxigraph for queries, the test client for pages,
    the build's own files for dumps."""
    from pyoxigraph import QueryResultsFormat, RdfFormat

    from endpoint import create_app
    from graph.queries import query_prefixes
    from graph.store import dumps_dir, open_store

    store = open_store(settings)
    prefixes = query_prefixes(settings.base_iri)
    app = create_app(settings)
    client = app.test_client()
    out: dict[Call, object] = {}
    try:
        for call in calls:
            if call.kind in ("lookup", "example", "construct"):
                query = _query_of(call)
                result = store.query(query, base_iri=settings.base_iri, prefixes=prefixes,
                                     use_default_graph_as_union=True)
                fmt = QueryResultsFormat.JSON if call.kind != "construct" else RdfFormat.N_TRIPLES
                out[call] = canonical(call, 200, result.serialize(format=fmt))
            elif call.kind == "page":
                resp = client.get(call.target, headers=dict(call.headers))
                out[call] = canonical(call, resp.status_code, resp.get_data())
                resp.close()
            else:
                out[call] = (dumps_dir(settings) / call.name).read_bytes()
    finally:
        app.extensions["kg"].pool.close()
    return out


def _query_of(call: Call) -> str:
    from urllib.parse import parse_qs

    return parse_qs((call.body or b"").decode())["query"][0]


# -- the client ----------------------------------------------------------------------------------

@dataclass
class Outcome:
    requests: int = 0
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)  # transport errors and non-200 statuses
    wrong: list[str] = field(default_factory=list)  # 200 with an answer unlike the expected one

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_load(port: int, calls: list[Call], expected: dict[Call, object], clients: int,
             max_requests: int, seconds: float, seed: int = 6) -> Outcome:
    """`clients` threads, each on its own keep-alive connection, pick calls at random (seeded)
    until `max_requests` have been sent in all or `seconds` have passed."""
    outcome = Outcome()
    lock = threading.Lock()
    sent = [0]
    deadline = time.perf_counter() + seconds

    def take() -> bool:
        with lock:
            if sent[0] >= max_requests or time.perf_counter() >= deadline:
                return False
            sent[0] += 1
            return True

    def client(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while take():
            call = rng.choice(calls)
            t0 = time.perf_counter()
            try:
                conn.request(call.method, call.target, body=call.body, headers=dict(call.headers))
                resp = conn.getresponse()
                status, body = resp.status, resp.read()
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status, body = 0, repr(e).encode()
            elapsed = time.perf_counter() - t0
            problem = None
            if status != 200:
                problem = f"{call.kind} {call.name}: HTTP {status} {body[:200]!r}"
            elif canonical(call, status, body) != expected[call]:
                problem = f"{call.kind} {call.name}: answer differs from the in-process one"
            with lock:
                outcome.requests += 1
                outcome.latencies[call.kind].append(elapsed)
                if problem and status == 200:
                    outcome.wrong.append(problem)
                elif problem:
                    outcome.errors.append(problem)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    outcome.seconds = time.perf_counter() - started
    return outcome


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99 in milliseconds."""
    if len(values) == 1:
        return (values[0] * 1e3,) * 3
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49] * 1e3, q[94] * 1e3, q[98] * 1e3


# -- the report ---------------------------------------------------------------------------------

def render(outcome: Outcome, clients: int, server: Server, rss_mib: float, note: str) -> str:
    every = [x for xs in outcome.latencies.values() for x in xs]
    lines = [
        f"# Stress run {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        f"{note}",
        "",
        f"- server: `kg serve` (gunicorn, production config) on 127.0.0.1, started in "
        f"{server.started_s:.1f} s; RSS of the server process tree after the run: "
        f"{rss_mib:.0f} MiB",
        f"- clients: {clients} concurrent keep-alive connections; {outcome.requests} requests in "
        f"{outcome.seconds:.1f} s = **{outcome.rps:.1f} requests/s**",
        f"- errors (transport or non-200): **{len(outcome.errors)}**; wrong answers (200 but "
        f"unlike the in-process answer): **{len(outcome.wrong)}**",
        "",
        "| kind | requests | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind, values in sorted(outcome.latencies.items()) + [("all", every)]:
        if values:
            p50, p95, p99 = percentiles(values)
            lines.append(f"| {kind} | {len(values)} | {p50:.1f} | {p95:.1f} | {p99:.1f} |")
    for title, items in (("Errors", outcome.errors), ("Wrong answers", outcome.wrong)):
        if items:
            lines += ["", f"## {title} (first 20)", ""] + [f"- {e}" for e in items[:20]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from graph.config import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", type=Path, help="store symlink (default: the settings' one)")
    parser.add_argument("--out", type=Path, help="report file (default: bench/results/...)")
    args = parser.parse_args(argv)
    settings = Settings.from_env(store_path=args.store)
    calls = build_mix(settings)
    expected = expected_answers(settings, calls)
    logs = ROOT / "var" / "stress"
    logs.mkdir(parents=True, exist_ok=True)
    with serve(settings.store_path, logs / "server.log", workers=args.workers) as server:
        outcome = run_load(server.port, calls, expected, args.clients, args.max_requests,
                           args.seconds)
        rss = server.rss_mib()
    note = (f"Mix of {len(calls)} distinct requests ("
            + ", ".join(f"{k}: {sum(c.kind == k for c in calls)}"
                        for k in ("lookup", "example", "page", "construct", "dump"))
            + f"), {args.workers} gunicorn workers, build {settings.store_path.resolve().name} "
            "(python -m bench.stress).")
    text = render(outcome, args.clients, server, rss, note)
    out = args.out or RESULTS / f"stress-{dt.date.today().isoformat()}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)
    print(f"report written to {out}", file=sys.stderr)
    return 1 if outcome.errors or outcome.wrong else 0


if __name__ == "__main__":
    sys.exit(main())
