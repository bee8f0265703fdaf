"""The SPARQL 1.1 Protocol endpoint: GET and POST /sparql.

The order of work is the point of this module: read the request (protocol.py), refuse what the
policy forbids (guards.py), negotiate the format, answer 304 if the client holds the result,
and only then run the query in a killable worker (executor.py). The worker finishes the whole
result before we answer, so the status is known before the first byte of the body; the body is
then streamed (from memory when small, from an unlinked spool file when not).

A bare GET (no query) is the Service Description for RDF clients; a browser is sent (303) to the
query UI of the site.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request, url_for
from pyoxigraph import RdfFormat, serialize
from werkzeug.routing import BuildError

from endpoint import guards
from endpoint.context import get_kg
from endpoint.http_cache import cacheable, etag_for, is_fresh, not_modified
from endpoint.negotiation import (
    GRAPH_FORMATS,
    RESULTS_FORMATS,
    best_format,
    media_type,
    vary_accept,
)
from endpoint.protocol import read_request
from endpoint.query_scan import QueryShape
from endpoint.query_worker import Job
from endpoint.service_description import SD, describe_service
from graph.errors import UnknownFormat
from graph.metadata import dataset_iri

bp = Blueprint("sparql", __name__)

HTML = "text/html"


@bp.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    kg = get_kg()
    settings = kg.settings
    req = read_request(request, settings)
    if req.query is None:
        return _service_description()
    shape = guards.inspect(req.query, settings, kg.prefixes)
    results_type, graph_type = _negotiate(shape)
    etag = etag_for(kg.version, "sparql", req, results_type, graph_type)
    if is_fresh(request, etag):
        return vary_accept(not_modified(etag, settings.cache_max_age))
    job = Job(
        query=req.query,
        spool_path="",
        results_media_type=results_type,
        graph_media_type=graph_type,
        base_iri=settings.base_iri,
        prefixes=kg.prefixes,
        union_default_graph=not (req.has_dataset or shape.has_dataset_clause),
        default_graphs=req.default_graphs,
        named_graphs=req.named_graphs,
    )
    result = kg.pool.run(job)
    response = Response(result.chunks(), **_content_type(result.media_type))
    response.call_on_close(result.close)
    response.headers["Content-Length"] = str(result.size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.method in ("GET", "HEAD"):
        cacheable(response, etag, settings.cache_max_age)
    return vary_accept(response)


def _content_type(media_type: str) -> dict[str, str]:
    """Keep pyoxigraph's parameters (TSV: charset) as they are; let Werkzeug add a text charset."""
    return {"content_type": media_type} if ";" in media_type else {"mimetype": media_type}


def _negotiate(shape: QueryShape) -> tuple[str | None, str | None]:
    """Media types for a solutions/boolean result and for a graph result.

    When the scan knows the query form, only that side is negotiated and a failure is a 406 now.
    When it does not (the parser will reject the query, or the scan is unsure), both sides are
    tried and the worker picks by the actual result.
    """
    wanted: list[tuple[str, tuple]] = []
    if shape.form in (None, "SELECT", "ASK"):
        wanted.append(("results", RESULTS_FORMATS))
    if shape.form in (None, "CONSTRUCT", "DESCRIBE"):
        wanted.append(("graph", GRAPH_FORMATS))
    chosen: dict[str, str | None] = {"results": None, "graph": None}
    for side, offered in wanted:
        try:
            chosen[side] = media_type(best_format(request, offered))
        except UnknownFormat:
            if shape.form is not None:
                raise
    return chosen["results"], chosen["graph"]


def _service_description() -> Response:
    kg = get_kg()
    fmt = best_format(request, [GRAPH_FORMATS[0], HTML, *GRAPH_FORMATS[1:]])
    if fmt == HTML:
        return vary_accept(redirect(_query_ui(), 303))
    assert isinstance(fmt, RdfFormat)
    endpoint_url = request.base_url
    etag = etag_for(kg.version, "service-description", endpoint_url, fmt.media_type)
    if is_fresh(request, etag):
        return vary_accept(not_modified(etag, kg.settings.cache_max_age))
    triples = describe_service(
        endpoint_url, dataset_iri(kg.settings.base_iri), kg.named_graphs()
    )
    body = serialize(triples, format=fmt, prefixes={"sd": SD})
    response = Response(body, mimetype=fmt.media_type)
    return vary_accept(cacheable(response, etag, kg.settings.cache_max_age))


def _query_ui() -> str:
    try:
        return url_for("site.query")
    except BuildError:  # the site blueprint has no query page: its agreed address
        return "/query"
