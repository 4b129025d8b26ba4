"""Burned-in text on a cine (``cleaner._decide_cine``), judged against the drawn masks: the
model is asked only about candidates whose strokes stay the same from frame to frame, and text
over the moving image still goes on every frame."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from archive.deid.pixels import clean_pixels
from archive.deid.pixels.frames import decode

from .scenes import (
    BASES,
    Scene,
    Stroke,
    _at,
    _names,
    base_frames,
    burn_frames,
    judge,
    native_dataset,
)


def _lossy(frames: np.ndarray, quality: int) -> np.ndarray:
    """Each RGB frame through JPEG and back, as a lossy cine's frames come out of the decoder."""
    out = np.empty_like(frames)
    for i, frame in enumerate(frames):
        ok, data = cv2.imencode(
            ".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
        )
        assert ok
        out[i] = cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return out


def _echo_cine(colour: str, size: int) -> Scene:
    """The 30-frame colour echo with an ID burned over the beating heart on every frame, then
    JPEG-compressed (quality 70): the letters' pixels beside the moving speckle differ a little
    from frame to frame, as in a lossy cine."""
    base = next(b for b in BASES if b.key == "us-echo")
    template, frames, rep, palette = base_frames(base)
    text = "ID " + _names(random.Random("cine"))["id"]
    stroke = _at(frames.shape[1:3], Stroke(text, (0, 0), size, colour=colour), "box", base.anatomy)
    burned, (mask,) = burn_frames(frames, rep, palette, [stroke])
    before = _lossy(burned, 70)
    return Scene(
        key="us-echo-cine",
        modality="US cine",
        scenario=f"{colour} ID over the heart",
        dataset=native_dataset(template, before),
        before=before,
        strings=[(text, mask)],
        hints=[text],
    )


@pytest.mark.e2e  # a 30-frame cine end to end (~5 s)
@pytest.mark.parametrize(("colour", "size"), [("faint", 9), ("grey:0.4", 9)])
def test_a_faint_id_over_the_beating_heart_of_a_lossy_echo_cine_goes_on_every_frame(colour, size):
    """A faint ID is a weak candidate that only the model confirms.  Its letters are fainter
    than the tissue under them, whose pixels change with the heart; they stay the same on every
    frame, so the ID is still read, and removed pixel for pixel on all 30 frames."""
    scene = _echo_cine(colour, size)
    result = clean_pixels(scene.dataset, hints=scene.hints)
    assert result.ok, result.reasons
    outcome = judge(scene, decode(scene.dataset).frames, len(result.boxes))
    for string, changed in outcome.strings:
        assert changed == 1.0, f"{string}: {100 * (1 - changed):.2f}% of its pixels unchanged"


@pytest.mark.e2e  # a 30-frame cine end to end (~5 s)
def test_a_faint_clock_beside_the_beating_heart_of_a_lossy_echo_cine_goes_on_every_frame():
    """A clock changes from frame to frame like the heart beside it, but most of its strokes
    stay (the hours and minutes), and it is read and removed on every frame: only candidates
    whose strokes nearly all change are left unread."""
    base = next(b for b in BASES if b.key == "us-echo")
    template, frames, rep, palette = base_frames(base)

    def clock(i: int) -> list[Stroke]:
        stroke = Stroke(f"10:42:{i:02d}", (0, 0), 9, colour="faint")
        return [_at(frames.shape[1:3], stroke, "box", (224, 150, 284, 170))]

    burned, (mask,) = burn_frames(frames, rep, palette, clock)
    before = _lossy(burned, 70)
    ds = native_dataset(template, before)
    result = clean_pixels(ds)
    assert result.ok, result.reasons
    changed = (decode(ds).frames != before).any(axis=3)
    kept = [i for i in range(len(frames)) if not changed[i][mask[i]].all()]
    assert not kept, f"the clock left (partly) on frames {kept}"
