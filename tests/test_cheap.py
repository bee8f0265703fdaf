"""The cheap path (endpoint/sparql/cheap.py): what it takes, that it never takes an expensive
query, and that its answers are the ordinary path's, byte for byte.

The property test generates queries over the 1M generated store (bench/shapes.py), with
subjects drawn from its busiest and from random ones, joins and cross products of up to four
patterns, and pieces outside the subset mixed in: whenever the cheap path would take a query,
the engine's answer has at most MAX_ROWS solutions.
"""

from __future__ import annotations

import collections
import itertools
import os
import subprocess
import sys
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode, Quad, Store
from sparql_support import run_coroutine

from bench import shapes
from endpoint.sparql import cheap

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
PLACE = "https://w3id.org/khojaly/id/place/khojaly"
PREFIXES = {"rdfs": RDFS, "schema": "https://schema.org/"}

TAKEN = [
    f"PREFIX rdfs: <{RDFS}>\nSELECT ?label WHERE {{ <{PLACE}> rdfs:label ?label }}\n#1-2",
    f"SELECT * {{ <{PLACE}> ?p ?o }}",
    f"select distinct ?o where {{ <{PLACE}> rdfs:label ?o . }} LIMIT 3",
    f"ASK {{ <{PLACE}> a schema:City }}",
    f'ASK {{ <{PLACE}> rdfs:label "Khojaly"@en }}',
    f"SELECT ?l ?n {{ <{PLACE}> rdfs:label ?l . <{PLACE}> schema:name ?n }}",
]
REFUSED = [
    "SELECT * { ?s rdfs:label ?o }",                                   # unbound subject
    f"SELECT * {{ <{PLACE}> rdfs:label ?o FILTER(?o < 'b') }}",          # a filter
    f"SELECT * {{ <{PLACE}> rdfs:label ?o OPTIONAL {{ ?o ?p ?x }} }}",
    f"SELECT * {{ SERVICE <http://127.0.0.1:9/> {{ <{PLACE}> ?p ?o }} }}",
    f"SELECT * {{ <{PLACE}> rdfs:label/rdfs:label ?o }}",                 # a path
    f"SELECT * {{ <{PLACE}> rdfs:label* ?o }}",
    f"SELECT * FROM <http://127.0.0.1:9/> {{ <{PLACE}> ?p ?o }}",
    f"SELECT * {{ GRAPH ?g {{ <{PLACE}> ?p ?o }} }}",
    f"SELECT * {{ <{PLACE}> ?p ?o }} ORDER BY ?o",
    f"SELECT * {{ <{PLACE}> ?p ?o }} OFFSET 5",
    f"BASE <http://x/> SELECT * {{ <{PLACE}> ?p ?o }}",
    f"SELECT * {{ <{PLACE}> rdfs:la\\u0062el ?o }}",                     # an escape
    f"SELECT * {{ <{PLACE}> ex:a:b ?o }}",                               # a name SPARQL reads on
    f"SELECT * {{ <{PLACE}> ?p \"a\\\"b\" }}",
    f"SELECT (COUNT(*) AS ?n) {{ <{PLACE}> ?p ?o }}",
    f"SELECT * {{ <{PLACE}> ?p ?o }} VALUES ?o {{ 1 }}",
    f"SELECT * {{ {{ SELECT * {{ <{PLACE}> ?p ?o }} }} }}",
    f"SELECT * {{ <{PLACE}> unknown:p ?o }}",                            # an undeclared prefix
    "SELECT * { <relative> ?p ?o }",
    f"INSERT DATA {{ <{PLACE}> <http://x/p> 1 }}",
    f"DESCRIBE <{PLACE}>",
    f"SELECT * {{ <{PLACE}> ?p ?o . ?o ?q ?r }}",                         # a variable subject
    f"SELECT * {{ <{PLACE}> ?p ?o }} LIMIT",
    f"SELECT * {{ <{PLACE}> ?p ?o",
    "SELECT * {" + f" <{PLACE}> ?p ?o ." * (cheap.MAX_PATTERNS + 1) + " }",
]


@pytest.mark.parametrize("text", TAKEN)
def test_the_subset_takes_lookups(text):
    assert cheap.patterns(text, PREFIXES)


@pytest.mark.parametrize("text", REFUSED)
def test_everything_else_takes_the_ordinary_path(text):
    assert cheap.patterns(text, PREFIXES) is None


def test_the_endpoints_prefixes_are_passed_only_when_a_text_borrows_one():
    assert cheap.patterns(TAKEN[0], PREFIXES).borrows is False
    assert cheap.patterns(TAKEN[1].replace("?p", "rdfs:label"), PREFIXES).borrows is True


# -- never an expensive query, at 1M --------------------------------------------------------

@pytest.fixture(scope="module")
def store_1m():
    return shapes.store_for("1M")


