"""HTTP caching of read responses: one ETag scheme, one bounded response cache, before Flask.

The store only changes by a new build (a new dataset version), so a GET is a pure function of the
version and the raw request. The ETag (`etag_for`) hashes exactly that: the version, the scheme,
host and mount point the page's links are written for (the scheme as a proxy on this machine
forwarded it), the path, the raw query string and the raw Accept and Accept-Language headers.
Nothing needs parsing, so the middleware (`ConditionalCache`) can:

1. answer a matching If-None-Match with 304 before any work, whether or not the cache still holds
   the 200 (the tag is computed, never looked up);
2. replay a finished 200 from the response cache, byte for byte (status, every header, the body),
   without routing, a request object, a view or any after-request hook;
3. otherwise run the app, which tags every successful GET with the same key (`init_caching`), and
   keep the answer when it is whole (a Content-Length) and fits.

Two spellings of one request get two tags: a miss, never a wrong answer. A new build gives new
tags, and each entry also records its version and is refused for any other. /static/ and /dumps/
are left to Werkzeug's file validators. The cache (cachetools' LRU bounded by bytes, total and per
entry: KG_RESULT_CACHE_BYTES, 0 turns it off, and KG_RESULT_CACHE_ENTRY_BYTES) is per process.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from cachetools import LRUCache
from flask import Flask, Response, request
from werkzeug.http import parse_etags

from endpoint.http.cors import EXPOSE_HEADERS

# what an entry costs beyond its body and headers: the key, the tuple, the LRU's links (an estimate)
ENTRY_OVERHEAD = 512
ENVIRON_KEY = "kg.etag"  # the request's ETag, computed once by the middleware, read by the app
SCOPE_KEY = "kg.etag"  # the same in an ASGI scope, with the environ it was computed from
UNCACHED_PREFIXES = ("/static/", "/dumps/")  # files: Werkzeug validates them itself
_BODY_HEADERS = frozenset({"content-type", "content-length"})


def etag_for(version: str, environ: dict) -> str:
    """The strong validator of a GET or HEAD: the same version and raw request, the same tag."""
    digest = hashlib.sha256(version.encode("utf-8"))
    for name in ("wsgi.url_scheme", "HTTP_HOST", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING",
                 "HTTP_ACCEPT", "HTTP_ACCEPT_LANGUAGE"):
        digest.update(b"\x00")
        digest.update(environ.get(name, "").encode("latin-1", "replace"))
    return digest.hexdigest()[:40]


def vary_for(path: str) -> str:
    """What a tagged response varies on: /sparql negotiates only Accept, pages language too."""
    return "Accept" if path == "/sparql" else "Accept, Accept-Language"


@dataclass(frozen=True)
class CachedResponse:
    """A finished answer as the app sent it, and the build it belongs to.

    What a replay or a 304 sends is worked out once per entry, not once per request: an entry is
    read many times for each time it is written, and in the event loop every microsecond is
    shared by all the worker's connections. (Plain attributes set once, not cached_property,
    which takes a lock on Python 3.11.)"""

    version: str
    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    cost: int = field(init=False, repr=False, compare=False)
    # the same headers as an ASGI server takes them, for the 200 and for a 304 (without the body's)
    raw_headers: tuple[tuple[bytes, bytes], ...] = field(init=False, repr=False, compare=False)
    raw_not_modified_headers: tuple[tuple[bytes, bytes], ...] = field(
        init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        size = len(self.body) + ENTRY_OVERHEAD + sum(len(k) + len(v) for k, v in self.headers)
        object.__setattr__(self, "cost", size)
        object.__setattr__(self, "raw_headers", _raw(self.headers))
        object.__setattr__(self, "raw_not_modified_headers", _raw(self.not_modified_headers))

    @property
    def not_modified_headers(self) -> list[tuple[str, str]]:
        """The headers of a 304 for this answer: its own, without its body's."""
        return [h for h in self.headers if h[0].lower() not in _BODY_HEADERS]


