"""The production entry point for real: `kg serve` execs granian on 127.0.0.1, and real SPARQL
clients (SPARQLWrapper, rdflib's SPARQLStore) talk to it over HTTP; TERM stops its whole process
tree, HUP replaces its workers.

The server cannot bind port 0 and report it back, so a free port is found by binding a socket to
port 0 first. Also here: `kg serve --get`, which runs one request without a server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from xml.dom.minidom import Document

import pytest
from click.testing import CliRunner
from pyoxigraph import RdfFormat, parse
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from sparql_support import EVENT, HEAVY_QUERY, PLACE, TRIG, Listener, make_settings
from SPARQLWrapper import JSON, POST, POSTDIRECTLY, RDFXML, XML, SPARQLWrapper

from graph.cli.main import main
from graph.config import as_env

pytestmark = pytest.mark.server

LABELS = "SELECT ?l WHERE { ?s rdfs:label ?l }"
ALL_LABELS = {"Khojaly", "Xocalı", "Khojaly massacre", "Xocalı soyqırımı"}
AGENT = "khojaly-kg-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_responds(url: str, process: subprocess.Popen, limit: float = 60.0) -> None:
    """Poll until the server answers (datasette's wait_until_responds), or fail with its log."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {limit:.0f} s")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("live"), query_timeout=1.0, threads=2,
                             workers=2, port=free_port())
    log = open(tmp_path_factory.mktemp("log") / "server.log", "w+b")  # noqa: SIM115
    env = {**os.environ, **as_env(settings)}
    process = subprocess.Popen(
        [sys.executable, "-c", "from graph.cli.main import main; main()", "serve"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{settings.port}"
    try:
        wait_until_responds(base + "/sparql", process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


def wrapper(endpoint: str, query: str, fmt: str) -> SPARQLWrapper:
    sw = SPARQLWrapper(endpoint, agent=AGENT)
    sw.setQuery(query)
    sw.setReturnFormat(fmt)
    sw.setTimeout(30)
    return sw


def test_sparqlwrapper_select_json(server):
    result = wrapper(server + "/sparql", LABELS, JSON).query().convert()
    assert {b["l"]["value"] for b in result["results"]["bindings"]} == ALL_LABELS


def test_sparqlwrapper_select_xml_by_post(server):
    sw = wrapper(server + "/sparql", LABELS, XML)
    sw.setMethod(POST)
    doc = sw.query().convert()
    assert isinstance(doc, Document)
    values = {n.firstChild.data for n in doc.getElementsByTagName("literal")}
    assert values == ALL_LABELS


def test_sparqlwrapper_ask(server):
    sw = wrapper(server + "/sparql", f"ASK {{ <{EVENT}> ?p ?o }}", JSON)
    assert sw.query().convert()["boolean"] is True


# SPARQLWrapper 2.0.0 parses RDF into rdflib's ConjunctiveGraph, which rdflib 7.6 deprecates
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_sparqlwrapper_construct_to_rdflib_by_direct_post(server):
    query = f"CONSTRUCT {{ <{EVENT}> ?p ?o }} WHERE {{ <{EVENT}> ?p ?o }}"
    sw = wrapper(server + "/sparql", query, RDFXML)
    sw.setMethod(POST)
    sw.setRequestMethod(POSTDIRECTLY)
    graph = sw.query().convert()
    assert isinstance(graph, Graph)
    expected = Graph()
    for quad in parse(TRIG.encode(), format=RdfFormat.TRIG):
        if quad.subject.value == EVENT:
            expected.parse(data=f"{quad.triple} .", format="nt")
    assert len(graph) == len(expected) > 0
    assert isomorphic(graph, expected)


def test_rdflib_sparqlstore(server):
    store = SPARQLStore(server + "/sparql", returnFormat="json")
    graph = Graph(store=store)
    rows = list(graph.query(f"SELECT ?o WHERE {{ <{EVENT}> <https://schema.org/location> ?o }}"))
    assert [row[0] for row in rows] == [URIRef(PLACE)]
    store.close()


def test_large_result_over_http_is_complete(server):
    values = " ".join(str(n) for n in range(200))
    query = f"SELECT ?a ?b WHERE {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} }}"
    data = urllib.parse.urlencode({"query": query}).encode()
    request = urllib.request.Request(server + "/sparql", data=data,
                                     headers={"Accept": "text/csv"})
    with urllib.request.urlopen(request, timeout=30) as response:
        # streamed as the worker serializes it: chunked, and read whole (a cut stream raises)
        assert response.headers["Transfer-Encoding"] == "chunked"
        body = response.read()
    assert len(body.decode().splitlines()) == 1 + 200 * 200


def _get(url: str, query: str) -> tuple[int, str]:
    target = url + "?" + urllib.parse.urlencode({"query": query})
    try:
        with urllib.request.urlopen(target, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_heavy_query_is_cut_off_while_a_trivial_one_answers(server):
    outcome: dict = {}
    heavy = threading.Thread(
        target=lambda: outcome.setdefault("heavy", _get(server + "/sparql", HEAVY_QUERY)))
    heavy.start()
    try:
        status, body = _get(server + "/sparql", f"ASK {{ <{EVENT}> ?p ?o }}")
        assert status == 200
        assert "true" in body
    finally:
        heavy.join(60)
    status, body = outcome["heavy"]
    assert status == 503
    assert "KG_QUERY_TIMEOUT" in body
    assert _get(server + "/sparql", f"ASK {{ <{EVENT}> ?p ?o }}")[0] == 200


def test_service_to_loopback_is_refused_and_never_contacted(server):
    with Listener() as listener:
        query = f"SELECT * {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}"
        status, body = _get(server + "/sparql", query)
        glued = f"PREFIX x: <{listener.url}> SELECT * {{ SERVICEx:y {{ ?s ?p ?o }} }}"
        glued_status, _ = _get(server + "/sparql", glued)
    # the glued form is refused as a syntax error by the reader (tests/test_guards.py), where
    # Oxigraph's grammar would call it: 400; either way, and below it the sandbox, nobody is called
    assert (status, glued_status) == (403, 400)
    assert "SERVICE refused" in body
    assert listener.connections == 0


def test_serve_get_runs_one_request_without_a_server(tmp_path):
    settings = make_settings(tmp_path)
    query = urllib.parse.quote(f"ASK {{ <{EVENT}> ?p ?o }}")
    result = CliRunner().invoke(
        main, ["serve", "--get", f"/sparql?query={query}", "-H",
               "Accept: application/sparql-results+xml"], obj=settings)
    assert result.exit_code == 0, result.output
    assert "<boolean>true</boolean>" in result.stdout
    assert "200 OK" in result.stderr
    bad = CliRunner().invoke(main, ["serve", "--get", "/sparql?query=ASK"], obj=settings)
    assert bad.exit_code == 2
    assert "line 1, column " in bad.stdout


def _tree(pid: int) -> list[int]:
    from bench.servers import _descendants

    return _descendants(pid)


def _running(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            alive.append(pid)
    return alive


def _poll(predicate, limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_sigterm_stops_the_whole_process_tree_and_hup_replaces_the_workers(built_settings,
                                                                           tmp_path):
    from bench import stress

    with stress.serve(built_settings.store_path, tmp_path / "server.log", workers=2,
                      query_timeout=5) as server:
        main_pid = server.proc.pid
        workers = set(_children(main_pid))
        assert len(workers) == 2, workers
        os.kill(main_pid, signal.SIGHUP)
        assert _poll(lambda: len(set(_children(main_pid)) - workers) == 2, 60), \
            "kill -HUP did not start two new workers"
        assert _poll(lambda: not set(_running(list(workers))), 30), "old workers still running"
        stress.wait_until_answers(server.proc, server.port)
        # a query process under each worker, then TERM: nothing of the tree may stay
        assert ask_ok(server.port) and ask_ok(server.port)
        tree = _tree(main_pid)
        assert len(tree) > 2, tree
        os.kill(main_pid, signal.SIGTERM)
        server.proc.wait(30)
        assert _poll(lambda: not _running(tree), 15), f"left running: {_running(tree)}"


def _argv(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")


def _granian_main(base: str) -> int:
    """The granian process serving `base` (kg serve execs it, so it is the fixture's process)."""
    port = base.rsplit(":", 1)[1]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = _argv(int(entry.name))
            except OSError:
                continue
            if "granian" in argv and port in argv and os.getppid() != int(entry.name):
                parent = int(Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1]
                             .split()[1])
                if "granian" not in _argv(parent):
                    return int(entry.name)
    raise AssertionError(f"no granian process serves {base}")


def _children(pid: int) -> list[int]:
    from bench.servers import _children as children

    return children(pid)


def ask_ok(port: int) -> bool:
    from bench import stress

    status, body = stress.fetch(port, "GET", "/sparql?query=ASK%7B%7D",
                                {"Accept": "application/sparql-results+json"}, timeout=30)
    return status == 200 and b"true" in body


def test_workers_answer_lookups_on_the_cheap_path_under_their_seccomp_filter(server):
    """A lookup answered in the worker's event loop (endpoint/sparql/cheap.py) is the ordinary
    path's answer; the workers that answer run under the offline seccomp filter (Seccomp: 2),
    installed at their first request, the barrier that makes the cheap path safe to run."""
    query = f"SELECT ?l WHERE {{ <{PLACE}> <http://www.w3.org/2000/01/rdf-schema#label> ?l }}"
    accept = {"Accept": "application/sparql-results+json"}
    bodies = set()
    for n in range(8):  # both workers get some
        text = query + f"\n# {n}"
        for extra in ({}, {"format": "json"}):  # cheap, then ordinary (format= is not cheap)
            url = server + "/sparql?" + urllib.parse.urlencode({"query": text, **extra})
            with urllib.request.urlopen(urllib.request.Request(url, headers=accept)) as r:
                bodies.add(r.read())
    assert len(bodies) == 1
    workers = [pid for pid in _children(_granian_main(server)) if "granian" in _argv(pid)]
    assert len(workers) == 2
    for pid in workers:
        status = Path(f"/proc/{pid}/status").read_text()
        assert status.split("Seccomp:")[1].split()[0] == "2", pid
