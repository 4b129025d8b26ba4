"""Click the lesion: inside or outside the teacher's region, and the distance in millimetres
from Pixel Spacing. Every expected distance is worked out by hand in the comments."""

from __future__ import annotations

import math

import pytest

from teaching.localisation import TOLERANCE_MM, clean_region, locate

# A 200 × 100 image (columns × rows) whose rows are 0.5 mm apart and columns 0.25 mm apart:
# 50 mm wide, 50 mm high.
WIDE = {"columns": 200, "rows": 100, "spacing": (0.5, 0.25)}
# An ellipse in its middle, 0.1 of the width and 0.2 of the height as semi-axes:
# 0.1 × 200 × 0.25 = 5 mm across, 0.2 × 100 × 0.5 = 10 mm down.
ELLIPSE = {"type": "ellipse", "cx": 0.5, "cy": 0.5, "rx": 0.1, "ry": 0.2}


def test_a_click_in_the_ellipse_is_on_the_lesion():
    where = locate(ELLIPSE, 0.52, 0.55, **WIDE)
    assert where.inside and where.distance_mm == 0 and where.score == 1.0


def test_distance_along_the_short_axis_in_mm():
    # 0.3 of the width right of the centre = 60 px × 0.25 = 15 mm; the edge is 5 mm out.
    where = locate(ELLIPSE, 0.8, 0.5, **WIDE)
    assert not where.inside
    assert where.distance_mm == pytest.approx(10.0, abs=1e-6)
    # In pixels: 60 px from the centre, the edge 20 px out.
    assert where.distance_px == pytest.approx(40.0, abs=1e-6)


def test_distance_along_the_long_axis_in_mm():
    # The top edge of the image: 50 px × 0.5 = 25 mm above the centre, the edge 10 mm up.
    where = locate(ELLIPSE, 0.5, 0.0, **WIDE)
    assert where.distance_mm == pytest.approx(15.0, abs=1e-6)


def test_distance_from_a_circle_off_its_axes():
    # 100 × 100 px at 1 mm: a circle of 10 mm radius; a click 30 mm right and 40 mm down is
    # 50 mm from the centre (3-4-5), 40 mm from the edge.
    circle = {"type": "ellipse", "cx": 0.5, "cy": 0.5, "rx": 0.1, "ry": 0.1}
    where = locate(circle, 0.8, 0.9, columns=100, rows=100, spacing=(1.0, 1.0))
    assert where.distance_mm == pytest.approx(40.0, abs=1e-6)


def test_distance_from_an_ellipse_off_its_axes():
    # Semi-axes 20 mm (x) and 10 mm (y) on a 1 mm grid; the nearest edge point to a click at
    # (0, 30) relative to the centre is the top (0, 10): 20 mm. To (40, 0): the right end
    # (20, 0), 20 mm. To (30, 20) the nearest point is found numerically; it must be nearer
    # than both the axis ends ((20, 0): 22.36 mm; (0, 10): 31.62 mm) and farther than the
    # distance to the bounding box corner region (30−20 = 10 mm across, 20−10 = 10 mm down).
    ellipse = {"type": "ellipse", "cx": 0.5, "cy": 0.5, "rx": 0.2, "ry": 0.1}
    grid = {"columns": 100, "rows": 100, "spacing": (1.0, 1.0)}
    assert locate(ellipse, 0.5, 0.8, **grid).distance_mm == pytest.approx(20.0, abs=1e-6)
    assert locate(ellipse, 0.9, 0.5, **grid).distance_mm == pytest.approx(20.0, abs=1e-6)
    oblique = locate(ellipse, 0.8, 0.7, **grid).distance_mm
    assert 10.0 < oblique < math.hypot(10, 20)
    # Checked against a brute-force walk along the ellipse's edge.
    edge = min(
        math.hypot(30 - 20 * math.cos(t), 20 - 10 * math.sin(t))
        for t in (i * math.pi / 200000 for i in range(100001))
    )
    assert oblique == pytest.approx(edge, abs=1e-3)


