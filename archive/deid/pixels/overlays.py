"""Overlay removal: Overlay Plane module (PS3.3 C.9.2) and in-pixel overlays in unused high bits.

Overlay planes (repeating groups 6000-601E) can carry burned-in-looking text that is not in the
pixels at all; they are removed whole.  Retired in-pixel overlays (PS3.5 8.1.2, PS3.3 C.9.2.1.1)
live in the bits of Pixel Data above Bits Stored: the decoded (masked) frames do not contain them,
so storing the decoded frames clears them; :func:`has_high_bit_content` says whether that rewrite
is needed.
"""

from __future__ import annotations

import numpy as np
from pydicom import Dataset

__all__ = ["remove_overlay_planes", "has_high_bit_content", "GRAPHIC_ANNOTATION_SEQUENCE"]

#: (0070,0001) Graphic Annotation Sequence: presentation-state text/graphics drawn on the image.
GRAPHIC_ANNOTATION_SEQUENCE = 0x00700001


def remove_overlay_planes(ds: Dataset) -> list[str]:
    """Delete every 60xx overlay element (and graphic annotations); return what was removed."""
    removed: list[str] = []
    # Iterate tags, not elements: iterating a Dataset converts every raw element (slow, and the
    # header engine deliberately leaves untouched elements raw).
    for tag in [t for t in ds.keys() if 0x6000 <= t.group <= 0x601E and t.group % 2 == 0]:
        group = f"{tag.group:04X}"
        if tag.element == 0x3000:
            removed.append(f"overlay plane {group} data")
        del ds[tag]
    if GRAPHIC_ANNOTATION_SEQUENCE in ds:
        del ds[GRAPHIC_ANNOTATION_SEQUENCE]
        removed.append("graphic annotation sequence")
    return removed


def has_high_bit_content(ds: Dataset, frames: np.ndarray) -> bool:
    """True if native Pixel Data has bits above Bits Stored other than sign extension."""
    if ds.file_meta.TransferSyntaxUID.is_compressed:
        return False
    bits_allocated = int(ds.BitsAllocated)
    if bits_allocated not in (16, 32) or int(ds.BitsStored) >= bits_allocated:
        return False
    if int(ds.get("SamplesPerPixel", 1)) != 1:
        return False
    raw_dtype = np.dtype(f"<u{bits_allocated // 8}")
    count = frames.size
    raw = np.frombuffer(ds.PixelData, dtype=raw_dtype, count=count)
    if ds.file_meta.TransferSyntaxUID.keyword == "ExplicitVRBigEndian":
        raw = raw.byteswap()
    expected = frames.reshape(-1).astype(f"i{bits_allocated // 8}").view(raw_dtype)
    return bool(np.any(raw != expected))
