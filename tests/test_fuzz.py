"""Hostile input through the Flask test client: property-based and by rule.

Whatever a client sends, four things must hold, and each test checks them after every request:
- never a 5xx (a bad request is the client's fault, and says so with a 4xx);
- never an outgoing connection: `SERVICE` and `LOAD` aim at a loopback listener that must see
  no connection (and at file: URLs, whose contents must never come back);
- never a data change: the store's content hash is the same after the run as before;
- never an unescaped reflection in HTML: a script payload sent in any field never comes back
  raw in a text/html body.

The example counts are bounded so the whole module runs in well under a minute.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import RdfFormat

from graph.config import Settings
from graph.store import open_store

MARKERS = ("<script>alert(", "<svg onload=", "<img src=x onerror=")
SCRIPTS = (
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "'><img src=x onerror=alert(1)>",
    "</script><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
)
PASSWD_LINE = "root:x:0:0"
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Listener:
    """A loopback TCP listener that records every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[tuple] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, addr = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections.append(addr)
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def store_hash(settings: Settings) -> str:
    """sha256 of the store's content as sorted N-Quads: changes if any quad is added or removed."""
    store = open_store(settings)
    lines = sorted(store.dump(format=RdfFormat.N_QUADS).splitlines())
    del store
    return hashlib.sha256(b"\n".join(lines)).hexdigest()


@pytest.fixture(scope="module")
def listener():
    lis = Listener()
    yield lis
    lis.close()


@pytest.fixture(scope="module")
def fuzz_env(built_settings: Settings, listener: Listener):
    """The app over the real built store (no SERVICE allowed), its hash before, and the listener."""
    from endpoint import create_app

    before = store_hash(built_settings)
    app = create_app(built_settings.replace(service_allowlist=(), query_timeout=5.0))
    yield app.test_client(), listener
    app.extensions["kg"].pool.close()
    assert store_hash(built_settings) == before, "the store's content changed during the fuzz run"
    assert listener.connections == [], f"outgoing connections were made: {listener.connections}"


def check(response, sent: str = "") -> None:
    """The invariants every single answer must keep."""
    body = response.get_data(as_text=False)
    assert response.status_code < 500, (response.status_code, body[:500])
    if response.mimetype == "text/html":
        text = body.decode("utf-8", "replace")
        for marker in MARKERS:
            assert marker not in text, f"unescaped {marker!r} reflected in HTML for {sent!r}"
    assert PASSWD_LINE.encode() not in body, "a local file's content came back"
    response.close()  # a HEAD of a file leaves it open otherwise (ResourceWarning)


# -- strategies --------------------------------------------------------------------------------

def _urls(port: int) -> list[str]:
    return [
        f"http://127.0.0.1:{port}/sparql",
        f"http://localhost:{port}/",
        f"http://[::1]:{port}/",
        f"http://127.1:{port}/",
        f"http://0x7f000001:{port}/",
        "file:///etc/passwd",
        "file:/etc/passwd",
        "ftp://127.0.0.1/x",
        "gopher://127.0.0.1:70/_x",
    ]


FRAGMENTS = [
    "SELECT", "CONSTRUCT", "ASK", "DESCRIBE", "WHERE", "{", "}", "(", ")", "?s", "?p", "?o",
    "<http://example.org/x>", "<>", "<not an iri>", "<http://ex ample/>", "\"lit\"", "'''",
    '"""', "@en", "^^<x>", ".", ";", ",", "FILTER", "OPTIONAL", "UNION", "GRAPH", "BIND",
    "VALUES", "LIMIT", "OFFSET", "ORDER BY", "GROUP BY", "COUNT(*)", "*", "PREFIX", "BASE",
    "a", "rdfs:label", "schema:name", "kgo:Claim", "#", "\\u0000", "\u0000", "\ufeff",
    "\udc80" if False else "\u202e", "%00", "%ff", "%%", "FROM", "FROM NAMED", "SERVICE",
    "SILENT", "LOAD", "INTO", "GRAPH <x>", "REGEX(?o, \"(a+)+$\")", "str(", "xsd:integer(",
]

