"""Burned-in text detectors: the interface and the classical stroke/line detector.

Why this detector (measured with ``benchmarks/redaction_precision_bench.py``: pydicom's bundled
CT, MR, NM, ultrasound and secondary-capture images with synthetic identifying text of 7-28 px in
five fonts, bright, grey, faint, dark, inverted, vertical, on banners, over anatomy, speckle and
vendor text, and text-free images; see that script for the figures):

* **Candidates: a classical stroke/line detector.**  Burned-in annotations are thin strokes of
  high *local* contrast, of one polarity, whose connected components line up on a common
  baseline with similar heights.  A white/black morphological top-hat on several windows of the
  frame (full range, a top-of-range window, a robust percentile window; for colour: luminance
  and the three channels), connected components and line grouping find text of every size we
  draw, cut by the image edge, inverted, over bone or Doppler colour.  Lines are grouped along
  both axes, so text rotated by 90 or 270 degrees (a name written up the image edge) is found
  like horizontal text.  It costs a few ms per 512x512 frame, so every frame is examined at full
  resolution.  On a busy texture (the 1024x1024 shoulder MR) letters join the blobs of their
  size above and below them into a group that is no line: such a group is split into runs of
  one height on one baseline (``_baseline_runs``), which the model must read (never text on
  shape or contrast alone, read under a budget of their own, ``PixelPolicy.max_run_calls``).
  Where half a large name's letters touch the texture, not even a run is left: on such a
  frame the strokes standing twice over the threshold are grouped once more
  (``ClassicalTextDetector._standing_out``); the texture hardly ever stands out so, and the
  lines found are read as runs.  A large name hardly darker or brighter than the texture's
  own dips and blobs (black at 0 over near-black noise, faint over muscle) joins them in
  every view; its fully inked pixels, of one value, are a spike of the histogram around them,
  and in a window of such pixels it stands alone (``frames._in_one_value``, read by
  ``cleaner._in_one_value``).
  On colour ultrasound, letters over speckle or Doppler touch its blobs and the Doppler box's
  border at the usual threshold; their cores, strokes rising twice ``contrast``, without
  straight rules, are grouped too (``_cores``), and so are the strokes along a long horizontal
  border with the border taken out (``_beside_rules``: a small grey name on the box's edge).
* **Decision: geometry first, then the recogniser.**  A line of four or more aligned glyphs
  whose strokes stand well out of their own background (``snr >= snr_text``) is text: it is
  redacted without asking a model (a name on every slice of a CT series costs no model call).
  Everything else that is not speckle (low contrast against the background's own texture *and*
  strokes of many values) is *weak*: RapidOCR's PP-OCRv4 recogniser (``rapidocr.py``) reads the
  crop, turned upright for vertical lines, and only a confident reading of two or more letters
  or digits makes it text.  Anatomy (bowel loops, vessels, bone edges, speckle) forms rows of
  similar blobs too, but reads as nothing: before the recogniser decided every weak candidate,
  the abdominal MR of the benchmark lost up to a quarter of its pixels to such "lines".
* **Whole lines.**  A line's box grows along its axis over every piece drawn like it (same
  polarity, glyph height, baseline and stroke width) and over punctuation between them, so a
  date split by dashes or a name with a caret is redacted whole, never with holes.  Once a
  line is taken, the cleaner has the recogniser read past its ends and grows the box over the
  characters read at the line's pitch (letters crossing anatomy are no glyphs here), and reads
  the slot one pitch past a block of two stacked lines (``cleaner._complete_line``,
  ``cleaner._next_in_stack``); an end read unsurely is read again in the line's own view and
  the colour channels.  A small font's line is grown across over its ink connected to its
  letters, where they cross onto another background (``cleaner._complete_across``).
* The DB text detector in the same wheel was measured as a whole-frame alternative (the
  benchmark's baseline): it misses small fonts, boxes anatomy on most text-free images, and
  costs 0.2-1.2 s a frame.  **Tesseract** (Debian ``tesseract-ocr``) is deliberately *not* used:
  the tests use it as an independent reader of the redacted output.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

try:  # OpenCV is the fast path for morphology and connected components.
    import cv2
except ImportError as exc:  # pragma: no cover - exercised only without OpenCV installed
    raise ImportError(
        "archive.deid.pixels needs OpenCV (opencv-python-headless) for text detection"
    ) from exc

__all__ = [
    "Box",
    "TextRegion",
    "BurnedInTextDetector",
    "ClassicalTextDetector",
    "ink_span",
    "merge_boxes",
]

_NEIGHBOURS = np.ones((3, 3), np.uint8)

#: ``(x0, y0, x1, y1)`` in frame pixel coordinates, end-exclusive.
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class TextRegion:
    """One detected line (or word) of text in a frame.

    For a vertical line (``vertical``) "height", "baseline" and "stroke" are measured across
    the line, i.e. along the x axis: the geometry of the text as if it were turned upright.
    """

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
    #: the line runs top to bottom (text rotated by 90 or 270 degrees)
    vertical: bool = False
    #: the strokes' value (90th percentile, inverted for dark text) in detection view ``view``
    #: where the line stands out best; -1 when unknown
    ink: float = -1.0
    view: int = 0
    #: the ink's contrast to the background's median in that view
    depth: float = 0.0
    #: for a piece taken as part of a line (``_promote_neighbours``): that line's box; the
    #: piece is text only if the line is
    line: Box | None = None
    #: split out of a group of anatomy blobs as a run on one baseline (``_baseline_runs``)
    run: bool = False


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

    def finds_none(self, views: Sequence[np.ndarray], polarity: str) -> bool:
        """Whether :meth:`detect` on ``views`` (no ``ignore``) surely returns no region of
        ``polarity``, found more cheaply than by detecting.  Without such a way: never sure."""
        return False

    def confirm(self, views: Sequence[np.ndarray], region: TextRegion) -> bool:
        """Whether a weak candidate is text.  Without a model: yes (recall first)."""
        return True

    def read(self, views: Sequence[np.ndarray], region: TextRegion) -> str | None:
        """Text read in ``region``, or None when this detector cannot read."""
        return None

    def refutes(self, views: Sequence[np.ndarray], region: TextRegion) -> bool:
        """Whether a model reads nothing at all in a text-shaped ``region`` (so it is not
        text).  Without a model: never."""
        return False

    def extent(self, views: Sequence[np.ndarray], region: TextRegion) -> Box | None:
        """The part of ``region`` where a model read characters, or None (unknown)."""
        return None

    def characters(
        self, views: Sequence[np.ndarray], region: TextRegion
    ) -> list[tuple[float, float]] | None:
        """Characters a model read along ``region``'s line: (centre in frame pixels along the
        line's axis, probability); None when this detector cannot read or read nothing."""
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


def _transpose(box: Box) -> Box:
    x0, y0, x1, y1 = box
    return (y0, x0, y1, x1)


