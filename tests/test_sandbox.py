"""The query processes' network sandbox (endpoint/sparql/sandbox.py), tested below every text check.

Queries go straight to a query process through `QueryPool.run`, skipping the policy and the
reader, at a loopback listener: the kernel must stop the connection. Each test of the guard has a
twin that runs the same query with the sandbox off and asserts the listener *is* reached, so the
guard's test cannot pass vacuously. The federation profile may reach only the allow-listed ports.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import textwrap
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sparql_support import Listener, make_settings
from test_guards import service_queries

from endpoint import create_app
from endpoint.sparql import sandbox, views
from endpoint.sparql.pool import QueryPool
from endpoint.sparql.worker import Job
from graph.errors import ConnectionDenied, KGError, QueryFailed
from graph.store import pin_current_build

JSON = "application/sparql-results+json"
TRIVIAL = "ASK {}"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("sandbox"))
    pinned = pin_current_build(settings)
    yield str(pinned.store_dir)


def _job(query: str) -> Job:
    return Job(query, "", JSON, "text/turtle")


def _pool(store_dir: str, profile: str, ports: frozenset[int] = frozenset()) -> QueryPool:
    return QueryPool(store_dir, size=1, timeout=10.0, profile=profile, allowed_ports=ports)


def _outcome(pool: QueryPool, query: str) -> str:
    """"ok", or the name of the error the pool raised."""
    try:
        pool.run(_job(query))
    except KGError as e:
        return type(e).__name__
    return "ok"


def service(url: str) -> str:
    return f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"


def test_service_straight_to_an_offline_process_is_denied_by_the_kernel(store_dir):
    pool = _pool(store_dir, sandbox.OFFLINE)
    try:
        with Listener() as listener:
            outcome = _outcome(pool, service(listener.url))
            silent = _outcome(pool, service(listener.url).replace("SERVICE", "SERVICE SILENT"))
        assert listener.connections == 0
        assert outcome == ConnectionDenied.__name__
        assert silent == "ok"  # SILENT: the denial is an empty answer, still no connection
        assert _outcome(pool, TRIVIAL) == "ok"  # the process goes on serving
    finally:
        pool.close()


def test_the_same_service_reaches_the_listener_without_the_sandbox(store_dir):
    """The twin of the test above: without the guard the listener is contacted."""
    pool = _pool(store_dir, sandbox.OFF)
    try:
        with Listener() as listener:
            outcome = _outcome(pool, service(listener.url))
        assert listener.connections >= 1
        assert outcome == QueryFailed.__name__  # the listener drops the connection
    finally:
        pool.close()


@pytest.mark.parametrize("template", [
    "SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}",
    "SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "LOAD <{url}>",
    "LOAD SILENT <{url}> INTO GRAPH <urn:x>",
    "SELECT * WHERE {{ BIND(<{url}> AS ?x) SERVICE ?x {{ ?s ?p ?o }} }}",
])
@pytest.mark.parametrize("profile", [sandbox.OFFLINE, sandbox.OFF])
def test_from_load_and_variable_service_never_connect(store_dir, template, profile):
    """FROM names a graph of the store, LOAD is not a query, SERVICE ?x is unsupported: none of
    them connects, sandbox or not (so no twin is needed); the process answers after."""
    pool = _pool(store_dir, profile)
    try:
        with Listener() as listener:
            _outcome(pool, template.format(url=listener.url))
        assert listener.connections == 0
        assert _outcome(pool, TRIVIAL) == "ok"
    finally:
        pool.close()


def test_federation_reaches_only_the_allow_listed_port(store_dir):
    with Listener() as allowed, Listener() as other:
        pool = _pool(store_dir, sandbox.FEDERATION, frozenset({allowed.port}))
        try:
            assert _outcome(pool, service(allowed.url)) == QueryFailed.__name__  # it got there
            assert _outcome(pool, service(other.url)) == ConnectionDenied.__name__
        finally:
            pool.close()
    assert allowed.connections >= 1
    assert other.connections == 0


def test_the_filter_survives_in_every_thread_and_cannot_be_lifted():
    """In a child: after install("offline"), no thread can make an Internet or netlink socket,
    and installing a laxer profile on top changes nothing (filters only ever add up)."""
    code = textwrap.dedent("""
        import socket, threading
        from endpoint.sparql import sandbox
        sandbox.install("offline")
        def attempt(out):
            for family, kind in ((socket.AF_INET, socket.SOCK_STREAM),
                                 (socket.AF_INET6, socket.SOCK_DGRAM),
                                 (socket.AF_NETLINK, socket.SOCK_RAW)):
                try:
                    socket.socket(family, kind).close()
                    out.append("made")
                except PermissionError:
                    out.append("denied")
        out = []
        attempt(out)
        t = threading.Thread(target=attempt, args=(out,)); t.start(); t.join()
        sandbox.install("federation", frozenset({80}))
        attempt(out)
        socket.socketpair()  # the pipe to the parent is AF_UNIX: still allowed
        print(",".join(out))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ",".join(["denied"] * 9)


