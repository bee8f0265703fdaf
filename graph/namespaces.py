"""Our prefixes and the IRI scheme, in one place (queries, templates and exports use these).

IRI scheme (see docs/decisions/0001-iri-scheme.md):
  things   {base}id/{kind}/{slug}      e.g. {base}id/event/khojaly-massacre
  graphs   {base}graph/{name}          e.g. {base}graph/source/caliber-2026-khojaly-commemoration
  ontology {base}ontology#Term
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

STANDARD_PREFIXES: dict[str, str] = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "skosxl": "http://www.w3.org/2008/05/skos-xl#",
    "dcterms": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
    "sem": "http://semanticweb.cs.vu.nl/2009/11/sem/",
    "crm": "http://www.cidoc-crm.org/cidoc-crm/",
    "prov": "http://www.w3.org/ns/prov#",
    "oa": "http://www.w3.org/ns/oa#",
    "time": "http://www.w3.org/2006/time#",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "wgs": "http://www.w3.org/2003/01/geo/wgs84_pos#",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "sh": "http://www.w3.org/ns/shacl#",
    "vann": "http://purl.org/vocab/vann/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "wd": "http://www.wikidata.org/entity/",
    "wdt": "http://www.wikidata.org/prop/direct/",
}

#: The kinds of thing we mint IRIs for; a data file lives in data/<kind>/<slug>.ttl.
KINDS = (
    "event",
    "place",
    "organisation",
    "person",
    "memorial",
    "source",
    "claim",
    "name",
    "concept",
    "time",
    "group",
)

#: Kinds whose prefix differs from the folder name, because the name is a standard prefix
#: (`time:` is OWL-Time; our time intervals are `interval:`, as in the data files).
KIND_PREFIXES = {"time": "interval"}


def project_prefixes(base_iri: str) -> dict[str, str]:
    """Our own prefixes under a base IRI: `kgo:` for the ontology, one per kind of thing."""
    prefixes = {"kgo": base_iri + "ontology#", "kgg": base_iri + "graph/"}
    for kind in KINDS:
        prefixes[KIND_PREFIXES.get(kind, kind)] = f"{base_iri}id/{kind}/"
    return prefixes


def all_prefixes(base_iri: str) -> dict[str, str]:
    return {**STANDARD_PREFIXES, **project_prefixes(base_iri)}


@cache
def _longest_first(base_iri: str) -> tuple[tuple[str, str], ...]:
    """Our prefixes, longest namespace first, so kgo: wins over a shorter prefix of it."""
    return tuple(sorted(all_prefixes(base_iri).items(), key=lambda kv: -len(kv[1])))


def _plain_local(local: str) -> bool:
    """A local name SPARQL and Turtle read without escapes: letters, digits, -, _ and inner dots."""
    return (local[0] not in "-." and local[-1] != "."
            and all(c.isalnum() or c in "-_." for c in local))


def curie(iri: str, base_iri: str) -> str | None:
    """The one rule for a prefixed name (CLI tables and site pages): the longest of our
    namespaces that leaves a plain local name, or None when none does."""
    for prefix, ns in _longest_first(base_iri):
        if iri.startswith(ns) and len(iri) > len(ns) and _plain_local(iri[len(ns):]):
            return f"{prefix}:{iri[len(ns):]}"
    return None


def prefix_lines(prefixes: Mapping[str, str], text: str | None = None) -> str:
    """The one PREFIX prologue builder: a line per prefix; given the query `text`, only the
    prefixes it uses and does not declare (a GET line has no room for all of them)."""
    if text is not None:
        declared = {m.lower() for m in _DECLARED.findall(text)}
        used = set(_USED.findall(text))
        prefixes = {p: ns for p, ns in prefixes.items() if p in used and p.lower() not in declared}
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items())


_DECLARED = re.compile(r"(?im)^\s*PREFIX\s+([\w-]*):")
_USED = re.compile(r"(?<![\w<#/])([A-Za-z][\w-]*):[\w-]")


def entity_iri(base_iri: str, kind: str, slug: str) -> str:
    return f"{base_iri}id/{kind}/{slug}"


def graph_iri(base_iri: str, name: str) -> str:
    return f"{base_iri}graph/{name}"


def is_ours(iri: str, base_iri: str) -> bool:
    return iri.startswith(base_iri)
