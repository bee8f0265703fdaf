"""Where the time of one uncached request goes, stage by stage, and the same-run ratios around it.

    python -m bench.stages --store var/store [--place IRI] [--seconds 3] [--out FILE.json]
    python -m bench.stages --ab-rounds 3 --env-ab asyncio:KG_EVENT_LOOP=asyncio \
        --env-ab uvloop:KG_EVENT_LOOP=uvloop [--with-oxigraph] --connections 8 --out FILE.json

Two kinds of measurement, each on 127.0.0.1 and one server at a time (two cores):

- **under load** (wrk, keep-alive): CPU µs per request of the whole server tree (the HTTP server,
  its workers, their query processes: utime + stime from /proc, over the requests wrk counted),
  for Oxigraph's server, the minimal app (bench/baseline_app.py), our endpoint, and the do-nothing
  apps of bench/stage_apps.py under *our* server command (with and without the access log, bare
  WSGI and Flask): their differences are the HTTP server's, the access log's and Flask's share.
  The same runs give the ratios (req/s) of the uncached lookup, the uncached entity page, the
  repeated lookup and its revalidation (304), at each `--connections`;
- **in process**, no HTTP server: the app's WSGI callable called with prepared environs (each
  query text unique), its functions wrapped with timers (CPU of this process and wall time), the
  query processes' CPU read from /proc: reading the request, the reader (the policy's parse),
  negotiation, headers, the process hop (the parent's CPU in `pool.run`, the query process's CPU
  beyond the engine's, and the wall time neither accounts for: wake-ups), the engine alone
  (`Store.query` + serializing, in this process), and Flask's share (a one-route app).

It runs against whichever code is first on PYTHONPATH, so the same file measures an older
checkout ("before") when copied into it. Every number carries the load average it ran under.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from bench import loadgen, servers

ROOT = Path(__file__).resolve().parent.parent
REAL_PLACE = "https://w3id.org/khojaly/id/place/khojaly"
JSON = "application/sparql-results+json"
HTML = "text/html"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- CPU of a process tree ----------------------------------------------------------------------


def tree_cpu_s(pid: int, itself: bool = True) -> float:
    """utime + stime of `pid` (unless not `itself`) and its descendants now (seconds)."""
    total = 0.0
    for p in [pid] * itself + servers._descendants(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
    return total


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# -- servers ------------------------------------------------------------------------------------


def _own_module(name: str):
    """`name` imported only if this checkout has it (an editable install of another checkout
    would otherwise supply a module this one lacks); None when it does not."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not str(spec.origin or "").startswith(str(ROOT)):
        return None
    return importlib.import_module(name)


def _server_env(store_link: Path, port: int, access_log: bool, workers: int) -> dict[str, str]:
    return {"KG_STORE_PATH": str(store_link), "KG_PORT": str(port), "KG_HOST": "127.0.0.1",
            "KG_WORKERS": str(workers), "KG_ACCESS_LOG": "1" if access_log else "0"}


def our_command(target: str, env: dict[str, str], access_log: bool) -> list[str] | None:
    """The argv `kg serve` would run, with `target` ("endpoint", "noop" or "flask") as the app.

    A checkout without endpoint/server.py (before the server switch) ran gunicorn with
    endpoint/gunicorn_conf.py, whose access log was always on: a wrapper config turns it off.
    """
    server = _own_module("endpoint.server")
    if server is not None and hasattr(server, "command"):
        from graph.config import Settings

        wanted = {**os.environ, **env, "KG_ACCESS_LOG": "1" if access_log else "0"}
        argv = server.command(Settings.from_env(wanted))
        if target == "endpoint":
            return argv
        asgi = "asgi" in argv
        if target in ("endpoint_without_asgi_cache", "raw_asgi"):
            return [*argv[:-1], f"bench.stage_apps:{target}"] if asgi else None
        if argv[-1].endswith("()"):  # gunicorn: a call expression
            return [*argv[:-1], f"bench.stage_apps:{target}_wsgi()"]
        return [*argv[:-1], f"bench.stage_apps:{target}_{'asgi' if asgi else 'wsgi'}"]
    conf = ROOT / "endpoint" / "gunicorn_conf.py"
    if not access_log:
        wrapper = Path(tempfile.mkdtemp()) / "conf.py"
        wrapper.write_text(f"exec(open({str(conf)!r}).read())\naccesslog = None\n")
        conf = wrapper
    if target in ("endpoint_without_asgi_cache", "raw_asgi"):
        return None
    app = "endpoint:create_app()" if target == "endpoint" else f"bench.stage_apps:{target}_wsgi()"
    return [sys.executable, "-m", "gunicorn", "-c", str(conf),
            "-b", f"127.0.0.1:{env['KG_PORT']}", "-w", env["KG_WORKERS"], app]