def test_a_kernel_without_the_sandbox_refuses_to_start_a_query_process(store_dir, tmp_path):
    """No seccomp (here: a pyseccomp that cannot load, as without libseccomp): the pool refuses
    to start a query process and answers 503; it never runs one unrestricted."""
    (tmp_path / "pyseccomp.py").write_text("raise ImportError('libseccomp.so.2: not found')\n")
    code = textwrap.dedent(f"""
        from endpoint.sparql.pool import QueryPool
        from endpoint.sparql.worker import Job
        from graph.errors import KGError
        pool = QueryPool({store_dir!r}, size=1, timeout=10.0, profile="offline")
        try:
            pool.run(Job("ASK {{}}", "", "{JSON}", None))
            print("ran")
        except KGError as e:
            print(e.status, e)
        pool.close()
    """)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env=env)
    assert out.stdout.startswith("503 "), out.stdout + out.stderr
    assert "seccomp" not in out.stdout  # the detail is logged, never sent to a client
    assert "seccomp" in out.stderr


@pytest.mark.parametrize("steps", [500, 2_000, 8_500, 12_000, 20_000])
def test_deep_paths_never_get_a_500_and_the_server_answers_after(tmp_path, steps):
    settings = make_settings(tmp_path, max_query_length=200_000, max_path_length=50_000)
    app = create_app(settings)
    client = app.test_client()
    try:
        path = "/".join(["a"] * steps)
        deep = client.post("/sparql", data={"query": f"SELECT * WHERE {{ ?s {path} ?o }}"})
        assert deep.status_code in (200, 400, 503), deep.data[:300]
        assert b"Traceback" not in deep.data and b"/" + b"tmp" not in deep.data
        after = client.get("/sparql", query_string={"query": TRIVIAL})
        assert after.status_code == 200
    finally:
        app.extensions["kg"].pool.close()


def test_a_deep_path_past_the_limit_is_a_400_naming_the_setting(tmp_path):
    app = create_app(make_settings(tmp_path, max_path_length=1_000))
    try:
        path = "/".join(["a"] * 1_500)
        r = app.test_client().post("/sparql", data={"query": f"ASK {{ ?s {path} ?o }}"})
        assert r.status_code == 400
        assert "KG_MAX_PATH_LENGTH" in r.get_data(as_text=True)
    finally:
        app.extensions["kg"].pool.close()


def test_listener_counts_a_connection_it_had_no_time_to_accept():
    """The guard's tests rely on the listener: a connection made just before it closes counts."""
    with Listener() as listener:
        socket.create_connection(("127.0.0.1", listener.port)).close()
    assert listener.connections == 1


# -- the HTTP endpoint with its text check switched off: the sandbox alone holds -------------

def _reader_only(text: str, settings, prefixes):
    """The policy without its SERVICE refusal: what the endpoint would do if the reader missed
    every SERVICE call (the reader still reads, so syntax errors and limits are 400s)."""
    from graph.sparql.reader import Limits, check_limits, read

    info = read(text, base_iri=settings.base_iri, prefixes=prefixes,
                budget=settings.max_parse_seconds)
    check_limits(info, Limits.from_settings(settings))
    return info


@pytest.fixture(scope="module")
def listener():
    with Listener() as listener:
        yield listener


@pytest.fixture(scope="module")
def bare_app(tmp_path_factory):
    """The endpoint, sandbox on, whose policy lets every SERVICE through to the query process."""
    app = create_app(make_settings(tmp_path_factory.mktemp("bare")))
    with mock.patch.object(views.guards, "inspect", _reader_only):
        yield app
    app.extensions["kg"].pool.close()


@hsettings(max_examples=80, deadline=None)
@given(data=st.data())
def test_fuzzed_service_calls_past_the_text_check_reach_nobody(bare_app, listener, data):
    """Queries mixing `<`, comparisons, strings of the four quote kinds, comments, escapes, IRIs
    and SERVICE (tests/test_guards.py's generator), sent to /sparql with the text check off."""
    query = data.draw(service_queries(listener.url))
    r = bare_app.test_client().get("/sparql", query_string={"query": query})
    assert r.status_code in (200, 400, 403, 406), (query, r.status_code, r.data)
    if r.status_code != 200:  # an answer may hold the query's own IRIs; an error says no more
        assert b"os error" not in r.data, r.data
        assert _only_quoted(r.data.decode(), query, "127.0.0.1"), r.data
    assert listener.connections == 0, query


def _only_quoted(body: str, query: str, address: str) -> bool:
    """Whether every mention of `address` in an error body is inside a quotation of the query
    (a syntax error shows the offending line with a caret): the error itself names nothing."""
    lines = [line for line in query.split("\n") if address in line]
    for line in lines:
        body = body.replace(line, "")
    for quoted in re.findall(r"`([^`\n]*)`", body):  # the text found where the error is
        if quoted in query:
            body = body.replace(quoted, "")
    return address not in body


def test_the_same_endpoint_without_the_sandbox_is_reached(tmp_path):
    """The twin: the same bypass with the sandbox off, and the listener is called."""
    app = create_app(make_settings(tmp_path, sandbox=False))
    try:
        with mock.patch.object(views.guards, "inspect", _reader_only), Listener() as listener:
            for call in ("SERVICE <{url}>", "SERVICE SILENT <{url}>"):
                q = f"SELECT * WHERE {{ {call.format(url=listener.url)} {{ ?s ?p ?o }} }}"
                app.test_client().get("/sparql", query_string={"query": q})
        assert listener.connections >= 2
    finally:
        app.extensions["kg"].pool.close()