class ClassicalTextDetector(BurnedInTextDetector):
    """Morphological stroke detector with glyph line grouping and stroke/background statistics.

    A candidate line is *strong* (redacted without asking a model) when it has the shape of
    text (``strong_glyphs`` or more glyphs on a common baseline, or a long merged word) **and**
    its strokes stand out from their own background (``snr >= snr_text``).  Ultrasound speckle
    and colour Doppler also form rows of similar blobs, but their "strokes" are barely brighter
    than the speckle around them and vary in value, whereas burned-in text is drawn in one
    colour: candidates with ``snr < snr_speckle`` *and* ``uniformity < uniform_text`` are
    dropped without a model call.  Everything in between is *weak*: a confirmer (model)
    decides, or, without one, it is redacted.

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
        strong_glyphs: int = 4,
        snr_pair: float = 8.0,
        uniform_clipped: float = 0.45,
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
        self.strong_glyphs = strong_glyphs
        self.snr_pair = snr_pair
        self.uniform_clipped = uniform_clipped
        self.confirmer = confirmer
        self.supports_reading = bool(confirmer and confirmer.supports_reading)
        self._kernel_cache: dict[int, np.ndarray] = {}
        self._noise_lut: np.ndarray | None = None

    # -- interface -------------------------------------------------------------------------
    def detect(
        self, views: Sequence[np.ndarray], ignore: np.ndarray | None = None
    ) -> list[TextRegion]:
        regions: list[TextRegion] = []
        unions: dict[str, np.ndarray] = {}
        scale = 1
        imgs = list(views)
        keep = None if ignore is None else ~ignore
        # The verifier's re-check (``ignore`` given) asks for clearer evidence than the first
        # pass: a line just under the bar on one pass and just over it on the next is the same
        # line, and it was already judged (hysteresis, not a weaker first pass).
        snr_text = self.snr_text * (1.5 if ignore is not None else 1.0)
        bright_only = set(getattr(views, "bright_only", ()))
        colour = getattr(views, "chroma", None) is not None
        while True:
            every_hat, thresholds = self._hats(imgs, ("bright", "dark"), bright_only)
            for polarity in ("bright", "dark"):
                for k in self.kernels:
                    hats = every_hat[polarity, k]
                    found, union = self._candidates(
                        hats, thresholds, keep, k, polarity, scale, views
                    )
                    if scale == 1:
                        unions[polarity] = (
                            union if polarity not in unions else unions[polarity] | union
                        )
                    for r in found:
                        if ignore is not None and not r.strong:
                            continue  # re-check: weak shapes were judged on the first pass
                        r = self._measure(r, imgs, hats, thresholds, snr_text, keep, colour)
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
            if min(imgs[0].shape) < REDUCED_FROM or scale >= 4:
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
        # (A grey frame's own windows, not a window searched on its own: ``stored`` is set
        # only on those.)
        grey = getattr(views, "stored", None) is not None
        regions = _without_counters(_with_cores(regions, views[0].shape, grey, a_mosaic(views)))
        regions = [_extend_ends(r, unions.get(r.polarity), views) for r in regions]
        # Bands between stacked lines are taken between lines confirmed on their own, before
        # weak pieces are promoted onto them.
        return _promote_neighbours(regions) + _stacked_gaps(regions)

    def finds_none(self, views: Sequence[np.ndarray], polarity: str) -> bool:
        """No candidate line of ``polarity`` at all (``_candidates``), so no region of it.

        Every region :meth:`detect` returns is one of its candidates, measured, deduplicated,
        grown along its line or promoted onto a line, each keeping its polarity (a band
        between stacked lines is of their polarity).  The stroke masks are :meth:`detect`'s:
        the threshold's box is found from this polarity's top-hats alone, and a pixel outside
        it has each of them under ``low_contrast``, which no threshold lies under
        (``_threshold``).  A text-free CT slice's bottom-of-range window has no dark
        candidate: it costs the dark top-hat and its threshold, not the bright ones, the
        measures and the lines' growth.  Views large enough for reduced copies
        (``REDUCED_FROM``) are not looked at here (never sure)."""
        if type(self).detect is not ClassicalTextDetector.detect:
            return False  # (a subclass's own detection: not this one's candidates)
        imgs = list(views)
        if min(imgs[0].shape) >= REDUCED_FROM:
            return False
        every_hat, thresholds = self._hats(
            imgs, (polarity,), set(getattr(views, "bright_only", ()))
        )
        for k in self.kernels:
            hats = every_hat[polarity, k]
            found, _union = self._candidates(hats, thresholds, None, k, polarity, 1, views)
            if found:
                return False
        return True

    def _hats(
        self, imgs: list[np.ndarray], polarities: Sequence[str], bright_only: set[int]
    ) -> tuple[dict[tuple[str, int], list[np.ndarray]], list[np.ndarray | int]]:
        """Every top-hat of ``polarities`` by (polarity, kernel), one per view, and each view's
        threshold from them: the thresholds are needed only where one of them lies between
        ``low_contrast`` and ``contrast`` (``_threshold``), so every top-hat comes first."""
        supports = [_support(img, _SUPPORT_MARGIN + max(self.kernels)) for img in imgs]
        every_hat = {
            # A view that shows only what lies above a field (``bright_only``) has nothing
            # dark to show: its black-hat is the gaps between bright things.
            (polarity, k): [
                np.zeros_like(img)
                if polarity == "dark" and i in bright_only
                else self._hat(img, k, polarity, s)
                for i, (img, s) in enumerate(zip(imgs, supports, strict=True))
            ]
            for polarity in polarities
            for k in self.kernels
        }
        thresholds = [
            self._threshold(img, [hats[i] for hats in every_hat.values()], supports[i])
            for i, img in enumerate(imgs)
        ]
        return every_hat, thresholds

    def _candidates(self, hats, thresholds, keep, k, polarity, scale, views):
        """Glyph lines of the stroke masks of one polarity.

        Monochrome windows: one mask, the union over the windows (a letter faint in one window
        is whole in another).  Colour channels (``views.separate``): one mask per channel as
        well, since white text over yellow Doppler touches the Doppler in luminance and in red
        and green (and joins it into blobs), but stands alone in blue.
        """
        masks = [hat >= thr for hat, thr in zip(hats, thresholds, strict=True)]
        union = masks[0] | masks[1] if len(masks) > 1 else masks[0].copy()
        for m in masks[2:]:
            union |= m
        chosen = [union]
        for index in getattr(views, "separate", ()):
            if index < len(masks):
                chosen.append(masks[index])  # a mask of its own: the union is another array
        cores = getattr(views, "chroma", None) is not None and scale == 1
        if cores:
            chosen.append(_cores(hats[0], 2 * self.contrast))
            chosen.append(_beside_rules(union.view(np.uint8)))
        first_core = len(chosen) - 2  # (colour: the cores, then the strokes beside a border)
        out: list[TextRegion] = []
        seen: set[tuple] = set()
        for index, mask in enumerate(chosen):
            if keep is not None:
                mask &= keep
            for line in self._glyph_lines(mask, k, polarity, scale):
                # The same line in several masks is measured once.
                key = (line.box, line.vertical)
                if key not in seen:
                    seen.add(key)
                    if (
                        cores
                        and index > first_core
                        and (line.vertical or line.glyph_height > _BESIDE_RULE_HEIGHT)
                    ):
                        continue  # (beside a border: only a small font's horizontal line)
                    if cores and index >= first_core:
                        # Never text on shape alone: what rises that high over speckle is
                        # also the Doppler's brightest blobs, and the model cuts the line to
                        # the characters it reads.
                        line = replace(line, strong=False, reason=line.reason + ON_CORES)
                    out.append(line)
        if scale == 1 and min(union.shape) >= BUSY_FRAME and any(line.run for line in out):
            # (Runs split out of groups that are no line: letters joined with the texture.)
            out += self._standing_out(hats, thresholds, keep, k, polarity, seen)
        elif (
            scale == 1
            and min(union.shape) < BUSY_FRAME
            and getattr(views, "stored", None) is not None
            and len(out) >= BUSY_MASK_LINES
        ):
            # A smaller grey frame's own windows, as busy: letters joined with the anatomy
            # they touch, where the mask found no line of them (below).
            out += [
                s
                for s in self._standing_out(hats, thresholds, keep, k, polarity, seen, False)
                if not any(_meet(s.box, line.box) and not _joined(line, s) for line in out)
            ]
        return out, union

    def _standing_out(
        self, hats, thresholds, keep, k, polarity, seen, across: bool = True
    ) -> list[TextRegion]:
        """Lines of the strokes that stand ``STANDING_OUT`` times over the stroke threshold,
        on a large frame (``BUSY_FRAME``) whose mask holds runs (``_baseline_runs``: a busy
        texture), as runs for the model to read.

        On the 1024 x 1024 shoulder MR the threshold, made from the 3 x 3 high-pass, lies under
        most of the texture's top-hat (the 7 px kernel sees blobs the high-pass does not), so
        the letters of a 26 px name join the blobs around them into a mask where nothing is a
        line, nor a run (``_baseline_runs`` needs neighbours of one height, and half the
        letters touch anatomy).  The letters stand twice over the threshold; the texture
        hardly ever does (on the shoulder: a handful of aligned rows of four glyphs or more).
        Such a line is never text on shape alone: like a run it is read by the model under
        ``PixelPolicy.max_run_calls``.

        On a smaller grey frame as busy (``BUSY_MASK_LINES``; ``across`` False: horizontal
        lines only) the same happens with fewer letters: over the 300 x 484 abdominal MR a
        grey 14 px ID (ink ~665 over ~221, as plain as any label) had its "0" and "4" joined
        by the 4's bar and the texture under the "1", and its "4" and "2" joined with the body
        wall: a 33 px "glyph" and a component too large for one, no line and no run, and
        nothing of the ID was boxed.  At twice the threshold its eight letters stand apart,
        on one line.  Columns standing out there are the organs' edges, read as a row of
        blobs turned by 90 degrees.
        """
        mask = np.zeros(hats[0].shape, bool)
        for hat, thr in zip(hats, thresholds, strict=True):
            if isinstance(thr, int):
                level: np.ndarray | int = min(255, STANDING_OUT * thr)
            else:
                level = cv2.multiply(thr, STANDING_OUT)  # saturating at 255
            mask |= hat >= level
        if keep is not None:
            mask &= keep
        out: list[TextRegion] = []
        for line in self._glyph_lines(mask, k, polarity):
            key = (line.box, line.vertical)
            if not line.strong or line.glyphs < RUN_GLYPHS or key in seen:
                continue  # (strong here: four or more glyphs on one line)
            if line.vertical and not across:
                continue  # (a smaller frame's: its organs' edges, below)
            seen.add(key)
            out.append(
                replace(
                    line,
                    strong=False,
                    run=True,
                    reason=line.reason + _STANDING,
                )
            )
        return out

    def confirm(self, views: Sequence[np.ndarray], region: TextRegion) -> bool:
        if self.confirmer is None:
            return True
        return self.confirmer.confirm(views, region)

    def read(self, views: Sequence[np.ndarray], region: TextRegion) -> str | None:
        if self.confirmer is None:
            return None
        return self.confirmer.read(views, region)

    def refutes(self, views: Sequence[np.ndarray], region: TextRegion) -> bool:
        return self.confirmer is not None and self.confirmer.refutes(views, region)

    def extent(self, views: Sequence[np.ndarray], region: TextRegion) -> Box | None:
        return None if self.confirmer is None else self.confirmer.extent(views, region)

    def characters(
        self, views: Sequence[np.ndarray], region: TextRegion
    ) -> list[tuple[float, float]] | None:
        return None if self.confirmer is None else self.confirmer.characters(views, region)

    # -- internals ---------------------------------------------------------------------------
    def _kernel(self, k: int) -> np.ndarray:
        if k not in self._kernel_cache:
            self._kernel_cache[k] = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
        return self._kernel_cache[k]

    def _threshold(
        self, img: np.ndarray, hats: Sequence[np.ndarray] = (), within: Window | None = None
    ) -> np.ndarray | int:
        """Per-pixel stroke threshold: low where the frame is smooth, ``contrast`` in texture.

        ``hats``: every top-hat of ``img`` the threshold is compared with.  It lies between
        ``low_contrast`` and ``contrast``, so it decides nothing where every hat lies under
        ``low_contrast``: the threshold is filtered only in the box of the pixels where one
        reaches it (with the filters' reach around it); elsewhere it is ``low_contrast`` (on
        a text-free CT slice the box is the body's outline, a third of the frame).  Without
        ``hats``, everywhere.  ``within``: the hats' support (``_support``), outside which
        they are zero; that box is looked for only there."""
        if self.low_contrast >= self.contrast:
            return self.contrast
        if self._noise_lut is None:
            # ``noise_factor`` times the noise, saturating, clipped: one table lookup per pixel
            # instead of a multiplication and a clip (the table is made by the same operations).
            every = cv2.multiply(np.arange(256, dtype=np.uint8), self.noise_factor, dtype=cv2.CV_8U)
            self._noise_lut = np.clip(every, self.low_contrast, self.contrast).astype(np.uint8)
        rows, cols = img.shape[:2]
        y0, y1, x0, x1 = 0, rows, 0, cols
        if hats:
            if within is not None:
                hats = [hat[within] for hat in hats]
            highest = hats[0]
            for hat in hats[1:]:
                highest = cv2.max(highest, hat)
            _, deciding = cv2.threshold(highest, self.low_contrast - 1, 255, cv2.THRESH_BINARY)
            x, y, w, h = cv2.boundingRect(deciding)
            if w == 0 or h == 0:
                return int(self._noise_lut[0])
            if within is not None:
                x, y = x + within[1].start, y + within[0].start
            # The 15 x 15 mean of the 3 x 3 high-pass reaches 8 pixels: inside the box it is
            # what it is over the whole frame (at the frame's edges the same border rule).
            y0, y1 = max(0, y - _THRESHOLD_REACH), min(rows, y + h + _THRESHOLD_REACH)
            x0, x1 = max(0, x - _THRESHOLD_REACH), min(cols, x + w + _THRESHOLD_REACH)
        part = img[y0:y1, x0:x1]
        highpass = cv2.absdiff(part, cv2.blur(part, (3, 3)))
        noise = cv2.blur(highpass, (15, 15))
        thr = cv2.LUT(noise, self._noise_lut)
        if (y1 - y0, x1 - x0) == (rows, cols):
            return thr
        out = np.full(img.shape, self._noise_lut[0], np.uint8)
        out[y0:y1, x0:x1] = thr
        return out

    def _hat(
        self, img: np.ndarray, k: int, polarity: str, support: Window | None = None
    ) -> np.ndarray:
        part = img if support is None else img[support]
        pad = k + 2
        # Replicated padding: a glyph cut by the image edge still has background on three sides.
        padded = cv2.copyMakeBorder(part, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        op = cv2.MORPH_TOPHAT if polarity == "bright" else cv2.MORPH_BLACKHAT
        hat = cv2.morphologyEx(padded, op, self._kernel(k))[pad:-pad, pad:-pad]
        if support is None:
            return hat
        out = np.zeros(img.shape, np.uint8)  # both hats of an all-zero neighbourhood are zero
        out[support] = hat
        return out

    def _measure(
        self,
        r: TextRegion,
        imgs: Sequence[np.ndarray],
        hats: Sequence[np.ndarray],
        thresholds: Sequence[np.ndarray | int],
        snr_text: float,
        keep: np.ndarray | None = None,
        colour: bool = False,
    ) -> TextRegion | None:
        """Stroke-vs-background statistics of a candidate; None for speckle.

        The evidence is the best *trusted* view: the full-range view (the first) always is;
        a window (top of range, percentile, stretched) only where it leaves the background
        around the candidate unclipped, since a narrow window turns bone edges into "strokes
        on flat black".  Coloured text over colour Doppler stands out in one channel only, so
        the views are not required to agree.
        """
        x0, y0, x1, y1 = r.box
        h, w = imgs[0].shape
        # The background is sampled around the line too (half its height): a speckle blob sits
        # in speckle, text usually in a clear band even when it crosses anatomy.
        across = (x1 - x0) if r.vertical else (y1 - y0)
        m = max(3, across // 2)
        x0, y0, x1, y1 = max(0, x0 - m), max(0, y0 - m), min(w, x1 + m), min(h, y1 + m)
        best: tuple[float, float, float, int, float] | None = None
        clipped_only: tuple[float, float, float, int, float] | None = None
        for index, (img, hat, thr) in enumerate(zip(imgs, hats, thresholds, strict=True)):
            t = thr if isinstance(thr, int) else thr[y0:y1, x0:x1]
            strokes = hat[y0:y1, x0:x1] >= t
            n = int(np.count_nonzero(strokes))
            if n < 4:
                continue
            # A view counts as evidence only where the line has strokes of its own: in the
            # margin its background is sampled from lie its neighbours' strokes (the gaps
            # between a bright ID's letters, seen as dark strokes at the top of the range, made
            # the dark anatomy under the ID a strong line of snr 251 with none inside it).
            bx0, by0, bx1, by1 = r.box
            if np.count_nonzero(strokes[by0 - y0 : by1 - y0, bx0 - x0 : bx1 - x0]) < 4:
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
            clipped = False
            if texture.size >= 4:
                hats_in = np.sort(hat_crop[strokes])
                snr = float(hats_in[n // 2]) / (float(texture.mean()) + 1.0)
                background = np.sort(crop[outside])
                bmed = float(background[background.size // 2])
                if index > 0:
                    flat = np.count_nonzero((background == 0) | (background == 255))
                    clipped = flat > 0.5 * background.size
                if r.polarity == "dark":
                    bmed = 255.0 - bmed
                tol = max(8.0, 0.15 * (peak - bmed))
                depth = peak - bmed
            else:
                snr, tol, depth = 0.0, 8.0, 0.0
            uni = float(n - np.searchsorted(values, peak - tol)) / n
            if clipped and uni >= self.uniform_clipped and r.glyphs >= 3:
                # Letters burned at the top of the range, alone in the top window: strokes of
                # one value on a clipped background.  Bone edges clipped by the window ramp up
                # to the top instead, and their "strokes" take every value of the window.
                clipped = False
            if clipped:
                # Evidence from a clipping window counts only if no trusted view shows the
                # strokes at all, and then as the weakest of them (the old, cautious rule).
                if clipped_only is None:
                    clipped_only = (snr, uni, peak, index, depth)
                else:
                    clipped_only = (
                        min(clipped_only[0], snr),
                        min(clipped_only[1], uni),
                        clipped_only[2],
                        clipped_only[3],
                        clipped_only[4],
                    )
                continue
            if best is None or (snr, uni) > best[:2]:
                best = (snr, uni, peak, index, depth)
        if best is None:
            best = clipped_only
        if best is None:
            return None
        best_snr, best_uni, ink, view, depth = best
        if best_snr < self.snr_speckle and best_uni < self.uniform_text and not r.run:
            # (A run split out of anatomy is not judged by contrast: letters 30-40 levels over
            # a busy texture measure as low and as mixed as the texture's own blobs.)
            if not (colour and _at_the_end(r, imgs[0], hats[0], thresholds[0])):
                return None
            r = replace(r, reason=r.reason + AT_THE_END)
        if r.glyphs == 2 and best_snr < self.snr_pair and not r.strong:
            return None  # a pair of blobs of little contrast: anatomy, not worth a model call
        strong = r.strong and best_snr >= snr_text
        if r.strong and not strong and self.confirmer is None:
            strong = True  # without a model to ask, a text-shaped line is redacted (recall)
        if not strong and self.confirmer is None and not r.strong:
            return None
        return replace(
            r,
            strong=strong,
            snr=round(best_snr, 1),
            uniformity=round(best_uni, 2),
            ink=ink,
            view=view,
            depth=max(0.0, depth),
        )

    def _glyph_lines(
        self, mask: np.ndarray, k: int, polarity: str, scale: int = 1
    ) -> list[TextRegion]:
        m8 = mask.view(np.uint8)
        per_row = cv2.reduce(m8, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
        if int(per_row.sum()) < 8:  # not even two glyphs of four pixels
            return []
        # Labelling costs in proportion to the area scanned: only the strokes' bounding box is
        # labelled, with a row and column of background around it (the erosion below sees the
        # same neighbours as in the whole mask), and of its rows only those with strokes and
        # one empty row on each side of them: no component crosses an empty row, so leaving
        # the other empty rows out changes no component (a corner label and the anatomy's
        # edges leave most rows of a CT frame empty).
        # (The box from the strokes per row, and per column in their rows: cheaper than
        # cv2.boundingRect, which scans the whole mask.)
        used = np.flatnonzero(per_row)
        by, bh = int(used[0]), int(used[-1] - used[0]) + 1
        used = np.flatnonzero(m8[by : by + bh].max(axis=0))  # (cv2.reduce by column is slow)
        bx, bw = int(used[0]), int(used[-1] - used[0]) + 1
        ox, oy = max(0, bx - 1), max(0, by - 1)
        m8 = m8[oy : by + bh + 1, ox : bx + bw + 1]
        full = per_row[oy : by + bh + 1] > 0
        near = full.copy()
        near[1:] |= full[:-1]
        near[:-1] |= full[1:]
        rows = np.flatnonzero(near)
        if rows.size < 0.8 * near.size:
            m8 = m8[rows]
        else:
            rows = np.arange(near.size)
        n, labels, stats = _components(m8)
        if n <= 1:
            return []
        boundary: np.ndarray | None = None  # measured once a component may be a glyph
        st = stats[1:]
        # A component's rows are consecutive rows of the frame (it crosses no left-out row).
        x, y, w, h, area = st[:, 0] + ox, rows[st[:, 1]] + oy, st[:, 2], st[:, 3], st[:, 4]
        fill = area / np.maximum(w * h, 1)
        min_h = self.min_glyph_height if scale == 1 else self.max_glyph_height // 2 - 2
        out: list[TextRegion] = []
        # Horizontal lines, then vertical ones: the same glyph table seen transposed (text
        # turned by 90 or 270 degrees has the geometry of upright text along the other axis).
        for vertical in (False, True):
            gx, gy, gw, gh = (y, x, h, w) if vertical else (x, y, w, h)
            ok = (
                (gh >= min_h)
                & (gh <= self.max_glyph_height)
                & (area >= 4)
                & ((fill <= 0.85) | (gw <= max(2, k // 2)))
                & (gw <= 25 * gh)
            )
            idx = np.nonzero(ok)[0]
            if idx.size == 0:
                continue
            if boundary is None:
                # Stroke width of each component: twice its area over its boundary length (a
                # bar of width w >= 2 has about 2 boundary pixels per unit of length; 1-2 px
                # strokes give 2).
                edge = m8 > cv2.erode(m8, _NEIGHBOURS, borderType=cv2.BORDER_REPLICATE)
                boundary = np.bincount(labels[edge], minlength=n)[1:]
            lines = self._lines(
                gx[idx], gy[idx], gw[idx], gh[idx], fill[idx], area[idx], boundary[idx], polarity
            )
            if vertical:
                # A vertical line needs three glyphs: pairs and single "words" of touching
                # glyphs are what columns of anatomy look like transposed (1,555 such
                # candidates on the benchmark's images, none of them text); only the word of
                # a small font, thin and long (``_small_word``), is one component whatever
                # its direction (or two: the word and a piece of it that came apart).
                lines = [
                    replace(
                        line,
                        box=_transpose(line.box),
                        vertical=True,
                        reason=line.reason.replace("text line", "vertical text line"),
                    )
                    for line in lines
                    if line.glyphs >= 3 or _small_word(line)
                ]
            out.extend(lines)
        return out

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

        pairs = list(_neighbour_pairs(order, x, y, w, h))
        for i, j in pairs:
            parent[find(j)] = find(i)
        groups: dict[int, list[int]] = {}
        for i in range(n):
            groups.setdefault(find(i), []).append(i)
        out: list[TextRegion] = []
        want_weak = self.confirmer is not None
        runs: list[list[int]] = []
        if want_weak:
            runs = _baseline_runs(groups, pairs, ys, y1s, hs)
        every = list(groups.values())
        for index, m in enumerate(every + runs):
            if len(m) == 1:
                # A lone component is a candidate only as a word whose glyphs touch
                # (``merged_word`` below), measured before the rest: most components are not.
                (i,) = m
                if not _word_shaped(x1s[i] - xs[i], hs[i], fills[i]):
                    continue
            split = index >= len(every)
            glyphs = len(m)
            bx0 = min(xs[i] for i in m)
            bx1 = max(x1s[i] for i in m)
            by0 = min(ys[i] for i in m)
            by1 = max(y1s[i] for i in m)
            hh = sorted(hs[i] for i in m)[glyphs // 2]
            if glyphs >= 3:
                # Across the line, the band of the typical glyph: a letter joined with the
                # anatomy it touches must not stretch the line's box over that anatomy.
                mt = sorted(ys[i] for i in m)[glyphs // 2]
                mb = sorted(y1s[i] for i in m)[glyphs // 2]
                slack = 0.35 * hh + 1
                by0 = max(by0, min(ys[i] for i in m if ys[i] >= mt - slack))
                by1 = min(by1, max(y1s[i] for i in m if y1s[i] <= mb + slack))
            width = bx1 - bx0
            # A single wide component is usually a word whose glyphs touch (small fonts).
            merged_word = glyphs <= 2 and _word_shaped(width, hh, sum(fills[i] for i in m) / glyphs)
            aligned = glyphs >= 3 and _on_one_line(
                [ys[i] for i in m], [y1s[i] for i in m], hh, by1 - by0
            )
            if split and not aligned:
                continue
            # A run split out of a group (``_baseline_runs``) is never text on shape alone: the
            # model reads it, like any candidate found among anatomy.
            strong = aligned and glyphs >= self.strong_glyphs and not split
            # Weak candidates worth a model's look: a short line, two glyphs, or one component
            # as wide as a word (small fonts whose glyphs touch).  A lone glyph (an orientation
            # letter) cannot identify anyone; single blobs and pairs are what anatomy and
            # speckle are made of, so only a word-shaped one is worth a model call.
            if not (strong or aligned or merged_word or (want_weak and glyphs == 2)):
                continue
            if not want_weak and not (strong or aligned or merged_word):
                continue
            reason = f"{polarity} text line, {glyphs} glyph(s), height {hh} px"
            if split:
                reason += ", a run on one baseline"
            out.append(
                TextRegion(
                    (bx0, by0, bx1, by1),
                    glyphs,
                    strong or ((aligned or merged_word) and not want_weak),
                    polarity,
                    reason,
                    glyph_height=hh,
                    run=split,
                    baseline=sorted(y1s[i] for i in m)[glyphs // 2],
                    stroke=round(
                        2.0 * sum(areas[i] for i in m) / max(1, sum(edges[i] for i in m)), 2
                    ),
                )
            )
        return out


#: A colour frame's dark line with at least this share of its strokes black (within
#: ``_END_REACH`` of 0) is drawn in black (``_at_the_end``).
_AT_THE_END = 0.15
AT_THE_END = ", drawn in black"
_END_REACH = 3


def _at_the_end(
    r: TextRegion, lum: np.ndarray, hat: np.ndarray, threshold: np.ndarray | int
) -> bool:
    """Whether a dark line of a colour frame that measures as speckle has its strokes drawn
    black: ``_AT_THE_END`` of them within ``_END_REACH`` of 0 in the luminance.

    A small black ID over ultrasound speckle: most of a 12 px mono font's stroke pixels are
    anti-aliased, the speckle's own dark gaps stand out as much as its letters in the
    black-hat, and the line measures as speckle (snr 3.9, uniformity 0.18).  Its fully inked
    pixels are black, which the scanned field's speckle hardly is (a fifth of the ID's strokes,
    at most 7 % of any text-shaped dark line of speckle on the Doppler images).  Such a line is
    kept as a weak candidate, for the model to read.  Not white: the Doppler map and the
    vendor's own white labels saturate there (the J2K Doppler's "PWR" label joined with the
    scale under it: 32 %), and white letters rise over speckle enough to be found
    (``_cores``).
    """
    if r.polarity != "dark":
        return False
    x0, y0, x1, y1 = r.box
    t = threshold if isinstance(threshold, int) else threshold[y0:y1, x0:x1]
    values = lum[y0:y1, x0:x1][hat[y0:y1, x0:x1] >= t]
    if values.size < 8:
        return False
    return np.count_nonzero(values <= _END_REACH) >= _AT_THE_END * values.size


def _word_shaped(width: int, height: int, fill: float) -> bool:
    """Whether one or two components this wide, of this typical height and mean fill of
    their boxes, are shaped like a word whose glyphs touch (small fonts)."""
    return width >= 2.5 * height and height <= 20 and fill <= 0.8


#: The end of the reason of a line found on stroke cores (``_cores``).
ON_CORES = ", on its stroke cores"
#: A straight run of stroke pixels this long is a rule (a Doppler box's border, a scale), no
#: letter: ``_cores`` leaves it out.
_RULE_LENGTH = 31


def _cores(hat: np.ndarray, level: int) -> np.ndarray:
    """The strokes of a colour frame's luminance that rise ``level`` over their surroundings,
    without straight rules.

    Letters drawn over ultrasound speckle or colour Doppler touch the blobs around them at the
    usual stroke threshold, and a letter touching the Doppler box's border joins the whole
    border: the line they make reads as nothing.  Drawn in one colour, letters rise well above
    the speckle's own blobs; at a higher level their cores stand apart (the border, a straight
    line, is taken out), and they are grouped into a line of their own.
    """
    m8 = cv2.threshold(hat, level - 1, 1, cv2.THRESH_BINARY)[1]
    rules = cv2.morphologyEx(m8, cv2.MORPH_OPEN, _rule_kernel(True)) | cv2.morphologyEx(
        m8, cv2.MORPH_OPEN, _rule_kernel(False)
    )
    return m8 > rules


#: A straight run of stroke pixels this long is a border (the Doppler box's, the sector's
#: edge) for ``_beside_rules``: ultrasound speckle, stretched across the beam, makes runs of
#: 31 px (``_RULE_LENGTH``) all over a 640 px frame, hardly ever of 81.
_LONG_RULE = 81
#: How far (px) from such a border ``_beside_rules`` looks for letters; the small fonts it is
#: for are 5-9 px high.
_NEAR_RULE = 8
#: Tallest glyphs (px) of a line found beside a border: the 8-10 px fonts it is for have
#: letters of 5-7 px.  Taller "glyphs" there are the tops of larger letters that the border
#: crosses (a 13 px cyan ID over the sector's edge: read and cut to its upper rows, its last row
#: was left and its own line, in the chroma window, no longer looked for).
_BESIDE_RULE_HEIGHT = 7


def _beside_rules(m8: np.ndarray) -> np.ndarray:
    """The strokes of a colour frame's usual mask that touch a long straight horizontal border,
    within ``_NEAR_RULE`` of it, with the border taken out.

    A small name (5-9 px letters, grey or faint) written along the Doppler box's white border
    or the sector's edge shares a row with it at the usual threshold: its letters are one
    component with the border, no glyphs, and the line is never a candidate; at the cores'
    higher level (``_cores``) such letters are not there at all.  Without the border they are
    glyphs again.  Only what touched a border, near it, is regrouped, so the speckle and the
    Doppler map elsewhere make no new candidates; and only along a horizontal border: beside a
    vertical one, the digits of an ID written up the image came out as short horizontal
    "lines" crossing its vertical line, which then counted as a column of a block
    (``_without_columns``) and was dropped.
    """
    horizontal = cv2.getStructuringElement(cv2.MORPH_RECT, (_LONG_RULE, 1))
    rules = cv2.morphologyEx(m8, cv2.MORPH_OPEN, horizontal)
    if not rules.any():
        return np.zeros(m8.shape, bool)
    _, labels = cv2.connectedComponents(m8, connectivity=8)
    touching = np.unique(labels[rules > 0])
    reach = np.ones((2 * _NEAR_RULE + 1, 2 * _NEAR_RULE + 1), np.uint8)
    near = cv2.dilate(rules, reach).view(bool)
    return np.isin(labels, touching[touching > 0]) & ~rules.view(bool) & near


def _with_cores(
    regions: list[TextRegion], shape: tuple[int, ...], grey: bool = False, mosaic: bool = False
) -> list[TextRegion]:
    """The lines of the usual masks deduplicated as ever, and the lines found on stroke cores
    (``_cores``) added where they found a line those missed.

    A core line never replaces nor merges with a usual one: among them it changed which of
    them survived (a dark 7 px name over the small Doppler's map lost its line and was left
    half).  It is left out where a usual line of its axis holds it and is strong (taken whole
    without a model call; the part of it cut out at the higher level, a faint name over the
    vendor's small line, would be a line that the whole is judged to hold across, and the
    whole dropped), or is the same line (half its box, its glyph size; or most of the core
    line inside a usual one at most 1.5 times as tall)."""
    usual = _dedupe([r for r in regions if not r.reason.endswith(ON_CORES)], shape, grey, mosaic)
    cores = _dedupe([r for r in regions if r.reason.endswith(ON_CORES)], shape)
    if not cores:
        return usual

    def found(core: TextRegion) -> bool:
        for r in usual:
            if r.vertical != core.vertical:
                continue
            if AT_THE_END in r.reason and r.polarity != core.polarity:
                # (The black outline of white letters, kept only as drawn in black: the J2K
                # Doppler's "PWR" label, whose letters' line it held, was then read as nothing.)
                continue
            if r.strong and _inside(core.box, r.box):
                return True
            iw = min(r.box[2], core.box[2]) - max(r.box[0], core.box[0])
            ih = min(r.box[3], core.box[3]) - max(r.box[1], core.box[1])
            if iw <= 0 or ih <= 0:
                continue
            if same_glyph_size(r, core) and iw * ih >= 0.5 * min(_area(r.box), _area(core.box)):
                return True
            # The top of a usual line's letters (a 9 px word on the colour bars: its cores are
            # its upper 6 rows); taken first as a line of more glyphs, it left the rest.
            across = _across(r.box, r.vertical) <= 1.5 * _across(core.box, core.vertical) + 1
            if across and iw * ih >= 0.8 * _area(core.box):
                return True
        return False

    return usual + [
        replace(r, reason=r.reason.removesuffix(ON_CORES)) for r in cores if not found(r)
    ]


def _meet(a: Box, b: Box) -> bool:
    """Whether two boxes share a pixel."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _joined(line: TextRegion, letters: TextRegion) -> bool:
    """Whether ``line``, across ``letters`` (a horizontal line), is made of them joined with
    the anatomy they touch: a vertical "line" whose "glyphs" are over twice as wide as the
    letters are tall.  A vertical line of glyphs of their size is a name written up the
    frame, which the letters' line would only cross."""
    return line.vertical and line.glyph_height > 2 * letters.glyph_height