def _raw(headers: Iterable[tuple[str, str]]) -> tuple[tuple[bytes, bytes], ...]:
    """The headers as an ASGI server takes them; a tuple of bytes, which the garbage collector
    stops tracking (a list stays tracked, and a full cache of them made every collection slower:
    bench.stages measured the cheap path at 113 µs instead of 92 after 5,000 unique lookups)."""
    return tuple((k.lower().encode("latin1"), v.encode("latin1")) for k, v in headers)


class ResponseCache:
    """cachetools' LRU bounded by bytes (total and per entry), behind one lock for the threads."""

    def __init__(self, max_bytes: int, max_entry_bytes: int):
        self.max_bytes = max(0, max_bytes)
        self.max_entry_bytes = min(max(0, max_entry_bytes), self.max_bytes)
        self._lru: LRUCache = LRUCache(maxsize=max(1, self.max_bytes), getsizeof=_cost)
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings) -> ResponseCache:
        return cls(settings.result_cache_bytes, settings.result_cache_entry_bytes)

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @property
    def size_bytes(self) -> int:
        return int(self._lru.currsize)

    def __len__(self) -> int:
        return len(self._lru)

    def accepts(self, size: int) -> bool:
        """Would a body of `size` bytes be kept? (Lets a caller skip collecting one.)"""
        return self.enabled and size + ENTRY_OVERHEAD <= self.max_entry_bytes

    def get(self, key: str, version: str) -> CachedResponse | None:
        with self._lock:
            found = self._lru.get(key)
        return found if found is not None and found.version == version else None

    def put(self, key: str, entry: CachedResponse) -> bool:
        """Keep `entry` under `key`; False when it is too big to keep (or the cache is off)."""
        if not self.enabled or entry.cost > self.max_entry_bytes:
            return False
        with self._lock:
            self._lru[key] = entry
        return True

    def clear(self) -> None:
        with self._lock:
            self._lru.clear()


def _cost(entry: CachedResponse) -> int:
    return entry.cost


class _Context(Protocol):  # what the middleware needs of endpoint.context.KGContext
    version: str
    response_cache: ResponseCache
    settings: object


class ConditionalCache:
    """WSGI middleware: 304 by computation, 200 by replay, else the app (whose answer it keeps)."""

    def __init__(self, wsgi_app: Callable, ctx: _Context):
        self.wsgi_app, self.ctx = wsgi_app, ctx

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "")
        path = environ.get("PATH_INFO", "")
        if method not in ("GET", "HEAD") or path.startswith(UNCACHED_PREFIXES):
            return self.wsgi_app(environ, start_response)
        ctx = self.ctx
        key = environ[ENVIRON_KEY] = etag_for(ctx.version, environ)
        hit = ctx.response_cache.get(key, ctx.version)
        inm = environ.get("HTTP_IF_NONE_MATCH")
        if inm and _matches(inm, key):
            start_response("304 NOT MODIFIED", _not_modified_headers(hit, key, path, ctx))
            return []
        if hit is not None:
            start_response(hit.status, list(hit.headers))
            return [] if method == "HEAD" else [hit.body]
        if method == "HEAD" or not ctx.response_cache.enabled:
            return self.wsgi_app(environ, start_response)
        return self._run_and_keep(key, environ, start_response)

    def _run_and_keep(self, key: str, environ: dict, start_response: Callable) -> Iterable[bytes]:
        seen: dict = {}

        def capture(status: str, headers: list, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info)

        app_iter = self.wsgi_app(environ, capture)
        headers = {k.lower(): v for k, v in seen.get("headers", ())}
        length = headers.get("content-length", "")
        cache = self.ctx.response_cache
        if (not seen.get("status", "").startswith("200 ") or headers.get("etag") != f'"{key}"'
                or not length.isdigit() or not cache.accepts(int(length))):
            return app_iter
        try:
            body = b"".join(app_iter)
        finally:
            if hasattr(app_iter, "close"):
                app_iter.close()
        if len(body) == int(length):
            cache.put(key, CachedResponse(self.ctx.version, seen["status"],
                                          tuple(seen["headers"]), body))
        return [body]


