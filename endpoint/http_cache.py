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