UPDATES = [
    'INSERT DATA { <http://ex/s> <http://ex/p> "x" }',
    'DELETE DATA { <http://ex/s> <http://ex/p> "x" }',
    "DELETE WHERE { ?s ?p ?o }",
    "DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    'INSERT { ?s <http://ex/p> "x" } WHERE { ?s ?p ?o }',
    "DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }",
    "WITH <http://ex/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "CLEAR ALL", "CLEAR DEFAULT", "CLEAR NAMED", "CLEAR GRAPH <http://ex/g>",
    "CLEAR SILENT ALL", "DROP ALL", "DROP SILENT DEFAULT", "DROP GRAPH <http://ex/g>",
    "CREATE GRAPH <http://ex/g>", "CREATE SILENT GRAPH <http://ex/g>",
    "ADD DEFAULT TO <http://ex/g>", "MOVE DEFAULT TO <http://ex/g>",
    "COPY DEFAULT TO <http://ex/g>", "ADD SILENT <http://ex/a> TO <http://ex/b>",
    "INSERT DATA { GRAPH <http://ex/g> { <http://ex/s> <http://ex/p> 1 } }",
    "delete where { ?s ?p ?o }",
    "PREFIX ex: <http://ex/> INSERT DATA { ex:s ex:p ex:o }",
    'CLEAR ALL ; INSERT DATA { <http://ex/s> <http://ex/p> "x" }',
]


def loads(port: int) -> list[str]:
    out = []
    for url in _urls(port):
        out += [f"LOAD <{url}>", f"LOAD SILENT <{url}>", f"LOAD <{url}> INTO GRAPH <http://ex/g>"]
    return out


def services(port: int) -> list[str]:
    """SERVICE in the forms the reader must see: plain, SILENT, prefixed, glued, cased, nested."""
    out = []
    for url in _urls(port):
        out += [
            f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
            f"select * where {{ service<{url}>{{?s ?p ?o}} }}",
            f"PREFIX x: <{url}> SELECT * WHERE {{ SERVICE x: {{ ?s ?p ?o }} }}",
            f"BASE <{url}> SELECT * WHERE {{ SERVICE <> {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ ?a ?b ?c OPTIONAL {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
            f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
            f"ASK {{ SERVICESILENT<{url}> {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ BIND(<{url}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        ]
    return out


def queries(port: int) -> st.SearchStrategy[str]:
    """Broken and hostile SPARQL: fragments glued at random, huge literals, deep nesting..."""
    glued = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=25).map(" ".join)
    deep = st.integers(1, 3000).map(
        lambda n: "SELECT * WHERE " + "{ " * n + "?s ?p ?o" + " }" * n
    )
    deep_parens = st.integers(1, 3000).map(
        lambda n: "SELECT * WHERE { FILTER(" + "(" * n + "1" + ")" * n + ") }"
    )
    huge = st.integers(1_000, 19_000).map(
        lambda n: 'SELECT * WHERE { ?s ?p "' + "x" * n + '" }'
    )
    return st.one_of(
        st.text(max_size=300),
        glued,
        deep,
        deep_parens,
        huge,
        st.sampled_from(UPDATES + loads(port) + services(port)),
        st.sampled_from(SCRIPTS).map(lambda s: f"SELECT * WHERE {{ ?s ?p \"{s}\" }} {s}"),
        st.sampled_from(SCRIPTS),
    )


RAW_ESCAPES = ["", "%", "%f", "%ff", "%00", "%zz", "%C0%AF", "%E2%80%AE", "%25", "%%32%65",
               "%u0041", "+", "%2B", "%0D%0ASet-Cookie:%20x=1", "&query=", "%3Cscript%3E"]
ACCEPTS = [
    None, "*/*", "text/html", "application/json", "application/sparql-results+json",
    "text/turtle", "application/ld+json", "text/csv", "image/png", "", ";;;,,,", "*/*;q=x",
    "text/html;q=0, */*;q=0", "application/sparql-results+json;q=1.5", "text/*, application/*",
    "x" * 5000, "text/html, <script>alert(1)</script>", "\u00e9/\u00e9", "application/json;q=0",
]
FORMATS = [None, "json", "xml", "csv", "tsv", "ttl", "nt", "nq", "trig", "jsonld", "rdf", "html",
            "", "exe", "application/x-evil", "<script>alert(1)</script>", "%00", "../../etc"]
