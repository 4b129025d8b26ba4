"""Held-out misses of ``redaction_precision_bench.py --random 12`` on the small and synthetic
images (pydicom's colour bars upscaled x3), judged against the drawn masks:
every pixel the drawing changed must change, and at most 1 % of the others."""

from __future__ import annotations

from .scenes import assert_removed_whole, cleaned, random_scene


def test_a_small_date_up_the_colour_bars_whose_last_digits_came_apart_goes_whole():
    """An 8 px serif date turned by 270 degrees over the light-green and blue bars: its digits
    touch, so it is one 33 px component and a 4 px piece.  A vertical line of one component
    was a candidate when thin and long (a small font's word), a pair never (columns of anatomy
    come in pairs): the date was dropped before any model saw it, in 4 ms.  The piece that came
    apart no longer makes the word a pair of anatomy (``detection._small_word``)."""
    scene = random_scene("sc-colour-bars", 3, 11)
    assert scene.scenario.startswith("random 11: bright, serif 8 px, 270 deg at")
    assert_removed_whole(cleaned(scene))


def test_a_yellow_date_across_two_colour_bars_goes_whole():
    """A yellow 17 px date over the border of the light-red and the green bar: over the red
    bar it is brighter in green and darker in blue, a line of each polarity on the same
    pixels.  Taken for letters and the gaps between them, neither line was grown across onto
    the green bar, and the bottom fifth of every digit stayed (``cleaner._same_strokes``)."""
    scene = random_scene("sc-colour-bars", 0, 7)
    assert scene.scenario.startswith("random 7: yellow, mono 17 px at")
    assert_removed_whole(cleaned(scene))
