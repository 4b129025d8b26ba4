"""Precision and recall on the benchmark's scenes (``scenes.py``), judged against the drawn
masks, never by OCR: text over the vendor's own text is removed pixel for pixel, an abdominal MR
with text in its corners keeps its anatomy, text-free ultrasound, CT and MR get no box, and
text rotated by 90 or 270 degrees goes like horizontal text."""

from __future__ import annotations

import pytest

from archive.deid.pixels import clean_pixels
from archive.deid.pixels.frames import decode

from .scenes import BASES, judge, text_free_scenes, text_scenes


def _scene(key: str, scenario: str):
    base = [b for b in BASES if b.key == key]
    (scene,) = [s for s in text_scenes(base) if s.scenario == scenario]
    return scene


def _clean(scene):
    result = clean_pixels(scene.dataset, hints=scene.hints)
    assert result.ok, result.reasons
    return judge(scene, decode(scene.dataset).frames, len(result.boxes))


@pytest.mark.parametrize("key", ["us-doppler", "us-doppler-j2k", "us-palette", "us-echo"])
def test_text_written_over_vendor_text_on_ultrasound_is_removed_pixel_for_pixel(key):
    scene = _scene(key, "over vendor text")
    outcome = _clean(scene)
    assert outcome.text_pixels > 50
    for string, changed in outcome.strings:
        assert changed == 1.0, f"{string}: {100 * (1 - changed):.1f}% of its pixels unchanged"
    assert scene.vendor.any()


@pytest.mark.parametrize("scenario", ["corners", "stacked header", "banner", "inverted label"])
def test_abdominal_mr_with_text_at_its_edges_keeps_its_anatomy(scenario):
    outcome = _clean(_scene("mr-abdomen", scenario))
    assert outcome.strings_removed == len(outcome.strings), outcome.strings
    assert outcome.collateral <= 0.01, f"{100 * outcome.collateral:.2f}% of the MR changed"


@pytest.mark.parametrize("scenario", ["vertical 90", "vertical 270"])
@pytest.mark.parametrize("key", ["ct-head", "ct-small", "us-echo"])
def test_vertical_text_is_removed_like_horizontal_text(key, scenario):
    outcome = _clean(_scene(key, scenario))
    assert outcome.strings_removed == len(outcome.strings), outcome.strings
    assert outcome.collateral <= 0.01


@pytest.mark.parametrize("key", ["us-doppler", "us-palette", "us-echo", "ct-head", "mr-abdomen"])
def test_text_free_images_get_no_box(key):
    scenes = list(text_free_scenes([b for b in BASES if b.key == key]))
    assert scenes
    boxed = []
    for scene in scenes[:6]:
        result = clean_pixels(scene.dataset)
        assert result.ok, result.reasons
        if result.boxes:
            boxed.append((scene.scenario, result.boxes))
    assert not boxed
