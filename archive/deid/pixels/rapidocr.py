"""RapidOCR confirmer/reader: PP-OCRv4 recognition (ONNX) shipped inside ``rapidocr-onnxruntime``.

Used only on candidate crops from the classical detector (never on whole frames): it decides
whether a weak candidate is text, reads text for the safe-list policy and matches header hints.
Crops are scaled to the recogniser's 48 px line height, so 7 px fonts are read too, and run at
their own width (RapidOCR pads every crop to 320 px; a 60 px word then costs 5x what it needs).
Vertical candidates are turned upright both ways and the better reading counts.  A line read
nearly surely in a part of its crop (text joined with the speckle beside it into a long "line")
is read again on that part, and the closer reading counts if it is sure and alike.  Results are
cached by crop content, and a series' fixed text layout is read once: a later frame whose crop
at the same place is the same up to compression noise gets the same reading without a call.
"""

from __future__ import annotations

import difflib
import hashlib
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from .detection import Box, BurnedInTextDetector, TextRegion

__all__ = ["RapidOCRConfirmer"]

#: The recogniser's input height (PP-OCRv4 rec: 3 x 48 x W).
LINE_HEIGHT = 48


@dataclass(frozen=True)
class Reading:
    """What the recogniser read in a crop: text, confidence, and the span of the crop's width
    (fractions 0..1) where it read characters."""

    text: str
    score: float
    span: tuple[float, float] | None
    #: each character read: (centre as a fraction of the crop's width, its probability)
    chars: tuple[tuple[float, float], ...] = ()


