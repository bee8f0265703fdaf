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
def draw(frame: Frame, clip: bool = False) -> Basemap:
    """The land and the lines that fall in `frame`, projected, points closer than about a pixel
    dropped (a 1:50m coastline has far more detail than a small map can show).

    Kept per frame: a page's frame depends only on its place, and drawing costs about 45 ms,
    three quarters of an uncached place page.

    `clip`: the drawing is only ever seen through the frame (a page's mini-map), so what lies
    well outside it is cut off: the land's rings are clipped to the frame and a margin
    (Sutherland-Hodgman: a ring meeting a small view is otherwise a whole continent, ~165 kB
    of a place page's ~195), and a line keeps only the segments that come near the frame. What
    the frame shows is unchanged. Maps that are panned or zoomed (the query UI's) draw whole."""
    arcs, boxes, _ = _atlas()
    window = (-CLIP_MARGIN, -CLIP_MARGIN, frame.width + CLIP_MARGIN,
              frame.height + CLIP_MARGIN) if clip else None
    lines = [_path(run) for i, box in enumerate(boxes) if _meets(box, frame)
             for run in _runs(_projected(arcs[i], frame), window)]
    land = []
    for points, box in _land():  # by the ring's box: an inland view meets no coast arc
        if _meets(box, frame):
            ring = _projected(points, frame)
            if window is not None:
                ring = _clipped_ring(ring, window)
            if ring:
                land.append(_path(ring) + "Z")
    return Basemap(land="".join(land), lines="".join(lines))


#: pixels kept around a clipped frame: line joins and the stroke's width stay out of sight
CLIP_MARGIN = 24.0


def _projected(points: list[tuple[float, float]], frame: Frame) -> list[tuple[float, float]]:
    """The points in pixels, each closer than about a pixel to the last kept one dropped."""
    out: list[tuple[float, float]] = []
    last = None
    for n, (long, lat) in enumerate(points):
        x, y = frame.project(lat, long)
        if last is not None and n < len(points) - 1 and abs(x - last[0]) + abs(y - last[1]) < 1.2:
            continue
        out.append((x, y))
        last = (x, y)
    return out


def _path(points: list[tuple[float, float]]) -> str:
    return "".join(f"{'L' if n else 'M'}{x:.1f},{y:.1f}" for n, (x, y) in enumerate(points))


def _runs(points, window):
    """The stretches of a polyline whose segments come near `window` (all of it without one)."""
    if window is None:
        return [points]
    x0, y0, x1, y1 = window
    runs, run = [], []
    for a, b in zip(points, points[1:], strict=False):
        near = not (max(a[0], b[0]) < x0 or min(a[0], b[0]) > x1
                    or max(a[1], b[1]) < y0 or min(a[1], b[1]) > y1)
        if near:
            if not run:
                run = [a]
            run.append(b)
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    return runs


def _clipped_ring(ring, window):
    """A closed ring cut to the rectangle `window` (Sutherland-Hodgman, one edge at a time):
    inside the rectangle the ring encloses what it enclosed, so the even-odd fill is the same."""
    x0, y0, x1, y1 = window
    edges = (
        (lambda p: p[0] >= x0, lambda a, b: _at_x(a, b, x0)),
        (lambda p: p[0] <= x1, lambda a, b: _at_x(a, b, x1)),
        (lambda p: p[1] >= y0, lambda a, b: _at_y(a, b, y0)),
        (lambda p: p[1] <= y1, lambda a, b: _at_y(a, b, y1)),
    )
    for inside, cross in edges:
        if not ring:
            break
        out = []
        prev = ring[-1]
        for cur in ring:
            if inside(cur):
                if not inside(prev):
                    out.append(cross(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cross(prev, cur))
            prev = cur
        ring = out
    return ring


def _at_x(a, b, x):
    t = (x - a[0]) / (b[0] - a[0])
    return (x, a[1] + t * (b[1] - a[1]))


def _at_y(a, b, y):
    t = (y - a[1]) / (b[1] - a[1])
    return (a[0] + t * (b[0] - a[0]), y)


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
