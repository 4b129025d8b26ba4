"""A series' labels are read once per place: a slice whose label equals one read before, up to
noise, borrows that reading; a slice whose label differs is read again and redacted whole."""

from __future__ import annotations

import numpy as np
import pydicom

from archive.deid.pixels import ClassicalTextDetector, clean_pixels
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