class RapidOCRConfirmer(BurnedInTextDetector):
    """Reads candidate regions with RapidOCR's text recogniser (no detection model, no download).

    A candidate is text when the recogniser reads at least ``min_chars`` letters or digits with
    a confidence of at least ``min_score``.  Anatomy crops read as one character or as
    nothing (scores below 0.5 on the benchmark's MR, CT and ultrasound images); names, IDs and
    dates read at 0.76-1.0.
    """

    supports_reading = True

    def __init__(
        self,
        *,
        min_score: float = 0.6,
        min_chars: int = 2,
        refute_score: float = 0.3,
        threads: int = 1,
        cache_size: int = 4096,
    ) -> None:
        from rapidocr_onnxruntime import RapidOCR

        engine = RapidOCR(
            intra_op_num_threads=threads, inter_op_num_threads=1, use_det=False, use_cls=False
        )
        self._rec = engine.text_rec
        self.min_score = min_score
        self.min_chars = min_chars
        self.refute_score = refute_score
        self.calls = 0  # model runs, for the benchmark and the tests of caching
        self._cache: OrderedDict[bytes, Reading] = OrderedDict()
        self._cache_size = cache_size
        # A series' fixed text layout: the last crops read at each place.  A later frame whose
        # crop there is the same up to compression noise as the last one gets the same reading
        # without a model call (a lossy cine re-encodes static labels slightly differently on
        # every frame); one the same as an earlier one up to noise only (``_same_but_noise``:
        # no pixel differs by a stroke's contrast) as well (a CT series whose slices take turns
        # showing a few labels at one place, each over its own noise).
        self._layout: OrderedDict[tuple, list[tuple[np.ndarray, Reading]]] = OrderedDict()

    def detect(self, views: Sequence[np.ndarray], ignore=None) -> list[TextRegion]:
        raise NotImplementedError("RapidOCRConfirmer only confirms candidates")

    @staticmethod
    def _crop(view: np.ndarray, region: TextRegion) -> tuple[np.ndarray, Box]:
        """The region with a margin, dark text on light, grey; and where the crop lies."""
        x0, y0, x1, y1 = region.box
        across = (x1 - x0) if region.vertical else (y1 - y0)
        pad = max(2, across // 3)
        h, w = view.shape[:2]
        where = (max(0, x0 - pad), max(0, y0 - pad), min(w, x1 + pad), min(h, y1 + pad))
        crop = view[where[1] : where[3], where[0] : where[2]]
        if region.polarity == "bright":
            crop = 255 - crop  # the recogniser was trained on dark text on light paper
        return np.ascontiguousarray(crop), where

    def _infer(self, crop: np.ndarray) -> Reading:
        """One recogniser run on a grey crop, scaled to the line height at its own width."""
        h, w = crop.shape[:2]
        width = max(16, int(math.ceil(LINE_HEIGHT * w / max(1, h) / 8.0)) * 8)
        img = cv2.resize(crop, (width, LINE_HEIGHT), interpolation=cv2.INTER_CUBIC)
        x = np.repeat(img[np.newaxis].astype(np.float32), 3, axis=0)
        x = x / 127.5 - 1.0
        preds = self._rec.session(x[np.newaxis])[0]
        self.calls += 1
        text, score = self._rec.postprocess_op(preds)[0]
        # Where along the crop the characters were read (CTC: one non-blank step per
        # character, each step a fixed share of the width), to box the text, not its padding
        # or the Doppler it touches.
        steps = preds[0].argmax(axis=1)
        read = np.nonzero(steps != 0)[0]
        span = None
        chars: tuple[tuple[float, float], ...] = ()
        if read.size:
            n = float(steps.shape[0])
            probs = preds[0].max(axis=1)
            kept = _main_run(read, probs)
            # The recogniser's last class is the space (``CTCLabelDecode`` appends it).
            kept = _without_end_spaces(kept, steps, len(self._rec.postprocess_op.character) - 1)
            span = (float(kept.min()) / n, float(kept.max() + 1) / n)
            chars = tuple(((float(i) + 0.5) / n, float(probs[i])) for i in read)
        return Reading(str(text), float(score), span, chars)

    def _read_upright(self, crop: np.ndarray, place: tuple) -> Reading:
        key = hashlib.blake2b(crop.tobytes(), digest_size=16).digest() + str(crop.shape).encode()
        hit = self._cache.get(key)
        seen = self._layout.get(place, [])
        if hit is None and seen:
            last = seen[-1]
            # One difference of the two crops answers all three questions below.
            diff = cv2.absdiff(last[0], crop) if last[0].shape == crop.shape else None
            # A reading of no text is lent only to a crop with no new strokes: a short ID
            # burned into one end of a wide crop moves its mean by under 3 levels, and the
            # crop read before at this place may be anatomy, or another patient's file.  A
            # reading of text only to one whose strokes are still there: faint letters over an
            # abdominal MR move a wide crop's mean by under 3 levels too, and the next file,
            # without them, borrowed their reading and was boxed there (6 % of the image).
            if (
                diff is not None
                and _same_up_to_noise(diff)
                and ((self._legible(last[1]) and _strokes_kept(diff)) or _noise_only(diff))
            ):
                hit = last[1]
                del seen[-1]
            else:
                for i in range(len(seen) - 2, -1, -1):
                    if _same_but_noise(seen[i][0], crop):
                        hit = seen.pop(i)[1]
                        break
        if hit is None:
            hit = self._infer(crop)
            self._cache[key] = hit
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        elif key in self._cache:
            self._cache.move_to_end(key, last=True)
        seen.append((crop, hit))
        self._layout[place] = seen[-LAYOUT_DEPTH:]
        self._layout.move_to_end(place)
        if len(self._layout) > 256:
            self._layout.popitem(last=False)
        return hit

    def _legible(self, reading: Reading) -> bool:
        """``reading`` says text: enough letters or digits, read surely enough."""
        return _alnum(reading.text) >= self.min_chars and reading.score >= self.min_score

    def _reading(self, views: Sequence[np.ndarray], region: TextRegion) -> tuple[Reading, Box]:
        """The best reading of ``region`` and the box of what was read, in frame pixels: in the
        first view and, for a line that stood out best in another (``region.view``) and is not
        read surely in the first, in that one too.  Letters burned at the maximum over a
        near-saturated field (a portal image's open field) differ from it by a few levels of the
        full-range view and show only in the view stretched above the field."""
        best = self._reading_in(views[0], region, 0)
        if not self._legible(best[0]) and 0 < region.view < len(views) and _flat(views[0], region):
            other = self._reading_in(views[region.view], region, region.view)
            if _alnum(other[0].text) >= self.min_chars and other[0].score > best[0].score:
                best = other
        if not self._legible(best[0]):
            best = self._read_closer(views, region, best)
        return best

    def _read_closer(
        self, views: Sequence[np.ndarray], region: TextRegion, loose: tuple[Reading, Box]
    ) -> tuple[Reading, Box]:
        """A near miss read again on a crop cut to where its characters were read.

        A 9 px date over ultrasound speckle joins the speckle into a 600 px "line"; read in
        the whole crop it reads right but unsurely (0.58), cut to its own 50 px it reads the
        same characters at 0.96.  The closer reading counts only if it is clearly sure
        (``CLOSER_SCORE``) *and* reads mostly the same characters as the loose one
        (``_alike``): speckle read as letters reads as something else, or as nothing, once its
        surroundings change.  One model
        call, only for a line read as several characters short of ``min_score`` in a part of
        its crop."""
        hit, box = loose
        if hit.span is None or hit.score < NEAR_SCORE or _alnum(hit.text) < NEAR_CHARS:
            return loose
        axis = (1, 3) if region.vertical else (0, 2)
        length = region.box[axis[1]] - region.box[axis[0]]
        if box[axis[1]] - box[axis[0]] > NEAR_SHARE * length:
            return loose
        closer = self._reading_in(views[0], replace(region, box=box), 0)
        if (
            self._legible(closer[0])
            and closer[0].score >= CLOSER_SCORE
            and _alike(closer[0].text, hit.text)
        ):
            return closer
        return loose

    def _reading_in(self, view: np.ndarray, region: TextRegion, index: int) -> tuple[Reading, Box]:
        crop, (cx0, cy0, cx1, cy1) = self._crop(view, region)
        place = (region.box, region.polarity, index)
        if not region.vertical:
            hit = self._read_upright(crop, place)
            box = region.box
            if hit.span is not None:
                box = (cx0 + int(hit.span[0] * (cx1 - cx0)), region.box[1],
                       cx0 + int(math.ceil(hit.span[1] * (cx1 - cx0))), region.box[3])  # fmt: skip
            return hit, box
        # Text turned by 90 degrees reads bottom to top, by 270 top to bottom: try both.
        best, box = Reading("", 0.0, None), region.box
        for turn in (cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE):
            hit = self._read_upright(np.ascontiguousarray(cv2.rotate(crop, turn)), place + (turn,))
            if _alnum(hit.text) >= self.min_chars and hit.score > best.score:
                best, box = hit, region.box
                if hit.span is not None:
                    a, b = hit.span
                    if turn == cv2.ROTATE_90_CLOCKWISE:  # the turned crop's left is the bottom
                        a, b = 1.0 - b, 1.0 - a
                    box = (region.box[0], cy0 + int(a * (cy1 - cy0)),
                           region.box[2], cy0 + int(math.ceil(b * (cy1 - cy0))))  # fmt: skip
        return best, box

    def _read(self, views: Sequence[np.ndarray], region: TextRegion) -> tuple[str, float]:
        hit, _box = self._reading(views, region)
        return hit.text, hit.score

    def extent(self, views: Sequence[np.ndarray], region: TextRegion) -> Box | None:
        """The part of ``region`` where characters were read (along the line), widened by half
        a glyph at each end (a character is read near its middle); None if nothing was read."""
        hit, (x0, y0, x1, y1) = self._reading(views, region)
        if hit.span is None or _alnum(hit.text) == 0:
            return None
        rx0, ry0, rx1, ry1 = region.box
        half = max(
            2, (region.glyph_height or ((rx1 - rx0) if region.vertical else (ry1 - ry0))) // 2
        )
        if region.vertical:
            return (rx0, max(ry0, y0 - half), rx1, min(ry1, y1 + half))
        return (max(rx0, x0 - half), ry0, min(rx1, x1 + half), ry1)

    def characters(
        self, views: Sequence[np.ndarray], region: TextRegion
    ) -> list[tuple[float, float]] | None:
        """Where along ``region``'s line characters were read: (centre in frame pixels along
        the line's axis, probability), from the crop read best (both turns for a vertical
        line); None when nothing legible was read."""
        crop, (cx0, cy0, cx1, cy1) = self._crop(views[0], region)
        place = (region.box, region.polarity, "chars")
        if not region.vertical:
            hit = self._read_upright(crop, place)
            if _alnum(hit.text) == 0:
                return None
            return [(cx0 + f * (cx1 - cx0), p) for f, p in hit.chars]
        best: list[tuple[float, float]] | None = None
        score = 0.0
        for turn in (cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE):
            hit = self._read_upright(np.ascontiguousarray(cv2.rotate(crop, turn)), place + (turn,))
            if _alnum(hit.text) == 0 or hit.score <= score:
                continue
            score = hit.score
            if turn == cv2.ROTATE_90_CLOCKWISE:  # the turned crop's left is the bottom
                best = [(cy1 - f * (cy1 - cy0), p) for f, p in hit.chars]
            else:
                best = [(cy0 + f * (cy1 - cy0), p) for f, p in hit.chars]
        return best

    def confirm(self, views: Sequence[np.ndarray], region: TextRegion) -> bool:
        text, score = self._read(views, region)
        # Speckle crops sometimes read as one letter ("H" at 0.94): one character is not
        # evidence of text, and alone it cannot identify anyone (header hints still apply).
        # A vertical line is read both ways up and the better reading counts: two chances
        # for a column of anatomy to read as letters ("ORD" at 0.61 up a skull base), so a
        # weak one's reading must be surer; text turned by 90 or 270 degrees reads at 0.8-1.0
        # upright (a strong line, text-shaped and contrasted, keeps the usual bar: a date up
        # a portal image's field reads at 0.64).
        surer = region.vertical and not region.strong
        least = max(self.min_score, VERTICAL_SCORE) if surer else self.min_score
        return _alnum(text) >= self.min_chars and score >= least and not _rounds_in_a_row(text)

    def read(self, views: Sequence[np.ndarray], region: TextRegion) -> str | None:
        text, score = self._read(views, region)
        return text if score >= self.min_score else ""

    def refutes(self, views: Sequence[np.ndarray], region: TextRegion) -> bool:
        # Nothing legible at all: no letter or digit, or a reading barely above chance.  Every
        # text-shaped line of the benchmark that was text read at least one character at 0.3+.
        text, score = self._read(views, region)
        return _alnum(text) == 0 or score < self.refute_score


#: A reading short of ``min_score`` by this little, of this many letters or digits in at most
#: this share of its line, is read again on its own part of the line (``_read_closer``).
NEAR_SCORE = 0.4
NEAR_CHARS = 4
NEAR_SHARE = 0.75
#: ... and the closer reading counts from this confidence: text reads 0.82-0.96 there, the
#: edge of a slice of an MR mosaic under a faint name read "LMNAD" at 0.52, then at 0.61
#: (a box over the slice, 0.34 % of the image).
CLOSER_SCORE = 0.75


#: The confidence a weak vertical line's better reading (of its two ways up) needs to be text.
VERTICAL_SCORE = 0.75


#: A line whose pixels span fewer levels than this in a view does not show there (the
#: recogniser reads noise); found in another view, it is read in that one.
FLAT_LEVELS = 3


def _flat(view: np.ndarray, region: TextRegion) -> bool:
    """``region``'s pixels in ``view`` span under ``FLAT_LEVELS`` levels (2nd to 98th
    percentile): the line does not show in that view."""
    x0, y0, x1, y1 = region.box
    box = view[y0:y1, x0:x1]
    if box.size == 0:
        return False
    lo, hi = np.percentile(box, (2, 98))
    return float(hi - lo) < FLAT_LEVELS


def _alnum(text: str) -> int:
    return sum(c.isascii() and c.isalnum() for c in text)


def _rounds_in_a_row(text: str) -> bool:
    """One character repeated, or mostly round ones (o, O, 0) with one other: what a row of
    similar round shapes reads as (the slices of an MR mosaic read "00000" at 0.65 and "BOOO"
    at 0.76, ventricles "ooo"); a name, a date or an ID of several digits never does."""
    folded = _folded(text)
    others = set(folded) - {"O"}
    return len(set(folded)) == 1 or (2 * folded.count("O") > len(folded) and len(others) <= 1)


#: Two readings of one line are alike when this share of their characters agree in order.
ALIKE = 0.75


def _alike(a: str, b: str) -> bool:
    """Readings ``a`` and ``b`` (of a line, in two crops) mostly agree: the letters and digits
    common to both, in order, are at least ``ALIKE`` of them (a grey date over a colour map
    read "1933-07-13" at 0.60 in its candidate's crop and "103302-13" at 0.82 in its own part
    of it: six of eight characters)."""
    fa, fb = _folded(a), _folded(b)
    if not fa or not fb:
        return False
    return difflib.SequenceMatcher(None, fa, fb, autojunk=False).ratio() >= ALIKE


def _folded(text: str) -> str:
    """The letters and digits of ``text``, case and the shapes o/O/0 and l/I/1 folded."""
    folded = text.translate(str.maketrans("o0l1i", "OOIII")).upper()
    return "".join(c for c in folded if c.isascii() and c.isalnum())


def _same_up_to_noise(diff: np.ndarray) -> bool:
    """Two crops whose absolute difference is ``diff`` are equal but for lossy-compression
    noise (a mean difference of 3 levels)."""
    return float(diff.mean()) <= 3.0


#: Crops read at one place that are remembered (``RapidOCRConfirmer._layout``).
LAYOUT_DEPTH = 8
#: Two crops differ by noise only when no pixel differs by this many levels: a letter or digit
#: more, less or other than before changes its strokes' pixels by their contrast to the
#: background (40 levels and more for the text a CT carries), where the air of the
#: benchmark's CT slices differs by up to 21 levels from slice to slice.
NOISE_PEAK = 24


def _same_but_noise(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal crops but for noise: :func:`_same_up_to_noise`, and pixel by pixel too (below
    ``NOISE_PEAK`` levels everywhere), since a digit more can keep the mean difference under
    its bar.  What an earlier crop at a place must meet to lend its reading (the mean alone
    let a bone scan's label borrow a reading that grew its box over 0.04 % more anatomy)."""
    return a.shape == b.shape and _noise_only(cv2.absdiff(a, b))


def _noise_only(diff: np.ndarray) -> bool:
    """:func:`_same_but_noise` of two crops whose absolute difference is ``diff``."""
    return _same_up_to_noise(diff) and int(diff.max()) < NOISE_PEAK


#: A reading of text is lent to a crop only where fewer than this share of its pixels differ
#: from the crop read before by a stroke's contrast (``NOISE_PEAK``): letters that are gone
#: change all of their strokes' pixels (1-3 % of a line's crop), compression noise a few.
STROKES_GONE = 0.005


def _strokes_kept(diff: np.ndarray) -> bool:
    """Whether a crop keeps the strokes of the crop read before it, ``diff`` their absolute
    difference: under ``STROKES_GONE`` of its pixels differ by ``NOISE_PEAK`` levels or more."""
    changed = int(np.count_nonzero(diff >= NOISE_PEAK))
    return changed < STROKES_GONE * diff.size


#: Characters read at an end of a crop, farther from the next one than this many times the
#: usual step between characters and each less sure than ``STRAY_PROB``, are not part of the
#: text's span: the Doppler colour or bone the text touched, read as a letter or two.
STRAY_GAP = 4.0
STRAY_PROB = 0.5


def _main_run(read: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """The model's steps that read characters, without a group of unsure strays at either end,
    apart from the rest by a wide gap and fewer than the rest (the span of a white name over
    Doppler ran from a "letter" read at 0.35 in the colour map, 141 px before the name; a dark
    name over the abdominal MR read as "OSTEFOB", its "O" and "S" at 0.26 and 0.49 the organ
    79 px before it; each box blanked what lay between)."""
    while read.size >= 3:
        gaps = np.diff(read)
        usual = max(2.0, float(np.median(gaps)))
        wide = np.flatnonzero(gaps > STRAY_GAP * usual)
        if wide.size == 0:
            break
        head, tail = read[: wide[0] + 1], read[wide[-1] + 1 :]
        if 2 * head.size < read.size and (probs[head] < STRAY_PROB).all():
            read = read[head.size :]
        elif 2 * tail.size < read.size and (probs[tail] < STRAY_PROB).all():
            read = read[: read.size - tail.size]
        else:
            break
    return read


def _without_end_spaces(kept: np.ndarray, steps: np.ndarray, space: int) -> np.ndarray:
    """``kept`` (steps that read characters) without the steps at its end that read a space:
    no text ends with one, and a line whose box runs on along its axis past the text (over
    an MR's organ) reads there as a space at 0.5 ("04348854 " over 55 px of liver past a
    120 px ID), which kept the line uncut.  Only at the end: a leading space read in the
    speckle before a small name over Doppler cut that line, and the box then grown across
    over its ink was taller (0.67 -> 1.07 % of the image)."""
    ends = np.nonzero(steps[kept] != space)[0]
    if ends.size == 0:
        return kept
    return kept[: ends[-1] + 1]
