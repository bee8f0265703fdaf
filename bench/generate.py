"""Deterministic synthetic data for the benchmarks, shaped like our real data/ directory.

Why: the curated graph is a few hundred triples, but the software must stay fast at millions.
The generator writes a data directory laid out exactly like `data/` (ADR 0001: one entity per
file, `<>` as subject, one file per source holding every claim it makes, the source's full text
in `texts/`), so `kg build` runs on it unchanged with KG_DATA_DIR; and, for the bulk paths, one
N-Quads file of the same dataset (ontology included) with the graph names the build gives.

Every synthetic thing is labelled "Synthetic ..." and has a `syn-` slug: nothing here is a fact
about the real world. The real data/ is copied in first, so the site's own pages still work.

    python -m bench.generate --size 100k --out var/bench/data-100k [--nquads var/bench/100k.nq]
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASE = "https://w3id.org/khojaly/"
#: Bump when the templates change, so cached data sets are regenerated.
GENERATOR_VERSION = "2"
CLAIMS_PER_SOURCE = 48
OUTCOMES = ("killed", "taken-captive", "fate-unknown", "captives-handed-over")
GROUPS = ("people", "civilians", "women", "children", "elderly", "families")
QUALIFIERS = ("exact", "approximately", "at-least", "more-than")

PROLOG = """@prefix kgo:     <../../ontology#> .
@prefix concept: <../concept/> .
@prefix event:   <../event/> .
@prefix place:   <../place/> .
@prefix org:     <../organisation/> .
@prefix source:  <../source/> .
@prefix claim:   <../claim/> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix prov:    <http://www.w3.org/ns/prov#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix schema:  <https://schema.org/> .
@prefix sem:     <http://semanticweb.cs.vu.nl/2009/11/sem/> .
@prefix crm:     <http://www.cidoc-crm.org/cidoc-crm/> .
@prefix oa:      <http://www.w3.org/ns/oa#> .
@prefix geo:     <http://www.opengis.net/ont/geosparql#> .
@prefix wgs:     <http://www.w3.org/2003/01/geo/wgs84_pos#> .

"""

#: "Synthetic <what>" in the languages our real labels use (az, ru, hy).
SYNTHETIC = {
    "event": ("Sintetik hadisə", "Синтетическое событие", "Սինթետիկ իրադարձություն"),
    "town": ("Sintetik qəsəbə", "Синтетический городок", "Սինթետիկ ավան"),
    "city": ("Sintetik şəhər", "Синтетический город", "Սինթետիկ քաղաք"),
    "memorial": ("Sintetik abidə", "Синтетический памятник", "Սինթետիկ հուշարձան"),
}


def fact_quote(n: str) -> str:
    """The sentence of a synthetic report that its places' and memorial's facts quote."""
    return f"Synthetic report {n} gives the dates, places and sizes it describes."


def labels(what: str, n: str) -> str:
    az, ru, hy = SYNTHETIC[what]
    en = f"Synthetic {what} {n}"
    return (f'rdfs:label "{en}"@en ;\n    skos:prefLabel "{en}"@en, '
            f'"{az} {n}"@az, "{ru} {n}"@ru, "{hy} {n}"@hy')


EVENT = """<> a sem:Event, schema:Event, crm:E5_Event ;
    {labels} ;
    rdfs:comment "A synthetic event generated for benchmarks; not a real event."@en ;
    sem:hasPlace place:syn-{n}-town ;
    schema:location place:syn-{n}-town ;
    schema:startDate "{start}"^^xsd:date ;
    schema:endDate "{end}"^^xsd:date ;
    dcterms:source source:syn-{n} ;
    kgo:linkStatus concept:link-status-pending .
"""

PLACE = """<> a schema:Place, crm:E53_Place ;
    {labels} ;
    kgo:hasName <#name> ;
    prov:wasDerivedFrom source:syn-{n} ;
    wgs:lat "{lat}"^^xsd:decimal ;
    wgs:long "{long}"^^xsd:decimal ;
    geo:hasGeometry <#geometry> ;
    kgo:factSource <#coordinates-source> ;
    kgo:linkStatus concept:link-status-pending{contained} .

