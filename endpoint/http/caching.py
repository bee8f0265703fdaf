"""HTTP caching of read responses: a strong ETag from the dataset version and the request.

The store only changes by a new build (a new version), so a response is a pure function of the
version and what was asked: the ETag hashes both, a matching If-None-Match is answered 304 before
any work is done, and shared caches may keep responses for `settings.cache_max_age` seconds.
Read replicas behind a cache then scale on the dataset version alone.
"""

from __future__ import annotations

import hashlib

from flask import Request, Response


def etag_for(version: str, *parts: object) -> str:
    """A strong validator: the same version and the same request give the same tag."""
    digest = hashlib.sha256(version.encode("utf-8"))
    for part in parts:
        digest.update(b"\x00")
        digest.update(repr(part).encode("utf-8"))
    return digest.hexdigest()[:40]


def is_fresh(request: Request, etag: str) -> bool:
    """Does the client already hold this representation? (RFC 9110 §13.1.2: weak comparison.)"""
    return request.method in ("GET", "HEAD") and request.if_none_match.contains_weak(etag)


def cacheable(response: Response, etag: str, max_age: int) -> Response:
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    return response


def not_modified(etag: str, max_age: int) -> Response:
    return cacheable(Response(status=304), etag, max_age)


def request_key(version: str, resource: str, request: Request) -> str | None:
    """The ETag of a GET (or HEAD) of `resource`, computed from the raw request alone.

    Hashes the dataset version, the method, the raw query string (the query, the dataset and
    `format` parameters) and the raw Accept header: everything that selects the response, and
    nothing that needs parsing. So If-None-Match is checked, and a result cache consulted, before
    any work; two spellings of one request get two tags, which costs a cache a miss, never a wrong
    answer. HEAD shares GET's tag (same representation). None for other methods: never cached.
    """
    if request.method not in ("GET", "HEAD"):
        return None
    return key_for(version, resource, request.query_string, request.headers.get("Accept", ""))


def key_for(version: str, resource: str, query_string: bytes, accept: str) -> str:
    """`request_key` from the raw pieces (also used on the WSGI environ by the fast path)."""
    digest = hashlib.sha256(version.encode("utf-8"))
    for part in (resource.encode("utf-8"), b"GET", query_string,
                 accept.encode("latin-1", "replace")):
        digest.update(b"\x00")
        digest.update(part)
    return digest.hexdigest()[:40]
