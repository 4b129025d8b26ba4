"""Custom windows (?wc=&ww=): bounded, given their own ETag but never stored in the render cache,
ignored for colour images."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from PIL import Image

from archive.rendering import WINDOW_CENTER_BOUNDS, WINDOW_WIDTH_BOUNDS, custom_window, render_frame
from tests.viewer.factories import ct_stack, make_case, rgb_multiframe


@pytest.fixture
def ct_case(teacher):
    return make_case(teacher, ct_stack(2))


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_custom_window_parses_bounds_and_rounds():
    assert custom_window("40", "400") == (40.0, 400.0)
    assert custom_window("40.4", "399.6") == (40.0, 400.0)
    assert custom_window("-1e9", "0") == (WINDOW_CENTER_BOUNDS[0], WINDOW_WIDTH_BOUNDS[0])
    assert custom_window("1e9", "1e9") == (WINDOW_CENTER_BOUNDS[1], WINDOW_WIDTH_BOUNDS[1])
    assert custom_window("abc", "1") is None
    assert custom_window(None, "1") is None
    assert custom_window("nan", "100") is None
    assert custom_window("inf", "100") is None


def test_custom_window_changes_the_pixels_and_the_cache_key(ct_case, storage_dirs):
    instance = ct_case.instances().first()
    narrow, etag_narrow = render_frame(instance, 0, window=(40.0, 80.0))
    wide, etag_wide = render_frame(instance, 0, window=(40.0, 2000.0))
    preset, etag_preset = render_frame(instance, 0, "brain")  # brain preset is (40, 80)
    assert etag_narrow != etag_wide != etag_preset
    assert narrow != wide
    # The same window as the brain preset gives the same picture (but its own ETag).
    assert Image.open(io.BytesIO(narrow)).tobytes() == Image.open(io.BytesIO(preset)).tobytes()
    # Only the preset is stored: a drag's windows would fill the disk.
    assert len(list(storage_dirs["render"].rglob("*.png"))) == 1
    again, etag_again = render_frame(instance, 0, window=(40.0, 80.0))
    assert (again, etag_again) == (narrow, etag_narrow)


def test_frame_view_takes_wc_ww_with_bounds_and_etag(ct_case, student):
    c = _client(student)
    instance = ct_case.instances().first()
    url = f"/instances/{instance.pk}/frames/0.png"
    r = c.get(url, {"preset": "default", "wc": "50", "ww": "350"})
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    # Rounded to whole units: 50.2/349.9 is the same picture and the same ETag.
    r2 = c.get(url, {"wc": "50.2", "ww": "349.9"}, HTTP_IF_NONE_MATCH=r["ETag"])
    assert r2.status_code == 304
    assert c.get(url, {"wc": "1e12", "ww": "-5"}).status_code == 200  # clamped, not an error
    assert c.get(url, {"wc": "x", "ww": "1"}).status_code == 400
    assert c.get(url, {"wc": "40"}).status_code == 400


def test_window_json_gives_the_default_window(ct_case, student):
    instance = ct_case.instances().first()
    body = _client(student).get(f"/instances/{instance.pk}/frames/0/window.json").json()
    assert body["width"] > 0 and isinstance(body["center"], float)
    assert _client(student).get(f"/instances/{instance.pk}/frames/5/window.json").status_code == 404


def test_colour_multiframe_ignores_custom_window(teacher, student):
    case = make_case(teacher, [rgb_multiframe()], modality="US", body_region="abdomen")
    instance = case.instances().get()
    assert instance.frames == 2
    a, etag_a = render_frame(instance, 1)
    b, etag_b = render_frame(instance, 1, window=(10.0, 20.0))
    assert (a, etag_a) == (b, etag_b)
    assert Image.open(io.BytesIO(a)).mode == "RGB"
    body = _client(student).get(f"/instances/{instance.pk}/frames/1/window.json").json()
    assert body == {"center": None, "width": None}


def test_window_json_is_behind_the_case_permission(teacher, student):
    draft = make_case(teacher, ct_stack(1), publish=False)
    instance = draft.instances().first()
    assert _client(student).get(f"/instances/{instance.pk}/frames/0/window.json").status_code == 404
    assert Client().get(f"/instances/{instance.pk}/frames/0/window.json").status_code == 302