def start(name: str, target: str, store_link: Path, access_log: bool, workers: int,
          logs: Path) -> servers.Server | None:
    port = servers.free_port()
    env = _server_env(store_link, port, access_log, workers)
    cmd = our_command(target, env, access_log)
    if cmd is None:
        return None
    server = servers._spawn(name, cmd, env, port, logs / f"{name}.log")
    _warm_one_at_a_time(server)
    return server


def _warm_one_at_a_time(server: servers.Server, n: int = 24) -> None:
    """Some unique lookups, one at a time, before any load: the query reader's grammar
    (pyparsing, through rdflib) settles its parse actions on first use, and settling them from
    several threads at once breaks them for the process's lifetime (500s on every uncached
    query); this keeps that bug out of the numbers (tests/test_concurrent_uncached.py shows it)."""
    text = lookup_text(REAL_PLACE)
    for i in range(n):
        _probe(server.url + sparql_path(f"{text}\n#warm-{i}"), {"Accept": JSON})


def measure(server: servers.Server, path: str, headers: dict, conns: int, seconds: float,
            unique: bool) -> dict:
    """req/s, latency and the server tree's CPU per request for one workload."""
    loadgen.run(server.url + path, conns, 1, headers, unique=unique)  # warm up
    before = tree_cpu_s(server.proc.pid)
    load = load_avg()
    r = loadgen.run(server.url + path, conns, seconds, headers, unique=unique)
    cpu = tree_cpu_s(server.proc.pid) - before
    return {**r.as_dict(), "cpu_us_per_request": round(cpu / max(1, r.requests) * 1e6, 1),
            "loadavg": load}


# -- workloads ----------------------------------------------------------------------------------


def lookup_text(place: str) -> str:
    return ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
            f"SELECT ?label WHERE {{ <{place}> rdfs:label ?label }}")


def describe_text(place: str) -> str:
    desc = (ROOT / "graph" / "queries" / "pages" / "entity_description.rq").read_text()
    return desc + f"\nVALUES ?entity {{ <{place}> }}\n"


def sparql_path(query: str) -> str:
    return "/sparql?" + urlencode({"query": query}, quote_via=quote)


def page_path(place: str, base: str) -> str:
    return "/page/" + place.removeprefix(base + "id/") + "?u="


