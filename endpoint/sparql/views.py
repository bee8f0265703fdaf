"""The SPARQL 1.1 Protocol endpoint: GET and POST /sparql.

The order of work is the point of this module, cheapest first:
1. a GET whose ETag the client holds (304) or the response cache holds (200) never gets here:
   endpoint/http/caching.py answers it in front of Flask from the raw request, before the query
   is even parsed, and tags (and keeps) what this view answers;
2. read the request (protocol.py), refuse what the policy forbids (guards.py), negotiate;
3. run the query in a killable worker (executor.py). A small result comes back whole, so its
   status is known before the first byte of the body (and a GET's is cached); a big one is
   streamed with a 200 as the worker serializes it, under the same time limit: a stream that
   overruns is cut (the connection drops before the chunked body ends), as on any streaming
   SPARQL server.

A bare GET (no query) is the Service Description for RDF clients; a browser is sent (303) to the
query UI of the site.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request, url_for
from pyoxigraph import RdfFormat, serialize
from werkzeug.routing import BuildError

from endpoint.context import get_kg
from endpoint.http.negotiation import best_format, vary_accept
from endpoint.sparql import policy as guards
from endpoint.sparql.protocol import read_request
from endpoint.sparql.service_description import SD, describe_service
from endpoint.sparql.worker import Job
from graph.build.describe import dataset_iri
from graph.errors import QuerySyntaxError, UnknownFormat
from graph.formats import GRAPH_FORMATS, RESULTS_FORMATS, media_type
from graph.sparql.reader import QueryInfo
from graph.sparql.syntax_errors import from_engine

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
    try:
        result = _pool_for(kg, shape).run(job)
    except QuerySyntaxError as err:  # the engine refused what the reader read: its words, not
        if err.line is not None:     # Oxigraph's grammar dump, reach the client
            raise
        raise from_engine(req.query, str(err)) from None
    if result.body is not None:  # whole and successful (endpoint/http/caching.py may keep it)
        response = Response(result.body, **_content_type(result.media_type))
        response.headers["Content-Length"] = str(len(result.body))
        return _finish(response)
    response = Response(result.chunks(), **_content_type(result.media_type))
    response.call_on_close(result.close)
    if result.size is not None:  # a spooled result (remote backend); a streamed one is chunked
        response.headers["Content-Length"] = str(result.size)
    return _finish(response)


def _pool_for(kg, shape: QueryInfo):
    """The federation pool for a query that calls SERVICE (the policy let it through, so every
    endpoint it names is allow-listed); the lanes, whose processes stay offline, for the rest."""
    if shape.services and kg.federation is not None:
        return kg.federation
    return kg.pool


def _finish(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    return vary_accept(response)


def _content_type(media_type: str) -> dict[str, str]:
    """Keep pyoxigraph's parameters (TSV: charset) as they are; let Werkzeug add a text charset."""
    return {"content_type": media_type} if ";" in media_type else {"mimetype": media_type}


def _negotiate(shape: QueryInfo) -> tuple[str | None, str | None]:
    """Media types for a solutions/boolean result and for a graph result.

    The reader (graph/sparql/reader.py) knows the form of every query it lets through, so only
    that side is negotiated and a failure is a 406 now. A form of None (not the reader's) tries
    both sides, and the worker picks by the actual result.
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
    endpoint_url = kg.settings.base_iri + "sparql"  # the IRI VoID names: see the module doc
    triples = describe_service(
        endpoint_url, dataset_iri(kg.settings.base_iri), kg.named_graphs()
    )
    body = serialize(triples, format=fmt, prefixes={"sd": SD})
    return vary_accept(Response(body, mimetype=fmt.media_type))


def _query_ui() -> str:
    try:
        return url_for("site.query")
    except BuildError:  # the site blueprint has no query page: its agreed address
        return "/query"
