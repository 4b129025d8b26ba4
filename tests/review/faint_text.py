"""Faint identifying text burned into CT_small over soft tissue (about +14 HU on ~40 HU): the kind
a teacher sees on a wide window and the automatic detector leaves; and the box a teacher draws
around it."""

from __future__ import annotations

import numpy as np

from tests.deid.pixels.synthetic import Text, alpha_mask, blend

# Where the text is drawn, in pixels of CT_small (128 × 128).
FAINT_TEXT = [Text("DOE JANE 1970", (18, 96), size=10)]
# The teacher's box around it (x, y, width, height).
TEACHER_BOX = (14, 92, 96, 18)


def burn_faint_text(ds) -> None:
    frame = ds.pixel_array
    alpha = alpha_mask(frame.shape, FAINT_TEXT)
    base = float(np.median(frame[alpha > 0.5]))
    ds.PixelData = blend(frame, alpha, base + 14).astype(frame.dtype).tobytes()


def text_mask() -> np.ndarray:
    return alpha_mask((128, 128), FAINT_TEXT) > 0.25