def under_load(args, store_link: Path, store_dir: Path, log) -> list[dict]:
    logs = ROOT / "var" / "bench" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    lookup, page = sparql_path(lookup_text(args.place)), page_path(args.place, args.base)
    describe = sparql_path(describe_text(args.place))
    conns = [int(c) for c in args.connections.split(",")]
    plan = [  # server label, starter, [(workload, path, headers, unique, connection counts)]
        ("oxigraph", lambda: servers.start_oxigraph(store_dir, logs / "oxigraph.log"),
         [("lookup-uncached", lookup, {"Accept": JSON}, True, conns),
          ("lookup", lookup, {"Accept": JSON}, False, conns),
          ("entity-page-uncached", describe, {"Accept": servers_nt()}, True, conns)]),
        ("baseline", lambda: servers.start_baseline(store_dir, args.workers,
                                                    logs / "baseline.log"),
         [("lookup-uncached", lookup, {"Accept": JSON}, True, conns),
          ("entity-page-uncached", describe, {"Accept": servers_nt()}, True, conns)]),
        ("ours", lambda: start("ours", "endpoint", store_link, False, args.workers, logs),
         [("lookup-uncached", lookup, {"Accept": JSON}, True, conns),
          ("lookup", lookup, {"Accept": JSON}, False, conns),
          ("lookup-304", lookup, {"Accept": JSON}, False, conns),
          ("entity-page-uncached", page, {"Accept": HTML}, True, conns)]),
        ("ours without the ASGI cache layer",
         lambda: start("ours-nofront", "endpoint_without_asgi_cache", store_link, False,
                       args.workers, logs),
         [("lookup", lookup, {"Accept": JSON}, False, conns),
          ("lookup-304", lookup, {"Accept": JSON}, False, conns)]),
        ("ours+log", lambda: start("ours-log", "endpoint", store_link, True, args.workers, logs),
         [("lookup-uncached", lookup, {"Accept": JSON}, True, conns[:1])]),
        ("raw ASGI noop", lambda: start("raw", "raw_asgi", store_link, False, args.workers, logs),
         [("noop", lookup, {"Accept": JSON}, True, conns[:1])]),
        ("noop", lambda: start("noop", "noop", store_link, False, args.workers, logs),
         [("noop", lookup, {"Accept": JSON}, True, conns[:1])]),
        ("noop+log", lambda: start("noop-log", "noop", store_link, True, args.workers, logs),
         [("noop", lookup, {"Accept": JSON}, True, conns[:1])]),
        ("flask", lambda: start("flask", "flask", store_link, False, args.workers, logs),
         [("noop", lookup, {"Accept": JSON}, True, conns[:1])]),
    ]
    out = []
    for label, starter, work in plan:
        server = starter()
        if server is None:
            out.append({"server": label, "error": "not available"})
            continue
        try:
            for wname, path, headers, unique, cs in work:
                if wname == "lookup-304":
                    status, got = _probe(server.url + path, headers)
                    headers = {**headers, "If-None-Match": got.get("ETag", "")}
                for c in cs:
                    log(f"  {label} {wname} c={c}")
                    out.append({"server": label, "workload": wname,
                                **measure(server, path, headers, c, args.seconds, unique)})
        finally:
            server.stop()
    return out


def layer_ab(args, store_link: Path, log) -> list[dict]:
    """The event-loop cache layer, with and without, in alternating rounds: on a shared machine
    the load drifts, and alternating keeps the drift out of the ratio (report the median)."""
    sides = [("with", "endpoint", {}), ("without", "endpoint_without_asgi_cache", {})]
    return _rounds(args, store_link, log, sides, ("lookup", "lookup-304"))


def env_ab(args, store_link: Path, log) -> list[dict]:
    """Our server under each `--env-ab` setting (e.g. `asyncio:GRANIAN_LOOP=asyncio`), in
    alternating rounds, on the uncached lookup, the repeated one and its 304."""
    sides = [(label, "endpoint", env) for label, env in args.env_ab]
    if args.with_oxigraph:
        sides.append(("oxigraph", "oxigraph", {}))
    return _rounds(args, store_link, log, sides, ("lookup-uncached", "lookup", "lookup-304"))


def _rounds(args, store_link: Path, log, sides, workloads) -> list[dict]:
    logs = ROOT / "var" / "bench" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    lookup = sparql_path(lookup_text(args.place))
    out = []
    for rnd in range(args.ab_rounds):
        for label, target, env in sides:
            saved = {k: os.environ.get(k) for k in env}
            os.environ.update(env)  # the server's command and its environment read them
            try:
                server = (servers.start_oxigraph(store_link.resolve() / "oxigraph",
                                                 logs / "ab-oxigraph.log")
                          if target == "oxigraph" else
                          start(f"ab-{label}", target, store_link, False, args.workers, logs))
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
            if server is None:
                return [{"error": f"{label}: not available (no ASGI interface, or no Oxigraph)"}]
            try:
                status, got = _probe(server.url + lookup, {"Accept": JSON})
                for wname in workloads:
                    if target == "oxigraph" and wname == "lookup-304":
                        continue  # the targets compare our 304 with its repeated lookup
                    headers = {"Accept": JSON}
                    if wname == "lookup-304":
                        headers["If-None-Match"] = got.get("ETag", "")
                    for c in (int(x) for x in args.connections.split(",")):
                        log(f"  round {rnd} {label} {wname} c={c}")
                        out.append({"round": rnd, "layer": label, "workload": wname,
                                    **measure(server, lookup, headers, c, args.seconds,
                                              wname == "lookup-uncached")})
            finally:
                server.stop()
    return out


