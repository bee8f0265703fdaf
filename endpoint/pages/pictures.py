"""Pictures drawn on the server as SVG: a map, a mini-map, a timeline and a chart of figures.

No tile server, no script, no request leaves the page: the maps are the places' own coordinates
over an offline Natural Earth basemap (endpoint/pages/basemap.py) with a graticule; the timeline
and the chart are plain shapes and text. This module only lays out (positions, sizes, wrapped
lines); the markup is in Jinja templates (endpoint/templates/pictures/*.svg), autoescaped like
every template, so a string from the data cannot break out of the SVG. The result is `Markup`,
printed inline without `|safe`.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

from flask import render_template
from markupsafe import Markup

from endpoint.pages import basemap


@dataclass(frozen=True)
class MapPlace:
    label: str
    lat: float
    long: float
    href: str | None = None


@dataclass(frozen=True)
class TimelineItem:
    label: str
    when: float  # a year with a fraction: 1992.15 is late February 1992
    date_text: str
    href: str | None = None


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # an exact figure
    low: float | None = None  # a lower bound ("more than", "at least")
    high: float | None = None  # an upper bound of a range
    href: str | None = None
    qualifier: str | None = None  # the source's own hedge: "exact", "at least", "more than"…

    @property
    def text(self) -> str:
        def fmt(x: float) -> str:
            return f"{x:,.0f}" if float(x).is_integer() else f"{x:,}"

        if self.value is not None:
            return fmt(self.value)
        if self.low is not None and self.high is not None:
            return f"{fmt(self.low)}–{fmt(self.high)}"
        if self.low is not None:
            return f"≥ {fmt(self.low)}"
        return f"≤ {fmt(self.high)}" if self.high is not None else "?"


@dataclass(frozen=True)
class BarGroup:
    title: str
    bars: list[Bar]


def year_fraction(lexical: str) -> float | None:
    """1992, 1994-12 or 2008-02-26 as a year with a fraction (xsd:gYear, gYearMonth, date)."""
    parts = lexical.strip().split("T")[0].split("-")
    try:
        year = int(parts[0])
        month = int(parts[1]) if len(parts) > 1 else 1
        day = int(parts[2][:2]) if len(parts) > 2 else 1
    except (ValueError, IndexError):
        return None
    return year + (month - 1) / 12 + (day - 1) / 365



def _render(template: str, **context: object) -> Markup:
    return Markup(render_template(f"pictures/{template}", **context).strip())


# --------------------------------------------------------------------------- maps


def graticule(frame: basemap.Frame) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    """Parallels (y, text) and meridians (x, text) at a round step giving a few lines each way."""
    span = max(frame.east - frame.west, frame.north - frame.south)
    step = next((s for s in (0.5, 1, 2, 5, 10, 20, 30) if span / s <= 8), 45)

    def marks(lo: float, hi: float, fmt) -> list[float]:
        first = math.ceil(lo / step) * step
        return [first + n * step for n in range(int((hi - first) / step) + 1)]

    parallels = [(frame.project(lat, frame.west)[1], f"{abs(lat):g}°{'N' if lat >= 0 else 'S'}")
                 for lat in marks(frame.south, frame.north, None)]
    meridians = [(frame.project(frame.south, lon)[0], f"{abs(lon):g}°{'E' if lon >= 0 else 'W'}")
                 for lon in marks(frame.west, frame.east, None)]
    return parallels, meridians


def scale_bar(frame: basemap.Frame) -> tuple[int, float]:
    """A round distance and its length in pixels, about a fifth of the map's width."""
    km_per_px = 111.32 / frame.scale  # along a parallel, after the cos(lat) correction
    target = frame.width / 5 * km_per_px
    km = next((k for k in (5, 10, 25, 50, 100, 250, 500, 1000) if k >= target * 0.6), 2000)
    return km, km / km_per_px


def _stacked_labels(points, side: str, line_height: int = 17) -> list[dict]:
    """Labels beside their points, pushed apart vertically so none overlap, with leader lines."""
    out = []
    last_y = -math.inf
    column_x = None
    for p, x, y in sorted(points, key=lambda pt: pt[2]):
        ly = max(y, last_y + line_height)
        last_y = ly
        if side == "right":
            column_x = max(column_x or 0, x + 14)
        else:
            column_x = min(column_x or 10**6, x - 14)
        out.append({"place": p, "x": x, "y": y, "lx": column_x, "ly": ly,
                    "tx": column_x + (3 if side == "right" else -3),
                    "anchor": "start" if side == "right" else "end"})
    return out


def map_svg(places: list[MapPlace], width: int = 760) -> Markup:
    """Places over the basemap; labels in two columns beside their points."""
    if not places:
        return _render("empty.svg", width=width, text="No place has coordinates.")
    margin_x, margin_y = 170, 30
    inner = basemap.Frame.around([(p.lat, p.long) for p in places], width - 2 * margin_x,
                                 pad=0.25, min_span=1.0, aspect=0.4)
    dx = margin_x / (inner.kx * inner.scale)
    dy = margin_y / inner.scale
    frame = basemap.Frame(inner.west - dx, inner.south - dy, inner.east + dx, inner.north + dy,
                          width)
    points = [(p, *frame.project(p.lat, p.long)) for p in places]
    labels = []
    for side in ("left", "right"):
        group = [pt for pt in points if (pt[1] > width / 2) == (side == "left")]
        labels += _stacked_labels(group, side)
    parallels, meridians = graticule(frame)
    km, km_px = scale_bar(frame)
    return _render("map.svg", frame=frame, height=round(frame.height), base=basemap.draw(frame),
                   points=points, labels=labels, parallels=parallels, meridians=meridians,
                   km=km, km_px=km_px, title="Map of the places in the graph", css="map")


