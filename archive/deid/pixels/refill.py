"""Boxes filled by an earlier version that still hold the outline of what they covered.

Until 2026-12-01 a box over a flat margin kept the margin's own pixels and changed only those
bordering the letters, one level off the fill: a viewer showed a plain box, but anyone who
thresholded the downloaded pixels read the letters in outline.  Every box is now one value
(``cleaner._fill_box``).  Files already stored keep what they were written with; this module
finds their boxes that are not one value, and ``archive.services.refill`` fills them again.

A box is judged outside the other boxes of its frame (where two overlap, the later fill lies
over part of the earlier one: two values, no outline).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydicom import Dataset

from .cleaner import BoxRecord
from .frames import FrameSource


def outlined_boxes(ds: Dataset, records: Sequence[Sequence]) -> list[BoxRecord]:
    """The records of ``records`` (``(frame, x0, y0, x1, y1, reason)``, as the cleaner
    reported them) whose box in ``ds``'s pixels holds more than one value outside the other
    boxes of its frame."""
    by_frame: dict[int, list[tuple[int, int, int, int, str]]] = {}
    for record in records:
        frame, x0, y0, x1, y1 = (int(v) for v in record[:5])
        reason = str(record[5]) if len(record) > 5 else ""
        by_frame.setdefault(frame, []).append((x0, y0, x1, y1, reason))
    if not by_frame:
        return []
    source = FrameSource(ds)
    found: list[BoxRecord] = []
    for index, pixels in source.frames():
        boxes = by_frame.get(index)
        if not boxes:
            continue
        rows, cols = pixels.shape[:2]
        for x0, y0, x1, y1, reason in boxes:
            x0, y0 = max(0, min(x0, cols)), max(0, min(y0, rows))
            x1, y1 = max(x0, min(x1, cols)), max(y0, min(y1, rows))
            alone = np.ones((y1 - y0, x1 - x0), bool)
            for a0, b0, a1, b1, _ in boxes:
                if (a0, b0, a1, b1) != (x0, y0, x1, y1):
                    alone[max(b0 - y0, 0) : max(b1 - y0, 0), max(a0 - x0, 0) : max(a1 - x0, 0)] = (
                        False
                    )
            crop = pixels[y0:y1, x0:x1][alone]
            if len(crop) and len(np.unique(crop.reshape(len(crop), -1), axis=0)) > 1:
                found.append((index, x0, y0, x1, y1, reason))
        if index >= max(by_frame):
            break
    return found


__all__ = ["outlined_boxes"]