<#coordinates-source> a kgo:FactSource ;
    rdfs:label "source of the coordinates"@en ;
    kgo:sourcedProperty wgs:lat, wgs:long ;
    kgo:statedIn source:syn-{n} ;
    kgo:evidence [ a oa:SpecificResource ; oa:hasSource source:syn-{n} ;
        oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "{fact_quote}"@en ] ] .

<#geometry> a geo:Geometry ;
    rdfs:label "point of synthetic {what} {n}"@en ;
    geo:asWKT "POINT({long} {lat})"^^geo:wktLiteral ;
    kgo:factSource <#geometry-source> ;
    prov:wasDerivedFrom source:syn-{n} .

<#geometry-source> a kgo:FactSource ;
    rdfs:label "source of the point"@en ;
    kgo:sourcedProperty geo:asWKT ;
    kgo:statedIn source:syn-{n} ;
    kgo:evidence [ a oa:SpecificResource ; oa:hasSource source:syn-{n} ;
        oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "{fact_quote}"@en ] ] .

<#name> a kgo:PlaceName ;
    rdfs:label "Synthetic {what} {n}"@en ;
    kgo:nameString "Synthetic {what} {n}"@en ;
    kgo:validFrom "{year}"^^xsd:gYear ;
    kgo:factSource <#name-source> ;
    dcterms:source source:syn-{n} .

<#name-source> a kgo:FactSource ;
    rdfs:label "source of the date the name came into use"@en ;
    kgo:sourcedProperty kgo:validFrom ;
    kgo:statedIn source:syn-{n} ;
    kgo:evidence [ a oa:SpecificResource ; oa:hasSource source:syn-{n} ;
        oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "{fact_quote}"@en ] ] .
"""

ORGANISATION = """<> a schema:Organization, crm:E74_Group ;
    rdfs:label "Synthetic publisher {n}"@en ;
    schema:name "Synthetic publisher {n}"@en ;
    schema:location place:syn-{n}-city ;
    kgo:linkStatus concept:link-status-pending .
"""

MEMORIAL = """<> a kgo:Memorial, schema:LandmarksOrHistoricalBuildings, crm:E22_Human-Made_Object ;
    {labels} ;
    kgo:commemorates event:syn-{n} ;
    schema:location place:syn-{n}-city ;
    schema:dateCreated "{created}"^^xsd:date ;
    schema:height <#height> ;
    schema:material "bronze"@en, "granite"@en ;
    dcterms:source source:syn-{n} ;
    kgo:factSource <#facts-source> ;
    kgo:linkStatus concept:link-status-pending .

<#facts-source> a kgo:FactSource ;
    rdfs:label "source of the date, height and material"@en ;
    kgo:sourcedProperty schema:dateCreated, schema:height, schema:material ;
    kgo:statedIn source:syn-{n} ;
    kgo:evidence [ a oa:SpecificResource ; oa:hasSource source:syn-{n} ;
        oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "{fact_quote}"@en ] ] .

<#height> a schema:QuantitativeValue ;
    rdfs:label "{height} m"@en ;
    schema:value {height} ;
    schema:unitCode "MTR" .
"""

SOURCE = """<> a kgo:SourceDocument, prov:Entity, schema:Report ;
    rdfs:label "Synthetic report {n}"@en ;
    dcterms:title "Synthetic report {n}"@en ;
    dcterms:publisher org:syn-{n} ;
    dcterms:date "{published}"^^xsd:date ;
    kgo:noUrlReason "Synthetic benchmark data: no page was read."@en ;
    dcterms:language "en" ;
    kgo:sourceKind concept:source-kind-primary ;
    schema:about event:syn-{n} .
"""

CLAIM = """claim:syn-{n}-{k} a kgo:FigureClaim ;
    rdfs:label "{label}"@en ;
    kgo:about event:{about} ;
    kgo:counts concept:outcome-{outcome} ;
    kgo:populationGroup concept:population-{group} ;
    schema:value {value} ;
    kgo:qualifier concept:qualifier-{qualifier} ;
    kgo:referenceDate "{end}"^^xsd:date ;
    kgo:statedIn <> ;
    kgo:evidence [
        a oa:SpecificResource ;
        oa:hasSource <> ;
        oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "{quote}"@en ]
    ] .
