"""The map on /recognitions: the recognising bodies the graph places, on the Natural Earth map.

A body is on the map only when the graph gives it a place (schema:location, from a source: the
body's kgo:factSource says which) and that place has WGS84 coordinates in the graph. Nothing is
geocoded here and no coordinate is made up: a body without a placed, located place is listed
beside the map as not on it, with the count. Several bodies at one place share one point, their
names stacked beside it, each linking to its rows in the table below (`#body-<slug>`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from endpoint.pages import basemap, pictures

WIDTH = 760


@dataclass
class PlacedBody:
    body: object  # Term
    anchor: str  # the id of the body's first row in the table


@dataclass
class MapPoint:
    place: object  # Term
    lat: float
    long: float
    bodies: list[PlacedBody] = field(default_factory=list)
    x: float = 0.0
    y: float = 0.0
    anchor_side: str = "start"


@dataclass
class RecognitionMap:
    points: list[MapPoint]
    unplaced: list[PlacedBody]  # bodies with no place in the graph, or one without coordinates
    frame: basemap.Frame | None = None
    height: int = 0
    base: basemap.Basemap | None = None
    parallels: list = field(default_factory=list)
    meridians: list = field(default_factory=list)
    km: int = 0
    km_px: float = 0.0

    @property
    def placed_count(self) -> int:
        return sum(len(p.bodies) for p in self.points)


def body_anchor(iri: str) -> str:
    """`body-<last path segment>`: the id of a body's first row on /recognitions."""
    return "body-" + iri.rstrip("/").rsplit("/", 1)[-1]


def draw(points: list[MapPoint], unplaced: list[PlacedBody],
         width: int = WIDTH) -> RecognitionMap:
    """Project the points into a frame wide enough to show the region around them (at least 24
    degrees of longitude, so one point still sits in its surroundings)."""
    result = RecognitionMap(points=points, unplaced=unplaced)
    if not points:
        return result
    frame = basemap.Frame.around([(p.lat, p.long) for p in points], width, pad=6.0,
                                 min_span=24.0, aspect=0.5)
    for p in points:
        p.x, p.y = frame.project(p.lat, p.long)
        p.anchor_side = "end" if p.x > width * 0.6 else "start"
    result.frame, result.height, result.base = frame, round(frame.height), basemap.draw(frame)
    result.parallels, result.meridians = pictures.graticule(frame)
    result.km, result.km_px = pictures.scale_bar(frame)
    return result
