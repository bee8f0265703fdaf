"""The one response cache (endpoint/http/caching.py): bounded, versioned, thread-safe, and what
/sparql and the pages do with it (a repeat never reaches the query processes or the view; a 304
never needs the cache; a new build never meets old bytes)."""

from __future__ import annotations

import json
import threading

import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store
from sparql_support import make_settings, run_coroutine

from endpoint import create_app
from endpoint.http.caching import ENTRY_OVERHEAD, CachedResponse, ResponseCache
from graph.config import Settings

LABELS = "SELECT ?l WHERE { ?s rdfs:label ?l } ORDER BY ?l"
JSON = "application/sparql-results+json"


def body(n: int, fill: bytes = b"x", version: str = "v1") -> CachedResponse:
    return CachedResponse(version, "200 OK", (("Content-Type", "text/plain"),), fill * n)


# -- the cache itself ---------------------------------------------------------------------------


def test_least_recently_used_entries_go_first_when_full():
    cost = body(1000).cost
    cache = ResponseCache(max_bytes=3 * cost, max_entry_bytes=10_000)
    for key in "abc":
        assert cache.put(key, body(1000, key.encode()))
    assert cache.get("a", "v1") is not None  # a is now the most recent: b goes first
    cache.put("d", body(1000))
    assert cache.get("b", "v1") is None
    assert [cache.get(k, "v1").body[:1] for k in "acd"] == [b"a", b"c", b"x"]
    assert cache.size_bytes <= cache.max_bytes and len(cache) == 3


def test_an_entry_leaves_nothing_for_the_garbage_collector_to_scan_but_itself():
    """A full cache holds thousands of entries: every container in them that stays tracked
    makes each full collection of the worker slower (measured in bench.stages' cheap path)."""
    import gc

    entry = body(10)
    assert entry.raw_not_modified_headers is entry.raw_not_modified_headers  # kept once made
    gc.collect()
    gc.collect()  # a tuple is untracked once its items are: inner ones first, then the outer
    for part in (entry.headers, entry.raw_headers, entry.raw_not_modified_headers):
        assert not gc.is_tracked(part), part


def test_an_entry_over_the_per_entry_cap_is_not_kept():
    cache = ResponseCache(max_bytes=1 << 20, max_entry_bytes=4096)
    assert not cache.accepts(4096)
    assert not cache.put("big", body(4096))
    assert cache.get("big", "v1") is None and cache.size_bytes == 0
    assert cache.accepts(4096 - ENTRY_OVERHEAD) and cache.put("ok", body(100))


def test_an_entry_of_another_version_is_never_served():
    cache = ResponseCache(1 << 20, 1 << 16)
    cache.put("k", body(10, b"1", "build-1"))
    assert cache.get("k", "build-2") is None
    cache.put("k", body(10, b"2", "build-2"))  # replaces, and its size is counted once
    assert cache.get("k", "build-2").body == b"2" * 10 and cache.get("k", "build-1") is None
    assert cache.size_bytes == body(10).cost


def test_zero_bytes_turns_it_off_and_sizes_come_from_the_settings():
    off = ResponseCache.from_settings(Settings.from_env({"KG_RESULT_CACHE_BYTES": "0"}))
    assert not off.enabled and not off.put("k", body(1)) and off.get("k", "v1") is None
    sized = ResponseCache.from_settings(Settings.from_env(
        {"KG_RESULT_CACHE_BYTES": "5000", "KG_RESULT_CACHE_ENTRY_BYTES": "2000"}))
    assert (sized.max_bytes, sized.max_entry_bytes) == (5000, 2000)
    with pytest.raises(ValueError, match="KG_RESULT_CACHE_BYTES='lots'"):
        Settings.from_env({"KG_RESULT_CACHE_BYTES": "lots"})