def test_polygon_with_rectangular_pixels():
    # A square from 0.2 to 0.4 of a 100 × 100 image whose rows are 2 mm apart (vertical) and
    # columns 1 mm apart (horizontal).
    square = {"type": "polygon", "points": [[0.2, 0.2], [0.4, 0.2], [0.4, 0.4], [0.2, 0.4]]}
    grid = {"columns": 100, "rows": 100, "spacing": (2.0, 1.0)}
    assert locate(square, 0.3, 0.3, **grid).inside
    # 0.1 of the width to the right: 10 px × 1 mm.
    assert locate(square, 0.5, 0.3, **grid).distance_mm == pytest.approx(10.0)
    # 0.1 of the height below: 10 px × 2 mm.
    assert locate(square, 0.3, 0.5, **grid).distance_mm == pytest.approx(20.0)
    # Diagonally off the corner (0.4, 0.4): √(10² + 20²) mm.
    assert locate(square, 0.5, 0.5, **grid).distance_mm == pytest.approx(math.sqrt(500))


def test_concave_polygon_inside_and_outside():
    # An L: the notch at the top right is outside.
    ell = {
        "type": "polygon",
        "points": [[0.1, 0.1], [0.3, 0.1], [0.3, 0.6], [0.6, 0.6], [0.6, 0.8], [0.1, 0.8]],
    }
    grid = {"columns": 100, "rows": 100, "spacing": (1.0, 1.0)}
    assert locate(ell, 0.2, 0.3, **grid).inside
    assert locate(ell, 0.5, 0.7, **grid).inside
    notch = locate(ell, 0.5, 0.3, **grid)
    assert not notch.inside
    # Nearest edges: the L's inner vertical side at x = 0.3 (20 mm) and its inner horizontal
    # side at y = 0.6 (30 mm).
    assert notch.distance_mm == pytest.approx(20.0)


def test_without_pixel_spacing_the_distance_is_in_pixels_only():
    where = locate(ELLIPSE, 0.8, 0.5, columns=200, rows=100, spacing=None)
    assert where.distance_mm is None and where.distance_px == pytest.approx(40.0)
    assert not where.localised and where.score == 0.0


def test_near_misses_score_half():
    # The tolerance, 10 mm, is exactly the distance along the short axis above.
    assert TOLERANCE_MM == 10.0
    near = locate(ELLIPSE, 0.8, 0.5, **WIDE)
    assert near.localised and near.score == 0.5
    far = locate(ELLIPSE, 0.9, 0.5, **WIDE)  # 20 mm from the centre... 15 mm from the edge
    assert far.distance_mm == pytest.approx(15.0) and far.score == 0.0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"type": "arrow"}, "Draw an ellipse or a polygon"),
        ({"type": "ellipse", "cx": 0.5, "cy": 0.5, "rx": 0.001, "ry": 0.1}, "larger ellipse"),
        ({"type": "ellipse", "cx": 1.5, "cy": 0.5, "rx": 0.1, "ry": 0.1}, "within the image"),
        ({"type": "ellipse", "cx": "0.5", "cy": 0.5, "rx": 0.1, "ry": 0.1}, "number for cx"),
        ({"type": "polygon", "points": [[0.1, 0.1], [0.2, 0.2]]}, "between 3 and 64"),
        ({"type": "polygon", "points": [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]]}, "larger polygon"),
    ],
)
def test_bad_regions_are_refused_with_a_reason(raw, message):
    with pytest.raises(ValueError, match=message):
        clean_region(raw)


def test_a_region_is_kept_as_plain_data():
    assert clean_region({"type": "ellipse", "cx": 0.51234, "cy": 0.5, "rx": 0.1, "ry": 0.2}) == {
        "type": "ellipse",
        "cx": 0.5123,
        "cy": 0.5,
        "rx": 0.1,
        "ry": 0.2,
    }
