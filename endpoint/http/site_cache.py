"""HTTP caching of the site's pages: a strong ETag, 304 on revalidation, the result cache.

A page is a pure function of the dataset version and the request (path and query string, Accept,
Accept-Language, the host and mount point its links are written for), so its ETag hashes exactly
those (endpoint.http.caching.etag_for). A matching If-None-Match is answered 304 before any query
runs; a finished page is kept in the process's result cache (endpoint/http/result_cache.py, shared
with /sparql and bounded by bytes), so a crawler re-reading a hub page costs a dictionary look-up.
Only complete 200 responses are tagged and kept; the dumps are left to send_from_directory, which
validates files by itself.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request

from endpoint.http.caching import cacheable, etag_for, is_fresh, not_modified
from endpoint.http.result_cache import CachedResponse


def install(bp: Blueprint, skip: tuple[str, ...] = ()) -> None:
    """Tag, revalidate and keep the GET pages of `bp`, except the endpoints named in `skip`."""

    @bp.before_request
    def _answer_from_cache() -> Response | None:
        kg = current_app.extensions.get("kg")
        g.kg_page_etag = None
        if kg is None or request.method not in ("GET", "HEAD") or request.endpoint in skip:
            return None
        etag = etag_for(
            kg.version,
            request.host,
            request.script_root,
            request.path,
            request.query_string,
            request.headers.get("Accept", ""),
            request.headers.get("Accept-Language", ""),
        )
        g.kg_page_etag = etag
        max_age = kg.settings.cache_max_age
        if is_fresh(request, etag):
            return _vary(not_modified(etag, max_age))
        hit = kg.result_cache.get(etag, kg.version) if kg.result_cache.enabled else None
        if hit is not None:
            response = Response(hit.body, status=hit.status, content_type=hit.content_type)
            response.headers.extend(hit.headers)
            return _vary(cacheable(response, etag, max_age))
        return None

    @bp.after_request
    def _tag_and_keep(response: Response) -> Response:
        etag = g.get("kg_page_etag")
        if etag is None or response.status_code != 200 or response.is_streamed:
            return response
        kg = current_app.extensions["kg"]
        if "ETag" in response.headers:  # the route already validates itself
            return response
        _vary(cacheable(response, etag, kg.settings.cache_max_age))
        body = response.get_data()
        if kg.result_cache.accepts(len(body)):
            kept = tuple((k, v) for k, v in response.headers.items()
                         if k in ("Vary", "Link", "Content-Location"))
            kg.result_cache.put(etag, kg.version,
                                CachedResponse(body, response.content_type or "", 200, kept))
        return response


def _vary(response: Response) -> Response:
    response.vary.add("Accept")
    response.vary.add("Accept-Language")
    return response
