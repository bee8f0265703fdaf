"""How an RDF term is shown on a page: its text, its label, and where a click takes the reader.

Our IRIs ({base}...) become links on the serving host: the base is mapped onto whatever host
serves the site, so a copy running on 127.0.0.1 links to itself, not to the canonical domain.
Other IRIs stay absolute; a few well-known datasets get a name (Wikidata, DBpedia, GeoNames...).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pyoxigraph import BlankNode, Literal, NamedNode

from graph.namespaces import curie

#: host part of an external IRI -> the dataset's name, for the external-links block.
EXTERNAL_DATASETS: tuple[tuple[str, str], ...] = (
    ("www.wikidata.org/entity/", "Wikidata"),
    ("dbpedia.org/resource/", "DBpedia"),
    ("sws.geonames.org/", "GeoNames"),
    ("www.geonames.org/", "GeoNames"),
    ("viaf.org/viaf/", "VIAF"),
    ("d-nb.info/gnd/", "GND"),
)


def dataset_of(iri: str) -> str | None:
    """The name of the external dataset an IRI belongs to, if it is one we know."""
    bare = iri.split("://", 1)[-1]
    for prefix, name in EXTERNAL_DATASETS:
        if bare.startswith(prefix):
            return name
    return None


@dataclass(frozen=True)
class Term:
    """One RDF term as a template prints it."""

    kind: str  # "iri", "bnode" or "literal"
    value: str
    label: str | None = None
    href: str | None = None
    curie: str | None = None
    language: str | None = None
    datatype: str | None = None
    ours: bool = False

    @property
    def text(self) -> str:
        return self.label or self.curie or self.value


@lru_cache(maxsize=65_536)
def _iri_term(base_iri: str, root: str, iri: str, label: str | None) -> Term:
    """An IRI as a Term: a function of these four strings alone, so kept (a page names the same
    properties, classes and sources as the next one; the CURIE search costs ~10 µs an IRI)."""
    linker = Linker(base_iri, root)
    ours = linker.is_ours(iri)
    # only web links are clickable: an IRI like javascript:... must never become an href
    web = iri.startswith(("http://", "https://"))
    href = linker.local_href(iri) if ours else (iri if web else None)
    return Term("iri", iri, label, href, linker.curie(iri), ours=ours)


class Linker:
    """Maps IRIs to local links and compact names for one request."""

    def __init__(self, base_iri: str, script_root: str = ""):
        self.base = base_iri
        self.root = script_root.rstrip("/")

    def is_ours(self, iri: str) -> bool:
        return iri.startswith(self.base)

    def local_href(self, iri: str) -> str | None:
        """The link on this host for one of our IRIs (None for other IRIs)."""
        if not self.is_ours(iri):
            return None
        rest = iri[len(self.base) :]
        path, hash_, fragment = rest.partition("#")
        if path.startswith("id/"):
            path = "page/" + path[3:]
        elif path == "graph/void":
            path = "void"
        return f"{self.root}/{path}{hash_}{fragment}"

    def curie(self, iri: str) -> str | None:
        return curie(iri, self.base)

    def term(self, node, label: str | None = None) -> Term:
        if isinstance(node, NamedNode):
            return _iri_term(self.base, self.root, node.value, label)
        if isinstance(node, BlankNode):
            return Term("bnode", node.value)
        if isinstance(node, Literal):
            dt = node.datatype.value if node.datatype else None
            shown_dt = None
            if dt and not node.language and not dt.endswith("#string"):
                shown_dt = self.curie(dt) or dt
            return Term("literal", node.value, language=node.language, datatype=shown_dt)
        return Term("literal", str(node))