CONTENT_TYPES = [
    "application/x-www-form-urlencoded", "application/sparql-query", "application/sparql-update",
    "application/json", "text/plain", "multipart/form-data; boundary=x", "", "text/html",
    "application/sparql-query; charset=latin-1", "application/sparql-query, text/plain",
    "application/x-www-form-urlencoded; charset=utf-16", "<script>alert(1)</script>",
]


# -- tests -------------------------------------------------------------------------------------

@FUZZ
@given(data=st.data())
def test_fuzz_sparql_never_5xx_never_leaks(fuzz_env, data):
    client, listener = fuzz_env
    query = data.draw(queries(listener.port), label="query")
    accept = data.draw(st.sampled_from(ACCEPTS), label="accept")
    fmt = data.draw(st.sampled_from(FORMATS), label="format")
    how = data.draw(st.sampled_from(["get", "form", "direct", "get-update", "form-update",
                                     "raw-get"]))
    headers = {"Accept": accept} if accept is not None else {}
    extra = {"format": fmt} if fmt is not None else {}
    if how == "get":
        response = client.get("/sparql", query_string={"query": query, **extra}, headers=headers)
    elif how == "get-update":
        response = client.get("/sparql", query_string={"update": query}, headers=headers)
    elif how == "form":
        response = client.post("/sparql", data={"query": query, **extra}, headers=headers)
    elif how == "form-update":
        response = client.post("/sparql", data={"update": query}, headers=headers)
    elif how == "raw-get":  # percent-escapes as sent, broken ones included
        junk = data.draw(st.sampled_from(RAW_ESCAPES), label="escape")
        response = client.get(f"/sparql?query={junk}{quote(query, safe='')}{junk}&{junk}={junk}",
                              headers=headers)
    else:
        ctype = data.draw(st.sampled_from(CONTENT_TYPES), label="content-type")
        encoding = data.draw(st.sampled_from(["utf-8", "latin-1", "utf-16", "cp1252"]))
        body = query.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")
        response = client.post("/sparql", data=body, query_string=extra,
                               headers={**headers, "Content-Type": ctype})
    check(response, query)


@FUZZ
@given(data=st.data())
def test_fuzz_pages_never_5xx_never_reflect(fuzz_env, data):
    """Odd paths, percent-escapes, invalid IRIs and script in every parameter of the site."""
    client, _ = fuzz_env
    segment = data.draw(st.one_of(
        st.text(min_size=1, max_size=40),
        st.sampled_from(SCRIPTS),
        st.sampled_from(["%00", "%ff", "%C0%AF", "%2e%2e%2f", "..", "%252e", "%", "%zz",
                         "khojaly%20massacre", "\u202e", "a/../../etc/passwd", "x" * 3000]),
    ), label="segment")
    prefix = data.draw(st.sampled_from(
        ["/id/place/", "/id/event/", "/page/place/", "/page/", "/data/place/", "/dumps/",
         "/pictures/", "/", "/sparql/", "/id/", "/query/"]), label="prefix")
    # a segment with "%" goes as it is (raw percent-escapes are part of the fuzz), but "?" and
    # "#" would end the path there: they are escaped always
    raw = (segment.replace("?", "%3F").replace("#", "%23") if "%" in segment
           else quote(segment, safe="/"))
    path = prefix + raw
    param = data.draw(st.sampled_from(SCRIPTS + ("", "x", "%ff")), label="param")
    accept = data.draw(st.sampled_from(ACCEPTS), label="accept")
    headers = {"Accept": accept} if accept is not None else {}
    for target in (path, "/query", "/", "/page/place/khojaly", "/void", "/sources-compared"):
        response = client.get(target, query_string={"example": param, "format": param,
                                                    "q": param, "query": param}, headers=headers)
        check(response, f"{target} {param}")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "TRACE", "OPTIONS", "HEAD",
                                    "PROPFIND", "CONNECT"])
@pytest.mark.parametrize("path", ["/sparql", "/", "/id/place/khojaly", "/page/place/khojaly",
                                  "/dumps/khojaly.ttl", "/query"])
def test_methods_the_protocol_does_not_allow(fuzz_env, method, path):
    client, _ = fuzz_env
    response = client.open(path, method=method, data=b"CLEAR ALL")
    check(response)
    if method not in ("OPTIONS", "HEAD"):
        assert response.status_code == 405, (method, path, response.status_code)