"""


@dataclass(frozen=True)
class Unit:
    """One synthetic story: an event, its town and city, a publisher, a memorial, a source."""

    files: dict[str, str]  # path relative to the data dir -> Turtle text
    text: tuple[str, str]  # (texts/<source-slug>.txt, full text holding every quote)


def make_unit(i: int, rng: random.Random) -> Unit:
    """Unit i. Its first claim is about the hub event syn-000000, so the hub's incoming links
    grow with the dataset (the worst case of an entity page), all others stay local."""
    n = f"{i:06d}"
    day = 1 + rng.randrange(28)
    start = f"{1990 + rng.randrange(30)}-{1 + rng.randrange(12):02d}-{day:02d}"
    end = start[:8] + f"{min(day + 1, 28):02d}"
    lat, long = 38.5 + rng.random() * 3, 44.5 + rng.random() * 6
    town, city = f"{lat:.5f} {long:.5f}".split(), f"{lat + 0.3:.5f} {long + 0.3:.5f}".split()
    files = {
        f"event/syn-{n}.ttl": EVENT.format(labels=labels("event", n), n=n, start=start, end=end),
        f"place/syn-{n}-town.ttl": PLACE.format(
            labels=labels("town", n), n=n, what="town", lat=town[0], long=town[1],
            year=1900 + rng.randrange(100),
            contained=f" ;\n    schema:containedInPlace place:syn-{n}-city",
            fact_quote=fact_quote(n),
        ),
        f"place/syn-{n}-city.ttl": PLACE.format(
            labels=labels("city", n), n=n, what="city", lat=city[0], long=city[1],
            year=1800 + rng.randrange(100), contained="", fact_quote=fact_quote(n),
        ),
        f"organisation/syn-{n}.ttl": ORGANISATION.format(n=n),
        f"memorial/syn-{n}.ttl": MEMORIAL.format(
            labels=labels("memorial", n), n=n, created=f"{1993 + rng.randrange(30)}-02-26",
            height=f"{5 + rng.randrange(10)}.{rng.randrange(10)}", fact_quote=fact_quote(n),
        ),
    }
    claims, quotes = [], []
    for k in range(CLAIMS_PER_SOURCE):
        outcome, group = rng.choice(OUTCOMES), rng.choice(GROUPS)
        value = 1 + rng.randrange(2000)
        what = outcome.replace("-", " ")
        quote = f"Synthetic report {n} counts {value} {group}: {what} (item {k})."
        quotes.append(quote)
        claims.append(CLAIM.format(
            n=n, k=f"{k:02d}", about="syn-000000" if k == 0 else f"syn-{n}",
            label=f"Synthetic report {n}: {value} {group} {outcome} (item {k})",
            outcome=outcome, group=group, qualifier=rng.choice(QUALIFIERS),
            value=value, end=end, quote=quote,
        ))
    published = f"{2000 + rng.randrange(26)}-02-26"
    source = SOURCE.format(n=n, published=published)
    files[f"source/syn-{n}.ttl"] = source + "\n" + "\n".join(claims)
    files = {path: PROLOG + body for path, body in files.items()}
    header = ("# read-from: nowhere: generated by bench/generate.py\n# read-on: 2000-01-01\n"
              "# extent: full text\n\n")
    text = header + f"Synthetic report {n}\n\n" + "\n".join([*quotes, fact_quote(n)]) + "\n"
    return Unit(files=files, text=(f"texts/syn-{n}.txt", text))


def parse_size(size: str) -> int:
    """'10k', '1M', '10M' or a plain number of triples."""
    s = size.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(s[-1:], 1)
    return int(float(s[:-1] if factor > 1 else s) * factor)


def count_triples(text: str, base_iri: str) -> int:
    return sum(1 for _ in ox.parse(text, ox.RdfFormat.TURTLE, base_iri=base_iri))


def unit_triples(base: str) -> int:
    unit = make_unit(1, random.Random(0))
    return sum(count_triples(t, file_base(base, p)) for p, t in unit.files.items())


def file_base(base: str, rel: str) -> str:
    """ADR 0001: data/{kind}/{slug}.ttl has base {base}id/{kind}/{slug}; others {base}."""
    parts = Path(rel).with_suffix("").parts
    if len(parts) == 2 and parts[0] not in ("links", "texts"):
        return f"{base}id/{parts[0]}/{parts[1]}"
    return base


def graph_name(base: str, rel: str, ontology: bool = False) -> str:
    stem = Path(rel).with_suffix("")
    if ontology:
        return f"{base}graph/ontology/{stem.name}"
    return f"{base}graph/{stem.as_posix()}"


def real_triples(data_dir: Path, base: str) -> int:
    total = 0
    for path in sorted(data_dir.rglob("*.ttl")):
        rel = path.relative_to(data_dir).as_posix()
        total += count_triples(path.read_text(encoding="utf-8"), file_base(base, rel))
    return total


def units_for(target: int, base: str, already: int) -> int:
    return max(1, math.ceil((target - already) / unit_triples(base)))


def generate(target: int, out: Path, *, seed: int = 1992, base: str = DEFAULT_BASE,
             real_data: Path | None = ROOT / "data") -> dict[str, int]:
    """Write the data directory `out` (replaced if present); returns counts. Deterministic."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    already = 0
    if real_data is not None and real_data.is_dir():
        shutil.copytree(real_data, out, dirs_exist_ok=True)
        already = real_triples(real_data, base)
    n_units = units_for(target, base, already)
    rng = random.Random(seed)
    made_dirs: set[Path] = set()
    for i in range(n_units):
        unit = make_unit(i, rng)
        for rel, body in [*unit.files.items(), unit.text]:
            path = out / rel
            if path.parent not in made_dirs:
                path.parent.mkdir(parents=True, exist_ok=True)
                made_dirs.add(path.parent)
            path.write_text(body, encoding="utf-8")
    return {"units": n_units, "triples_estimate": already + n_units * unit_triples(base)}