def _env_setting(text: str) -> tuple[str, dict[str, str]]:
    """`label:KEY=VALUE[,KEY=VALUE…]` → (label, {KEY: VALUE})."""
    label, _, pairs = text.partition(":")
    env = dict(pair.split("=", 1) for pair in pairs.split(",") if pair)
    if not label or not env:
        raise argparse.ArgumentTypeError(f"expected label:KEY=VALUE[,KEY=VALUE], not {text!r}")
    return label, env


def servers_nt() -> str:
    return "application/n-triples"


def _probe(url: str, headers: dict) -> tuple[int, dict]:
    from bench.http import probe

    return probe(url, headers)


# -- in process ---------------------------------------------------------------------------------


class Timers:
    """CPU (this process) and wall time spent in wrapped functions, by label."""

    def __init__(self):
        self.cpu: dict[str, float] = {}
        self.wall: dict[str, float] = {}

    def wrap(self, label: str, fn):
        def timed(*args, **kwargs):
            c0, w0 = time.thread_time(), time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.cpu[label] = self.cpu.get(label, 0.0) + time.thread_time() - c0
                self.wall[label] = self.wall.get(label, 0.0) + time.perf_counter() - w0
        return timed

    def patch(self, module: str, attr: str, label: str) -> None:
        mod = _own_module(module)
        if mod is None:
            return
        owner, _, name = attr.rpartition(".")  # "Class.method" wraps a method on its class
        holder = getattr(mod, owner, None) if owner else mod
        if holder is not None and hasattr(holder, name):
            setattr(holder, name, self.wrap(label, getattr(holder, name)))

    def reset(self) -> None:
        self.cpu.clear()
        self.wall.clear()


# module, attribute, label. Both layouts of endpoint/ are listed (before and after it was split
# into http/, sparql/, pages/); what a checkout does not have is skipped.
LOOKUP_STAGES = [
    ("endpoint.http.caching", "etag_for", "cache key"),
    ("endpoint.fast_path", "key_for", "cache key"),
    ("endpoint.sparql", "request_key", "cache key"),
    ("endpoint.sparql.views", "read_request", "reading the request"),
    ("endpoint.sparql", "read_request", "reading the request"),
    ("endpoint.sparql.policy", "inspect", "reader + policy"),
    ("endpoint.guards", "inspect", "reader + policy"),
    ("endpoint.sparql.views", "_negotiate", "negotiation"),
    ("endpoint.sparql", "_negotiate", "negotiation"),
    ("endpoint.sparql.views", "_finish", "headers"),
    ("endpoint.sparql", "_finish", "headers"),
]
PAGE_STAGES = [
    ("endpoint.site_cache", "etag_for", "cache key"),
    ("endpoint.pages.describe", "run", "page: queries (engine, in this process)"),
    ("endpoint.describe", "run", "page: queries (engine, in this process)"),
    ("endpoint.pages.entity_model", "PageBuilder.build", "page: model (queries included)"),
    ("endpoint.entity_model", "PageBuilder.build", "page: model (queries included)"),
    ("endpoint.pages.entities", "render_template", "page: template"),
    ("endpoint.entities", "render_template", "page: template"),
    ("endpoint.pages.entities", "_serialize", "page: JSON-LD"),
    ("endpoint.pages.entities", "_serialize_triples", "page: JSON-LD"),
    ("endpoint.entities", "_serialize", "page: JSON-LD"),
]

