"""Test data shared by the linking tests: a tiny repository of ours, laid out like data/.

Four things without a Wikidata link (the town, the city, the event, the memorial: the stand-in
holds their right candidates and near-misses) and three with one (to enrich and to check), plus
a link to an item the stand-in does not know.
"""

from __future__ import annotations

from pathlib import Path

from graph.config import Settings

BASE = "https://w3id.org/khojaly/"
WD = "http://www.wikidata.org/entity/"
PREFIXES = """@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix schema: <https://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix wgs: <http://www.w3.org/2003/01/geo/wgs84_pos#> .
@prefix geo: <http://www.opengis.net/ont/geosparql#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
"""
#: Our test entities: data/<kind>/<slug>.ttl -> Turtle body about <> (the thing itself).
ENTITIES = {
    "place/khojaly": """<> a schema:City ; rdfs:label "Khojaly"@en ;
        skos:prefLabel "Khojaly"@en, "Xocalı"@az, "Ходжалы"@ru ;
        wgs:lat "39.91111"^^xsd:decimal ; wgs:long "46.78917"^^xsd:decimal .""",
    "place/khankendi": """<> a schema:City ; rdfs:label "Khankendi"@en ;
        skos:altLabel "Stepanakert"@en, "Xankəndi"@az ;
        geo:hasGeometry <#g> . <#g> geo:asWKT "POINT(46.75194 39.81528)"^^geo:wktLiteral .""",
    "event/khojaly-massacre": """<> a schema:Event ;
        rdfs:label "Khojaly massacre"@en, "Ходжалинская резня"@ru .""",
    "memorial/ana-harayi": """<> a schema:LandmarksOrHistoricalBuildings ;
        rdfs:label "Mother's Cry"@en, "Ana harayı"@az ;
        wgs:lat "40.382991"^^xsd:decimal ; wgs:long "49.873932"^^xsd:decimal .""",
    "organisation/human-rights-watch": """<> a schema:Organization ;
        rdfs:label "Human Rights Watch"@en .""",
    "place/baku": """<> a schema:City ; rdfs:label "Baku"@en .""",
    "place/armenia": """<> a schema:Country ; rdfs:label "Armenia"@en .""",
}
LINKS = f"""{PREFIXES}
<id/organisation/human-rights-watch> owl:sameAs <{WD}Q187052> .
<id/place/baku> owl:sameAs <{WD}Q9248> .
<id/place/armenia> owl:sameAs <{WD}Q399> .
<id/place/gone> owl:sameAs <{WD}Q9999999> .
<id/place/merged> owl:sameAs <{WD}Q9900050> .
"""
UNLINKED = 4  # khojaly, khankendi, the massacre, the memorial


def write_data(root: Path) -> Settings:
    for name, body in ENTITIES.items():
        path = root / "data" / f"{name}.ttl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PREFIXES + body + "\n", encoding="utf-8")
    (root / "data" / "links").mkdir(parents=True)
    (root / "data" / "links" / "wikidata.ttl").write_text(LINKS, encoding="utf-8")
    (root / "ontology").mkdir()
    return Settings(root=root)


def fast(url: str, *extra: str) -> list[str]:
    """Client options for tests: the stand-in, no rate-limit pause, tiny back-off."""
    return ["--endpoint", url, "--min-interval", "0", "--backoff", "0.01", *extra]
