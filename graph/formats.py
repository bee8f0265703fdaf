"""Format names for the command line and content negotiation, on top of pyoxigraph's own table.

No registry of our own: pyoxigraph already maps extensions and media types to formats.
"""

from __future__ import annotations

from pyoxigraph import QueryResultsFormat, RdfFormat

from graph.errors import UnknownFormat

#: Names people type that are neither an extension nor a media type.
_ALIASES = {"turtle": "ttl", "ntriples": "nt", "nquads": "nq", "json-ld": "jsonld", "xml": "rdf"}


def rdf_format(name: str) -> RdfFormat:
    """An RdfFormat from a name (turtle), an extension (ttl, .ttl) or a media type (text/turtle)."""
    key = _ALIASES.get(name.strip().lower().lstrip("."), name.strip().lower().lstrip("."))
    fmt = RdfFormat.from_media_type(key) if "/" in key else RdfFormat.from_extension(key)
    if fmt is None:
        raise UnknownFormat(f"unknown RDF format {name!r} (try ttl, trig, nt, nq, jsonld, rdf)")
    return fmt


def results_format(name: str) -> QueryResultsFormat:
    """A SPARQL results format from an extension (csv, tsv, json, xml) or a media type."""
    key = name.strip().lower().lstrip(".")
    if "/" in key:
        fmt = QueryResultsFormat.from_media_type(key)
    else:
        fmt = QueryResultsFormat.from_extension(key)
    if fmt is None:
        raise UnknownFormat(f"unknown SPARQL results format {name!r} (try csv, tsv, json, xml)")
    return fmt