CHEAP_STAGES = [
    ("endpoint.http.caching", "environ_of", "cache key"),
    ("endpoint.http.caching", "etag_for", "cache key"),
    ("endpoint.sparql.cheap", "_only_query", "reading the query"),
    ("endpoint.sparql.cheap", "format_for_accept", "negotiation"),
    ("endpoint.sparql.cheap", "patterns", "shape (the whitelist)"),
    ("endpoint.sparql.cheap", "bounded", "size (counted in the store)"),
]


def _environs(path: str, headers: dict, n: int, first: int = 0) -> list[dict]:
    """`n` GETs of `path`, each made unique by a numbered comment (from `first`)."""
    from werkzeug.test import EnvironBuilder

    base, _, qs = path.partition("?")
    out = []
    for i in range(first, first + n):
        b = EnvironBuilder(path=base, query_string=f"{qs}%0A%23{i}", headers=headers)
        out.append(b.get_environ())
        b.close()
    return out


def _drive(app, environs: list[dict]) -> tuple[float, float, set]:
    """Call the WSGI app on each environ; return (this process's CPU s, wall s, statuses)."""
    statuses = set()

    def start_response(status, headers, exc_info=None):
        statuses.add(status.split()[0])

    c0, w0 = time.process_time(), time.perf_counter()
    for environ in environs:
        it = app(environ, start_response)
        for _ in it:
            pass
        if hasattr(it, "close"):
            it.close()
    return time.process_time() - c0, time.perf_counter() - w0, statuses


def in_process(args, store_link: Path) -> dict:
    from bench.stage_apps import flask_wsgi
    from endpoint import create_app
    from graph.config import Settings

    settings = Settings.from_env({"KG_STORE_PATH": str(store_link)})
    app = create_app(settings)
    kg = app.extensions["kg"]
    timers = Timers()
    out: dict = {"loadavg": load_avg(), "n": args.n}
    flask_app = flask_wsgi()
    cpu, wall, _ = _drive(flask_app, _environs("/sparql?query=x", {"Accept": JSON}, args.n))
    out["flask one-route app"] = round(cpu / args.n * 1e6, 1)
    for module, attr, label in dict.fromkeys(LOOKUP_STAGES + PAGE_STAGES):
        timers.patch(module, attr, label)
    kg.pool.run = timers.wrap("hop: pool.run", kg.pool.run)
    for name, path, headers in (
        ("lookup", sparql_path(lookup_text(args.place)), {"Accept": JSON}),
        ("entity-page", page_path(args.place, args.base), {"Accept": HTML}),
    ):
        # warm up (query processes started) on texts the measured requests never repeat
        _drive(app, _environs(path, headers, 50, first=10**6))
        timers.reset()
        environs = _environs(path, headers, args.n)
        child0 = tree_cpu_s(os.getpid(), itself=False)
        cpu, wall, statuses = _drive(app, environs)
        child = tree_cpu_s(os.getpid(), itself=False) - child0
        per = {k: round(v / args.n * 1e6, 1) for k, v in sorted(timers.cpu.items())}
        per["app total (this process)"] = round(cpu / args.n * 1e6, 1)
        per["query processes"] = round(child / args.n * 1e6, 1)
        per["wall per request"] = round(wall / args.n * 1e6, 1)
        if "hop: pool.run" in timers.wall:
            per["hop: pool.run wall"] = round(timers.wall["hop: pool.run"] / args.n * 1e6, 1)
        per["statuses"] = sorted(statuses)
        out[name] = per
    out["cheap path"] = _cheap_path(kg, args, Timers())
    out["engine: lookup"] = _engine(kg.store, lookup_text(args.place), args.n)
    out["engine: describe"] = _engine(kg.store, describe_text(args.place), args.n)
    kg.pool.close()
    return out


