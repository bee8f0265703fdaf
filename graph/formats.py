"""The one format registry: names, aliases, media types and extensions, over pyoxigraph's table.

pyoxigraph already maps extensions and media types to its formats; this module adds only what it
lacks, once, for everyone: the names people type (`turtle`, `json-ld`), the media types clients
send that are not the canonical one (`application/json`), which formats the endpoint offers and
the build dumps, and the rule for a `format=` value. The CLI (`kg query -f`, `kg export -f`,
`kg build --dumps`), the dumps and content negotiation (endpoint/http/negotiation.py, which adds
only the Accept header) all read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from pyoxigraph import QueryResultsFormat, RdfFormat

from graph.errors import UnknownFormat

#: A format: pyoxigraph's, or a plain media type for what pyoxigraph does not write (text/html).
Format = QueryResultsFormat | RdfFormat | str

#: SPARQL results formats the endpoint answers SELECT/ASK in; the first answers */*.
RESULTS_FORMATS: tuple[QueryResultsFormat, ...] = (
    QueryResultsFormat.JSON,
    QueryResultsFormat.XML,
    QueryResultsFormat.CSV,
    QueryResultsFormat.TSV,
)
#: RDF formats the endpoint answers CONSTRUCT/DESCRIBE and data pages in; the first answers */*.
GRAPH_FORMATS: tuple[RdfFormat, ...] = (
    RdfFormat.TURTLE,
    RdfFormat.N_TRIPLES,
    RdfFormat.N_QUADS,
    RdfFormat.TRIG,
    RdfFormat.JSON_LD,
    RdfFormat.RDF_XML,
)
#: The dump files a build can write (and the site serves and lists, in this order).
DUMP_FORMATS: tuple[RdfFormat, ...] = (
    RdfFormat.TURTLE,
    RdfFormat.TRIG,
    RdfFormat.N_TRIPLES,
    RdfFormat.N_QUADS,
    RdfFormat.JSON_LD,
    RdfFormat.RDF_XML,
)

#: Media types clients send that pyoxigraph does not list as the canonical one.
MEDIA_ALIASES: dict[str, tuple[str, ...]] = {
    QueryResultsFormat.JSON.media_type: ("application/json",),
    QueryResultsFormat.XML.media_type: ("application/xml", "text/xml"),
    RdfFormat.N_TRIPLES.media_type: ("text/plain",),
    RdfFormat.TURTLE.media_type: ("application/x-turtle",),
    RdfFormat.RDF_XML.media_type: ("application/xml", "text/xml"),
    RdfFormat.JSON_LD.media_type: ("application/json",),
}

#: Names people type that are neither an extension nor a media type.
NAMES: dict[str, str] = {
    "turtle": "ttl",
    "ntriples": "nt",
    "n-triples": "nt",
    "nquads": "nq",
    "n-quads": "nq",
    "json-ld": "jsonld",
    "rdfxml": "rdf",
    "rdf+xml": "rdf",
}

#: Names that mean one kind for SPARQL results and another for RDF: the offered one wins.
FLAVOURS: dict[str, tuple[QueryResultsFormat | RdfFormat, ...]] = {
    "json": (QueryResultsFormat.JSON, RdfFormat.JSON_LD),
    "xml": (QueryResultsFormat.XML, RdfFormat.RDF_XML),
}


def media_type(fmt: Format) -> str:
    return fmt if isinstance(fmt, str) else fmt.media_type


def accepted_types(fmt: Format) -> tuple[str, ...]:
    """Every media type that names `fmt`: the canonical one first, then the aliases."""
    full = media_type(fmt)
    canonical = full.split(";")[0].strip()  # TSV's type carries "; charset=utf-8"
    extra = (full,) if full != canonical else ()
    return (canonical, *extra, *MEDIA_ALIASES.get(canonical, ()))


def _key(name: str) -> str:
    key = name.strip().lower().lstrip(".")
    return NAMES.get(key, key)


def format_by_name(name: str, offered: Sequence[Format]) -> Format:
    """One of `offered` from a name: an extension (ttl, .csv), a short name or a media type."""
    key = _key(name)
    for fmt in offered:
        mt = media_type(fmt)
        if key in accepted_types(fmt):
            return fmt
        ext = "html" if mt == "text/html" else getattr(fmt, "file_extension", None)
        if key == ext:
            return fmt
    for fallback in FLAVOURS.get(key, ()):
        if fallback in offered:
            return fallback
    offers = ", ".join(media_type(f) for f in offered)
    raise UnknownFormat(f"unknown or unavailable format {name!r}; available: {offers}")


def rdf_format(name: str) -> RdfFormat:
    """Any RDF format pyoxigraph writes, from a name (turtle), extension (ttl) or media type."""
    key = _key(name)
    fmt = RdfFormat.from_media_type(key) if "/" in key else RdfFormat.from_extension(key)
    fmt = fmt or next((f for f in FLAVOURS.get(key, ()) if isinstance(f, RdfFormat)), None)
    if fmt is None:
        raise UnknownFormat(f"unknown RDF format {name!r} (try ttl, trig, nt, nq, jsonld, rdf)")
    return fmt


def results_format(name: str) -> QueryResultsFormat:
    """A SPARQL results format from an extension (csv, tsv, json, xml) or a media type."""
    try:
        return cast(QueryResultsFormat, format_by_name(name, RESULTS_FORMATS))
    except UnknownFormat:
        raise UnknownFormat(
            f"unknown SPARQL results format {name!r} (try csv, tsv, json, xml)") from None
