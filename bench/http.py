"""The endpoint under load: ours (production config, guards on) vs the minimal baseline app vs
Oxigraph's own server, same store, one server at a time; plus RSS while streaming a big result.

Workloads (each at 1, 8 and 32 connections, keep-alive, loopback):
  lookup       SELECT the labels of one IRI (the cheapest useful request)
  lookup-uncached  the same lookup, but every request's query text is unique (a numbered comment
               line), so no result cache can answer: the cost of running it
  lookup-304   the same with If-None-Match: the ETag of the first answer (ours only: the others
               send no ETag; compared with the baseline's plain lookup)
  entity-page  ours: the HTML page /page/<kind>/<slug>; the others: the page's own description
               query (graph/queries/pages/entity_description.rq) as N-Triples
  example      the first example query (graph/queries/examples/*.rq) as SPARQL JSON
  construct    CONSTRUCT of one source's claims (~700 triples) as N-Triples
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode

from bench import loadgen, servers

ROOT = Path(__file__).resolve().parent.parent
JSON = "application/sparql-results+json"
NT = "application/n-triples"


def _prolog(base: str, query: str) -> str:
    """PREFIX lines for the prefixes the query uses (all of them would overflow a GET line)."""
    from graph.namespaces import prefix_lines
    from graph.queries import query_prefixes

    return prefix_lines(query_prefixes(base), query)


def _example_query() -> tuple[str, str]:
    """The example the load test sends: one about the real event whose answer does not grow
    with the data (the whole-dataset aggregates are in the engine-time table instead)."""
    from graph.queries import examples

    found = {q.name.split("/")[-1]: q for q in examples() if not q.params}
    for name in ("seed-article-figures", "memorial-location", *sorted(found)):
        if name in found and not name.startswith("federated"):
            return found[name].name, found[name].text
    return "none", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def workloads(b: dict[str, str], base: str) -> dict[str, dict[str, tuple[str, dict]]]:
    """name -> server -> (path and query string, headers)."""
    desc = (ROOT / "graph" / "queries" / "pages" / "entity_description.rq").read_text()
    desc += f"\nVALUES ?entity {{ <{b['place']}> }}\n"
    example_name, example = _example_query()
    lookup = f"SELECT ?label WHERE {{ <{b['place']}> rdfs:label ?label }}"
    construct = f"CONSTRUCT {{ ?c ?p ?o }} WHERE {{ ?c kgo:statedIn <{b['source']}> ; ?p ?o }}"

    def sparql(q: str) -> str:
        return "/sparql?" + urlencode({"query": _prolog(base, q) + q}, quote_via=quote)

    kind_slug = b["place"].removeprefix(base + "id/")
    all3 = ("ours", "baseline", "oxigraph")
    return {
        "lookup": {s: (sparql(lookup), {"Accept": JSON}) for s in all3},
        "lookup-uncached": {s: (sparql(lookup), {"Accept": JSON}) for s in all3},
        "lookup-304": {"ours": (sparql(lookup), {"Accept": JSON})},
        "entity-page": {"ours": (f"/page/{kind_slug}", {"Accept": "text/html"}),
                        **{s: (sparql(desc), {"Accept": NT}) for s in all3[1:]}},
        f"example ({example_name})": {s: (sparql(example), {"Accept": JSON}) for s in all3},
        "construct": {s: (sparql(construct), {"Accept": NT}) for s in all3},
    }


def probe(url: str, headers: dict) -> tuple[int, dict]:
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            resp.read()
            return resp.status, dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers)


def stream_rss(server: servers.Server, rows: int, base: str) -> dict:
    """Fetch a `rows`-row SELECT as SPARQL JSON, reading as it arrives; sample the server's RSS.
    (JSON, not TSV: every server offers it. Rows are counted by their first key, `"s":{`.)"""
    q = f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o }} LIMIT {rows}"
    url = f"{server.url}/sparql?" + urlencode({"query": q}, quote_via=quote)
    idle = server.rss_mib()
    peak = [idle]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], server.rss_mib())
            time.sleep(0.02)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    t0 = time.perf_counter()
    got, status = 0, 0
    try:
        req = urllib.request.Request(url, headers={"Accept": JSON})
        with urllib.request.urlopen(req, timeout=600) as resp:
            status = resp.status
            tail = b""
            while chunk := resp.read(1 << 16):
                got += (tail + chunk).count(b'"s":{')
                tail = chunk[-4:]  # a key split across two reads is counted once
    except urllib.error.HTTPError as err:
        status = err.code
    finally:
        done.set()
        t.join()
    return {"status": status, "rows": got, "seconds": time.perf_counter() - t0,
            "rss_idle_mib": idle, "rss_peak_mib": peak[0], "rss_growth_mib": peak[0] - idle}


def measure_http(store_link, store_dir: Path, b: dict[str, str], args, log) -> dict:
    from bench.generate import DEFAULT_BASE as base

    logs = ROOT / "var" / "bench" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    starters = {
        "ours": lambda: (servers.start_ours(store_link, args.workers, logs / "ours.log")
                         if store_link is not None else None),
        "baseline": lambda: servers.start_baseline(store_dir, args.workers,
                                                   logs / "baseline.log"),
        "oxigraph": lambda: servers.start_oxigraph(store_dir, logs / "oxigraph.log"),
    }
    wl = workloads(b, base)
    conns = [int(c) for c in args.connections.split(",")]
    out: dict = {"servers": {}, "load": [], "streaming": {}}
    for name, start in starters.items():
        try:
            server = start()
        except RuntimeError as err:
            out["servers"][name] = {"error": str(err)}
            continue
        if server is None:
            out["servers"][name] = {"error": "not available"}
            continue
        out["servers"][name] = {"started_s": server.started_s, "rss_idle_mib": server.rss_mib()}
        try:
            for wname, per in wl.items():
                if name not in per:
                    continue
                path, headers = per[name]
                status, resp_headers = probe(server.url + path, headers)
                if wname == "lookup-304":
                    etag = resp_headers.get("ETag")
                    if not etag:
                        out["load"].append({"server": name, "workload": wname, "status": status,
                                            "error": "no ETag in the answer"})
                        continue
                    headers = {**headers, "If-None-Match": etag}
                    status, _ = probe(server.url + path, headers)
                for c in conns:
                    log(f"  {name} {wname} c={c}")
                    r = loadgen.run(server.url + path, c, args.duration, headers,
                                    unique=wname.endswith("-uncached"))
                    out["load"].append({"server": name, "workload": wname, "status": status,
                                        **r.as_dict()})
            if name in ("ours", "baseline"):
                rows = 1_000_000
                log(f"  {name} streaming {rows} rows")
                out["streaming"][name] = stream_rss(server, rows, base)
        finally:
            server.stop()
    return out
