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


def has_high_bit_content(ds: Dataset) -> bool:
    """True if native Pixel Data has bits above Bits Stored other than sign extension.

    Read from the stored values a frame's worth at a time: what a decoder makes of them
    (masked, or sign-extended from bit Bits Stored - 1) is computed here, so no frame is
    decoded and no copy of the whole Pixel Data is made.
    """
    if ds.file_meta.TransferSyntaxUID.is_compressed:
        return False
    bits_allocated = int(ds.BitsAllocated)
    bits_stored = int(ds.BitsStored)
    if bits_allocated not in (16, 32) or bits_stored >= bits_allocated:
        return False
    if int(ds.get("SamplesPerPixel", 1)) != 1:
        return False
    size = bits_allocated // 8
    raw_dtype = np.dtype(f"<u{size}")
    per_frame = int(ds.Rows) * int(ds.Columns)
    count = min(per_frame * int(ds.get("NumberOfFrames", 1) or 1), len(ds.PixelData) // size)
    raw = np.frombuffer(ds.PixelData, dtype=raw_dtype, count=count)
    big_endian = ds.file_meta.TransferSyntaxUID.keyword == "ExplicitVRBigEndian"
    signed = int(ds.get("PixelRepresentation", 0)) == 1
    unused = bits_allocated - bits_stored
    for start in range(0, count, max(per_frame, 1)):
        values = raw[start : start + per_frame]
        if big_endian:
            values = values.byteswap()
        if signed:
            stored = values.view(f"<i{size}")
            expected = ((stored << unused) >> unused).view(raw_dtype)
        else:
            expected = values & raw_dtype.type((1 << bits_stored) - 1)
        if np.any(values != expected):
            return True
    return False