def _area(box: Box) -> int:
    return max(1, (box[2] - box[0]) * (box[3] - box[1]))


def _rule_kernel(vertical: bool) -> np.ndarray:
    shape = (1, _RULE_LENGTH) if vertical else (_RULE_LENGTH, 1)
    return cv2.getStructuringElement(cv2.MORPH_RECT, shape)


def _on_one_line(tops: Sequence[int], bottoms: Sequence[int], hh: int, band: int) -> bool:
    """Whether glyphs with these tops and bottoms (rows), of typical height ``hh``, in a band
    ``band`` rows high, are a line: they share a baseline (or a cap line) and the band is at
    most 1.7 glyph heights; chained anatomy drifts."""
    half = len(tops) // 2
    tol = 0.15 * hh + 1
    low, high = sorted(bottoms), sorted(tops)
    dev_b = sorted(abs(v - low[half]) for v in low)[half]
    dev_t = sorted(abs(v - high[half]) for v in high)[half]
    return (dev_b <= tol or dev_t <= tol) and band <= 1.7 * hh + 2


#: Glyphs of a run split out of a group that is no line (``_baseline_runs``): three of one
#: height in a row are everywhere in the shoulder MR's texture (78 such runs on its frame, none
#: of them the text of the benchmark's misses); four are a few dozen.
RUN_GLYPHS = 4
#: Heights of two neighbours in such a run differ by at most this factor.
RUN_HEIGHT_RATIO = 1.25
#: Views this large (both sides, px) are searched on reduced copies too, for larger fonts.
REDUCED_FROM = 1000
#: Frames this large (both sides, px) are searched once more for lines standing out of
#: their texture (``ClassicalTextDetector._standing_out``), by this factor over the threshold.
BUSY_FRAME = 1000
STANDING_OUT = 2
#: ... and a smaller grey frame is searched so when its mask gives this many candidate lines of
#: one polarity: the abdominal MR 41-50, the MR mosaic 52-77, the bone scan 83-96, a CT
#: slice or a small MR 1-9 (where a search would cost a text-free slice a tenth more).
BUSY_MASK_LINES = 24
_STANDING = ", standing out of a busy texture"