@pytest.mark.parametrize("update", UPDATES)
def test_every_update_form_is_refused(fuzz_env, update):
    """Each form of SPARQL Update, by each way a client could send it, gets a clear 403."""
    client, _ = fuzz_env
    sends = [
        client.get("/sparql", query_string={"query": update}),
        client.get("/sparql", query_string={"update": update}),
        client.post("/sparql", data={"query": update}),
        client.post("/sparql", data={"update": update}),
        client.post("/sparql", data=update, content_type="application/sparql-query"),
        client.post("/sparql", data=update, content_type="application/sparql-update"),
    ]
    for response in sends:
        check(response, update)
        assert response.status_code == 403, (update, response.status_code, response.data[:200])
        assert b"read-only" in response.data


def test_every_service_and_load_is_refused_without_a_connection(fuzz_env):
    client, listener = fuzz_env
    for text in services(listener.port) + loads(listener.port):
        for response in (client.get("/sparql", query_string={"query": text}),
                         client.post("/sparql", data=text,
                                     content_type="application/sparql-query")):
            check(response, text)
            # a keyword glued to the next word is no SPARQL (Oxigraph would still call it)
            expected = 400 if "SERVICESILENT" in text else 403
            assert response.status_code == expected, (text, response.status_code, response.data)
    assert listener.connections == []


def test_oversized_bodies_and_queries(fuzz_env, built_settings):
    client, _ = fuzz_env
    cap = built_settings.max_request_bytes
    body = b"query=" + b"x" * cap
    response = client.post("/sparql", data=body,
                           content_type="application/x-www-form-urlencoded")
    check(response)
    assert response.status_code == 413 and b"KG_MAX_REQUEST_BYTES" in response.data
    response = client.post("/sparql", data=b"SELECT " + b"?x " * cap,
                           content_type="application/sparql-query")
    check(response)
    assert response.status_code == 413 and b"KG_MAX_REQUEST_BYTES" in response.data
    long_query = "SELECT * WHERE { ?s ?p ?o } #" + "x" * built_settings.max_query_length
    response = client.get("/sparql", query_string={"query": long_query})
    check(response)
    assert response.status_code == 413 and b"KG_MAX_QUERY_LENGTH" in response.data


@pytest.mark.parametrize("payload", SCRIPTS)
def test_script_in_format_and_accept_is_never_reflected(fuzz_env, payload):
    client, _ = fuzz_env
    for path in ("/sparql", "/page/place/khojaly", "/id/place/khojaly", "/query", "/void",
                 "/page/place/" + quote(payload), "/dumps/" + quote(payload)):
        for params, accept in (({"format": payload}, "text/html"),
                               ({"query": payload, "format": "html"}, "text/html"),
                               ({}, f"text/html, {payload}"),
                               ({"example": payload}, "text/html")):
            check(client.get(path, query_string=params, headers={"Accept": accept}), payload)


@pytest.mark.parametrize("path", ['/id/place/"', "/page/place/a%20b", "/data/event/%3Cx%3E.ttl",
                                  '/"', "/dataset%7Bx%7D"])
def test_issue_6_a_path_that_is_no_iri_is_404_not_500(fuzz_env, path):
    """Found by the fuzzer: a `"`, space or brace in an entity path reached NamedNode() -> 500."""
    client, _ = fuzz_env
    response = client.get(path, headers={"Accept": "text/html"})
    check(response, path)
    assert response.status_code == 404


@pytest.mark.parametrize("depth", [2189, 4000])
def test_issue_6_deep_nesting_is_a_400_not_a_crashed_query_process(fuzz_env, depth):
    """Found by the fuzzer: ~2100 nested groups overflowed the engine's stack and killed the query
    process (a 500, and a cheap way to make the server respawn processes)."""
    client, _ = fuzz_env
    query = "SELECT * WHERE " + "{ " * depth + "?s ?p ?o" + " }" * depth
    response = client.get("/sparql", query_string={"query": query})
    check(response, "deep")
    assert response.status_code == 400 and b"levels deep" in response.data


def test_issue_6_ordinary_nesting_still_runs(fuzz_env):
    client, _ = fuzz_env
    query = "SELECT * WHERE " + "{ " * 120 + "?s ?p ?o" + " }" * 120 + " LIMIT 1"
    response = client.get("/sparql", query_string={"query": query},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200 and b'"bindings"' in response.data
