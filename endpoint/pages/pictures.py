"""Pictures drawn on the server as SVG: a map, a timeline and a chart of figures by source.

No tile server, no script, no request leaves the page: the map is the places' own coordinates in a
simple projection with a graticule, the timeline and the chart are plain shapes and text. Every
string from the data goes through `_text`/`_attr` (XML escaping) before it reaches the markup, so
the result is returned as `Markup` and printed inline without `|safe` in a template.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

FONT = 'font-family="system-ui, sans-serif"'


def _text(value: object) -> str:
    return escape(str(value))


def _attr(value: object) -> str:
    return quoteattr(str(value))


def _link(href: str | None, inner: str) -> str:
    return f"<a href={_attr(href)}>{inner}</a>" if href else inner


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


# --------------------------------------------------------------------------- map


def map_svg(places: list[MapPlace], width: int = 760, height: int = 520) -> Markup:
    """Places on an equirectangular projection, corrected for latitude, with stacked labels."""
    if not places:
        return Markup(
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="40">'
            f'<text x="10" y="25" {FONT}>No place has coordinates.</text></svg>'
        )
    pad_deg = 0.25
    lat0, lat1 = min(p.lat for p in places) - pad_deg, max(p.lat for p in places) + pad_deg
    lon0, lon1 = min(p.long for p in places) - pad_deg, max(p.long for p in places) + pad_deg
    kx = math.cos(math.radians((lat0 + lat1) / 2))
    margin_x, margin_y = 170, 30
    # fill the width; the height follows the places' extent (within bounds)
    scale = (width - 2 * margin_x) / ((lon1 - lon0) * kx)
    if (lat1 - lat0) * scale + 2 * margin_y > height:
        scale = (height - 2 * margin_y) / (lat1 - lat0)
    height = max(160, int((lat1 - lat0) * scale + 2 * margin_y))

    def project(lat: float, long: float) -> tuple[float, float]:
        return (margin_x + (long - lon0) * kx * scale, height - margin_y - (lat - lat0) * scale)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" class="picture map" {FONT} font-size="13">',
        "<title>Map of the places in the graph</title>",
        f'<rect width="{width}" height="{height}" fill="#f4f1ea"/>',
    ]
    parts += _graticule(lat0, lat1, lon0, lon1, project, width, height)
    parts += _scale_bar(scale, kx, height)
    points = [(p, *project(p.lat, p.long)) for p in places]
    for _place, x, y in points:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#8b1e1e"/>')
    for side in ("left", "right"):
        group = [pt for pt in points if (pt[1] > width / 2) == (side == "left")]
        parts += _stacked_labels(group, side)
    parts.append("</svg>")
    return Markup("".join(parts))


def _graticule(lat0, lat1, lon0, lon1, project, width, height) -> list[str]:
    out = []
    step = 0.5
    lat = math.ceil(lat0 / step) * step
    while lat <= lat1:
        _, y = project(lat, lon0)
        out.append(f'<line x1="0" y1="{y:.1f}" x2="{width}" y2="{y:.1f}" stroke="#d8d2c4"/>')
        out.append(f'<text x="4" y="{y - 3:.1f}" fill="#8a8473" font-size="10">{lat:.1f}°N</text>')
        lat += step
    lon = math.ceil(lon0 / step) * step
    while lon <= lon1:
        x, _ = project(lat0, lon)
        out.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height}" stroke="#d8d2c4"/>')
        out.append(
            f'<text x="{x + 3:.1f}" y="{height - 4}" fill="#8a8473" font-size="10">'
            f"{lon:.1f}°E</text>"
        )
        lon += step
    return out


def _scale_bar(scale: float, kx: float, height: int) -> list[str]:
    km = 50
    px = km / (111.32 * kx) * kx * scale  # 1° of longitude is 111.32·cos(lat) km
    y = height - 22
    return [
        f'<line x1="20" y1="{y}" x2="{20 + px:.1f}" y2="{y}" stroke="#333" stroke-width="2"/>',
        f'<text x="20" y="{y - 5}" font-size="11" fill="#333">{km} km</text>',
    ]


def _stacked_labels(points, side: str) -> list[str]:
    """Labels beside their points, pushed apart vertically so none overlap, with leader lines."""
    out = []
    line_height = 17
    last_y = -math.inf
    column_x = None
    for p, x, y in sorted(points, key=lambda pt: pt[2]):
        ly = max(y, last_y + line_height)
        last_y = ly
        if side == "right":
            column_x = max(column_x or 0, x + 14)
            tx, anchor = column_x, "start"
        else:
            column_x = min(column_x or 10**6, x - 14)
            tx, anchor = column_x, "end"
        out.append(
            f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{tx:.1f}" y2="{ly:.1f}" stroke="#8b1e1e" '
            'stroke-width="0.7"/>'
        )
        label = (
            f'<text x="{tx + (3 if side == "right" else -3):.1f}" y="{ly + 4:.1f}" '
            f'text-anchor="{anchor}" fill="#222">{_text(p.label)}</text>'
        )
        out.append(_link(p.href, label))
    return out


# ---------------------------------------------------------------------- timeline


def timeline_svg(
    items: list[TimelineItem], recurring: list[TimelineItem] = (), width: int = 760
) -> Markup:
    """Dated things on a horizontal axis; a recurring event as a faint mark every year."""
    if not items:
        return Markup(
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="40">'
            f'<text x="10" y="25" {FONT}>Nothing in the graph has a date.</text></svg>'
        )
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
        placed.append((item, x, level, anchor))
    height = axis_y + 40 + 36 * max(1, len(levels))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" class="picture timeline" {FONT} '
        'font-size="12">',
        "<title>Timeline</title>",
        f'<line x1="{left}" y1="{axis_y}" x2="{right}" y2="{axis_y}" stroke="#333"/>',
    ]
    for year in range(start, end + 1):
        x = x_of(year)
        tall = year % 5 == 0 or year in (start, end)
        parts.append(
            f'<line x1="{x:.1f}" y1="{axis_y - (6 if tall else 3)}" x2="{x:.1f}" '
            f'y2="{axis_y + (6 if tall else 3)}" stroke="#333"/>'
        )
        if tall:
            parts.append(f'<text x="{x:.1f}" y="{axis_y - 10}" text-anchor="middle">{year}</text>')
    for rec in recurring:
        frac = rec.when - math.floor(rec.when)
        for year in range(start + 1, end):
            x = x_of(year + frac)
            parts.append(
                f'<circle cx="{x:.1f}" cy="{axis_y}" r="2.2" fill="#c98b2b" opacity="0.8"/>'
            )
        legend = f"● {rec.label}"
        parts.append(
            _link(
                rec.href,
                f'<text x="{left}" y="{axis_y - 30}" fill="#9a6a1f">{_text(legend)}</text>',
            )
        )
    for item, x, level, anchor in placed:
        y = axis_y + 30 + 36 * level
        parts.append(f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{y - 12}" stroke="#999"/>')
        parts.append(f'<circle cx="{x:.1f}" cy="{axis_y}" r="5" fill="#8b1e1e"/>')
        label = (
            f'<text x="{x:.1f}" y="{y}" fill="#222" text-anchor="{anchor}">'
            f"{_text(item.label)}</text>"
            f'<text x="{x:.1f}" y="{y + 14}" fill="#666" font-size="11" text-anchor="{anchor}">'
            f"{_text(item.date_text)}</text>"
        )
        parts.append(_link(item.href, label))
    parts.append("</svg>")
    return Markup("".join(parts))


# ------------------------------------------------------------------------- chart


def bar_chart_svg(groups: list[BarGroup], width: int = 760) -> Markup:
    """Figures by source: one block per thing counted, bars on a shared scale within the block.

    An exact figure is a solid bar; a range is solid up to its low end and hatched to its high
    end; a lower bound ("more than 200") is solid with an open end.
    """
    label_w, value_w, bar_h, gap = 330, 80, 18, 6
    bar_left = label_w + 10
    bar_max = width - bar_left - value_w
    parts: list[str] = []
    y = 0
    for group in groups:
        y += 26
        parts.append(f'<text x="0" y="{y}" font-weight="bold">{_text(group.title)}</text>')
        y += 8
        top = max([b for bar in group.bars for b in (bar.value, bar.low, bar.high) if b] or [1])
        for bar in group.bars:
            parts += _bar(bar, y, bar_left, bar_max / top, bar_h, label_w)
            y += bar_h + gap
    height = y + 10
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" class="picture chart" {FONT} font-size="12">'
        "<title>Figures by source</title>"
    )
    return Markup(head + "".join(parts) + "</svg>")


def _bar(bar: Bar, y: float, left: float, k: float, h: int, label_w: int) -> list[str]:
    solid = bar.value if bar.value is not None else (bar.low or 0)
    out = [
        _link(
            bar.href,
            f'<text x="{label_w}" y="{y + h - 5}" text-anchor="end">{_text(_clip(bar.label))}'
            f"<title>{_text(bar.label)}</title></text>",
        ),
        f'<rect x="{left}" y="{y}" width="{max(1.0, solid * k):.1f}" height="{h}" fill="#8b1e1e"/>',
    ]
    end = solid * k
    if bar.value is None and bar.high is not None:
        span = (bar.high - solid) * k
        out.append(
            f'<rect x="{left + end:.1f}" y="{y}" width="{span:.1f}" height="{h}" fill="#8b1e1e" '
            'opacity="0.35"/>'
        )
        end += span
    elif bar.value is None and bar.low is not None:
        out.append(
            f'<path d="M{left + end:.1f},{y} l10,{h / 2} l-10,{h / 2}" fill="#8b1e1e" '
            'opacity="0.5"/>'
        )
        end += 10
    out.append(f'<text x="{left + end + 6:.1f}" y="{y + h - 5}">{_text(bar.text)}</text>')
    return out


def _clip(text: str, limit: int = 46) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
