"""Content negotiation over pyoxigraph's own formats: no registry of our own.

`best_format(request, offered)` picks one of `offered` (pyoxigraph `QueryResultsFormat` /
`RdfFormat` values, or plain media-type strings such as "text/html") from the `format` parameter
if present, else from the Accept header through Werkzeug (q-values and specificity honoured; the
first offered format wins a tie and answers `*/*` or a missing header). Callers set `Vary: Accept`
on what they send back (`vary_accept`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from flask import Request, Response
from pyoxigraph import QueryResultsFormat, RdfFormat
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from graph.errors import UnknownFormat

Format = QueryResultsFormat | RdfFormat | str

RESULTS_FORMATS: tuple[QueryResultsFormat, ...] = (
    QueryResultsFormat.JSON,
    QueryResultsFormat.XML,
    QueryResultsFormat.CSV,
    QueryResultsFormat.TSV,
)
GRAPH_FORMATS: tuple[RdfFormat, ...] = (
    RdfFormat.TURTLE,
    RdfFormat.N_TRIPLES,
    RdfFormat.N_QUADS,
    RdfFormat.TRIG,
    RdfFormat.JSON_LD,
    RdfFormat.RDF_XML,
)

# Media types clients send that pyoxigraph does not list as the canonical one.
_ALIASES: dict[str, tuple[str, ...]] = {
    QueryResultsFormat.JSON.media_type: ("application/json",),
    QueryResultsFormat.XML.media_type: ("application/xml", "text/xml"),
    RdfFormat.N_TRIPLES.media_type: ("text/plain",),
    RdfFormat.TURTLE.media_type: ("application/x-turtle",),
    RdfFormat.RDF_XML.media_type: ("application/xml", "text/xml"),
    RdfFormat.JSON_LD.media_type: ("application/json",),
}

# Short names for `?format=` beyond the file extensions pyoxigraph knows.
_NAMES: dict[str, str] = {
    "turtle": "ttl",
    "ntriples": "nt",
    "n-triples": "nt",
    "nquads": "nq",
    "n-quads": "nq",
    "jsonld": "jsonld",
    "json-ld": "jsonld",
    "rdfxml": "rdf",
    "rdf+xml": "rdf",
    "html": "html",
}


_FLAVOURS: dict[str, tuple[Format, ...]] = {
    "json": (QueryResultsFormat.JSON, RdfFormat.JSON_LD),
    "xml": (QueryResultsFormat.XML, RdfFormat.RDF_XML),
}


def media_type(fmt: Format) -> str:
    return fmt if isinstance(fmt, str) else fmt.media_type


def _accepted_types(fmt: Format) -> tuple[str, ...]:
    full = media_type(fmt)
    canonical = full.split(";")[0].strip()  # TSV's type carries "; charset=utf-8"
    extra = (full,) if full != canonical else ()
    return (canonical, *extra, *_ALIASES.get(canonical, ()))


def best_format(request: Request, offered: Sequence[Format]) -> Format:
    """The format to answer in; raise `UnknownFormat` (406) when none is acceptable."""
    requested = request.args.get("format")
    if requested is None and _has_form(request):
        requested = request.form.get("format")
    if requested:
        return format_by_name(requested, offered)
    wanted = request.headers.get("Accept", "")
    found = _best_for_accept(wanted, tuple(offered))
    if found is None:
        offers = ", ".join(media_type(f) for f in offered)
        raise UnknownFormat(f"cannot answer in any of Accept: {wanted!r}; available: {offers}")
    return found


@lru_cache(maxsize=512)
def _best_for_accept(accept: str, offered: tuple[Format, ...]) -> Format | None:
    """The choice for one raw Accept header: a pure function of it, so it is worked out once.

    Clients send a handful of distinct headers, and parsing one with its q-values costs more
    than a cached lookup answered whole; the bound keeps headers made up per request harmless.
    """
    accepted = parse_accept_header(accept, MIMEAccept)
    if not accepted:
        return offered[0]
    candidates: list[str] = []
    owner: dict[str, Format] = {}
    for fmt in offered:
        for mt in _accepted_types(fmt):
            if mt not in owner:
                owner[mt] = fmt
                candidates.append(mt)
    match = accepted.best_match(candidates)
    return None if match is None else owner[match]


def format_for_accept(accept: str, offered: Sequence[Format]) -> Format | None:
    """The format for a raw Accept header (None: none acceptable), as `best_format` picks it
    when there is no `format` parameter: for callers that have no Flask request."""
    return _best_for_accept(accept, tuple(offered))


def format_by_name(name: str, offered: Sequence[Format]) -> Format:
    """A `format=` value: an extension (ttl, json, csv…), a short name or a media type."""
    key = name.strip().lower()
    key = _NAMES.get(key, key)
    for fmt in offered:
        mt = media_type(fmt)
        if key in _accepted_types(fmt):
            return fmt
        ext = "html" if mt == "text/html" else getattr(fmt, "file_extension", None)
        if key == ext:
            return fmt
    # `json` / `xml`: SPARQL results for SELECT/ASK, JSON-LD or RDF/XML for graphs
    for fallback in _FLAVOURS.get(key, ()):
        if fallback in offered:
            return fallback
    offers = ", ".join(media_type(f) for f in offered)
    raise UnknownFormat(f"unknown or unavailable format {name!r}; available: {offers}")


def vary_accept(response: Response) -> Response:
    response.vary.add("Accept")
    return response


def _has_form(request: Request) -> bool:
    return request.mimetype == "application/x-www-form-urlencoded"
