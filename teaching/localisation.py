"""Click the lesion: is a click on the key image inside the region the teacher drew, and if not,
how far from it in millimetres?

A region is a key-image annotation (data, never burned in), coordinates normalised to 0..1 of
the image's width (``x``, ``rx``) and height (``y``, ``ry``):

* ``{"type": "ellipse", "cx", "cy", "rx", "ry"}`` (axis-aligned),
* ``{"type": "polygon", "points": [[x, y], ...]}`` (three to 64 vertices, closed implicitly).

Distances are measured on the patient's plane with Pixel Spacing (PS3.3 C.7.6.2.1.1: the first
value is the spacing between rows, i.e. vertical, the second between columns), so a pixel that
is not square is measured right: the image is scaled to millimetres first, where an axis-aligned
ellipse is still one. Without Pixel Spacing the distance is known in pixels only.

Pure functions, no Django: ``tests/teaching/test_localisation.py`` checks them against
distances worked out by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "REGION_TYPES",
    "Localisation",
    "clean_region",
    "locate",
]

REGION_TYPES = frozenset({"ellipse", "polygon"})
MAX_POLYGON_POINTS = 64
#: A click this close to the region (or inside it) counts as localised.
TOLERANCE_MM = 10.0


@dataclass(frozen=True)
class Localisation:
    inside: bool
    #: 0 inside the region; ``None`` when the image has no Pixel Spacing.
    distance_mm: float | None
    distance_px: float

    @property
    def localised(self) -> bool:
        """Inside, or within :data:`TOLERANCE_MM` of the edge."""
        return self.inside or (self.distance_mm is not None and self.distance_mm <= TOLERANCE_MM)

    @property
    def score(self) -> float:
        """1 inside, ½ within the tolerance, 0 further away."""
        if self.inside:
            return 1.0
        return 0.5 if self.localised else 0.0


def _unit(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"The region needs a number for {name}.")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError("The region must lie within the image.")
    return round(float(value), 4)


def clean_region(raw) -> dict:
    """A region from the browser, validated; ``ValueError`` with a sentence to show."""
    if not isinstance(raw, dict) or raw.get("type") not in REGION_TYPES:
        raise ValueError("Draw an ellipse or a polygon around the lesion.")
    if raw["type"] == "ellipse":
        region = {"type": "ellipse"}
        for key in ("cx", "cy", "rx", "ry"):
            region[key] = _unit(raw.get(key), key)
        if region["rx"] <= 0.002 or region["ry"] <= 0.002:
            raise ValueError("Draw a larger ellipse: drag across the lesion.")
        return region
    points = raw.get("points")
    if not isinstance(points, list) or not 3 <= len(points) <= MAX_POLYGON_POINTS:
        raise ValueError(
            f"A polygon needs between 3 and {MAX_POLYGON_POINTS} points: click around the lesion."
        )
    clean = []
    for point in points:
        if not isinstance(point, list | tuple) or len(point) != 2:
            raise ValueError("Each point of the polygon needs an x and a y.")
        clean.append([_unit(point[0], "x"), _unit(point[1], "y")])
    if abs(_signed_area(clean)) < 1e-5:
        raise ValueError("Draw a larger polygon: its points must enclose the lesion.")
    return {"type": "polygon", "points": clean}


def _signed_area(points: list[list[float]]) -> float:
    return 0.5 * sum(
        x0 * y1 - x1 * y0
        for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True)
    )


def locate(
    region: dict,
    x: float,
    y: float,
    *,
    columns: int,
    rows: int,
    spacing: tuple[float, float] | None,
) -> Localisation:
    """Where the click ``(x, y)`` (0..1 of the image) lies relative to ``region`` on a
    ``columns`` × ``rows`` image whose Pixel Spacing is ``spacing`` = (row spacing, column
    spacing) in mm, or ``None``."""
    px = _distance(region, x, y, columns=columns, rows=rows, sx=1.0, sy=1.0)
    if spacing is None:
        return Localisation(inside=px is None, distance_mm=None, distance_px=px or 0.0)
    row_spacing, column_spacing = spacing
    mm = _distance(region, x, y, columns=columns, rows=rows, sx=column_spacing, sy=row_spacing)
    return Localisation(inside=mm is None, distance_mm=mm or 0.0, distance_px=px or 0.0)


def _distance(
    region: dict, x: float, y: float, *, columns: int, rows: int, sx: float, sy: float
) -> float | None:
    """Distance from the click to the region's edge in units of (sx, sy) per pixel; ``None``
    inside the region."""
    wx, wy = columns * sx, rows * sy  # the image's size in those units
    point = (x * wx, y * wy)
    if region["type"] == "ellipse":
        cx, cy = region["cx"] * wx, region["cy"] * wy
        a, b = region["rx"] * wx, region["ry"] * wy
        u, v = point[0] - cx, point[1] - cy
        if (u / a) ** 2 + (v / b) ** 2 <= 1.0:
            return None
        return _ellipse_distance(a, b, u, v)
    vertices = [(px * wx, py * wy) for px, py in region["points"]]
    if _inside_polygon(point, vertices):
        return None
    return min(
        _segment_distance(point, p, q)
        for p, q in zip(vertices, vertices[1:] + vertices[:1], strict=True)
    )


def _inside_polygon(point: tuple[float, float], vertices: list[tuple[float, float]]) -> bool:
    """Even-odd rule (ray casting); a point on the edge counts as inside."""
    x, y = point
    inside = False
    for (x0, y0), (x1, y1) in zip(vertices, vertices[1:] + vertices[:1], strict=True):
        if _segment_distance(point, (x0, y0), (x1, y1)) < 1e-9:
            return True
        if (y0 > y) != (y1 > y):
            crossing = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
            if x < crossing:
                inside = not inside
    return inside


def _segment_distance(
    point: tuple[float, float], p: tuple[float, float], q: tuple[float, float]
) -> float:
    (x, y), (x0, y0), (x1, y1) = point, p, q
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((x - x0) * dx + (y - y0) * dy) / length2))
    return math.hypot(x - (x0 + t * dx), y - (y0 + t * dy))


def _ellipse_distance(a: float, b: float, u: float, v: float) -> float:
    """Distance from (u, v) (relative to the centre, outside) to the ellipse with semi-axes a
    (along x) and b (along y): D. Eberly, "Distance from a Point to an Ellipse" (2013), whose
    bisection converges for every point, unlike Newton's method near the axes."""
    u, v = abs(u), abs(v)
    if a < b:  # the method wants the longer axis first
        a, b, u, v = b, a, v, u
    if v > 0:
        if u > 0:
            z0, z1 = u / a, v / b
            g = z0 * z0 + z1 * z1 - 1.0
            if g == 0:
                return 0.0
            r0 = (a / b) ** 2
            s = _bisect(r0, z0, z1, g)
            x0, x1 = r0 * u / (s + r0), v / (s + 1.0)
            return math.hypot(x0 - u, x1 - v)
        return abs(v - b)
    numerator, denominator = a * u, a * a - b * b
    if numerator < denominator:
        ratio = numerator / denominator
        x0, x1 = a * ratio, b * math.sqrt(1.0 - ratio * ratio)
        return math.hypot(x0 - u, x1)
    return abs(u - a)


def _bisect(r0: float, z0: float, z1: float, g: float) -> float:
    n0 = r0 * z0
    s0, s1 = z1 - 1.0, (0.0 if g < 0 else math.hypot(n0, z1) - 1.0)
    s = s0
    for _ in range(200):
        s = (s0 + s1) / 2
        if s in (s0, s1):
            break
        g = (n0 / (s + r0)) ** 2 + (z1 / (s + 1.0)) ** 2 - 1.0
        if g > 0:
            s0 = s
        elif g < 0:
            s1 = s
        else:
            break
    return s
