"""Burned-in text detectors: the interface and the classical stroke/line detector.

Why this detector (measured on pydicom's bundled test images with synthetic identifying text
rendered at 7-28 px, see ``benchmarks/burned_in_bench.py`` and ``tests/deid/pixels``):

* **Classical stroke/line detector (default).**  Burned-in annotations are thin strokes of high
  *local* contrast, of one polarity, whose connected components line up on a common baseline with
  similar heights.  A white/black morphological top-hat at two kernel sizes, on several windows of
  the frame (full range, robust percentile window, colour chroma) and on a 2x-reduced copy for large
  fonts, followed by connected components and line grouping, finds every injected string and all
  real annotations in the ultrasound examples, including 7 px fonts, text touching the edge,
  inverted text and text over bright bone (the full-range window keeps text brighter than bone
  apart from it, the top-hat measures local, not global, contrast).  It costs about 2-4 ms for a
  512x512 frame, so every frame of a series is examined at the full resolution.
* **RapidOCR (PP-OCRv4 ONNX models shipped inside the ``rapidocr-onnxruntime`` wheel)** is used
  only as an optional *confirmer/reader* for ambiguous candidates (one or two glyphs) and to read
  tokens for the safe-list policy and header hints.  Run on whole frames it is ~10 frames/s per
  core and, with its default resizing, misses 7 px text, so it is never the only line of defence.
* **Tesseract** (Debian ``tesseract-ocr``) is deliberately *not* used here: the tests use it as an
  independent reader of the redacted output, which is only meaningful if production does not
  depend on the same engine.

Speed is never bought with missed text: strong candidates (three or more aligned glyphs, or a long
merged word) are redacted without asking a model; a model can only *add* evidence (confirm weak
candidates), it never vetoes a strong one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

try:  # OpenCV is the fast path for morphology and connected components.
    import cv2
except ImportError as exc:  # pragma: no cover - exercised only without OpenCV installed
    raise ImportError(
        "archive.deid.pixels needs OpenCV (opencv-python-headless) for text detection"
    ) from exc

__all__ = ["Box", "TextRegion", "BurnedInTextDetector", "ClassicalTextDetector", "merge_boxes"]

_NEIGHBOURS = np.ones((3, 3), np.uint8)

#: ``(x0, y0, x1, y1)`` in frame pixel coordinates, end-exclusive.
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class TextRegion:
    """One detected line (or word) of text in a frame."""

    box: Box
    glyphs: int
    strong: bool
    polarity: str  # "bright" or "dark"
    reason: str
    #: stroke minus background in units of the background's spread (robust contrast-to-noise)
    snr: float = 0.0
    #: fraction of stroke pixels close to the stroke colour (text is drawn in one colour)
    uniformity: float = 0.0
    #: median glyph height, median glyph bottom (the baseline) and mean stroke width, in frame
    #: pixels: what a piece must share with a line to be taken as part of it (0 = unknown)
    glyph_height: int = 0
    baseline: int = 0
    stroke: float = 0.0


class BurnedInTextDetector:
    """Interface of a burned-in text detector (cf. Django cache backends: required methods raise).

    ``detect`` receives the *detection views* of one frame: 2-D ``uint8`` arrays of identical
    shape (different windows of the same frame) and returns the text regions found.  Optional
    features are advertised with class attributes.
    """

    #: True when :meth:`read` returns the text of a region (needed by safe-list policies).
    supports_reading = False
    #: True when :meth:`detect` accepts ``ignore`` (a mask of pixels whose structure is not text,
    #: e.g. redaction fills and their edges, used by the verifier's re-check).
    supports_ignore = False

    def detect(
        self, views: Sequence[np.ndarray], ignore: np.ndarray | None = None
    ) -> list[TextRegion]:
        raise NotImplementedError

    def confirm(self, views: Sequence[np.ndarray], region: TextRegion) -> bool:
        """Whether a weak candidate is text.  Without a model: yes (recall first)."""
        return True

    def read(self, views: Sequence[np.ndarray], region: TextRegion) -> str | None:
        """Text read in ``region``, or None when this detector cannot read."""
        return None


def merge_boxes(boxes: Iterable[Box], gap: int = 0) -> list[Box]:
    """Union of overlapping (or closer than ``gap``) boxes, repeated until stable."""
    out = [tuple(b) for b in boxes]
    changed = True
    while changed and len(out) > 1:
        changed = False
        merged: list[tuple[int, int, int, int]] = []
        for b in out:
            for i, m in enumerate(merged):
                if (
                    b[0] <= m[2] + gap
                    and m[0] <= b[2] + gap
                    and b[1] <= m[3] + gap
                    and m[1] <= b[3] + gap
                ):
                    merged[i] = (min(b[0], m[0]), min(b[1], m[1]), max(b[2], m[2]), max(b[3], m[3]))
                    changed = True
                    break
            else:
                merged.append(b)
        out = merged
    return [tuple(int(v) for v in b) for b in out]  # type: ignore[misc]


class ClassicalTextDetector(BurnedInTextDetector):
    """Morphological stroke detector with glyph line grouping and stroke/background statistics.

    A candidate line is *strong* (redacted without asking a model) when it has the shape of text
    (three or more glyphs on a common baseline, or a long merged word) **and** its strokes stand
    out from their own background (``snr >= snr_text``).  Ultrasound speckle and colour Doppler
    also form rows of similar blobs, but their "strokes" are barely brighter than the speckle
    around them and vary in value, whereas burned-in text is drawn in one colour: candidates with
    ``snr < snr_speckle`` *and* ``uniformity < uniform_text`` are dropped without a model call.
    Everything in between is *weak*: a confirmer (model) decides, or, without one, it is redacted.

    Parameters
    ----------
    contrast : int
        Top-hat response (in 8-bit view units) that is always a stroke.
    low_contrast : int
        Smallest top-hat response accepted where the frame is locally smooth: the threshold is
        ``noise_factor`` times the local mean absolute high-pass, clipped to
        ``[low_contrast, contrast]`` (faint text over soft tissue, not over speckle).
    kernels : tuple of int
        Top-hat kernel sizes: strokes narrower than the kernel are kept.
    min_glyph_height, max_glyph_height : int
        Glyph heights accepted at full resolution (larger text is found on reduced copies).
    confirmer : BurnedInTextDetector, optional
        A model that confirms *weak* candidates and reads text (e.g. :class:`RapidOCRConfirmer`).
    """

    supports_ignore = True

    def __init__(
        self,
        *,
        contrast: int = 40,
        low_contrast: int = 12,
        noise_factor: float = 3.0,
        kernels: tuple[int, ...] = (7,),
        min_glyph_height: int = 5,
        max_glyph_height: int = 48,
        snr_text: float = 16.0,
        snr_speckle: float = 6.0,
        uniform_text: float = 0.6,
        confirmer: BurnedInTextDetector | None = None,
    ) -> None:
        self.contrast = contrast
        self.low_contrast = low_contrast
        self.noise_factor = noise_factor
        self.kernels = kernels
        self.min_glyph_height = min_glyph_height
        self.max_glyph_height = max_glyph_height
        self.snr_text = snr_text
        self.snr_speckle = snr_speckle
        self.uniform_text = uniform_text
        self.confirmer = confirmer
        self.supports_reading = bool(confirmer and confirmer.supports_reading)
        self._kernel_cache: dict[int, np.ndarray] = {}

    # -- interface -------------------------------------------------------------------------
    def detect(
        self, views: Sequence[np.ndarray], ignore: np.ndarray | None = None
    ) -> list[TextRegion]:
        regions: list[TextRegion] = []
        scale = 1
        imgs = list(views)
        keep = None if ignore is None else ~ignore
        # The verifier's re-check (``ignore`` given) asks for clearer evidence than the first
        # pass: a line just under the bar on one pass and just over it on the next is the same
        # line, and it was already judged (hysteresis, not a weaker first pass).
        snr_text = self.snr_text * (1.5 if ignore is not None else 1.0)
        while True:
            thresholds = [self._threshold(img) for img in imgs]
            for polarity in ("bright", "dark"):
                for k in self.kernels:
                    hats = [self._hat(img, k, polarity) for img in imgs]
                    # One stroke mask per polarity: the union over all windows of the frame.
                    mask = hats[0] >= thresholds[0]
                    for hat, thr in zip(hats[1:], thresholds[1:], strict=True):
                        mask |= hat >= thr
                    if keep is not None:
                        mask &= keep
                    for r in self._glyph_lines(mask, k, polarity, scale):
                        if ignore is not None and not r.strong:
                            continue  # re-check: weak shapes were judged on the first pass
                        r = self._measure(r, imgs, hats, thresholds, snr_text, keep)
                        if r is None:
                            continue
                        if scale != 1:
                            x0, y0, x1, y1 = r.box
                            r = replace(
                                r,
                                box=(x0 * scale, y0 * scale, x1 * scale, y1 * scale),
                                glyph_height=r.glyph_height * scale,
                                baseline=r.baseline * scale,
                                stroke=r.stroke * scale,
                            )
                        regions.append(r)
            # Reduced copies only look for fonts too large for the full-resolution kernel,
            # and only on large images (radiographs) where such fonts occur.
            if min(imgs[0].shape) < 1000 or scale >= 4:
                break
            imgs = [
                cv2.resize(i, (i.shape[1] // 2, i.shape[0] // 2), interpolation=cv2.INTER_AREA)
                for i in imgs
            ]
            if keep is not None:
                small = cv2.resize(
                    keep.view(np.uint8), (imgs[0].shape[1], imgs[0].shape[0]), cv2.INTER_AREA
                )
                keep = small == 1
            scale *= 2
        regions = _dedupe(regions, views[0].shape)
        # Bands between stacked lines are taken between lines confirmed on their own, before
        # weak pieces are promoted onto them.
        return _promote_neighbours(regions) + _stacked_gaps(regions)

    def confirm(self, views: Sequence[np.ndarray], region: TextRegion) -> bool:
        if self.confirmer is None:
            return True
        return self.confirmer.confirm(views, region)

    def read(self, views: Sequence[np.ndarray], region: TextRegion) -> str | None:
        if self.confirmer is None:
            return None
        return self.confirmer.read(views, region)

    # -- internals ---------------------------------------------------------------------------
    def _kernel(self, k: int) -> np.ndarray:
        if k not in self._kernel_cache:
            self._kernel_cache[k] = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
        return self._kernel_cache[k]

    def _threshold(self, img: np.ndarray) -> np.ndarray | int:
        """Per-pixel stroke threshold: low where the frame is smooth, ``contrast`` in texture."""
        if self.low_contrast >= self.contrast:
            return self.contrast
        highpass = cv2.absdiff(img, cv2.blur(img, (3, 3)))
        noise = cv2.blur(highpass, (15, 15))
        thr = cv2.multiply(noise, self.noise_factor, dtype=cv2.CV_8U)  # saturating
        return np.clip(thr, self.low_contrast, self.contrast)

    def _hat(self, img: np.ndarray, k: int, polarity: str) -> np.ndarray:
        pad = k + 2
        # Replicated padding: a glyph cut by the image edge still has background on three sides.
        padded = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        op = cv2.MORPH_TOPHAT if polarity == "bright" else cv2.MORPH_BLACKHAT
        hat = cv2.morphologyEx(padded, op, self._kernel(k))
        return hat[pad:-pad, pad:-pad]

    def _measure(
        self,
        r: TextRegion,
        imgs: Sequence[np.ndarray],
        hats: Sequence[np.ndarray],
        thresholds: Sequence[np.ndarray | int],
        snr_text: float,
        keep: np.ndarray | None = None,
    ) -> TextRegion | None:
        """Stroke-vs-background statistics of a candidate (best view); None for speckle."""
        x0, y0, x1, y1 = r.box
        h, w = imgs[0].shape
        # The background is sampled around the line too (half its height): a speckle blob sits
        # in speckle, text usually in a clear band even when it crosses anatomy.
        m = max(3, (y1 - y0) // 2)
        x0, y0, x1, y1 = max(0, x0 - m), max(0, y0 - m), min(w, x1 + m), min(h, y1 + m)
        best_snr, best_uni = float("inf"), 1.0
        for img, hat, thr in zip(imgs, hats, thresholds, strict=True):
            t = thr if isinstance(thr, int) else thr[y0:y1, x0:x1]
            strokes = hat[y0:y1, x0:x1] >= t
            n = int(np.count_nonzero(strokes))
            if n < 4:
                continue
            crop = img[y0:y1, x0:x1]
            hat_crop = hat[y0:y1, x0:x1]
            near = cv2.dilate(strokes.view(np.uint8), _NEIGHBOURS).view(bool)
            values = np.sort(crop[strokes])  # small uint8 arrays: a sort beats np.percentile
            if r.polarity == "dark":
                values = 255 - values[::-1]
            peak = float(values[(9 * n) // 10])
            # Contrast against the background's own texture at the stroke scale (the top-hat
            # of the background): speckle is as "stroky" as its blobs, soft tissue is not.
            # A fill is not background: next to a black box speckle looks like strokes on
            # flat black; measured against the speckle around it, it does not.
            outside = ~near if keep is None else (~near & keep[y0:y1, x0:x1])
            texture = hat_crop[outside]
            if texture.size >= 4:
                hats_in = np.sort(hat_crop[strokes])
                snr = float(hats_in[n // 2]) / (float(texture.mean()) + 1.0)
                background = np.sort(crop[outside])
                bmed = float(background[background.size // 2])
                if r.polarity == "dark":
                    bmed = 255.0 - bmed
                tol = max(8.0, 0.15 * (peak - bmed))
            else:
                snr, tol = 0.0, 8.0
            uni = float(n - np.searchsorted(values, peak - tol)) / n
            # Every window that shows the strokes must agree: a narrow window clips the
            # background to a flat black (bone edges in the top-of-range window would look like
            # text on black), and a Doppler map is uniform in red but not in green.
            best_snr, best_uni = min(best_snr, snr), min(best_uni, uni)
            if best_snr < self.snr_speckle and best_uni < self.uniform_text:
                return None  # speckle in this window already: the minimum can only fall
        if best_snr == float("inf"):
            best_snr = 0.0
        if best_snr < self.snr_speckle and best_uni < self.uniform_text:
            return None
        strong = r.strong and best_snr >= snr_text
        if r.strong and not strong and self.confirmer is None:
            strong = True  # without a model to ask, a text-shaped line is redacted (recall)
        if not strong and self.confirmer is None and not r.strong:
            return None
        return replace(r, strong=strong, snr=round(best_snr, 1), uniformity=round(best_uni, 2))

    def _glyph_lines(
        self, mask: np.ndarray, k: int, polarity: str, scale: int = 1
    ) -> list[TextRegion]:
        if not mask.any():
            return []
        m8 = mask.view(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(m8, connectivity=8)
        if n <= 1:
            return []
        # Stroke width of each component: twice its area over its boundary length (a bar of
        # width w >= 2 has about 2 boundary pixels per unit of length; 1-2 px strokes give 2).
        edge = m8 > cv2.erode(m8, _NEIGHBOURS, borderType=cv2.BORDER_REPLICATE)
        boundary = np.bincount(labels[edge], minlength=n)[1:]
        st = stats[1:]
        x, y, w, h, area = st[:, 0], st[:, 1], st[:, 2], st[:, 3], st[:, 4]
        fill = area / np.maximum(w * h, 1)
        min_h = self.min_glyph_height if scale == 1 else self.max_glyph_height // 2 - 2
        ok = (
            (h >= min_h)
            & (h <= self.max_glyph_height)
            & (area >= 4)
            & ((fill <= 0.85) | (w <= max(2, k // 2)))
            & (w <= 25 * h)
        )
        idx = np.nonzero(ok)[0]
        if idx.size == 0:
            return []
        return self._lines(
            x[idx], y[idx], w[idx], h[idx], fill[idx], area[idx], boundary[idx], polarity
        )

    def _lines(self, x, y, w, h, fill, area, boundary, polarity: str) -> list[TextRegion]:
        order = np.argsort(x, kind="stable")
        xs = x[order].tolist()
        ys = y[order].tolist()
        hs = h[order].tolist()
        x1s = (x + w)[order].tolist()
        y1s = (y + h)[order].tolist()
        fills = fill[order].tolist()
        areas = area[order].tolist()
        edges = boundary[order].tolist()
        n = len(xs)
        parent = list(range(n))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i in range(n):
            hi = hs[i]
            reach = x1s[i] + hi + 2
            for j in range(i + 1, n):
                if xs[j] > reach:
                    break
                hj = hs[j]
                lo_h, hi_h = (hi, hj) if hi <= hj else (hj, hi)
                if hi_h > 2.0 * lo_h:
                    continue
                overlap = min(y1s[i], y1s[j]) - max(ys[i], ys[j])
                if overlap < 0.6 * lo_h:
                    continue
                if xs[j] - x1s[i] > hi_h + 2:
                    continue
                parent[find(j)] = find(i)
        groups: dict[int, list[int]] = {}
        for i in range(n):
            groups.setdefault(find(i), []).append(i)
        out: list[TextRegion] = []
        want_weak = self.confirmer is not None
        for m in groups.values():
            glyphs = len(m)
            bx0 = min(xs[i] for i in m)
            bx1 = max(x1s[i] for i in m)
            by0 = min(ys[i] for i in m)
            by1 = max(y1s[i] for i in m)
            hh = sorted(hs[i] for i in m)[glyphs // 2]
            width = bx1 - bx0
            # A single wide component is usually a word whose glyphs touch (small fonts).
            merged_word = (
                glyphs <= 2
                and width >= 2.5 * hh
                and hh <= 20
                and sum(fills[i] for i in m) / glyphs <= 0.7
            )
            aligned = False
            if glyphs >= 3:
                # Glyphs of a line share a baseline (or a cap line): chained anatomy drifts.
                tol = 0.15 * hh + 1
                bottoms = sorted(y1s[i] for i in m)
                tops = sorted(ys[i] for i in m)
                mb, mt = bottoms[glyphs // 2], tops[glyphs // 2]
                dev_b = sorted(abs(v - mb) for v in bottoms)[glyphs // 2]
                dev_t = sorted(abs(v - mt) for v in tops)[glyphs // 2]
                aligned = (dev_b <= tol or dev_t <= tol) and (by1 - by0) <= 1.7 * hh + 2
            strong = aligned or merged_word
            # Weak candidates worth a model's look: two glyphs, or one glyph as wide as two.
            # A lone glyph (an orientation letter) cannot identify anyone.
            if not strong and (not want_weak or (glyphs == 1 and width < 1.5 * hh)):
                continue
            reason = f"{polarity} text line, {glyphs} glyph(s), height {hh} px"
            out.append(
                TextRegion(
                    (bx0, by0, bx1, by1),
                    glyphs,
                    strong,
                    polarity,
                    reason,
                    glyph_height=hh,
                    baseline=sorted(y1s[i] for i in m)[glyphs // 2],
                    stroke=round(
                        2.0 * sum(areas[i] for i in m) / max(1, sum(edges[i] for i in m)), 2
                    ),
                )
            )
        return out


def same_glyph_size(a: TextRegion, b: TextRegion) -> bool:
    """Glyph heights within ``LINE_HEIGHT_TOLERANCE`` of each other (unknown heights agree)."""
    if a.glyph_height <= 0 or b.glyph_height <= 0:
        return True
    lo, hi = sorted((a.glyph_height, b.glyph_height))
    return hi - lo <= LINE_HEIGHT_TOLERANCE * hi


def _dedupe(regions: list[TextRegion], shape: tuple[int, ...]) -> list[TextRegion]:
    """Collapse the same line found in several views/scales; a merged region is strong if any
    part is.  Only substantially overlapping boxes of the same glyph size and about the same
    height merge, so lines never chain into blocks (nor into a chain of anatomy that has the
    line's glyph size, whose box a model would judge instead of the line's).

    A weak candidate of another glyph size that covers most of a strong line is that line joined
    with what touches it (letters over bone join the bone's top-hat into one tall "glyph"): it is
    dropped, not merged, since merging would stretch the line's box over the anatomy and a model
    asked about it would only read the line again.
    """
    if not regions:
        return []
    h, w = shape[:2]
    regions = sorted(regions, key=lambda r: (not r.strong, r.box))
    out: list[TextRegion] = []
    for r in regions:
        x0, y0, x1, y1 = r.box
        box = (max(0, x0), max(0, y0), min(w, x1), min(h, y1))
        area = max(1, (box[2] - box[0]) * (box[3] - box[1]))
        for i, o in enumerate(out):
            b = o.box
            iw = min(b[2], box[2]) - max(b[0], box[0])
            ih = min(b[3], box[3]) - max(b[1], box[1])
            if iw <= 0 or ih <= 0:
                continue
            other = max(1, (b[2] - b[0]) * (b[3] - b[1]))
            if iw * ih < 0.5 * min(area, other):
                continue
            bh, rh = sorted((b[3] - b[1], box[3] - box[1]))
            if not same_glyph_size(o, r) or rh > 1.5 * bh + 2:
                if o.strong and not r.strong and iw * ih >= 0.5 * other:
                    break  # the line joined with its surroundings: drop
                continue
            nb = (min(b[0], box[0]), min(b[1], box[1]), max(b[2], box[2]), max(b[3], box[3]))
            out[i] = replace(
                o,
                box=nb,
                glyphs=max(o.glyphs, r.glyphs),
                strong=o.strong or r.strong,
                snr=max(o.snr, r.snr),
                uniformity=max(o.uniformity, r.uniformity),
            )
            break
        else:
            out.append(replace(r, box=box))
    return out


#: A piece is part of a line only if its glyphs are the line's size within this fraction.
LINE_HEIGHT_TOLERANCE = 0.3
#: Baseline (or cap line) of a piece within this fraction of the glyph height (+1 px).
LINE_ALIGN_TOLERANCE = 0.2
#: Stroke widths of a piece and its line within this factor (+0.5 px for 1-2 px strokes).
LINE_STROKE_RATIO = 1.6


def _fits_line(piece: TextRegion, line: TextRegion) -> bool:
    """Whether ``piece`` is drawn like ``line``: same polarity, glyph height within
    ``LINE_HEIGHT_TOLERANCE``, standing on its baseline (or hanging from its cap line), with the
    same stroke width.  Anatomy that touches a text line joins the stroke mask into "glyphs" of
    another height, off the baseline, with thicker strokes: it fails at least one of these."""
    h = line.glyph_height
    if piece.polarity != line.polarity or h <= 0 or piece.glyph_height <= 0:
        return False
    if abs(piece.glyph_height - h) > LINE_HEIGHT_TOLERANCE * h:
        return False
    if piece.box[3] - piece.box[1] > 1.7 * h + 2:  # one glyph the line's size, the rest not
        return False
    tol = LINE_ALIGN_TOLERANCE * h + 1
    if abs(piece.baseline - line.baseline) > tol and abs(piece.box[1] - line.box[1]) > tol:
        return False
    a, b = sorted((piece.stroke, line.stroke))
    return not (a > 0 and b > LINE_STROKE_RATIO * a + 0.5)


def _promote_neighbours(regions: list[TextRegion]) -> list[TextRegion]:
    """A weak piece drawn like a confirmed (strong) line and close to it along the line is part of
    that line (e.g. "1961" - "04" - "12" split by dashes too small to be glyphs).

    Every piece is compared with the confirmed line itself, never with another promoted piece:
    a chain of promotions cannot drift to another size or baseline.  Only the distance is
    measured to the line as grown so far.
    """
    lines = [r for r in regions if r.strong and r.glyph_height > 0]
    if not lines:
        return regions
    regions = list(regions)
    for line in lines:
        grown = [line.box]
        h = line.glyph_height
        changed = True
        while changed:
            changed = False
            for i, r in enumerate(regions):
                if r.strong or not _fits_line(r, line):
                    continue
                x0, y0, x1, y1 = r.box
                near = [b for b in grown if max(b[0] - x1, x0 - b[2]) <= 2 * h + 2]
                if near:
                    # The gap to the line is part of the line (glyphs too small or too merged
                    # to be found on their own, e.g. "HN" of a 7 px bold name).
                    x0 = min([x0] + [b[2] for b in near if b[2] < x0])
                    x1 = max([x1] + [b[0] for b in near if b[0] > x1])
                    box = (x0, y0, x1, y1)
                    regions[i] = replace(
                        r, box=box, strong=True, reason=r.reason + ", on a text line"
                    )
                    grown.append(box)
                    changed = True
    return regions


def _stacked_gaps(regions: list[TextRegion]) -> list[TextRegion]:
    """The band between two confirmed lines stacked closer than one line height.

    Small fonts with tight line spacing (a 6 px scanner header) touch the lines above and below,
    so the middle line's glyphs join them into components too tall to be glyphs and the line is
    not found on its own; once its neighbours are filled, only a few rows of it remain, too short
    to be found but still readable.  The band between its neighbours covers it.  Only lines
    confirmed on their own (not pieces promoted onto a line), of one polarity and glyph height
    (within ``LINE_HEIGHT_TOLERANCE``), overlapping horizontally, and closer than one glyph
    height (``regions`` must be those *before* promotion): a header, not anatomy between two
    unrelated shapes.
    """
    lines = sorted((r for r in regions if r.strong and r.glyph_height > 0), key=lambda r: r.box[1])
    extra: list[TextRegion] = []
    for i, a in enumerate(lines):
        ax0, ay0, ax1, ay1 = a.box
        for b in lines[i + 1 :]:
            bx0, by0, bx1, by1 = b.box
            if by0 - ay1 >= max(a.glyph_height, b.glyph_height):
                break  # sorted by top: every later line starts at least as far below
            if by0 <= ay1 or min(ax1, bx1) <= max(ax0, bx0) or b.polarity != a.polarity:
                continue
            lo, hi = sorted((a.glyph_height, b.glyph_height))
            if hi - lo > LINE_HEIGHT_TOLERANCE * hi:
                continue
            box = (min(ax0, bx0), ay1, max(ax1, bx1), by0)
            extra.append(replace(a, box=box, glyphs=0, reason="between stacked text lines"))
            break
    return extra
