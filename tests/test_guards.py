"""The guards of a public endpoint: read-only, no SERVICE off the allow-list (and no outgoing
request at all for a refused one), a hard time limit that leaves the server answering, and caps
on query length and request body."""

from __future__ import annotations

import json
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyoxigraph import Store
from sparql_support import EVENT, HEAVY_QUERY, Listener, make_settings

from endpoint import create_app
from endpoint.sparql.policy import inspect
from endpoint.sparql.pool import QueryPool, StreamCut, Streamed
from endpoint.sparql.worker import Job
from graph.config import Settings
from graph.errors import QueryRefused, QuerySyntaxError, QueryTimeout
from graph.sparql.reader import read
from graph.store import pin_current_build

TRIVIAL = f"ASK {{ <{EVENT}> ?p ?o }}"
JSON = "application/sparql-results+json"
LOOP = "http://127.0.0.1:9/sparql"  # the discard port: nothing should ever be sent there

# Each of these would make pyoxigraph 0.5.13 open a connection: the reader sees the SERVICE.
REFUSED = [
    f"SELECT * {{ SERVICE <{LOOP}> {{ ?s ?p ?o }} }}",
    f"SELECT * {{ SERVICE<{LOOP}>{{ ?s ?p ?o }} }}",
    f"PREFIX : <{LOOP}> SELECT * {{ SERVICE:x {{ ?s ?p ?o }} }}",
    f"select * {{ service silent <{LOOP}> {{ ?s ?p ?o }} }}",
    f"BASE <{LOOP}> SELECT * {{ SERVICE <x> {{ ?s ?p ?o }} }}",
    f"SELECT * {{ VALUES ?e {{ <{LOOP}> }} SERVICE ?e {{ ?s ?p ?o }} }}",
    "SELECT * { ?s ?p ?o . SERVICE <http://127.0.0.1:9/\\u0073parql> { ?s ?p ?o } }",
    f"SELECT * {{ \"a\" ?p ?o # \n SERVICE <{LOOP}> {{ }} }}",
    f"SELECT * {{ \"a\" ?p ?o # \r SERVICE <{LOOP}> {{ }} }}",
    f"SELECT * {{ BIND('''it''s''' AS ?x) SERVICE <{LOOP}> {{ ?s ?p ?o }} }}",
    f"SELECT * {{ ?s ?p ?o FILTER(?s<?o) SERVICE <{LOOP}> {{ }} }}",
    # the lexer this reader replaced read `<'>') SERVICE <` as one IRI and let this one through
    f"SELECT * WHERE {{ FILTER(?a<'>') SERVICE <{LOOP}> {{ ?s ?p ?o }} FILTER('x'='x') }}",
]
# Oxigraph matches keywords without a word boundary and calls these (checked below); SPARQL has
# no such keyword, and the reader refuses them as syntax errors before any engine sees them.
GLUED = [
    f"PREFIX x: <{LOOP}> SELECT * {{ SERVICEx:y {{ ?s ?p ?o }} }}",
    f"SELECT * {{ SERVICESILENT<{LOOP}> {{ ?s ?p ?o }} }}",
]

# SERVICE only as text: in strings, IRIs, comments, variable and property names.
ALLOWED = [
    f'SELECT * {{ ?s ?p "SERVICE <{LOOP}> {{ }}" }}',
    f"SELECT * {{ ?s ?p '''\nSERVICE <{LOOP}> {{ }}\n''' }}",
    f"SELECT * {{ ?s <{LOOP}#SERVICE> ?o }}",
    f"SELECT * {{ ?s ?p ?o }} # SERVICE <{LOOP}> {{ }}",
    "SELECT ?service { ?service a schema:Service ; schema:serviceType ?t }",
    f'SELECT * {{ ?s ?p "a \\" SERVICE <{LOOP}> {{ }}" }}',
]


@pytest.mark.parametrize("query", REFUSED)
def test_policy_refuses_every_service_form(query):
    with pytest.raises(QueryRefused, match="SERVICE refused"):
        inspect(query, Settings(), {})


@pytest.mark.parametrize("query", GLUED)
def test_glued_service_forms_are_syntax_errors(query):
    with pytest.raises(QuerySyntaxError, match="line 1, column"):
        inspect(query, Settings(), {})


