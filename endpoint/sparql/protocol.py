"""Reading a SPARQL 1.1 Protocol request: https://www.w3.org/TR/sparql11-protocol/#query-operation

Three ways to send a query (§2.1.1-2.1.3): GET with `query=` in the URL; POST form-encoded with
`query=` in the body; POST `application/sparql-query` with the query as the body (the dataset
parameters then stay in the URL). Updates (§2.2) are recognised only to be refused. Anything
else is answered with the protocol's own statuses: 400 for a missing or repeated query, 415 for
a POST in another media type, 413 past the size caps.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Request
from pyoxigraph import NamedNode
from werkzeug.datastructures import MultiDict

from graph.config import Settings
from graph.errors import ProtocolError, QueryRefused, RequestTooLarge, UnsupportedMediaType

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"


@dataclass(frozen=True)
class QueryRequest:
    """The protocol's view of one request. `query` is None for a bare GET (service description)."""

    query: str | None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()

    @property
    def has_dataset(self) -> bool:
        return bool(self.default_graphs or self.named_graphs)


def read_request(request: Request, settings: Settings) -> QueryRequest:
    """Parse the request into a QueryRequest; raise a KGError the protocol defines otherwise."""
    if request.method == "POST":
        return _read_post(request, settings)
    return _from_params(request.args, request.args, settings, allow_bare=True)


def _read_post(request: Request, settings: Settings) -> QueryRequest:
    length = request.content_length
    if length is not None and length > settings.max_request_bytes:
        raise RequestTooLarge(
            f"request body is {length} bytes; at most {settings.max_request_bytes} are accepted "
            "(KG_MAX_REQUEST_BYTES)"
        )
    mimetype = request.mimetype
    if mimetype == FORM:
        return _from_params(request.form, request.form, settings, allow_bare=False)
    if mimetype == SPARQL_QUERY:
        if "query" in request.args:
            raise ProtocolError("a direct POST carries the query in its body, not in `query=`")
        try:
            text = request.get_data(cache=False).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ProtocolError(f"the query is not valid UTF-8: {e}") from e
        return _build(text, request.args, settings)
    if mimetype == SPARQL_UPDATE:
        raise QueryRefused("SPARQL Update is not allowed: this endpoint is read-only")
    raise UnsupportedMediaType(
        f"POST a query as {FORM} (query=...) or as {SPARQL_QUERY}; got {mimetype or 'no type'!r}"
    )


def _from_params(
    params: MultiDict, graph_params: MultiDict, settings: Settings, allow_bare: bool
) -> QueryRequest:
    if "update" in params:
        raise QueryRefused("SPARQL Update is not allowed: this endpoint is read-only")
    queries = params.getlist("query")
    if len(queries) > 1:
        raise ProtocolError("exactly one `query` parameter is allowed; got several")
    if not queries:
        if allow_bare and not any(k in params for k in ("default-graph-uri", "named-graph-uri")):
            return QueryRequest(None)
        raise ProtocolError("missing query: send it as `query=` (or POST application/sparql-query)")
    return _build(queries[0], graph_params, settings)


def _build(text: str, graph_params: MultiDict, settings: Settings) -> QueryRequest:
    if not text.strip():
        raise ProtocolError("empty query")
    if len(text) > settings.max_query_length:
        raise RequestTooLarge(
            f"query is {len(text)} characters long; at most {settings.max_query_length} are "
            "accepted (KG_MAX_QUERY_LENGTH)"
        )
    return QueryRequest(
        text,
        _graph_iris(graph_params, "default-graph-uri"),
        _graph_iris(graph_params, "named-graph-uri"),
    )


def _graph_iris(params: MultiDict, name: str) -> tuple[str, ...]:
    iris = []
    for value in params.getlist(name):
        try:
            NamedNode(value)
        except ValueError as e:
            raise ProtocolError(f"{name}: {value!r} is not an absolute IRI ({e})") from e
        iris.append(value)
    return tuple(iris)
