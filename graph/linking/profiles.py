"""What we know about each external dataset we link to: endpoint, identifier namespace, classes.

A profile names its queries (graph/queries/link/<profile>-<purpose>.rq) and, per kind of thing we
describe (data/<kind>/), the target classes that make a candidate's type compatible. The class
lists are heuristics for scoring, not facts of the graph: a type found in no list counts as
"unrecognised" (half credit, never an automatic proposal); a type in another kind's list or in
`wrong` (films, books, name items, disambiguation pages...) makes the candidate a near-miss.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graph.errors import KGError

WD = "http://www.wikidata.org/entity/"
DBO = "http://dbpedia.org/ontology/"


@dataclass(frozen=True)
class Profile:
    name: str
    endpoint: str
    namespace: str  # identifiers of this dataset start with it
    dataset: str  # the dataset as a whole: void:objectsTarget of our linksets
    title: str
    types: dict[str, frozenset[str]] = field(default_factory=dict)  # our kind -> target classes
    wrong: frozenset[str] = frozenset()  # classes no thing of ours can be
    #: result variable of the facts query -> predicate it is stored under in the enrichment graph
    facts: dict[str, str] = field(default_factory=dict)

    def query_name(self, purpose: str) -> str:
        return f"{self.name}-{purpose}"

    def is_identifier(self, iri: str) -> bool:
        return iri.startswith(self.namespace)

    def type_fit(self, kind: str, types: set[str]) -> str:
        """'ok', 'wrong', 'unrecognised' or 'none' (the candidate has no type at all)."""
        if not types:
            return "none"
        if types & self.types.get(kind, frozenset()):
            return "ok"
        others = set().union(*(v for k, v in self.types.items() if k != kind))
        if types & (self.wrong | others):
            return "wrong"
        return "unrecognised"


def _wd(*ids: str) -> frozenset[str]:
    return frozenset(WD + i for i in ids)


def _dbo(*names: str) -> frozenset[str]:
    return frozenset(DBO + n for n in names)


WIKIDATA = Profile(
    name="wikidata",
    endpoint="https://query.wikidata.org/sparql",
    namespace=WD,
    dataset="http://www.wikidata.org/",
    title="Wikidata",
    types={
        # human settlement, city, town, capital, big city, country, sovereign state, municipality
        "place": _wd(
            "Q486972", "Q515", "Q3957", "Q5119", "Q1549591", "Q6256", "Q3624078", "Q15284"
        ),
        # organization, nonprofit, military unit, government agency, government organization
        "organisation": _wd("Q43229", "Q163740", "Q176799", "Q327333", "Q2659904"),
        # event, occurrence, massacre, war, battle, military operation
        "event": _wd("Q1656682", "Q1190554", "Q3199915", "Q198", "Q178561", "Q645883"),
        # monument, memorial, statue
        "memorial": _wd("Q4989906", "Q5003624", "Q179700"),
        "person": _wd("Q5"),
    },
    # film, literary work, television series, periodical, book, album, song, scholarly article,
    # disambiguation page, category, family name, given name
    wrong=_wd(
        "Q11424", "Q7725634", "Q5398426", "Q1002697", "Q571", "Q482994", "Q7366",
        "Q13442814", "Q4167410", "Q4167836", "Q101352", "Q202444",
    ),
    facts={
        "label": "http://www.w3.org/2000/01/rdf-schema#label",
        "coord": "http://www.wikidata.org/prop/direct/P625",
        "population": "http://www.wikidata.org/prop/direct/P1082",
        "inception": "http://www.wikidata.org/prop/direct/P571",
    },
)

DBPEDIA = Profile(
    name="dbpedia",
    endpoint="https://dbpedia.org/sparql",
    namespace="http://dbpedia.org/resource/",
    dataset="http://dbpedia.org/",
    title="DBpedia",
    types={
        "place": _dbo("Place", "PopulatedPlace", "Settlement", "City", "Town", "Country"),
        "organisation": _dbo("Organisation", "MilitaryUnit", "GovernmentAgency"),
        "event": _dbo("Event", "MilitaryConflict", "SocietalEvent"),
        "memorial": _dbo("Monument", "Memorial"),
        "person": _dbo("Person"),
    },
    wrong=_dbo("Film", "Book", "WrittenWork", "TelevisionShow", "Album", "Song"),
    facts={
        "label": "http://www.w3.org/2000/01/rdf-schema#label",
        "lat": "http://www.w3.org/2003/01/geo/wgs84_pos#lat",
        "long": "http://www.w3.org/2003/01/geo/wgs84_pos#long",
        "population": "http://dbpedia.org/ontology/populationTotal",
        "inception": "http://dbpedia.org/ontology/foundingDate",
    },
)

PROFILES = {p.name: p for p in (WIKIDATA, DBPEDIA)}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise KGError(f"unknown link profile {name!r}: choose one of {known}") from None