def test_threads_putting_and_getting_keep_the_byte_count_exact():
    cache = ResponseCache(max_bytes=20 * body(100).cost, max_entry_bytes=10_000)

    def work(t: int) -> None:
        for i in range(2000):
            key = f"{(t * 7 + i) % 60}"
            cache.put(key, body(100 + (i % 3), key.encode()[:1]))
            got = cache.get(key, "v1")
            assert got is None or got.body[:1] == key.encode()[:1]

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with cache._lock:
        counted = sum(entry.cost for entry in cache._lru.values())
    assert counted == cache.size_bytes <= cache.max_bytes


# -- /sparql with it ----------------------------------------------------------------------------


class CountingPool:
    """Wraps the app's real query pool and counts the jobs that reach it."""

    def __init__(self, pool):
        self.pool, self.jobs = pool, 0

    def run(self, job):
        self.jobs += 1
        return self.pool.run(job)

    def __getattr__(self, name):
        return getattr(self.pool, name)


@pytest.fixture
def counted(app):
    kg = app.extensions["kg"]
    kg.response_cache.clear()
    real, kg.pool = kg.pool, CountingPool(kg.pool)
    yield kg.pool
    kg.pool = real


def test_a_repeated_get_is_answered_from_the_cache_with_the_same_headers(app, counted):
    client = app.test_client()
    query = {"query": LABELS}
    first = client.get("/sparql", query_string=query, headers={"Accept": JSON})
    second = client.get("/sparql", query_string=query, headers={"Accept": JSON})
    assert first.status_code == second.status_code == 200
    assert counted.jobs == 1
    assert second.data == first.data and json.loads(second.data)["results"]["bindings"]
    assert dict(second.headers) == dict(first.headers)
    other = client.get("/sparql", query_string=query, headers={"Accept": "text/csv"})
    assert counted.jobs == 2 and other.mimetype == "text/csv"  # another Accept: another entry