@pytest.mark.parametrize("query", ALLOWED)
def test_policy_ignores_service_in_text(query):
    assert inspect(query, Settings(), {"schema": "https://schema.org/"}).services == ()


def test_policy_passes_allow_listed_services_by_their_resolved_iri():
    prefixes = {"wd": "http://www.wikidata.org/entity/"}
    query = "BASE <http://h/a/> SELECT * { SERVICE <b> {} SERVICE SILENT wd:sparql {} }"
    info = read(query, prefixes=prefixes)
    wanted = ["http://h/a/b", "http://www.wikidata.org/entity/sparql"]
    assert [s.iri for s in info.services] == wanted
    assert [s.silent for s in info.services] == [False, True]
    allowing = Settings(service_allowlist=tuple(wanted))
    assert inspect(query, allowing, prefixes).services == info.services
    with pytest.raises(QueryRefused, match=r"line 1, column 46 \(wd:sparql\)"):
        inspect(query, allowing.replace(service_allowlist=(wanted[0],)), prefixes)


@pytest.mark.parametrize("query", [REFUSED[2], *GLUED])
def test_issue_3_glued_service_forms_really_reach_the_network(query):
    """Why the reader refuses them: pyoxigraph itself contacts these addresses."""
    with Listener() as listener:
        q = query.replace(LOOP, listener.url)
        worker = threading.Thread(target=lambda: _drain(q), daemon=True)
        worker.start()
        worker.join(10)
    assert listener.connections >= 1


def _drain(query: str) -> None:
    try:
        list(Store().query(query))
    except (OSError, RuntimeError, SyntaxError):
        pass


@pytest.mark.parametrize(
    "query",
    [
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "PREFIX x: <urn:x> DELETE WHERE { ?s ?p ?o }",
        f"LOAD <{LOOP}>",
        "CLEAR ALL",
        "WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    ],
)
def test_policy_sees_updates(query):
    with pytest.raises(QueryRefused, match="read-only"):
        inspect(query, Settings(), {})


# -- through the endpoint ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("guards"), query_timeout=1.0,
                             max_query_length=3000, max_request_bytes=8000)
    app = create_app(settings)
    yield app
    app.extensions["kg"].pool.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.mark.parametrize(
    ("query", "status"),
    [(q, 403) for q in [*REFUSED, f"LOAD <{LOOP}>"]] + [(q, 400) for q in GLUED],
)
def test_endpoint_refuses_and_contacts_nobody(client, query, status):
    with Listener() as listener:
        q = query.replace(LOOP, listener.url)
        for response in (client.get("/sparql", query_string={"query": q}),
                         client.post("/sparql", data=q, content_type="application/sparql-query")):
            assert response.status_code == status, response.data
            assert response.mimetype == "text/plain"
    assert listener.connections == 0


