"""Pixel de-identification: overlays and burned-in text on every frame (pure library, no Django).

    from archive.deid.pixels import clean_pixels
    result = clean_pixels(ds, hints=original_header_values, extra_boxes=teacher_boxes)
    if not result.ok: quarantine(result.reasons)

See :mod:`archive.deid.pixels.detection` for why the detector is what it is.
"""

from .cleaner import (
    DRAWN,
    FILL,
    BoxRecord,
    PixelCleaningResult,
    PixelPolicy,
    TextRedactionValues,
    clean_pixels,
    default_detector,
)
from .detection import Box, BurnedInTextDetector, ClassicalTextDetector, TextRegion

__all__ = [
    "DRAWN",
    "FILL",
    "Box",
    "BoxRecord",
    "BurnedInTextDetector",
    "ClassicalTextDetector",
    "PixelCleaningResult",
    "PixelPolicy",
    "TextRedactionValues",
    "TextRegion",
    "clean_pixels",
    "default_detector",
]
