"""Repeats of a cached GET /sparql answered in front of Flask: a WSGI middleware.

A hit in the result cache needs no routing, no request object, no view and no after-request
hooks: only the key (http_cache.key_for over the raw query string and Accept header) and the
stored response. Done as plain WSGI it costs a hash and a dict lookup, which is what lets a
public endpoint absorb a crawler or a classroom repeating the same queries.

The stored response is the complete one the app sent the first time (status, every header:
ETag, Cache-Control, Vary, CORS, Content-Length, and the body), captured here on a miss. So a
hit is byte-for-byte what the app would send again. Only responses the app itself marked with
the ETag this key gives are kept (the /sparql view's whole, successful answers: a streamed
answer has no Content-Length, an error no ETag), and only when the cache takes their size.
A matching If-None-Match is answered 304 with the same headers, bodiless; when the entry is gone
the view still answers that 304 before reading the query (endpoint/sparql/views.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from werkzeug.http import parse_etags

from endpoint.context import KGContext
from endpoint.http.caching import key_for
from endpoint.http.result_cache import CachedResponse

PATH = "/sparql"
_BODY_HEADERS = frozenset({"content-type", "content-length"})


class FastPath:
    def __init__(self, wsgi_app: Callable, ctx: KGContext, path: str = PATH):
        self.wsgi_app, self.ctx, self.path = wsgi_app, ctx, path

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        cache = self.ctx.result_cache
        if method not in ("GET", "HEAD") or environ.get("PATH_INFO") != self.path \
                or not cache.enabled or not environ.get("QUERY_STRING"):
            return self.wsgi_app(environ, start_response)
        version = self.ctx.version
        key = key_for(version, "sparql", environ["QUERY_STRING"].encode("latin-1"),
                      environ.get("HTTP_ACCEPT", ""))
        hit = cache.get(key, version)
        if hit is not None:
            return _replay(hit, key, method, environ, start_response)
        return self._run_and_keep(key, method, environ, start_response)

    def _run_and_keep(self, key: str, method: str, environ: dict,
                      start_response: Callable) -> Iterable[bytes]:
        seen: dict = {}

        def capture(status: str, headers: list, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info)

        app_iter = self.wsgi_app(environ, capture)
        headers = {k.lower(): v for k, v in seen.get("headers", ())}
        if (method != "GET" or not seen.get("status", "").startswith("200 ")
                or headers.get("etag") != f'"{key}"' or "content-length" not in headers
                or not self.ctx.result_cache.accepts(int(headers["content-length"]))):
            return app_iter
        try:
            body = b"".join(app_iter)
        finally:
            if hasattr(app_iter, "close"):
                app_iter.close()
        if len(body) == int(headers["content-length"]):
            self.ctx.result_cache.put(key, self.ctx.version, CachedResponse(
                body, headers.get("content-type", ""), 200, tuple(seen["headers"])))
        return [body]


def _replay(hit: CachedResponse, key: str, method: str, environ: dict,
            start_response: Callable) -> Iterable[bytes]:
    inm = environ.get("HTTP_IF_NONE_MATCH")
    if inm:
        tags = parse_etags(inm)
        if not tags.star_tag and tags.contains_weak(key):
            start_response("304 NOT MODIFIED",
                           [h for h in hit.headers if h[0].lower() not in _BODY_HEADERS])
            return []
    start_response(f"{hit.status} OK", list(hit.headers))
    return [] if method == "HEAD" else [hit.body]