@pytest.mark.parametrize("query", ALLOWED[:4])
def test_endpoint_runs_queries_that_only_mention_service(client, query):
    with Listener() as listener:
        r = client.get("/sparql", query_string={"query": query.replace(LOOP, listener.url)})
    assert r.status_code == 200, r.data
    assert listener.connections == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"method": "POST", "data": {"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
        {"method": "GET", "query_string": {"update": "CLEAR ALL"}},
        {"method": "POST", "data": "CLEAR ALL", "content_type": "application/sparql-update"},
        {"method": "GET", "query_string": {"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
    ],
)
def test_updates_are_refused_with_403(client, kwargs):
    r = client.open("/sparql", **kwargs)
    assert r.status_code == 403
    assert "read-only" in r.data.decode()


def test_the_store_is_unchanged_after_refused_updates(client):
    r = client.get("/sparql", query_string={"query": "ASK { <urn:a> <urn:b> <urn:c> }"})
    assert json.loads(r.data)["boolean"] is False


@pytest.mark.parametrize(
    ("query", "setting"),
    [
        ("SELECT * { ?s " + "/".join(["a"] * 1001) + " ?o }", "KG_MAX_PATH_LENGTH"),
        ("SELECT * WHERE " + "{ " * 129 + "?s ?p ?o" + " }" * 129, "KG_MAX_NESTING"),
    ],
)
def test_limits_are_a_400_naming_the_setting_and_the_server_answers_after(client, query, setting):
    r = client.get("/sparql", query_string={"query": query})
    assert r.status_code == 400 and setting in r.data.decode(), r.data
    assert client.get("/sparql", query_string={"query": TRIVIAL}).status_code == 200
    # the limit, not the engine, refused it: raised, the policy lets the same query through
    raised = {"KG_MAX_PATH_LENGTH": "max_path_length", "KG_MAX_NESTING": "max_nesting"}[setting]
    assert inspect(query, Settings(**{raised: 5000}), {}).form == "SELECT"


def test_query_length_cap(client):
    long_query = TRIVIAL + " #" + "x" * 3000
    assert client.get("/sparql", query_string={"query": long_query}).status_code == 413
    r = client.post("/sparql", data={"query": long_query})
    assert r.status_code == 413
    assert "KG_MAX_QUERY_LENGTH" in r.data.decode()


def test_request_body_cap(client):
    body = TRIVIAL + " #" + "x" * 9000
    r = client.post("/sparql", data=body, content_type="application/sparql-query")
    assert r.status_code == 413
    r = client.post("/sparql", data={"query": body})
    assert r.status_code == 413


def test_heavy_query_is_stopped_while_others_are_answered(client, app):
    outcome: dict = {}

    def heavy() -> None:
        outcome["heavy"] = app.test_client().get("/sparql", query_string={"query": HEAVY_QUERY})

    worker = threading.Thread(target=heavy)
    worker.start()
    try:
        # the pool has two workers: the trivial query gets the other one while the heavy runs
        trivial = client.get("/sparql", query_string={"query": TRIVIAL})
        assert trivial.status_code == 200
        assert worker.is_alive() or outcome["heavy"].status_code == 503
    finally:
        worker.join(30)
    heavy_response = outcome["heavy"]
    assert heavy_response.status_code == 503
    assert "KG_QUERY_TIMEOUT" in heavy_response.data.decode()
    # the killed worker is replaced: the endpoint keeps answering
    after = client.get("/sparql", query_string={"query": TRIVIAL})
    assert json.loads(after.data)["boolean"] is True


def test_a_waiting_request_takes_the_slot_of_a_killed_worker(tmp_path):
    """One process, busy with a query that is killed at its 1 s limit; a query that asked while
    it ran waits (the pool's own limit is 10 s) and takes the freed slot, not a timeout."""
    settings = make_settings(tmp_path)
    store_dir = str(pin_current_build(settings).store_dir)
    pool = QueryPool(store_dir, size=1, timeout=10.0)
    try:
        pool.run(Job(TRIVIAL, "", JSON, None))  # the one process is started
        outcome: dict = {}

        def heavy() -> None:
            try:
                pool.run(Job(HEAVY_QUERY, "", JSON, None), timeout=1.0)
            except QueryTimeout as e:
                outcome["heavy"] = e

        worker = threading.Thread(target=heavy)
        worker.start()
        while pool._idle.qsize():  # until the heavy query holds the only process
            time.sleep(0.01)
        asked_while_busy = "heavy" not in outcome
        waiting = pool.run(Job(TRIVIAL, "", JSON, None))
        worker.join(30)
        assert asked_while_busy
        assert isinstance(outcome.get("heavy"), QueryTimeout)
        assert json.loads(waiting.body)["boolean"] is True
    finally:
        pool.close()


def test_allow_listed_service_is_called(tmp_path):
    with Listener() as listener:
        settings = make_settings(tmp_path, service_allowlist=(listener.url,))
        app = create_app(settings)
        try:
            q = f"SELECT * {{ SERVICE SILENT <{listener.url}> {{ ?s ?p ?o }} }}"
            r = app.test_client().get("/sparql", query_string={"query": q})
            other = app.test_client().get(
                "/sparql", query_string={"query": q.replace(listener.url, listener.url + "x")})
        finally:
            app.extensions["kg"].pool.close()
    assert r.status_code == 200, r.data
    assert listener.connections == 1
    assert other.status_code == 403


# -- fuzz: whatever way a SERVICE call is written, nothing leaves the machine ------------------

CALLS = [
    "SERVICE <{url}>", "SERVICE<{url}>", "SERVICE SILENT <{url}>", "SERVICESILENT<{url}>",
    "SERVICE <sparql>", "SERVICE:sparql", "SERVICE x:sparql", "SERVICEx:sparql",
    "SERVICE SILENT x:sparql", "SERVICE ?e",
]
NOISE = [
    "", '"SERVICE <urn:x> {"', "'''}'''", "# SERVICE <urn:x> {\n", "?s ?p ?o .",
    "FILTER(?s<?o)", r"BIND('a\'b' AS ?y)", "<urn:SERVICE>", 'BIND("""x"y""" AS ?z)',
    "OPTIONAL { ?s ?p ?o }", "VALUES ?e { <{url}> }",
]


def service_queries(url: str) -> st.SearchStrategy[str]:
    """Valid queries that call `url`, written in every way Oxigraph accepts, amid strings,
    comments, IRIs and filters that a careless scan would stumble on."""
    base = url.rsplit("/", 1)[0] + "/"
    prolog = f"BASE <{base}> PREFIX x: <{base}> PREFIX : <{base}> "
    noise = st.lists(st.sampled_from(NOISE), max_size=3).map(" ".join)
    case = st.sampled_from(["as is", "lower", "upper"])

    def build(pre: str, call: str, post: str, how: str) -> str:
        if how == "lower":
            call = call.lower()
        elif how == "upper":
            call = call.upper()
        text = f"SELECT * WHERE {{ {pre} {call} {{ ?s ?p ?o }} {post} }}"
        return prolog + text.replace("{url}", url).replace("{URL}", url)

    return st.builds(build, noise, st.sampled_from(CALLS), noise, case)


@pytest.fixture(scope="module")
def listener():
    with Listener() as listener:
        yield listener


@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_fuzzed_queries_never_reach_the_network_nor_fail_with_500(app, listener, data):
    query = data.draw(service_queries(listener.url))
    r = app.test_client().get("/sparql", query_string={"query": query})
    assert r.status_code in (200, 400, 403, 406), (query, r.status_code, r.data)
    assert listener.connections == 0, query


# -- streamed results: the time limit holds, and a slot is never lost ------------------------

# 1000**3 rows: a stream that would run for many minutes
ENDLESS = "SELECT * WHERE { " + " ".join(
    f"VALUES ?v{i} {{ {' '.join(str(n) for n in range(1000))} }}" for i in range(3)) + " }"
BIG = "SELECT * WHERE { " + " ".join(
    f"VALUES ?v{i} {{ {' '.join(str(n) for n in range(300))} }}" for i in range(2)) + " }"
CSV = "text/csv; charset=utf-8"


def job(query: str) -> Job:
    return Job(query=query, spool_path="", results_media_type=CSV, graph_media_type=None)


@pytest.fixture
def one_slot(app):
    """A pool of a single query process, so a slot that leaks makes the next run fail."""
    pool = QueryPool(app.extensions["kg"].store_dir, size=1, timeout=1.0)
    yield pool
    pool.close()


def test_a_stream_past_the_time_limit_is_cut_and_frees_its_slot(one_slot):
    result = one_slot.run(job(ENDLESS))
    assert isinstance(result, Streamed)
    received = 0
    with pytest.raises(StreamCut, match="KG_QUERY_TIMEOUT"):
        for chunk in result.chunks():
            received += len(chunk)
    assert received > 0  # it did stream before the limit
    again = one_slot.run(job(TRIVIAL))
    assert again.body is not None and b"true" in again.body


def test_a_stream_its_client_abandons_frees_its_slot(one_slot):
    result = one_slot.run(job(BIG))
    first = next(iter(result.chunks()))
    assert first.startswith(b"v0,v1")
    result.close()  # the client went away: the worker, mid-result, is killed
    again = one_slot.run(job(TRIVIAL))
    assert again.body is not None and b"true" in again.body


def test_a_stream_read_to_its_end_is_whole_in_bounded_chunks(one_slot):
    result = one_slot.run(job(BIG))
    chunks = list(result.chunks())
    assert max(len(c) for c in chunks) <= Job.chunk_size and len(chunks) > 1
    rows = b"".join(chunks).decode().splitlines()
    assert rows[0] == "v0,v1" and len(set(rows[1:])) == 300 * 300
    again = one_slot.run(job(TRIVIAL))  # the same worker answers the next job
    assert again.body is not None and b"true" in again.body
