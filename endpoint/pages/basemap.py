"""An offline basemap: land, coastlines and country borders from Natural Earth, drawn as SVG paths.

The data is world-atlas 2.0.2's `countries-50m.json` (TopoJSON of Natural Earth 1:50m, public
domain; the package is ISC), vendored under endpoint/static/vendor/world-atlas-2.0.2/. No tile
server: the map must draw with no network, so the geometry is read from our own file once per
process, and a drawing takes only the arcs whose bounding box meets the view.

TopoJSON in short: `arcs` are delta-encoded integer polylines, `transform` maps them to degrees;
a polygon ring is a list of arc indexes, a negative index `~i` meaning arc i reversed. Each arc
is a stretch of coastline or border, stored once; drawn once, the arcs are exactly the map's
lines, and the `land` object's rings, filled, are the land.

The projection is the one the pictures use (`Frame`): equirectangular, longitude scaled by the
cosine of the view's middle latitude, north up. The query UI's map view projects its points with
the same formula over `/pictures/basemap.svg`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "static" / "vendor"
ATLAS = VENDOR / "world-atlas-2.0.2" / "countries-50m.json"

Box = tuple[float, float, float, float]  # west, south, east, north (degrees)


@dataclass(frozen=True)
class Frame:
    """A view of the earth drawn `width` pixels wide; the height follows the view's shape."""

    west: float
    south: float
    east: float
    north: float
    width: float

    @property
    def kx(self) -> float:
        return math.cos(math.radians((self.south + self.north) / 2))

    @property
    def scale(self) -> float:  # pixels per degree of latitude
        return self.width / ((self.east - self.west) * self.kx)

    @property
    def height(self) -> float:
        return (self.north - self.south) * self.scale

    def project(self, lat: float, long: float) -> tuple[float, float]:
        return (long - self.west) * self.kx * self.scale, (self.north - lat) * self.scale

    @classmethod
    def around(cls, points: list[tuple[float, float]], width: float, pad: float = 0.5,
               min_span: float = 2.0, aspect: float = 0.62) -> Frame:
        """A frame holding every (lat, long) with `pad` degrees around, at least `min_span`
        degrees wide, and no flatter than `aspect` (height / width)."""
        lats, longs = [p[0] for p in points], [p[1] for p in points]
        south, north = min(lats) - pad, max(lats) + pad
        west, east = min(longs) - pad, max(longs) + pad
        mid_lat, mid_long = (south + north) / 2, (west + east) / 2
        kx = math.cos(math.radians(mid_lat))
        span_x = max(east - west, min_span)
        span_y = max(north - south, span_x * kx * aspect)
        span_x = max(span_x, span_y / kx / 1.6)  # not taller than wide, past a point
        return cls(mid_long - span_x / 2, mid_lat - span_y / 2, mid_long + span_x / 2,
                   mid_lat + span_y / 2, width)


@dataclass(frozen=True)
class Basemap:
    land: str  # one SVG path `d` of the land rings (fill)
    lines: str  # one SVG path `d` of the coastlines and borders (stroke)


@lru_cache(maxsize=1)
def _atlas() -> tuple[list[list[tuple[float, float]]], list[Box], list[list[list[int]]]]:
    """The arcs in degrees (long, lat), each arc's bounding box, and the land's rings."""
    topo = json.loads(ATLAS.read_text(encoding="utf-8"))
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs, boxes = [], []
    for encoded in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in encoded:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        boxes.append((min(xs), min(ys), max(xs), max(ys)))
    rings: list[list[int]] = []
    for geometry in topo["objects"]["land"]["geometries"]:
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        for polygon in polygons:
            rings.extend(polygon)
    return arcs, boxes, rings


def _meets(box: Box, frame: Frame) -> bool:
    return not (box[2] < frame.west or box[0] > frame.east or box[3] < frame.south
                or box[1] > frame.north)


@lru_cache(maxsize=256)
def draw(frame: Frame) -> Basemap:
    """The land and the lines that fall in `frame`, projected, points closer than about a pixel
    dropped (a 1:50m coastline has far more detail than a small map can show).

    Kept per frame: a page's frame depends only on its place, and drawing costs about 45 ms,
    three quarters of an uncached place page."""
    arcs, boxes, _ = _atlas()
    lines = [_polyline(arcs[i], frame, start=True) for i, box in enumerate(boxes)
             if _meets(box, frame)]
    land = [_polyline(points, frame, start=True) + "Z" for points, box in _land()
            if _meets(box, frame)]  # by the ring's box: an inland view meets no coast arc
    return Basemap(land="".join(land), lines="".join(lines))


@lru_cache(maxsize=1)
def _land() -> list[tuple[list[tuple[float, float]], Box]]:
    """The land's rings as points (longitudes unwrapped) with their bounding boxes."""
    arcs, _, rings = _atlas()
    out = []
    for ring in rings:
        points = []
        for index in ring:
            points.extend(arcs[index] if index >= 0 else arcs[~index][::-1])
        points = _unwrapped(points)
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        out.append((points, (min(xs), min(ys), max(xs), max(ys))))
    return out


def _unwrapped(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A ring continuous in longitude: world-atlas 2 does not cut rings at the antimeridian,
    so Eurasia's ring jumps from 180° to -180°; drawn as is, that edge crosses the whole map
    and turns land into sea. Each jump of more than 180° is undone by shifting 360°."""
    out, shift, last = [], 0.0, None
    for long, lat in points:
        if last is not None and abs(long + shift - last) > 180:
            shift += 360 if last > long + shift else -360
        out.append((long + shift, lat))
        last = long + shift
    return out


def _polyline(points: list[tuple[float, float]], frame: Frame, start: bool) -> str:
    out = []
    last = None
    for n, (long, lat) in enumerate(points):
        x, y = frame.project(lat, long)
        if last is not None and n < len(points) - 1 and abs(x - last[0]) + abs(y - last[1]) < 1.2:
            continue
        out.append(f"{'M' if start and n == 0 else 'L'}{x:.1f},{y:.1f}")
        last = (x, y)
    return "".join(out)