@pytest.fixture(scope="module")
def vocabulary(store_1m):
    """Subjects (the 30 busiest of the first 300k quads, and 60 others), predicates, objects."""
    degree: collections.Counter = collections.Counter()
    predicates, objects = set(), []
    for quad in itertools.islice(store_1m.quads_for_pattern(None, None, None, None), 300_000):
        degree[quad.subject.value] += 1
        predicates.add(quad.predicate.value)
        if len(objects) < 200 and quad.object.__class__.__name__ == "NamedNode":
            objects.append(quad.object.value)
    busiest = [s for s, _ in degree.most_common(30)]
    others = sorted(degree)[:: max(1, len(degree) // 60)][:60]
    return busiest + others, sorted(predicates), objects


@st.composite
def generated(draw, vocabulary):
    subjects, predicates, objects = vocabulary
    variables = ["?a", "?b", "?c", "?d"]
    parts = []
    for _ in range(draw(st.integers(1, 5))):
        s = f"<{draw(st.sampled_from(subjects))}>"
        p = draw(st.one_of(st.sampled_from(variables), st.just("a"),
                           st.sampled_from(predicates).map(lambda v: f"<{v}>")))
        o = draw(st.one_of(st.sampled_from(variables), st.just('"x"@en'), st.just("7"),
                           st.sampled_from(objects).map(lambda v: f"<{v}>")))
        parts.append(f"{s} {p} {o} .")
    noise = draw(st.sampled_from(["", "", "", "FILTER(?a < ?b)", "OPTIONAL { ?a ?b ?c }",
                                  "SERVICE <http://127.0.0.1:9/> { ?a ?b ?c }", "?a ?b ?c ."]))
    head = draw(st.sampled_from(["SELECT *", "SELECT DISTINCT *", "ASK", "SELECT ?a ?b"]))
    tail = draw(st.sampled_from(["", " LIMIT 5", " # note"]))
    return f"{head} WHERE {{ {' '.join(parts)} {noise} }}{tail}", bool(noise)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_query_the_cheap_path_takes_has_a_bounded_answer(store_1m, vocabulary, data):
    text, noisy = data.draw(generated(vocabulary))
    found = cheap.patterns(text, {})
    if noisy:
        assert found is None, text
    if found is None or not cheap.bounded(store_1m, found):
        return
    result = store_1m.query(text, use_default_graph_as_union=True)
    rows = 1 if text.startswith("ASK") else sum(1 for _ in result)
    assert rows <= cheap.MAX_ROWS, text


def test_the_bound_refuses_a_cross_product_of_busy_subjects(store_1m, vocabulary):
    """The property test is worth its run time only if the 1M store has texts it must refuse:
    its busiest subjects have 17 quads each, so three of them cross to 4,913 solutions."""
    busiest = vocabulary[0][0]
    two = cheap.patterns(f"SELECT * {{ <{busiest}> ?p ?o . <{busiest}> ?q ?r }}", {})
    three = cheap.patterns(
        f"SELECT * {{ <{busiest}> ?p ?o . <{busiest}> ?q ?r . <{busiest}> ?x ?y }}", {})
    assert cheap.bounded(store_1m, two) and not cheap.bounded(store_1m, three)


def test_the_bound_refuses_one_hub():
    hub = "http://example.org/hub"
    store = Store()
    store.extend(Quad(NamedNode(hub), NamedNode("http://example.org/p"), Literal(str(i)))
                 for i in range(cheap.MAX_ROWS + 1))
    one = cheap.patterns(f"SELECT * {{ <{hub}> ?p ?o }}", {})
    assert not cheap.bounded(store, one)
    assert cheap.bounded(store, cheap.patterns(f"ASK {{ <{hub}> ?p <http://x/none> }}", {}))


# -- the same answer as the ordinary path -------------------------------------------------

@pytest.mark.parametrize("text", TAKEN)
@pytest.mark.parametrize("accept", ["application/sparql-results+json",
                                    "application/sparql-results+xml", "*/*"])
def test_answers_are_the_ordinary_paths_byte_for_byte(app, text, accept):
    ctx = app.extensions["kg"]
    path = cheap.CheapLookupASGI(None, ctx, restrict=lambda: True)
    path.enabled = True
    qs = urlencode({"query": text})
    scope = {"type": "http", "method": "GET", "path": "/sparql", "root_path": "",
             "query_string": qs.encode("ascii"),
             "headers": [(b"host", b"localhost"), (b"accept", accept.encode())]}
    answer = path._answer(scope)
    assert answer is not None, text
    ordinary = app.test_client().get("/sparql?" + qs, headers={"Accept": accept})
    assert ordinary.status_code == 200
    assert answer.body == ordinary.data
    assert {k.lower(): v for k, v in answer.headers} == {
        k.lower(): v for k, v in ordinary.headers}
    assert dict(answer.raw_headers) == {k.lower().encode(): v.encode()
                                        for k, v in ordinary.headers}


@pytest.mark.parametrize("restricted", [False, True])
def test_a_worker_that_cannot_restrict_itself_never_takes_the_cheap_path(app, restricted):
    """Through the ASGI entry: the restriction runs once, at the first request; when it fails
    the request goes on to the ordinary app, and when it holds the cheap path answers."""
    ctx = app.extensions["kg"]
    calls: list[str] = []
    passed_on: list[dict] = []
    sent: list[dict] = []

    async def ordinary(scope, receive, send):
        passed_on.append(scope)

    async def send(message):
        sent.append(message)

    def restrict() -> bool:
        calls.append("restrict")
        return restricted

    path = cheap.CheapLookupASGI(ordinary, ctx, restrict=restrict)
    scope = {"type": "http", "method": "GET", "path": "/sparql", "root_path": "",
             "query_string": urlencode({"query": TAKEN[1]}).encode(), "headers": []}
    for _ in range(2):
        run_coroutine(path(dict(scope), None, send))
    assert calls == ["restrict"]  # once, at the first request
    if restricted:
        assert passed_on == [] and [m["status"] for m in sent if "status" in m] == [200, 200]
    else:
        assert len(passed_on) == 2 and sent == []


def test_the_worker_filter_denies_internet_sockets_to_a_query_thread():
    """In a child, as in a granian worker after its first request: the filter is on, a
    thread cannot open an Internet socket, and a query process still starts and answers."""
    code = (
        "import socket\n"
        "from endpoint.server import _restrict_worker\n"
        "assert _restrict_worker()\n"
        "try:\n"
        "    socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
        "    print('made')\n"
        "except PermissionError:\n"
        "    print('denied')\n"
        "print(open('/proc/self/status').read().split('Seccomp:')[1].split()[0])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env={**os.environ})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["denied", "2"]
