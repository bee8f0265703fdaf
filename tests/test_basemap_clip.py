"""A page's mini-map draws only what its frame shows (basemap.draw(frame, clip=True)).

The land's rings, clipped to the frame and a margin, fill exactly the same points of the frame
(even-odd, as the SVG fills them), and every coastline or border segment that crosses the frame
is still drawn; the drawing is a small fraction of the unclipped one. (In a browser, the six
mini-maps of the real data rendered at 3x: four pixel-identical, two differing in 1 and 4 pixels
of 1.2 million by 4/255 at most: anti-aliasing.)
"""

from __future__ import annotations

import re

import pytest

from endpoint.pages import basemap

#: mini-map frames as pictures.mini_map_svg makes them: Khojaly, Baku, the Hague, Mexico City,
#: and one across the antimeridian (Chukotka), where the land's rings are unwrapped
FRAMES = [basemap.Frame.around([p], 360, pad=1.6, min_span=4.0)
          for p in ((39.91, 46.79), (40.41, 49.87), (52.08, 4.31), (19.43, -99.13),
                    (65.7, 179.5))]


def _rings(d: str) -> list[list[tuple[float, float]]]:
    return [[(float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+),(-?[\d.]+)", ring)]
            for ring in d.split("Z") if ring]


def _inside(x: float, y: float, rings) -> bool:
    """Even-odd: crossings of a ray to the right, over every ring."""
    odd = False
    for ring in rings:
        for (ax, ay), (bx, by) in zip(ring, ring[1:] + ring[:1], strict=False):
            if (ay > y) != (by > y) and x < ax + (y - ay) * (bx - ax) / (by - ay):
                odd = not odd
    return odd


@pytest.mark.parametrize("frame", FRAMES, ids=lambda f: f"{f.west:.0f},{f.south:.0f}")
def test_the_clipped_land_fills_the_same_points_of_the_frame(frame):
    whole = _rings(basemap.draw(frame).land)
    cut = _rings(basemap.draw(frame, clip=True).land)
    m = basemap.CLIP_MARGIN + 0.1
    assert all(-m <= x <= frame.width + m and -m <= y <= frame.height + m
               for ring in cut for x, y in ring)
    step = 7.3  # off the 0.1-pixel grid of the coordinates: no point lies on an edge
    points = [(x * step, y * step) for x in range(int(frame.width / step) + 1)
              for y in range(int(frame.height / step) + 1)]
    assert [_inside(x, y, cut) for x, y in points] == [_inside(x, y, whole) for x, y in points]
    if whole:
        assert any(_inside(x, y, whole) for x, y in points)  # some land in view, not all sea


@pytest.mark.parametrize("frame", FRAMES, ids=lambda f: f"{f.west:.0f},{f.south:.0f}")
def test_every_line_segment_that_crosses_the_frame_is_kept(frame):
    def segments(d):
        out = set()
        for part in re.split(r"(?=M)", d):
            pts = re.findall(r"(-?[\d.]+),(-?[\d.]+)", part)
            pts = [(float(x), float(y)) for x, y in pts]
            out.update(zip(pts, pts[1:], strict=False))
        return out

    whole, cut = segments(basemap.draw(frame).lines), segments(basemap.draw(frame, clip=True).lines)
    seen = {s for s in whole if any(0 <= x <= frame.width and 0 <= y <= frame.height
                                    for x, y in s)}
    assert seen and seen <= cut
    assert cut <= whole
    size = len(basemap.draw(frame, clip=True).land) + len(basemap.draw(frame, clip=True).lines)
    assert size < (len(basemap.draw(frame).land) + len(basemap.draw(frame).lines)) / 2