def iter_quads(data_dir: Path, ontology_dir: Path, base: str) -> Iterator[ox.Quad]:
    """The dataset the build loads, as quads in the ADR's named graphs (ontology first).
    Blank nodes are renamed per file in order of appearance, so the file is deterministic."""
    inputs = [(p, p.relative_to(ontology_dir).as_posix(), True)
              for p in sorted(ontology_dir.glob("*.ttl"))]
    inputs += [(p, p.relative_to(data_dir).as_posix(), False)
               for p in sorted(data_dir.rglob("*.ttl"))]
    for n, (path, rel, is_ontology) in enumerate(inputs):
        g = ox.NamedNode(graph_name(base, rel, is_ontology))
        file_base_iri = base if is_ontology else file_base(base, rel)
        names: dict[str, ox.BlankNode] = {}

        def term(t, n=n, names=names):
            if isinstance(t, ox.BlankNode):
                if t.value not in names:
                    names[t.value] = ox.BlankNode(f"f{n}b{len(names)}")
                return names[t.value]
            return t

        for q in ox.parse(path=path, format=ox.RdfFormat.TURTLE, base_iri=file_base_iri):
            yield ox.Quad(term(q.subject), q.predicate, term(q.object), g)


def write_nquads(data_dir: Path, dest: Path, *, ontology_dir: Path = ROOT / "ontology",
                 base: str = DEFAULT_BASE) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        ox.serialize(iter_quads(data_dir, ontology_dir, base), fh, ox.RdfFormat.N_QUADS)
    tmp.replace(dest)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="10k", help="target triples: 10k, 100k, 1M, 10M or a number")
    ap.add_argument("--out", type=Path, required=True, help="data directory to write (replaced)")
    ap.add_argument("--nquads", type=Path, help="also write the whole dataset as one N-Quads file")
    ap.add_argument("--seed", type=int, default=1992)
    ap.add_argument("--base-iri", default=DEFAULT_BASE)
    ap.add_argument("--no-real-data", action="store_true", help="synthetic units only")
    args = ap.parse_args(argv)
    counts = generate(parse_size(args.size), args.out, seed=args.seed, base=args.base_iri,
                      real_data=None if args.no_real_data else ROOT / "data")
    if args.nquads:
        write_nquads(args.out, args.nquads, base=args.base_iri)
    print(f"{args.out}: {counts['units']} units, ~{counts['triples_estimate']} data triples",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
