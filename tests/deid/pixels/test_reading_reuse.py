"""A series' labels are read once per place: a slice whose label equals one read before, up to
noise, borrows that reading; a slice whose label differs is read again and redacted whole."""

from __future__ import annotations

import numpy as np
import pydicom

from archive.deid.pixels import ClassicalTextDetector, clean_pixels
from archive.deid.pixels.detection import TextRegion
from archive.deid.pixels.frames import decode
from archive.deid.pixels.rapidocr import RapidOCRConfirmer

from .synthetic import Text, alpha_mask, blend, data_file, set_native_pixels


def _slice(text: str, shift: int) -> tuple[pydicom.Dataset, np.ndarray, np.ndarray]:
    """CT_small at 512x512, rolled by ``shift`` columns (each slice its own noise under the
    corner), a 9 px label at the top-left corner burned at the maximum."""
    ds = pydicom.dcmread(data_file("CT_small.dcm"))
    frame = np.kron(ds.pixel_array, np.ones((4, 4), ds.pixel_array.dtype))
    frame = np.roll(frame, shift, axis=1)
    ds.Rows, ds.Columns = frame.shape
    burned = blend(frame, alpha_mask(frame.shape, [Text(text, (4, 4), 9)]), frame.max())
    set_native_pixels(ds, burned)
    return ds, burned, burned != frame


def test_a_label_seen_before_is_not_read_again_and_another_label_is():
    confirmer = RapidOCRConfirmer()
    detector = ClassicalTextDetector(confirmer=confirmer)
    series = [
        ("ID 1234567", 1),
        ("1961-04-12", 2),
        ("ID 1234568", 3),  # one digit other than the first slice's
        ("1961-04-12", 4),
        ("ID 1234567", 13),
    ]
    calls = []
    for text, shift in series:
        ds, before, mask = _slice(text, shift)
        start = confirmer.calls
        result = clean_pixels(ds, hints=["DOE^JOHN", "1234567"], detector=detector)
        calls.append(confirmer.calls - start)
        after = decode(ds).frames[0]
        assert result.ok
        assert (after != before)[mask].all(), f"{text!r}: a pixel of the label is left"
    # The first slice of each label is read; the one-digit variant too (its crop is not the
    # first slice's plus noise), even though it comes after a slice with another label.
    assert calls[0] > 0 and calls[1] > 0 and calls[2] > 0
    # A label shown again at the same place, over other noise, borrows its earlier reading,
    # also when another label was read there in between.
    assert calls[3] == 0 and calls[4] == 0


def test_text_written_where_the_last_crop_read_as_nothing_is_read_again():
    """The last crop read at a place lends its reading to a crop the same up to compression
    noise (a mean difference of 3 levels). A short ID burned into one end of a wide crop
    changes its mean by less than that; had the crop before it read as nothing (anatomy, or
    another patient's file in the same worker), the ID would borrow "no text" and stay. A
    reading of no text is lent only where no pixel differs by a stroke's contrast."""
    rng = np.random.default_rng(7)
    background = rng.integers(90, 110, size=(40, 400), dtype=np.uint8)
    mask = alpha_mask(background.shape, [Text("A7459516", (6, 14), 12)])
    written = blend(background, mask, 40).astype(np.uint8)
    region = TextRegion(
        box=(4, 10, 396, 30), glyphs=8, strong=False, polarity="dark", reason="test"
    )
    confirmer = RapidOCRConfirmer()
    # the two crops are the same up to noise by the mean: what the old rule went by
    empty_crop, _ = confirmer._crop(background, region)
    text_crop, _ = confirmer._crop(written, region)
    assert float(np.abs(empty_crop.astype(int) - text_crop.astype(int)).mean()) <= 3.0
    assert RapidOCRConfirmer().confirm([written], region), "the ID is legible on its own"
    assert not confirmer.confirm([background], region)
    start = confirmer.calls
    assert confirmer.confirm([written], region), "the ID borrowed the empty crop's reading"
    assert confirmer.calls > start