def mini_map_svg(place: MapPlace, width: int = 360) -> Markup:
    """One place on a small map of its region, for its page."""
    frame = basemap.Frame.around([(place.lat, place.long)], width, pad=1.6, min_span=4.0)
    x, y = frame.project(place.lat, place.long)
    parallels, meridians = graticule(frame)
    km, km_px = scale_bar(frame)
    anchor = "end" if x > width * 0.6 else "start"
    return _render("minimap.svg", frame=frame, height=round(frame.height),
                   base=basemap.draw(frame, clip=True), place=place, x=x, y=y, anchor=anchor,
                   parallels=parallels, meridians=meridians, km=km, km_px=km_px)


def basemap_svg(west: float, south: float, east: float, north: float, width: int) -> Markup:
    """The basemap alone for a view (the query UI's map view draws its points over it)."""
    frame = basemap.Frame(west, south, east, north, width)
    parallels, meridians = graticule(frame)
    return _render("basemap.svg", frame=frame, height=round(frame.height),
                   base=basemap.draw(frame), parallels=parallels, meridians=meridians)


# ---------------------------------------------------------------------- timeline


def timeline_svg(
    items: list[TimelineItem], recurring: list[TimelineItem] = (), width: int = 760
) -> Markup:
    """Dated things on a horizontal axis; a recurring event as a faint mark every year."""
    if not items:
        return _render("empty.svg", width=width, text="Nothing in the graph has a date.")
    start = math.floor(min(i.when for i in items))
    end = math.floor(max(i.when for i in items)) + 1
    left, right = 30, width - 30
    axis_y = 60

    def x_of(when: float) -> float:
        return left + (when - start) / (end - start) * (right - left)

    levels: list[float] = []  # the right edge of the last label on each level
    placed = []
    for item in sorted(items, key=lambda i: i.when):
        x = x_of(item.when)
        est_width = 6.8 * max(len(item.label), len(item.date_text))
        anchor = "end" if x + est_width > width - 4 else "start"
        x0, x1 = (x - est_width, x) if anchor == "end" else (x, x + est_width)
        level = next((n for n, edge in enumerate(levels) if edge < x0 - 8), len(levels))
        if level == len(levels):
            levels.append(0.0)
        levels[level] = x1
        placed.append({"item": item, "x": x, "y": axis_y + 30 + 36 * level, "anchor": anchor})
    years = [{"x": x_of(y), "year": y, "tall": y % 5 == 0 or y in (start, end)}
             for y in range(start, end + 1)]
    marks = [{"label": rec, "xs": [x_of(y + rec.when - math.floor(rec.when))
                                   for y in range(start + 1, end)]} for rec in recurring]
    return _render("timeline.svg", width=width, height=axis_y + 40 + 36 * max(1, len(levels)),
                   left=left, right=right, axis_y=axis_y, years=years, recurring=marks,
                   placed=placed)


# ------------------------------------------------------------------------- chart


def _nice_step(top: float) -> float:
    """A round tick step giving 3 to 6 ticks up to `top`."""
    raw = top / 5
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def bar_chart_svg(groups: list[BarGroup], width: int = 760) -> Markup:
    """Figures by source: one block per thing counted, bars on a shared scale within the block,
    each with a value axis; labels whole (wrapped), the source's qualifier under the label.

    An exact figure is a solid bar; a range is solid up to its low end and faint to its high
    end; a lower bound ("more than 200") is solid with an open end.
    """
    label_w, value_w, line_h = 300, 90, 14
    bar_left = label_w + 12
    bar_max = width - bar_left - value_w
    blocks, y = [], 0.0
    for group in groups:
        y += 26
        title_y = y
        y += 10
        top = max([b for bar in group.bars for b in (bar.value, bar.low, bar.high) if b] or [1])
        step = _nice_step(top)
        axis_top = math.ceil(top / step) * step
        k = bar_max / axis_top
        rows = []
        for bar in group.bars:
            lines = textwrap.wrap(bar.label, 44) or [""]
            if bar.qualifier:
                lines.append(f"({bar.qualifier})")
            height = max(18, line_h * len(lines) + 4)
            solid = bar.value if bar.value is not None else (bar.low or 0)
            end = solid * k
            faint = open_end = None
            if bar.value is None and bar.high is not None:
                faint = (bar.high - solid) * k
                end += faint
            elif bar.value is None and bar.low is not None:
                open_end = end
                end += 10
            rows.append({"bar": bar, "y": y, "h": height, "lines": lines,
                         "solid": max(1.0, solid * k), "faint": faint, "open_end": open_end,
                         "end": end, "bar_y": y + (height - 16) / 2})
            y += height + 6
        ticks = [{"x": bar_left + t * step * k, "text": f"{t * step:,.0f}"}
                 for t in range(int(round(axis_top / step)) + 1)]
        blocks.append({"title": group.title, "title_y": title_y, "rows": rows,
                       "axis_y": y + 2, "ticks": ticks})
        y += 24
    return _render("chart.svg", width=width, height=round(y + 6), blocks=blocks,
                   bar_left=bar_left, label_w=label_w, line_h=line_h)
