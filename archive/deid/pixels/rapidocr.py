"""RapidOCR confirmer/reader: PP-OCRv4 recognition (ONNX) shipped inside ``rapidocr-onnxruntime``.

Used only on candidate crops from the classical detector (never on whole frames): it confirms
weak candidates (one or two glyphs), reads text for the safe-list policy and matches header hints.
Crops are upscaled to the recogniser's 48 px line height, so 7 px fonts are read too.  Results are
cached by crop content, so a series' fixed text layout is confirmed on each frame at the cost of a
hash when the pixels under it did not change.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence

import cv2
import numpy as np

from .detection import BurnedInTextDetector, TextRegion

__all__ = ["RapidOCRConfirmer"]


class RapidOCRConfirmer(BurnedInTextDetector):
    """Reads candidate regions with RapidOCR's text recogniser (no detection model, no download)."""

    supports_reading = True

    def __init__(self, *, min_score: float = 0.6, threads: int = 1, cache_size: int = 4096) -> None:
        from rapidocr_onnxruntime import RapidOCR

        engine = RapidOCR(
            intra_op_num_threads=threads, inter_op_num_threads=1, use_det=False, use_cls=False
        )
        self._rec = engine.text_rec
        self.min_score = min_score
        self._cache: OrderedDict[bytes, tuple[str, float]] = OrderedDict()
        self._cache_size = cache_size
        # A series' fixed text layout: the last crop read at each place.  A later frame whose
        # crop there is the same up to compression noise gets the same reading without a model
        # call (a lossy cine re-encodes static labels slightly differently on every frame).
        self._layout: OrderedDict[tuple, tuple[np.ndarray, tuple[str, float]]] = OrderedDict()

    def detect(self, views: Sequence[np.ndarray]) -> list[TextRegion]:
        raise NotImplementedError("RapidOCRConfirmer only confirms candidates")

    def _crop(self, view: np.ndarray, region: TextRegion) -> np.ndarray:
        x0, y0, x1, y1 = region.box
        h = max(1, y1 - y0)
        pad = max(2, h // 3)
        crop = view[max(0, y0 - pad) : y1 + pad, max(0, x0 - pad) : x1 + pad]
        if region.polarity == "bright":
            crop = 255 - crop  # the recogniser was trained on dark text on light paper
        scale = max(1.0, 40.0 / crop.shape[0])
        if scale > 1.0:
            crop = cv2.resize(
                crop,
                (int(crop.shape[1] * scale), int(crop.shape[0] * scale)),
                interpolation=cv2.INTER_CUBIC,
            )
        return cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_GRAY2BGR)

    def _read(self, views: Sequence[np.ndarray], region: TextRegion) -> tuple[str, float]:
        best = ("", 0.0)
        for view in views[:1]:
            crop = self._crop(view, region)
            key = (
                hashlib.blake2b(crop.tobytes(), digest_size=16).digest() + str(crop.shape).encode()
            )
            hit = self._cache.get(key)
            place = (region.box, region.polarity, crop.shape)
            if hit is None:
                seen = self._layout.get(place)
                if seen is not None and _same_up_to_noise(seen[0], crop):
                    hit = seen[1]
            if hit is None:
                result, _ = self._rec([crop])
                hit = (str(result[0][0]), float(result[0][1]))
                self._cache[key] = hit
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(key, last=True) if key in self._cache else None
            self._layout[place] = (crop, hit)
            self._layout.move_to_end(place)
            if len(self._layout) > 256:
                self._layout.popitem(last=False)
            if hit[1] > best[1] and any(c.isalnum() for c in hit[0]):
                best = hit
        return best

    def confirm(self, views: Sequence[np.ndarray], region: TextRegion) -> bool:
        text, score = self._read(views, region)
        # Speckle crops sometimes read as one letter ("H" at 0.94): one character is not
        # evidence of text, and alone it cannot identify anyone (header hints still apply).
        alnum = sum(c.isalnum() for c in text)
        return alnum >= 2 and score >= self.min_score

    def read(self, views: Sequence[np.ndarray], region: TextRegion) -> str | None:
        text, score = self._read(views, region)
        return text if score >= self.min_score else ""


def _same_up_to_noise(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal crops but for lossy-compression noise (mean absolute difference of 3 levels)."""
    return float(cv2.absdiff(a, b).mean()) <= 3.0