def _cheap_path(kg, args, timers: Timers) -> dict:
    """What `kg serve` does with an uncached lookup (endpoint/sparql/cheap.py, in the worker's
    event loop), through the same ASGI layers, each text unique; CPU µs per request. The
    worker's seccomp filter is not installed here: this process goes on starting servers."""
    import asyncio

    cheap, caching = _own_module("endpoint.sparql.cheap"), _own_module("endpoint.http.caching")
    if cheap is None or caching is None or not hasattr(caching, "ConditionalCacheASGI"):
        return {}
    from granian.utils.proxies import wrap_asgi_with_proxy_headers

    declined: list[str] = []

    async def ordinary(scope, receive, send):  # where a declined lookup would go
        declined.append(scope["path"])
        await send({"type": "http.response.start", "status": 500, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    path = cheap.CheapLookupASGI(ordinary, kg, restrict=lambda: True)
    app = wrap_asgi_with_proxy_headers(caching.ConditionalCacheASGI(path, kg), "127.0.0.1")
    base, _, qs = sparql_path(lookup_text(args.place)).partition("?")

    def scope(i: int) -> dict:
        return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                "method": "GET", "scheme": "http", "path": base, "raw_path": base.encode(),
                "root_path": "", "query_string": f"{qs}%0A%23{i}".encode(),
                "headers": [(b"host", b"127.0.0.1:8000"), (b"accept", JSON.encode())],
                "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}

    statuses: set[int] = set()

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def drive(scopes):
        for sc in scopes:
            await app(sc, receive, send)

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(drive([scope(10**6 + i) for i in range(50)]))  # warm up
        for module, attr, label in CHEAP_STAGES:
            timers.patch(module, attr, label)
        scopes = [scope(i) for i in range(args.n)]
        c0 = time.process_time()
        loop.run_until_complete(drive(scopes))
        cpu = time.process_time() - c0
    finally:
        loop.close()
    per = {k: round(v / args.n * 1e6, 1) for k, v in sorted(timers.cpu.items())}
    per["whole path (ASGI layers to the last byte)"] = round(cpu / args.n * 1e6, 1)
    per["statuses"] = sorted(statuses)
    per["declined"] = len(declined)
    return per


def _engine(store, text: str, n: int) -> float:
    """CPU µs of Store.query + serializing (JSON or N-Triples), each text unique, in process."""
    from pyoxigraph import QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat

    texts = [f"{text}\n#{i}" for i in range(n)]
    c0 = time.thread_time()
    for t in texts:
        r = store.query(t, use_default_graph_as_union=True)
        if isinstance(r, QuerySolutions | QueryBoolean):
            r.serialize(format=QueryResultsFormat.JSON)
        else:
            r.serialize(format=RdfFormat.N_TRIPLES)
    return round((time.thread_time() - c0) / n * 1e6, 1)


def _commit() -> str:
    """The commit measured ("+changes" when the checkout has uncommitted ones), not a path."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                              check=False).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", type=Path, default=ROOT / "var" / "store",
                    help="the build's store symlink (its target holds oxigraph/ and build.json)")
    ap.add_argument("--place", default=REAL_PLACE, help="the IRI looked up and paged")
    ap.add_argument("--base", default="https://w3id.org/khojaly/")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--connections", default="8,32")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("-n", type=int, default=400, help="requests per in-process measurement")
    ap.add_argument("--no-load", dest="load", action="store_false")
    ap.add_argument("--ab-rounds", type=int, default=0,
                    help="only compare the event-loop cache layer, with and without, N rounds")
    ap.add_argument("--env-ab", type=_env_setting, action="append", default=[],
                    metavar="LABEL:KEY=VALUE[,KEY=VALUE]",
                    help="with --ab-rounds: compare our server under these settings instead")
    ap.add_argument("--with-oxigraph", action="store_true",
                    help="with --env-ab: Oxigraph's server is one more side of every round")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    store_link = args.store.resolve() if not args.store.is_symlink() else args.store
    store_dir = args.store.resolve() / "oxigraph"

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    result = {"code": _commit(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "place": args.place, "cores": os.cpu_count()}
    if args.ab_rounds and args.env_ab:
        result["env_ab"] = env_ab(args, store_link, log)
        args.load = False
    elif args.ab_rounds:
        result["layer_ab"] = layer_ab(args, store_link, log)
        args.load = False
    else:
        log("in process")
        result["in_process"] = in_process(args, store_link)
    if args.load:
        result["under_load"] = under_load(args, store_link, store_dir, log)
    result["loadavg_end"] = load_avg()
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