def _without_counters(regions: list[TextRegion]) -> list[TextRegion]:
    """Without the lines standing out of a texture (``_STANDING``) that lie inside such a
    line of the other polarity with taller glyphs: the counters and gaps of its letters.  Both
    read as the name; taken first (it has more "glyphs"), the gaps' narrower box left the
    letters' line an echo of it, and a 28 px ID up the shoulder MR kept 72 % of its pixels."""
    standing = [r for r in regions if r.run and r.reason.endswith(_STANDING)]
    if len(standing) < 2:
        return regions

    def counters(r: TextRegion) -> bool:
        x0, y0, x1, y1 = r.box
        area = max(1, (x1 - x0) * (y1 - y0))
        for o in standing:
            if o.polarity == r.polarity or o.vertical != r.vertical:
                continue
            if o.glyph_height <= r.glyph_height:
                continue
            iw = min(x1, o.box[2]) - max(x0, o.box[0])
            ih = min(y1, o.box[3]) - max(y0, o.box[1])
            if iw > 0 and ih > 0 and iw * ih >= 0.8 * area:
                return True
        return False

    return [r for r in regions if not (r in standing and counters(r))]


def _baseline_runs(
    groups: dict[int, list[int]],
    pairs: Sequence[tuple[int, int]],
    ys: Sequence[int],
    y1s: Sequence[int],
    hs: Sequence[int],
) -> list[list[int]]:
    """Runs of ``RUN_GLYPHS`` or more neighbours of one height on one baseline, inside the
    groups that are not lines themselves.

    Neighbours are grouped when they share 60 % of their heights, so on a busy texture (the
    1024 x 1024 shoulder MR) the letters of a name join the blobs of anatomy of about their
    size above and below them; the group then drifts across the line, is no line, and the
    name in it never reaches the model.  Within such a group only the pairs of neighbours of
    one height whose tops and bottoms both agree are kept: the letters come out as a run of
    their own, which the caller measures like any group and gives to the model to read.
    """
    if not pairs or all(len(m) < RUN_GLYPHS for m in groups.values()):
        return []  # (no group is long enough to be split: most frames' masks)
    loose = np.zeros(len(ys), bool)
    for m in groups.values():
        if len(m) < RUN_GLYPHS:
            continue
        tops, bottoms = [ys[i] for i in m], [y1s[i] for i in m]
        hh = sorted(hs[i] for i in m)[len(m) // 2]
        # The caller's test of a line, on the group's whole band (the caller first trims the
        # band to its typical glyph's): failed, the group is split.
        if not _on_one_line(tops, bottoms, hh, max(bottoms) - min(tops)):
            loose[m] = True
    if not loose.any():
        return []
    i, j = np.asarray(pairs, np.int64).T
    top, bottom, height = np.asarray(ys), np.asarray(y1s), np.asarray(hs)
    lo, hi = np.minimum(height[i], height[j]), np.maximum(height[i], height[j])
    tol = 0.15 * hi + 1
    keep = (
        loose[i]
        & (hi <= RUN_HEIGHT_RATIO * lo)
        & (np.abs(bottom[i] - bottom[j]) <= tol)
        & (np.abs(top[i] - top[j]) <= tol)
    )
    parent: dict[int, int] = {}

    def root(k: int) -> int:
        while parent.setdefault(k, k) != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for a, b in zip(i[keep].tolist(), j[keep].tolist(), strict=True):
        parent[root(b)] = root(a)
    runs: dict[int, list[int]] = {}
    for k in list(parent):
        runs.setdefault(root(k), []).append(k)
    return [sorted(m) for m in runs.values() if len(m) >= RUN_GLYPHS]


#: Pairs of components weighed at once by ``_neighbour_pairs`` (a bound on its memory).
_PAIRS_AT_ONCE = 1 << 20
#: ... and up to how many components they are weighed one by one instead.
_PAIRS_IN_PYTHON = 16


def _neighbour_pairs(
    order: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray
) -> Iterator[tuple[int, int]]:
    """The pairs ``(i, j)``, ``i < j``, of components (indices into ``order``, which sorts them
    by their left edge) that are neighbours in a line: ``j`` starts within ``i``'s height
    past ``i``'s right end, their heights are within a factor of two, and they share 60 % of
    the smaller height.

    Every component is weighed against those starting within its reach, as a loop over pairs
    did; here the pairs are weighed as arrays.  A 1024 x 1024 MR's texture makes tens of
    thousands of small components, each within reach of a hundred others: the loop, pair by
    pair in Python, cost 0.3-0.5 s of the frame's detection.  A text-free CT slice's masks
    make a handful of components each, where the arrays' own overhead (30 us a mask) is ten
    times the loop's: up to ``_PAIRS_IN_PYTHON`` components are weighed one by one, by the
    same tests in the same order."""
    if order.size <= _PAIRS_IN_PYTHON:
        yield from _few_neighbour_pairs(order, x, y, w, h)
        return
    xs = x[order].astype(np.int64)
    ys = y[order].astype(np.int64)
    hs = h[order].astype(np.int64)
    x1s = xs + w[order]
    y1s = ys + hs
    n = xs.size
    # ``j`` runs from ``i + 1`` to the last component starting within ``i``'s reach.
    ends = np.searchsorted(xs, x1s + hs + 2, side="right")
    counts = np.maximum(ends - np.arange(1, n + 1), 0)
    first = 0
    while first < n:
        # As many components as keep the pairs weighed at once under the bound (one at least).
        total = np.cumsum(counts[first:])
        last = first + max(1, int(np.searchsorted(total, _PAIRS_AT_ONCE, side="right")))
        chunk = counts[first:last]
        i = np.repeat(np.arange(first, last), chunk)
        starts = np.cumsum(chunk) - chunk
        j = i + 1 + (np.arange(i.size) - np.repeat(starts, chunk))
        first = last
        hi, hj = hs[i], hs[j]
        lo_h, hi_h = np.minimum(hi, hj), np.maximum(hi, hj)
        overlap = np.minimum(y1s[i], y1s[j]) - np.maximum(ys[i], ys[j])
        near = (hi_h <= 2.0 * lo_h) & (overlap >= 0.6 * lo_h) & (xs[j] - x1s[i] <= hi_h + 2)
        yield from zip(i[near].tolist(), j[near].tolist(), strict=True)


def _few_neighbour_pairs(
    order: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray
) -> Iterator[tuple[int, int]]:
    """``_neighbour_pairs`` of a few components, pair by pair (Python integers compared with
    the same floats as the arrays' tests: the same pairs, in the same order)."""
    xs, ys = x[order].tolist(), y[order].tolist()
    ws, hs = w[order].tolist(), h[order].tolist()
    n = len(xs)
    for i in range(n):
        xi1, yi, hi = xs[i] + ws[i], ys[i], hs[i]
        yi1, reach = yi + hi, xi1 + hi + 2
        for j in range(i + 1, n):
            xj = xs[j]
            if xj > reach:
                break  # sorted by left edge: no later component starts within reach
            hj, yj = hs[j], ys[j]
            lo_h, hi_h = min(hi, hj), max(hi, hj)
            overlap = min(yi1, yj + hj) - max(yi, yj)
            if hi_h <= 2.0 * lo_h and overlap >= 0.6 * lo_h and xj - xi1 <= hi_h + 2:
                yield i, j


#: A vertical "word" of touching glyphs (one component) is a candidate only for fonts this
#: small across (px) ...
SMALL_WORD_HEIGHT = 8
#: ... and at least this many times as long as it is wide: a name, a date or an ID of 8 px
#: serif or bold letters turned by 90 degrees is one component of four to six times its width.
SMALL_WORD_LENGTH = 4.0


def _small_word(line: TextRegion) -> bool:
    """Whether a line of one or two components (in the transposed glyph table: its box is
    still transposed) is a word of a small font whose glyphs touch.  Such words are
    candidates horizontally at any size; vertically only small and long ones are, since a
    column of anatomy is a tall single component as well, but rarely this thin for this long.

    Two components: a word whose last letters or a dash came apart from the rest where the
    stroke threshold cut a thin joint (an 8 px serif date turned by 270 degrees over two colour
    bars was 33 px of touching digits and a 4 px piece: as a pair it was dropped unread)."""
    x0, y0, x1, y1 = line.box
    return (
        line.glyphs <= 2
        and 0 < line.glyph_height <= SMALL_WORD_HEIGHT
        and x1 - x0 >= SMALL_WORD_LENGTH * line.glyph_height
    )


#: A window of an image: ``(slice of rows, slice of columns)``.
Window = tuple[slice, slice]

#: How far the stroke threshold at a pixel looks: the 15 x 15 mean (7) of a 3 x 3 high-pass (1).
_THRESHOLD_REACH = 8

#: Background kept around a view's non-zero part when only that part is filtered: more than
#: the reach of the threshold's filters (1 + 7 px) and of a top-hat (the kernel), so the part's
#: borders see the zeros the whole view has there.
_SUPPORT_MARGIN = 10


def _support(img: np.ndarray, margin: int) -> Window | None:
    """The part of ``img`` outside which it is zero, ``margin`` pixels wider, when it is at
    most half of the image (the top-of-range window of a CT: bone and letters burned at the
    maximum on black); None otherwise."""
    x, y, w, h = cv2.boundingRect(img)
    rows, cols = img.shape[:2]
    y0, y1 = max(0, y - margin), min(rows, y + h + margin)
    x0, x1 = max(0, x - margin), min(cols, x + w + margin)
    if (y1 - y0) * (x1 - x0) > 0.5 * rows * cols:
        return None
    return slice(y0, y1), slice(x0, x1)


def _components(m8: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Connected components with statistics; 16-bit labels are three times faster than 32-bit
    ones (the labels image is most of the cost), 32-bit only when there are too many."""
    try:
        n, labels, stats, _ = cv2.connectedComponentsWithStats(m8, connectivity=8, ltype=cv2.CV_16U)
        if n < 65535:
            return n, labels, stats
    except cv2.error:  # pragma: no cover - more components than 16 bits can label
        pass
    n, labels, stats, _ = cv2.connectedComponentsWithStats(m8, connectivity=8)
    return n, labels, stats


def same_glyph_size(a: TextRegion, b: TextRegion) -> bool:
    """Glyph heights within ``LINE_HEIGHT_TOLERANCE`` of each other (unknown heights agree)."""
    if a.glyph_height <= 0 or b.glyph_height <= 0:
        return True
    lo, hi = sorted((a.glyph_height, b.glyph_height))
    return hi - lo <= LINE_HEIGHT_TOLERANCE * hi


def _across(box: Box, vertical: bool) -> int:
    """Extent of a box across its line (its height, or its width for a vertical line)."""
    return (box[2] - box[0]) if vertical else (box[3] - box[1])


def _dedupe(
    regions: list[TextRegion], shape: tuple[int, ...], grey: bool = False, mosaic: bool = False
) -> list[TextRegion]:
    """Collapse the same line found in several views/scales; a merged region is strong if any
    part is.  Only substantially overlapping boxes of the same glyph size and about the same
    height merge, so lines never chain into blocks (nor into a chain of anatomy that has the
    line's glyph size, whose box a model would judge instead of the line's).

    A weak candidate of another glyph size that covers most of a strong line is that line joined
    with what touches it (letters over bone join the bone's top-hat into one tall "glyph"): it is
    dropped, not merged, since merging would stretch the line's box over the anatomy and a model
    asked about it would only read the line again.  The same holds for a weak candidate lying
    inside a strong line (the counters and gaps of bright letters seen as a dark "line", or the
    letters of a horizontal word grouped as a vertical column).
    """
    if not regions:
        return []
    h, w = shape[:2]
    regions = _without_columns(regions, grey, mosaic)
    regions = sorted(regions, key=lambda r: (not r.strong, r.vertical, r.box))
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
            # A weak horizontal line is not dropped for a strong vertical one: that may be the
            # column of a vendor's stacked block (its merged words as "glyphs"), refuted only
            # once read, and the line the next of the block (read on its own, it costs a call
            # where text is rotated: its letters seen sideways).
            swallows = o.strong and not r.strong and (r.vertical or not o.vertical)
            if swallows and iw * ih >= 0.8 * area:
                break  # inside a strong line: part of it
            if iw * ih < 0.5 * min(area, other):
                continue
            if o.vertical != r.vertical:
                if swallows:
                    break
                continue
            bh, rh = sorted((_across(b, o.vertical), _across(box, r.vertical)))
            if not same_glyph_size(o, r) or rh > 1.5 * bh + 2:
                if o.strong and not r.strong and iw * ih >= 0.5 * other:
                    break  # the line joined with its surroundings: drop
                continue
            if o.polarity != r.polarity:
                # The same text seen twice: its letters, and the gaps between them as strokes
                # of the other polarity.  The gaps' "line" runs on into whatever touches the
                # text, so the letters' line keeps its own box: the one whose ink differs from
                # its background (the gaps between dark letters on white *are* the background).
                # (A line drawn in black, ``_at_the_end``, is the letters.)
                ends = (AT_THE_END in r.reason, AT_THE_END in o.reason)
                if (ends[0], r.depth, r.snr) > (ends[1], o.depth, o.snr):
                    a0, a1 = (1, 3) if o.vertical else (0, 2)  # along the line
                    past = box[a0] < b[a0] or box[a1] > b[a1]
                    if grey and past and iw * ih < 0.5 * other:
                        # Not the same text: a line of the other polarity over only the end
                        # of this one, running on past it, does not take its place (the bone
                        # scan's texture past a 9 px ID, whose deeper "gaps" replaced the
                        # ID's line unread).  Letters inside the gaps' line around them
                        # replace it as ever (a faint date over an abdominal MR: kept, the
                        # gaps' line was read and grown over the bowel, 0.54 -> 2.0 %).
                        continue
                    out[i] = replace(r, box=box, strong=o.strong or r.strong)
                break
            # The same line found in two windows: in the window where it stands out most it
            # is alone; in the union of windows it may have picked up what it touches (bone
            # as a first "glyph").  That window's box is kept; letters it lacks are added back
            # by ``_extend_ends``, which follows the line's ink.  Where one box holds the other
            # and neither stands out more, the inner one is that window's: the outer one's extra
            # "glyph" is what the line touches, not a letter (a large title over the liver).
            best = r if _standing(r, box) > _standing(o, b) else o
            if _standing(r, box)[:3] == _standing(o, b)[:3]:
                if _inside(box, b):
                    best = r
                elif _inside(b, box):
                    best = o
            if r.run != o.run:
                # A run split out of anatomy (``_baseline_runs``) found as a line of its own in
                # another window: that line's box, from glyphs grouped as every line's are (the
                # run's may lack a first letter whose top drifts off the others').
                best = o if r.run else r
            out[i] = replace(
                best,
                box=box if best is r else b,
                glyphs=max(o.glyphs, r.glyphs),
                strong=o.strong or r.strong,
            )
            break
        else:
            out.append(replace(r, box=box))
    return out


#: A vertical line crossed by two or more horizontal candidates is rotated text only if it has
#: at least this many glyphs: columns of anatomy crossed by rows of anatomy are mostly of three
#: or four "glyphs" (each read twice, once per way up: 40 % more model calls on the
#: echocardiogram and the MR mosaic while they were read), and so is the column of a stacked
#: 6 px header's merged words (which, kept, swallowed the header's weak middle line).
COLUMN_GLYPHS = 5


#: Said of a strong vertical line on a grey frame kept though it crosses horizontal lines
#: (all of them weak, or a mosaic's rows of slices: ``_without_columns``): it is text only once
#: read (never taken unread).  The reviewer sees it beside the box.
CROSSED = ", kept though lines cross it"


def _without_columns(
    regions: list[TextRegion], grey: bool = False, mosaic: bool = False
) -> list[TextRegion]:
    """Vertical "lines" that cross two or more horizontal lines are the first letters of a
    left-aligned block of horizontal text (a vendor's parameter column), not rotated text.

    Rotated text crosses horizontal "lines" too: its own letters seen sideways are lines of
    one or two blobs inside its band (a 'K' turned by 90 degrees is two blobs side by side),
    and a name may end on a vendor's line or cross a row of anatomy.  So only horizontal lines
    that run on past the column by at least its width count, once per line (found in two
    windows it is one), and they must be a row for every other glyph of the column at least
    (a vendor column is a row per glyph; a rotated name of 11 letters crossing two rows of
    anatomy is not).  A short column crossed twice (``COLUMN_GLYPHS``) is anatomy.

    On a grey frame (``grey``) a strong column crossed only by weak lines, standing out in the
    full-range view (in a window, a mosaic's columns of slices over the near-black gaps), is
    kept for the model to read (``CROSSED``): a vendor's rows are drawn like the column, strong
    lines as well, whereas a name written up a bone scan or along a skull's bone crosses
    "lines" of its own letters, seen sideways, joined with the texture beside them (2-5 blobs,
    weak), and was dropped with all its letters visible.  On an MR mosaic's frame
    (``mosaic``) strong rows crossing it are kept too: the rows of slices either side of a
    gap are strong "lines" of 19-26 px glyphs, and a grey name written up the gap was
    dropped unread."""
    lines = [r for r in regions if not r.vertical and r.glyphs]
    out = []
    for r in regions:
        if r.vertical:
            x0, y0, x1, y1 = r.box
            width = x1 - x0
            rows: list[Box] = []
            crossed = 0
            strong_rows = 0
            for line in lines:
                b = line.box
                if not (b[0] < x1 and x0 < b[2] and b[1] < y1 and y0 < b[3]):
                    continue
                crossed += 1
                strong_rows += line.strong
                if max(0, x0 - b[0]) + max(0, b[2] - x1) < width:
                    continue  # within the column's own band: a letter of it seen sideways
                if any(_same_line(b, o) for o in rows):
                    continue
                rows.append(b)
            column = (crossed >= 2 and r.glyphs < COLUMN_GLYPHS) or (
                len(rows) >= 2 and 2 * len(rows) >= r.glyphs
            )
            if column and grey and r.strong and r.view == 0 and (not strong_rows or mosaic):
                r = replace(r, reason=r.reason + CROSSED)
            elif column:
                continue
        out.append(r)
    return out


def a_mosaic(views: Sequence[np.ndarray]) -> bool:
    """Whether the frame is an MR mosaic's: a near-black field at a common minimum (both the
    at-the-minimum and the dark-field windows made), the slices' gaps."""
    return (
        getattr(views, "minimum", None) is not None
        and getattr(views, "dark_field", None) is not None
    )


def _same_line(a: Box, b: Box) -> bool:
    """Whether two horizontal boxes are one line found twice (in two windows, or with and
    without what it touches): they overlap over half the shorter one's length and height."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    return 2 * iw > min(a[2] - a[0], b[2] - b[0]) and 2 * ih > min(a[3] - a[1], b[3] - b[1])


def _inside(a: Box, b: Box) -> bool:
    """Whether box ``a`` lies within box ``b``."""
    return a[0] >= b[0] and a[1] >= b[1] and a[2] <= b[2] and a[3] <= b[3]


def _standing(r: TextRegion, box: Box) -> tuple:
    """How clearly a line was found: text-shaped, contrast, one colour, more separate glyphs,
    a tighter box."""
    return (r.strong, r.snr, r.uniformity, r.glyphs, -(box[2] - box[0]) * (box[3] - box[1]))


#: A piece is part of a line only if its glyphs are the line's size within this fraction.
LINE_HEIGHT_TOLERANCE = 0.3
#: Baseline (or cap line) of a piece within this fraction of the glyph height (+1 px).
LINE_ALIGN_TOLERANCE = 0.2
#: Stroke widths of a piece and its line within this factor (+0.5 px for 1-2 px strokes).
LINE_STROKE_RATIO = 1.6


def _fits_line(piece: TextRegion, line: TextRegion) -> bool:
    """Whether ``piece`` is drawn like ``line``: same polarity and direction, glyph height
    within ``LINE_HEIGHT_TOLERANCE``, standing on its baseline (or hanging from its cap line),
    with the same stroke width.  Anatomy that touches a text line joins the stroke mask into
    "glyphs" of another height, off the baseline, with thicker strokes: it fails at least one
    of these."""
    h = line.glyph_height
    if piece.polarity != line.polarity or piece.vertical != line.vertical:
        return False
    if h <= 0 or piece.glyph_height <= 0:
        return False
    if abs(piece.glyph_height - h) > LINE_HEIGHT_TOLERANCE * h:
        return False
    if _across(piece.box, piece.vertical) > 1.7 * h + 2:  # one glyph the line's size, the rest not
        return False
    tol = LINE_ALIGN_TOLERANCE * h + 1
    start = 0 if piece.vertical else 1
    if abs(piece.baseline - line.baseline) > tol and abs(piece.box[start] - line.box[start]) > tol:
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
        a0, a1 = (1, 3) if line.vertical else (0, 2)  # the axis the line runs along
        changed = True
        while changed:
            changed = False
            for i, r in enumerate(regions):
                if r.strong or not _fits_line(r, line):
                    continue
                s0, s1 = r.box[a0], r.box[a1]
                near = [b for b in grown if max(b[a0] - s1, s0 - b[a1]) <= 2 * h + 2]
                if near:
                    # The gap to the line is part of the line (glyphs too small or too merged
                    # to be found on their own, e.g. "HN" of a 7 px bold name).
                    s0 = min([s0] + [b[a1] for b in near if b[a1] < s0])
                    s1 = max([s1] + [b[a0] for b in near if b[a0] > s1])
                    box = list(r.box)
                    box[a0], box[a1] = s0, s1
                    regions[i] = replace(
                        r,
                        box=tuple(box),
                        strong=True,
                        reason=r.reason + ", on a text line",
                        line=line.box,
                    )
                    grown.append(tuple(box))
                    changed = True
    return regions


#: How far past its last glyph a line's box may grow over strokes in its band, in glyph heights.
END_REACH = 5.0


def _extend_ends(
    region: TextRegion, mask: np.ndarray | None, views: Sequence[np.ndarray]
) -> TextRegion:
    """The line's box grown at each end over strokes of the line's ink in its band, up to
    ``END_REACH`` glyph heights.

    A first or last letter that touches anatomy joins it into a component too tall to be a
    glyph, so the line is found without it; its strokes are still there, in the line's band
    and in the line's colour.  Anatomy next to a line (a vertebra after a name) is in the band
    too, but rarely in the text's exact colour; and the reach is bounded, so it adds at most
    one glyph's width to the box."""
    if mask is None or region.glyph_height <= 0 or region.glyphs == 0 or region.ink < 0:
        return region
    x0, y0, x1, y1 = region.box
    h = region.glyph_height
    reach = int(END_REACH * h) + 1
    max_gap = h + 2  # a word space, as between the glyphs of a line (``_lines``)
    view = views[region.view] if region.view < len(views) else views[0]
    if view.shape != mask.shape:
        return region
    # Only the line's band is looked at (not the whole frame, once per line).
    band = (slice(None), slice(x0, x1)) if region.vertical else (slice(y0, y1), slice(None))
    value = view[band].astype(np.int16)
    if region.polarity == "dark":
        value = 255 - value
    tolerance = _ink_tolerance(region, views)
    inked = mask[band] & (np.abs(value - int(region.ink)) <= tolerance)
    if region.vertical:
        profile = inked.any(axis=1)
        start, stop = y0, y1
    else:
        profile = inked.any(axis=0)
        start, stop = x0, x1
    n = profile.shape[0]
    lo = max(0, start - reach)
    for c in np.nonzero(profile[lo:start])[0][::-1] + lo:  # walking back from the line
        if start - c > max_gap:
            break
        start = int(c)
    hi = min(n, stop + reach)
    for c in np.nonzero(profile[stop:hi])[0] + stop:
        if c - stop >= max_gap:
            break
        stop = int(c) + 1
    if (start, stop) == ((y0, y1) if region.vertical else (x0, x1)):
        return region
    box = (x0, start, x1, stop) if region.vertical else (start, y0, stop, y1)
    return replace(region, box=box)


#: How far a stroke's value may be from a line's ink to be taken as more of the line: at least
#: this (8-bit levels), or this share of the ink's contrast (small fonts are mostly edge).
INK_TOLERANCE = 24
INK_SHARE = 0.45
#: ... or this share for a line of strokes at least ``INK_CORE_STROKE`` px wide: their cores
#: have the ink's own value (a large title's "S" preceded by speckle half as bright as its
#: ink).  Only for text-shaped (strong) lines: a weak candidate's box is what the model is
#: asked about, and it is judged as found.
INK_SHARE_CORE = 0.2
INK_CORE_STROKE = 3.0


def _luminous(region: TextRegion, views: Sequence[np.ndarray]) -> bool:
    """Whether the line was measured in the luminance or a window of it, where letters drawn
    in one colour have one value wherever they are; in one colour channel white letters
    crossing a blue and a yellow bar have two."""
    separate = tuple(getattr(views, "separate", ()))
    channels = separate if separate in ((1, 2, 3), (1, 2)) else ()  # RGB, or YBR's chroma
    return region.view < len(views) and region.view not in channels


def _ink_tolerance(region: TextRegion, views: Sequence[np.ndarray]) -> float:
    core = region.strong and region.stroke >= INK_CORE_STROKE and _luminous(region, views)
    return max(INK_TOLERANCE, (INK_SHARE_CORE if core else INK_SHARE) * region.depth)


def ink_span(region: TextRegion, views: Sequence[np.ndarray], lo: int, hi: int) -> tuple[int, int]:
    """Where pixels of the line's ink lie along its axis between ``lo`` and ``hi``, in its
    band across: ``(first, last + 1)``; ``(lo, hi)`` when the ink is unknown, ``(hi, lo)``
    when there is none.

    A line's letters are drawn in one colour: whatever is more of the line has pixels of that
    colour, in the view the line was measured in (within ``INK_TOLERANCE`` or ``INK_SHARE``
    of its contrast, as for ``_extend_ends``), when that view is the luminance or a window
    of it (``_luminous``)."""
    if region.ink < 0 or not _luminous(region, views):
        return lo, hi
    view = views[region.view]
    x0, y0, x1, y1 = region.box
    band = view[:, x0:x1] if region.vertical else view[y0:y1, :]
    value = band.astype(np.int16)
    if region.polarity == "dark":
        value = 255 - value
    tolerance = _ink_tolerance(region, views)
    inked = np.abs(value - int(region.ink)) <= tolerance
    profile = inked.any(axis=1) if region.vertical else inked.any(axis=0)
    lo, hi = max(0, lo), min(profile.shape[0], hi)
    found = np.nonzero(profile[lo:hi])[0]
    if found.size == 0:
        return hi, lo
    return lo + int(found[0]), lo + int(found[-1]) + 1


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
    lines = sorted(
        (r for r in regions if r.strong and r.glyph_height > 0 and not r.vertical),
        key=lambda r: r.box[1],
    )
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
            reason = f"{a.polarity} text, between stacked lines"
            extra.append(replace(a, box=box, glyphs=0, reason=reason))
            break
    return extra