def _matches(if_none_match: str, key: str) -> bool:
    """RFC 9110 §13.1.2, weak comparison. `*` goes to the app: it must know the answer exists."""
    if if_none_match == f'"{key}"':  # what a client sends back, by far the most often
        return True
    tags = parse_etags(if_none_match)
    return not tags.star_tag and tags.contains_weak(key)


def _not_modified_headers(hit: CachedResponse | None, key: str, path: str,
                          ctx: _Context) -> list[tuple[str, str]]:
    """The 200's headers without its body's, or, when the 200 is gone, the ones it had."""
    if hit is not None:
        return hit.not_modified_headers
    return [
        ("ETag", f'"{key}"'),
        ("Cache-Control", f"public, max-age={ctx.settings.cache_max_age}"),
        ("Vary", vary_for(path)),
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Expose-Headers", EXPOSE_HEADERS),
    ]


class ConditionalCacheASGI:
    """The same two answers (304 by computation, 200 by replay) in an ASGI server's event loop.

    Behind granian's ASGI interface the WSGI app runs in a2wsgi's thread pool: handing a request
    to a thread and back costs more than the answer itself when the answer is a hash and a
    look-up. Everything else goes on to `app`, where `ConditionalCache` keeps what it answers in
    the same cache. The key is made from the scope exactly as a2wsgi makes the environ, so both
    layers compute the same tag (were they ever to differ, this layer would only miss).
    """

    def __init__(self, app, ctx: _Context):
        self.app, self.ctx = app, ctx

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        environ = environ_of(scope)
        path = environ["PATH_INFO"]
        if path.startswith(UNCACHED_PREFIXES):
            return await self.app(scope, receive, send)
        ctx = self.ctx
        key = etag_for(ctx.version, environ)
        scope[SCOPE_KEY] = (environ, key)  # for the layers behind this one: worked out once
        hit = ctx.response_cache.get(key, ctx.version)
        inm = environ.get("HTTP_IF_NONE_MATCH")
        if inm and _matches(inm, key):
            raw = (hit.raw_not_modified_headers if hit is not None
                   else _raw(_not_modified_headers(None, key, path, ctx)))
            return await send_raw(send, 304, raw, b"")
        if hit is None:
            return await self.app(scope, receive, send)
        body = b"" if scope["method"] == "HEAD" else hit.body
        return await send_raw(send, int(hit.status[:3]), hit.raw_headers, body)


_SCOPE_HEADERS = {b"host": "HTTP_HOST", b"accept": "HTTP_ACCEPT",
                  b"accept-language": "HTTP_ACCEPT_LANGUAGE",
                  b"if-none-match": "HTTP_IF_NONE_MATCH"}


def environ_of(scope) -> dict[str, str]:
    """The part of a2wsgi's environ (a2wsgi.wsgi.build_environ) that `etag_for` reads."""
    script_name = scope.get("root_path", "").encode("utf8").decode("latin1")
    path = scope["path"].encode("utf8").decode("latin1")
    environ = {"wsgi.url_scheme": scope.get("scheme", "http"), "SCRIPT_NAME": script_name,
               "PATH_INFO": path[len(script_name):] if path.startswith(script_name) else path,
               "QUERY_STRING": scope["query_string"].decode("latin1")}
    for name, value in scope.get("headers", ()):
        var = _SCOPE_HEADERS.get(name.lower())
        if var is not None:
            text = value.decode("latin1")
            environ[var] = environ[var] + "," + text if var in environ else text
    return environ


async def send_raw(send, status: int, raw_headers, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def init_caching(app: Flask, ctx: _Context) -> None:
    """Put the middleware in front of `app` and tag its successful GETs with the request's key."""
    app.wsgi_app = ConditionalCache(app.wsgi_app, ctx)  # type: ignore[method-assign]

    @app.after_request
    def _tag(response: Response) -> Response:
        key = request.environ.get(ENVIRON_KEY)
        if key is None or response.status_code != 200 or "ETag" in response.headers:
            return response  # not a cacheable GET, an error, or a file with its own validator
        response.set_etag(key)
        response.cache_control.public = True
        response.cache_control.max_age = ctx.settings.cache_max_age
        for header in vary_for(request.path).split(", "):
            response.vary.add(header)
        return response