def test_a_304_is_answered_before_the_query_is_read(app, counted, monkeypatch):
    client = app.test_client()
    query = {"query": LABELS}
    etag = client.get("/sparql", query_string=query).headers["ETag"]
    app.extensions["kg"].response_cache.clear()

    def no_scan(*args, **kwargs):
        raise AssertionError("the query was scanned for a 304")

    monkeypatch.setattr("endpoint.sparql.policy.inspect", no_scan)
    again = client.get("/sparql", query_string=query, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag
    assert counted.jobs == 1 and "Accept" in again.headers["Vary"]


def test_the_etag_follows_accept_and_method_and_post_is_never_cached(app, counted):
    client = app.test_client()
    query = {"query": LABELS}
    tags = {client.get("/sparql", query_string=query, headers={"Accept": accept}).headers["ETag"]
            for accept in (JSON, "text/csv", "application/json")}
    assert len(tags) == 3
    head = client.head("/sparql", query_string=query, headers={"Accept": JSON})
    assert head.headers["ETag"] in tags and counted.jobs == 3  # HEAD: GET's tag and entry
    for _ in range(2):
        posted = client.post("/sparql", data=query, headers={"Accept": JSON})
        assert posted.status_code == 200 and "ETag" not in posted.headers
    assert counted.jobs == 5


def test_errors_are_not_cached(app, counted):
    client = app.test_client()
    broken = {"query": "SELECT * WHERE { ?s ?p }"}
    assert [client.get("/sparql", query_string=broken).status_code for _ in range(2)] == [400, 400]
    assert len(app.extensions["kg"].response_cache) == 0


def test_a_new_build_gets_new_etags_and_never_old_bytes(tmp_path):
    old = make_settings(tmp_path / "old")
    new = make_settings(tmp_path / "new")
    info = new.store_path / "build.json"
    info.write_text(json.dumps({"version": "test-version-2"}), encoding="utf-8")
    store = Store(str(new.store_path / "oxigraph"))  # the new build has one triple more
    store.add(Quad(NamedNode("urn:x:s"), NamedNode("urn:x:p"), Literal("new")))
    store.flush()
    del store
    apps = [create_app(old), create_app(new)]
    try:
        # one cache across both, as if it outlived the swap: the version keeps them apart
        shared = apps[0].extensions["kg"].response_cache
        apps[1].extensions["kg"].response_cache = shared
        query = {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}
        first = apps[0].test_client().get("/sparql", query_string=query)
        second = apps[1].test_client().get("/sparql", query_string=query,
                                           headers={"If-None-Match": first.headers["ETag"]})
        assert second.status_code == 200
        assert second.headers["ETag"] != first.headers["ETag"]
        assert len(shared) == 2 and second.data != first.data
        count = json.loads(second.data)["results"]["bindings"][0]["n"]["value"]
        assert int(count) == int(json.loads(first.data)["results"]["bindings"][0]["n"]["value"]) + 1
    finally:
        for app in apps:
            app.extensions["kg"].pool.close()


def test_a_cached_repeat_revalidates_to_a_bodiless_304_and_head_has_no_body(app, counted):
    client = app.test_client()
    query = {"query": LABELS}
    first = client.get("/sparql", query_string=query, headers={"Accept": JSON})
    etag = first.headers["ETag"]
    again = client.get("/sparql", query_string=query,
                       headers={"Accept": JSON, "If-None-Match": f'"other", {etag}'})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag and again.headers["Access-Control-Allow-Origin"] == "*"
    assert "Content-Type" not in again.headers and "Accept" in again.headers["Vary"]
    star = client.get("/sparql", query_string=query,
                      headers={"Accept": JSON, "If-None-Match": "*"})
    assert star.status_code == 200 and star.data == first.data
    head = client.head("/sparql", query_string=query, headers={"Accept": JSON})
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == first.headers["Content-Length"]
    assert counted.jobs == 1


def test_only_what_fits_is_kept(app, counted):
    kg = app.extensions["kg"]
    small = ResponseCache(max_bytes=1 << 20, max_entry_bytes=ENTRY_OVERHEAD + 64)
    real, kg.response_cache = kg.response_cache, small
    try:
        client = app.test_client()
        for _ in range(2):
            r = client.get("/sparql", query_string={"query": LABELS}, headers={"Accept": JSON})
            assert r.status_code == 200 and len(r.data) > 64
        assert counted.jobs == 2 and len(small) == 0
    finally:
        kg.response_cache = real


# -- the pages with it --------------------------------------------------------------------------

PAGE = "/page/event/khojaly-massacre"


def test_a_page_is_kept_and_its_304_needs_no_cache(app, monkeypatch):
    import endpoint.pages.entities as entities

    kg = app.extensions["kg"]
    kg.response_cache.clear()
    real, renders = entities.render_template, []

    def counting(*args, **kwargs):
        renders.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(entities, "render_template", counting)
    client = app.test_client()
    html = {"Accept": "text/html"}
    first = client.get(PAGE, headers=html)
    assert first.status_code == 200 and first.headers["ETag"]
    assert "Accept-Language" in first.headers["Vary"] and len(kg.response_cache) == 1
    again = client.get(PAGE, headers=html)
    assert again.data == first.data and dict(again.headers) == dict(first.headers)
    assert len(renders) == 1
    kg.response_cache.clear()  # evicted: the 304 is computed from the request, not looked up
    revalidated = client.get(PAGE, headers={**html, "If-None-Match": first.headers["ETag"]})
    assert revalidated.status_code == 304 and revalidated.data == b""
    assert revalidated.headers["ETag"] == first.headers["ETag"] and len(renders) == 1
    assert "Accept-Language" in revalidated.headers["Vary"]
    assert revalidated.headers["Access-Control-Allow-Origin"] == "*"
    other = client.get(PAGE, headers={**html, "Accept-Language": "az",
                                      "If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200 and other.headers["ETag"] != first.headers["ETag"]
    assert len(renders) == 2  # another language is another tag: rendered, not a stale 304


def test_the_ontology_page_is_rendered_once_per_process(app, monkeypatch):
    import graph.build.ontology_docs

    kg = app.extensions["kg"]
    kg.response_cache.clear()
    real, calls = graph.build.ontology_docs.render_html, []

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(graph.build.ontology_docs, "render_html", counting)
    pages = [app.test_client().get("/ontology", headers={"Accept": "text/html"}) for _ in range(3)]
    assert [p.status_code for p in pages] == [200] * 3 and len(calls) == 1
    assert pages[2].data == pages[0].data and b"<html" in pages[0].data.lower()


def test_static_files_keep_their_own_validators(app):
    client = app.test_client()
    kept = len(app.extensions["kg"].response_cache)
    with client.get("/static/site.css") as css:
        assert css.status_code == 200 and css.headers.get("ETag")
    assert len(app.extensions["kg"].response_cache) == kept
    with client.get("/static/site.css", headers={"If-None-Match": css.headers["ETag"]}) as again:
        assert again.status_code == 304


# -- the same cache in an ASGI server's event loop ------------------------------------------------


def _asgi_get(front, path: str, query: bytes, headers: list[tuple[bytes, bytes]],
              scheme: str = "http"):

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": scheme, "path": path, "raw_path": path.encode(), "query_string": query,
             "root_path": "", "headers": [(b"host", b"127.0.0.1:8000"), *headers],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    run_coroutine(front(scope, receive, send))
    head = {k.decode().lower(): v.decode() for k, v in sent[0]["headers"]}
    return sent[0]["status"], head, b"".join(m.get("body", b"") for m in sent[1:])


def test_the_asgi_layer_answers_repeats_and_304s_with_the_wsgi_layers_tags(app):
    from urllib.parse import urlencode

    from a2wsgi import WSGIMiddleware

    from endpoint.http.caching import ConditionalCacheASGI

    kg = app.extensions["kg"]
    kg.response_cache.clear()
    inner, reached = WSGIMiddleware(app, workers=2), []

    async def counting(scope, receive, send):
        reached.append(scope["path"])
        await inner(scope, receive, send)

    front = ConditionalCacheASGI(counting, kg)
    query = urlencode({"query": LABELS}).encode()
    accept = [(b"accept", JSON.encode())]
    status, head, first = _asgi_get(front, "/sparql", query, accept)
    assert status == 200 and json.loads(first)["results"]["bindings"] and len(reached) == 1
    status, again_head, again = _asgi_get(front, "/sparql", query, accept)
    assert (status, again, again_head) == (200, first, head) and len(reached) == 1
    kg.response_cache.clear()  # the 304 is computed: the tag the WSGI layer gave is recognised
    status, not_modified, body = _asgi_get(
        front, "/sparql", query, [*accept, (b"if-none-match", head["etag"].encode())])
    assert (status, body, len(reached)) == (304, b"", 1)
    assert not_modified["etag"] == head["etag"] and "Accept" in not_modified["vary"]
    status, _, other = _asgi_get(front, "/sparql", query, [(b"accept", b"text/csv")])
    assert status == 200 and other.startswith(b"l\r\n") and len(reached) == 2


def test_the_scheme_a_proxy_forwarded_is_part_of_the_tag(app):
    """The reconciliation manifest writes absolute links with the request's scheme: an answer
    made for https must never be replayed, or revalidated, for http."""
    from a2wsgi import WSGIMiddleware

    from endpoint.http.caching import ConditionalCacheASGI

    kg = app.extensions["kg"]
    kg.response_cache.clear()
    front = ConditionalCacheASGI(WSGIMiddleware(app, workers=2), kg)
    answers = {scheme: _asgi_get(front, "/reconcile", b"", [], scheme)
               for scheme in ("https", "http")}
    (s_status, s_head, s_body), (p_status, p_head, p_body) = answers.values()
    assert s_status == p_status == 200 and s_head["etag"] != p_head["etag"]
    assert b"https://127.0.0.1:8000/" in s_body and b"https://127.0.0.1" not in p_body
    status, _, _ = _asgi_get(front, "/reconcile", b"",
                             [(b"if-none-match", s_head["etag"].encode())], "http")
    assert status == 200
