"""``clean_pixels``: overlays and burned-in text removed from every frame, then verified.

The caller (``Policy.pixel_cleaner`` of the header engine) passes the dataset *and* the original
identifying header values as ``hints``, collected before the header was scrubbed.  The result says
what was drawn where and why (no PHI: reasons name geometry, never the text read), and ``ok`` is
False when text remained after redaction, in which case the caller quarantines the instance.
Only after ``ok`` may BurnedInAnnotation/RecognizableVisualFeatures be set to NO (caller's job).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from enum import Enum

import cv2
import numpy as np
from pydicom import Dataset

from .detection import (
    BUSY_FRAME,
    CROSSED,
    SMALL_WORD_HEIGHT,
    SMALL_WORD_LENGTH,
    Box,
    BurnedInTextDetector,
    ClassicalTextDetector,
    TextRegion,
    a_mosaic,
    ink_span,
    same_glyph_size,
)
from .encoding import EncoderRefused, FrameWriter, storage_plans
from .frames import (
    BottomWindow,
    DecodedPixels,
    DetectionViews,
    FrameSource,
    Representation,
    black_but_runs_and_specks,
    bright_fill,
    detection_views,
    luminance,
)
from .overlays import has_high_bit_content, remove_overlay_planes

__all__ = [
    "FILL",
    "BoxRecord",
    "PixelCleaningResult",
    "PixelPolicy",
    "TextRedactionValues",
    "clean_pixels",
    "default_detector",
]

#: ``(frame, x0, y0, x1, y1, reason)``
BoxRecord = tuple[int, int, int, int, int, str]

#: How this version fills a box (``pixel_report["fill"]``): one value over the whole box.  A
#: stored image whose report lacks it was written when a box could keep its letters' outline
#: (``archive.services.refill`` fills its boxes again).
FILL = "one value"

SAFE_TOKENS_DEFAULT = frozenset(
    {"L", "R", "A", "P", "H", "F", "S", "I", "AP", "PA", "LAT", "CM", "MM", "1", "2", "5", "10"}
)


class TextRedactionValues(str, Enum):
    """What the policy does with detected text."""

    ALL = "all"  # redact every detected text region (default)
    SAFE_LIST = "safe_list"  # keep regions whose every token is in ``safe_tokens``


#: A line that shares this much of the shorter one's length with a strong line of much smaller
#: glyphs in its rows is that line joined with what it crosses (``_without_joined``).
JOINED_SHARE = 0.75


@dataclass(frozen=True)
class PixelPolicy:
    """Pixel-cleaning knobs as data."""

    text: TextRedactionValues = TextRedactionValues.ALL
    safe_tokens: frozenset[str] = SAFE_TOKENS_DEFAULT
    #: margin around a text box, as a fraction of its height (at least 2 px)
    margin: float = 0.3
    #: extra verify-and-redact rounds before giving up (→ ok False)
    retries: int = 2
    #: model (confirmer) calls per frame, most text-like candidates first.  Beyond the budget
    #: only aligned lines of ``budget_glyphs`` or more glyphs are redacted: redacting every
    #: line-shaped candidate there blanked a quarter of an abdominal MR (bowel, vessels).
    max_model_calls: int = 48
    budget_glyphs: int = 5
    #: model calls per frame for weak *vertical* candidates, apart from ``max_model_calls``:
    #: columns of anatomy are text-shaped transposed and each is read both ways up; on a busy
    #: frame (a bone scan) they took the budget from the 6 px header line after them.  Beyond
    #: it a vertical candidate is dropped, never redacted unread.
    max_vertical_calls: int = 8
    #: the same on colour frames: ultrasound speckle and Doppler give a dozen text-shaped
    #: columns of five glyphs or more, which took the budget from names written up the image
    max_colour_vertical_calls: int = 16
    #: model calls per frame for runs split out of anatomy on one baseline
    #: (``detection._baseline_runs``), apart from the others: the shoulder MR's texture gives
    #: a few dozen, read after its rows of anatomy they took the budget from a 12 px name.
    #: Beyond it a run is dropped, never redacted unread.
    max_run_calls: int = 8
    #: on a large frame (``detection.BUSY_FRAME``), model calls for weak candidates past their
    #: budget whose strokes stand out of their texture (``snr >= snr_past_budget``): the
    #: budget goes to most glyphs first, and the shoulder MR's rows of four to nine blobs of
    #: anatomy took it from a 10 px date of three "glyphs" at snr 33.  Few anatomy candidates
    #: stand out so (five on the shoulder's frame).
    max_past_budget_calls: int = 8
    snr_past_budget: float = 10.0
    #: multi-frame images: examine every this many frames in full (and the last), compare the
    #: others with the first (``_decide_cine``); 1 examines every frame in full
    scan_every: int = 12
    #: stroke contrast (in units of the background's texture) above which a text-shaped line
    #: is text without asking the model (corner text on black air: no model call per slice)
    snr_certain: float = 40.0
    #: glyph height (px) above which even such a line is read first: rows of dark air
    #: pockets between organs are as uniform and contrasted as letters, and 40 px "glyphs"
    certain_height: int = 24


@dataclass
class PixelCleaningResult:
    boxes: list[BoxRecord] = field(default_factory=list)
    changed: bool = False
    frames: int = 0
    ok: bool = True
    reasons: list[str] = field(default_factory=list)
    transfer_syntax: str | None = None
    overlays_removed: list[str] = field(default_factory=list)
    #: how the boxes were filled (``FILL``)
    fill: str = FILL


_DEFAULT: BurnedInTextDetector | None = None


def default_detector() -> BurnedInTextDetector:
    """Classical detector with the RapidOCR confirmer (cached).

    The confirmer is not optional: without it the detector would either blank anatomy or miss
    text, so a missing or broken ``rapidocr-onnxruntime`` raises here instead of degrading.
    """
    global _DEFAULT
    if _DEFAULT is None:
        from .rapidocr import RapidOCRConfirmer

        _DEFAULT = ClassicalTextDetector(confirmer=RapidOCRConfirmer())
    return _DEFAULT


def _hint_tokens(hints: Iterable[str]) -> set[str]:
    tokens: set[str] = set()
    for hint in hints:
        for tok in re.split(r"[\s^,.;:/\\\-_()]+", str(hint).upper()):
            if len(tok) >= 2:
                tokens.add(tok)
    return tokens


def _normalise(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def _matches_hint(text: str, hint_tokens: set[str]) -> bool:
    flat = _normalise(text)
    return any(len(t) >= 3 and _normalise(t) in flat for t in hint_tokens)


def _is_safe(text: str | None, policy: PixelPolicy, hint_tokens: set[str]) -> bool:
    if text is None or not text.strip():
        return False  # unreadable: cannot prove it is harmless
    if _matches_hint(text, hint_tokens):
        return False
    tokens = [t for t in re.split(r"\s+", text.upper().strip()) if t]
    return bool(tokens) and all(t in policy.safe_tokens for t in tokens)


def _letters(region: TextRegion) -> float:
    """How many letters a candidate likely holds, to order candidates for the model budget.

    Its glyphs, except for a word of a small font whose letters touch (one or two components,
    ``detection.SMALL_WORD_HEIGHT`` across at most, ``detection.SMALL_WORD_LENGTH`` times as
    long; a vertical candidate of one or two components is such a word by construction,
    ``detection._small_word``): it holds about as many letters as its length is times its
    letters' height (narrow letters are a little less wide than high).  Counted as one
    glyph, a name up a bone scan's edge (an 8-10 px font turned by 90 degrees) came after a
    dozen columns of anatomy of 3-9 "glyphs" and found the vertical budget spent; and the
    three lines of a shoulder MR's 8 px header (6 px letters, each line one or two
    components) came after 48 rows of the MR's anatomy of 4-9 "glyphs" each and were dropped
    unread, left whole."""
    if region.glyphs > 2 or region.glyph_height <= 0:
        return float(region.glyphs)
    x0, y0, x1, y1 = region.box
    length = (y1 - y0) if region.vertical else (x1 - x0)
    if region.vertical or (
        region.glyph_height <= SMALL_WORD_HEIGHT
        and length >= SMALL_WORD_LENGTH * region.glyph_height
    ):
        return max(float(region.glyphs), length / region.glyph_height)
    return float(region.glyphs)


def _reading_order(region: TextRegion) -> tuple[float, float, Box]:
    """The order candidates are read in under a model budget: most letters, then most
    contrast first (the box breaks ties, so the order does not depend on the detector's)."""
    return (-_letters(region), -region.snr, region.box)


def _decide(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    policy: PixelPolicy,
    hint_tokens: set[str],
    ignore: np.ndarray | None = None,
    recheck: bool = False,
    moving: np.ndarray | None = None,
) -> list[TextRegion]:
    """The regions of one frame that must be redacted.

    Strong lines (text-shaped, high contrast) are text unless the model reads nothing at all in
    them, a question asked only where their contrast is moderate (``snr <
    policy.snr_certain``) or was seen in a narrow window (bone at the top of the range is as
    uniform as letters there): aligned rows of Doppler colour or bone can look like text, and
    read as nothing.  Weak candidates need
    the model's confident reading (or a header hint).

    ``moving`` (cine): pixels that change in many frames.  A candidate that lies almost
    entirely on them moves with the image: burned-in text does not, and stays where it is even
    over a moving sector (its strokes do not change, only the speckle between them).

    ``recheck`` (verifier): ``ignore`` holds pixels whose structure cannot be text (the fills
    already made and the edges they create), and weak candidates, which the model already
    judged (and read for header hints) on the unredacted frame, are not judged again: a second
    budget would only give speckle a second chance to be misread.
    """
    if ignore is not None and detector.supports_ignore:
        regions = detector.detect(views, ignore=ignore)
    else:
        regions = detector.detect(views)
    out: list[TextRegion] = []
    # Most text-like weak candidates first, so the model budget goes where text is likeliest.
    weak = sorted((r for r in regions if not r.strong), key=_reading_order)
    # Lines before the pieces promoted onto them: a piece is text only if its line is.
    strong = sorted((r for r in regions if r.strong), key=lambda r: r.line is not None)
    refuted: set[Box] = set()
    taken: set[Box] = set()  # the boxes the lines taken were found with
    calls = vertical_calls = run_calls = past_calls = 0
    large = min(views[0].shape[:2]) >= BUSY_FRAME
    over_colour: list[tuple[TextRegion, TextRegion, Sequence[np.ndarray]]] = []
    for region in strong + weak:
        original = region.box
        if moving is not None and _moves(region, moving):
            refuted.add(region.box)
            continue  # changes from frame to frame: speckle or anatomy, not burned-in text
        if region.strong:
            orphan = region.line is not None and region.line in refuted
            if orphan and region.glyph_height > policy.certain_height:
                # A piece of a "line" of organ-sized glyphs that read as nothing.  Dropped, it
                # is refuted like its line: a line still counted as taken is painted over when
                # the lines next to it are read (a dark piece of a mosaic's slices over an 8 px
                # name took the name's top rows with it, and the name then read as nothing).
                refuted.add(region.box)
                continue
            certain = (
                not orphan
                and CROSSED not in region.reason  # (a column that may be a vendor's: read it)
                and region.snr >= policy.snr_certain
                and region.view == 0
                and region.glyph_height <= policy.certain_height
            )
            # A column kept though weak lines cross it (``detection.CROSSED``) is read with the
            # lines taken painted over: a column of a bone scan's texture beside a name taken
            # read the name's edge in its padded crop (1.6 % of the image boxed).
            seen = _without(views, out, region, policy) if CROSSED in region.reason else views
            if (
                region.glyphs
                and not certain
                and (
                    detector.refutes(seen, region)
                    # Organ-sized "glyphs" (a row of MR mosaic slices, 28-30 px) must read as
                    # text: they read "oo" or "oi" at 0.38, just above a refutation, and that
                    # blanked 8.5 % of a mosaic (the reading is cached: no model call).
                    # So must a vertical line: columns of anatomy crossing a name (a row of
                    # the mosaic's slices, the gaps under a line) are text-shaped transposed
                    # and read as two or three "letters" at 0.4; text turned by 90 or 270
                    # degrees reads, upright, as surely as horizontal text.
                    or (
                        (region.glyph_height > policy.certain_height or region.vertical)
                        and not detector.confirm(seen, region)
                    )
                )
                and not _matches_hint(detector.read(seen, region) or "", hint_tokens)
            ):
                refuted.add(region.box)
                continue
            if region.glyphs and not certain and not recheck:
                # Read anyway: a line joined with the Doppler colour it touches is cut down to
                # the characters in it, like a weak candidate (no model call: the reading of
                # ``refutes`` is cached).
                region = _read_part_off_slices(detector, views, views, region, policy)
        else:
            if recheck:
                continue  # judged (and read for hints) on the first pass
            colour = getattr(views, "chroma", None) is not None
            if region.vertical and colour and _taken_share(region.box, out) >= TAKEN_SHARE:
                continue  # the columns of lines already taken (the vendor's header)
            if region.run:
                over = run_calls >= policy.max_run_calls
            elif region.vertical:
                over = vertical_calls >= (
                    policy.max_colour_vertical_calls if colour else policy.max_vertical_calls
                )
            else:
                over = calls >= policy.max_model_calls
            past = (
                over
                and large
                and region.snr >= policy.snr_past_budget
                and past_calls < policy.max_past_budget_calls
            )
            if over and not past:
                # A run split out of anatomy (``detection._baseline_runs``) is text only if
                # it reads as text: unread, it is as likely a row of the anatomy's blobs.
                if region.vertical or region.glyphs < policy.budget_glyphs or region.run:
                    continue
            else:
                if past:
                    past_calls += 1
                elif region.run:
                    run_calls += 1
                elif region.vertical:
                    vertical_calls += 1
                else:
                    calls += 1
                # Only lines still taken are painted over: one refuted as anatomy (a column
                # of a mosaic's slices) painted over leaves the rest of that anatomy to be
                # misread as the letters it crossed.
                kept = [r for r in strong if r.box not in refuted]
                judged = _without(views, kept, region, policy) if kept else views
                if _inside_joined(region, kept, policy):
                    judged = _with_own(judged, views, region)
                hinted = bool(hint_tokens) and _matches_hint(
                    detector.read(judged, region) or "", hint_tokens
                )
                # The next line of a block already taken: the block is the evidence, as for
                # the slot next in a stack (``_next_in_stack``), and the reading only has to
                # show characters (a 6 px date under a name merged with the vendor's logo
                # reads at 0.58, its characters at 0.4-0.98).
                sure = hinted
                if not sure and _stacked_on(region, out):
                    own = _without(views, strong, region, policy, own=True)
                    if _shows_characters(detector.characters(own, region) or []):
                        sure, judged = True, own
                if not sure and not detector.confirm(judged, region):
                    continue
                if (
                    not sure
                    and not colour
                    and region.glyph_height > policy.certain_height
                    and judged is not views
                    and (
                        detector.refutes(views, region)
                        # On a mosaic, a row of slices beside a name written up a gap: with
                        # the name painted over it read "BOOD" at 0.68, alone "O0O" at 0.37.
                        or (_a_mosaic(views) and not detector.confirm(views, region))
                    )
                ):
                    # Organ-sized "glyphs" that read as letters only once a line taken beside
                    # them was painted over: the paint's flat edge made the letters (the bone
                    # scan's legs over a bright ID read "SA" at 0.74, as they are nothing).
                    continue
                if (
                    not sure
                    and _coloured(views, region.box) >= BESIDE_COLOUR
                    and _beside(region, out, policy)
                    and not _reads_surely(detector, judged, region)
                ):
                    continue  # the surroundings of a line already taken, read as "letters"
                candidate = region
                region = _read_part_off_slices(detector, views, judged, region, policy)
                if not sure and _coloured(views, candidate.box) >= BESIDE_COLOUR:
                    over_colour.append((region, candidate, judged))
        if policy.text is TextRedactionValues.SAFE_LIST and _is_safe(
            detector.read(views, region), policy, hint_tokens
        ):
            continue
        taken.add(original)
        out.append(region)
    # The same question once every line is known: a candidate over colour taken before the
    # line it lies beside (candidates are judged most glyphs first, so the colour map under a
    # name could come before the name) must read surely too.
    for region, candidate, judged in over_colour:
        others = [r for r in out if r is not region]
        if (
            any(r is region for r in out)
            and _beside(region, others, policy)
            and not _reads_surely(detector, judged, candidate)
        ):
            out = [r for r in out if r is not region]
    out = [r for r in out if not _between_untaken(r, strong, taken)]
    if not recheck:
        out = _without_joined(out, detector, views)
        out = _over_colour_bands(views, out, detector)
        out = _without_echoes(detector, views, out, policy, hint_tokens)
        out = _without_echoes_beside(detector, views, out, policy, hint_tokens)
        out = _without_columns_onto(detector, views, out, policy, hint_tokens)
        out = _off_the_letters_crossed(detector, views, out, policy, hint_tokens)
        if getattr(views, "chroma", None) is not None:
            out = _without_echoes_beside(
                detector, views, out, policy, hint_tokens, same_polarity=True
            )
        out = out + _next_to_a_line(detector, views, out)
        out = out + _next_in_stack(detector, views, out)
        out = [_complete_line(detector, views, r) for r in out]
        out = [r if _crossed(r, out, views) else _complete_across(views, r) for r in out]
        out = [_through_field(views, r, policy.margin) for r in out]
        out = out + _between_under_field(views, out)
        out = out + _out_of_a_field(views)
        out = out + _across_a_gap(detector, views, out)
        out = out + _on_dark_field(detector, views, out, hint_tokens)
        out = out + _at_the_bottom(detector, views, out, hint_tokens, policy.certain_height)
        out = out + _in_the_penumbra(detector, views, out, hint_tokens, policy.certain_height)
        out = out + _on_the_minimum(detector, views, out, hint_tokens, policy.certain_height)
        out = out + _in_one_value(detector, views, out, hint_tokens, policy.certain_height)
        out = out + _out_of_texture(detector, views, out, hint_tokens, policy.certain_height)
        out = out + _darkest_over_texture(detector, views, out, hint_tokens, policy.certain_height)
        out = out + _over_a_radiograph(detector, views, out, hint_tokens, policy.certain_height)
        out = out + _over_slices(detector, views, out, hint_tokens, policy.certain_height)
        out = out + _dark_over_slices(
            detector, views, out, hint_tokens, policy.certain_height, policy.margin
        )
        out = out + _upright_over_slices(detector, views, out, policy.certain_height, policy.margin)
        out = out + _in_colour(detector, views, out, hint_tokens)
        out = out + _hidden_by_palette(detector, views, out, hint_tokens)
        out = [_to_its_colour(detector, views, r, policy.margin) for r in out]
        out = [_to_its_ink(views, r, out, policy.margin) for r in out]
        out = [_to_its_rows_in_colour(views, r) for r in out]
        out = [_gaps_to_its_letters(views, r) for r in out]
        out = out + [p for r in out for p in _across_to_its_letters(views, r, policy.margin)]
        out = [_to_its_letters_along(detector, views, r) for r in out]
        out = [_to_the_line_inside(detector, views, r, out) for r in out]
        out = [_to_its_stored_value(detector, views, r, out, policy.margin) for r in out]
        out = [_across_to_its_stored_value(views, r, out) for r in out]
    return out


def _read_on_its_own(
    detector: BurnedInTextDetector,
    window: np.ndarray,
    views: Sequence[np.ndarray],
    candidates: Sequence[TextRegion],
    calls: int,
    hint_tokens: set[str],
    reason: str,
    cut: Callable[[BurnedInTextDetector, Sequence[np.ndarray], TextRegion], TextRegion]
    | None = None,
) -> list[TextRegion]:
    """Lines found in a window searched on its own (the near-black field, the bottom of the
    range, the chroma window, a palette's one-index window), read there first: at most
    ``calls`` of ``candidates`` in reading order, each kept only if the recogniser reads it as
    text or it reads as a header hint, cut by ``cut`` to what was read, with ``reason`` saying
    where it was found."""
    own = _view_first([window, *views], 0)
    found: list[TextRegion] = []
    for region in sorted(candidates, key=_reading_order)[:calls]:
        hinted = bool(hint_tokens) and _matches_hint(detector.read(own, region) or "", hint_tokens)
        if not hinted and not detector.confirm(own, region):
            continue
        if cut is not None:
            region = cut(detector, own, region)
        found.append(replace(region, reason=region.reason + reason))
    return found


#: The text's colour stands out of a line's box when its 8-bit value is held by this many times
#: as many pixels as the values next to it, on average (grey letters over an MR mosaic's
#: slices: 3-130; anatomy alone: about 1).
COLOUR_SALIENT = 3.0
#: ... and by at least this many pixels of the box
COLOUR_PIXELS = 20
#: ... a row across the line is the text's when it holds this share of the most such pixels
#: any row holds
COLOUR_ROW = 0.25
#: ... a line is cut only where that leaves at most this share of its box
COLOUR_CUT = 0.8
#: ... never past a character read with at least this probability in the whole line
COLOUR_CHAR = 0.5
#: ... and the cut box must read as text, with at most this many fewer letters and digits
COLOUR_LOST = 1


def _histogram_spike(crop: np.ndarray) -> tuple[int, float, int]:
    """The 8-bit value of ``crop`` that stands most above the three values on either side of
    it in its histogram (the value letters are drawn in), how many times it does, and how many
    pixels hold it; values under 3 (the gaps' noise) and held by fewer than ``COLOUR_PIXELS``
    pixels do not count."""
    counts = np.bincount(crop.ravel(), minlength=256).astype(np.float64)
    padded = np.concatenate((np.zeros(3), counts, np.zeros(3)))
    beside = sum(padded[3 + d : 259 + d] for d in (-3, -2, -1, 1, 2, 3)) / 6.0
    spike = counts / np.maximum(beside, 1.0)
    spike[:3] = 0
    spike[counts < COLOUR_PIXELS] = 0
    value = int(spike.argmax())
    return value, float(spike[value]), int(counts[value])


def _box_spike(view: np.ndarray, box: Box, share: float = 1.0) -> tuple[np.ndarray, int] | None:
    """``box``'s crop of ``view`` and its histogram spike (``_histogram_spike``), or None: an
    empty box, no value standing out by ``COLOUR_SALIENT``, or one holding more than ``share``
    of the box (the background under letters, not their ink)."""
    x0, y0, x1, y1 = box
    crop = view[y0:y1, x0:x1]
    if crop.size == 0:
        return None
    value, salience, count = _histogram_spike(crop)
    if salience < COLOUR_SALIENT or count > share * crop.size:
        return None
    return crop, value


#: A taken line grows to the pixels of its ink's value (``_to_its_ink``) at most this many of
#: its box's heights across it on either side ...
INK_ACROSS = 1.0
#: ... and this many along it past either end ...
INK_ALONG = 6.0
#: ... over gaps of at most this many heights (a word space) ...
INK_GAP = 1.0
#: ... where a row or column holds at least this many pixels of that value.
INK_HITS = 2
#: A value holding more than this share of the box is the background under the letters (a
#: CT's brain, quantised to one level of the view, 44 % of a grey ID's box), not their ink
#: (9-13 % of the boxes of the date and the ID it completes).
INK_SHARE = 0.3
#: ... and around the grown box that value may hold at most this share of what it holds in it.
INK_RING = 0.1
#: Where the frame's stored values are finer than the view's levels, the ink's level must be
#: at least this share one stored value (the letters'), not a band of anatomy's values.
INK_ONE = 0.5
#: A line grows only where at least this many pixels of its ink lie outside every taken box
#: with its margin.
INK_BARE = 3


def _to_its_ink(
    views: Sequence[np.ndarray], region: TextRegion, taken: Sequence[TextRegion], margin: float
) -> TextRegion:
    """``region`` grown to where its text's own value runs on past its box.

    Grey letters in one value crossing anatomy about as bright (a CT skull's bone, a chest's
    lung edge) stand out only where the anatomy beside them differs: the line found is the
    part over the darker background (three glyphs of a ten-character date over the chest, the
    top half of a 16 px ID whose lower half lies over the skull's bone).  Burned-in text is
    drawn in one value, a spike of the box's histogram in the full-range view (as in
    ``_to_its_colour``), and in the stored values one value (an MR's 8-bit level merges four
    or five stored values, the anatomy's among them); the pixels of it joined to the box's
    strokes across the line, and columns along it that hold it, next to the box or past it by
    at most a word space, are the rest of the letters.  The box grows only where some of them
    lie outside every taken box with its margin: grown over letters another piece already
    covers, it would only widen its margin with its height.

    Not on frames where ``_to_its_colour`` cuts (a mosaic's tiles), nor on colour frames
    (their luminance spreads a colour's letters over several values, and a Doppler frame's
    grey speckle shares the white letters' value: three boxes grown over it)."""
    view = views[0]
    if view.ndim != 2 or getattr(views, "minimum", None) is not None:
        return region
    if tuple(getattr(views, "separate", ())) in ((1, 2, 3), (1, 2)):
        return region
    x0, y0, x1, y1 = region.box
    spiked = _box_spike(view, region.box, INK_SHARE)
    if spiked is None:
        return region
    crop, value = spiked
    plane, ink = view, value
    stored = getattr(views, "stored", None)
    if stored is not None and stored.shape == view.shape:
        under = stored[y0:y1, x0:x1][crop == value]
        held, times = np.unique(under, return_counts=True)
        if times.max() < INK_ONE * under.size:
            return region
        plane, ink = stored, held[times.argmax()]
    height = (x1 - x0) if region.vertical else (y1 - y0)
    across, along = int(INK_ACROSS * height), int(INK_ALONG * height)
    rows, cols = view.shape
    if region.vertical:
        wx0, wx1 = max(0, x0 - across), min(cols, x1 + across)
        wy0, wy1 = max(0, y0 - along), min(rows, y1 + along)
        hit = (plane[wy0:wy1, wx0:wx1] == ink).T
        a0, a1, b0, b1 = x0 - wx0, x1 - wx0, y0 - wy0, y1 - wy0
    else:
        wx0, wx1 = max(0, x0 - along), min(cols, x1 + along)
        wy0, wy1 = max(0, y0 - across), min(rows, y1 + across)
        hit = plane[wy0:wy1, wx0:wx1] == ink
        a0, a1, b0, b1 = y0 - wy0, y1 - wy0, x0 - wx0, x1 - wx0
    # Across: as far as the strokes of the value in the box run on within its span (the
    # pixels of that value connected to them: letters' strokes join, an organ's scattered
    # pixels at the value do not reach far).
    band = np.ascontiguousarray(hit[:, b0:b1]).view(np.uint8)
    _n, labels = cv2.connectedComponents(band, connectivity=8)
    touched = np.unique(labels[a0:a1])
    joined = np.isin(labels, touched[touched > 0])
    on = np.flatnonzero(joined.sum(axis=1) >= INK_HITS)
    if on.size:
        a0, a1 = min(a0, int(on[0])), max(a1, int(on[-1]) + 1)
    # Along: columns of those rows holding it, over gaps of at most a word space.
    per_col = hit[a0:a1].sum(axis=0)
    # A word space is measured on the letters' height as grown across (at most twice the
    # box's): a vertical ID over a head CT's skull was found as half its letters' width, and
    # the gap inside its last word, a glyph wide, stopped the growth at half a word.
    gap = max(2, int(INK_GAP * min(a1 - a0, 2 * height)))
    last = b1 - 1
    for c in range(b1, hit.shape[1]):
        if per_col[c] >= INK_HITS:
            last = c
        elif c - last > gap:
            break
    b1 = last + 1
    first = b0
    for c in range(b0 - 1, -1, -1):
        if per_col[c] >= INK_HITS:
            first = c
        elif first - c > gap:
            break
    b0 = first
    if region.vertical:
        box = (wx0 + a0, wy0 + b0, wx0 + a1, wy0 + b1)
    else:
        box = (wx0 + b0, wy0 + a0, wx0 + b1, wy0 + a1)
    if box == region.box:
        return region
    # Letters end where their value does: around the grown box it is as rare as in the
    # anatomy.  Where it is common there too, it is a field of that value (a pattern's flat
    # bars, a CT's air under a black ID) and the growth ran along it.
    gx0, gy0, gx1, gy1 = box
    ring = max(2, height // 2)
    rx0, ry0 = max(0, gx0 - ring), max(0, gy0 - ring)
    rx1, ry1 = min(cols, gx1 + ring), min(rows, gy1 + ring)
    inside = int(np.count_nonzero(plane[gy0:gy1, gx0:gx1] == ink))
    around = int(np.count_nonzero(plane[ry0:ry1, rx0:rx1] == ink)) - inside
    ring_area = (rx1 - rx0) * (ry1 - ry0) - (gx1 - gx0) * (gy1 - gy0)
    if around > INK_RING * ring_area * inside / max(1, (gx1 - gx0) * (gy1 - gy0)):
        return region
    # Only for ink no box covers yet: where the taken lines' margins already reach the rest of
    # the letters (a line found twice, in two pieces), growing the box would only widen its
    # margin with its height.
    covered = _covered(box, [_expand(other, margin, view.shape) for other in taken])
    bare = int(np.count_nonzero((plane[gy0:gy1, gx0:gx1] == ink) & ~covered))
    if bare < INK_BARE:
        return region
    return replace(region, box=box, reason=region.reason + ", grown to its ink")


#: On a colour frame a line's box is cut across to the rows of its letters' value
#: (``_to_its_rows_in_colour``) by at most this share of its height on either side ...
ROWS_CUT = 0.3
#: ... where that value's pixels run along at least this share of the box ...
ROWS_ALONG = 0.6
#: ... and are the strokes' value in the view the line was measured in (``TextRegion.ink``),
#: within this many levels or this share of the strokes' contrast, whichever is more.
ROWS_INK = 4
ROWS_INK_SHARE = 0.1


def _letters_value(views: Sequence[np.ndarray], region: TextRegion) -> np.ndarray | None:
    """Where a bright line's letters' one value lies in its box on a colour frame (the box's
    luminance histogram spike, ``_histogram_spike``), or None: not a colour frame, a dark line,
    no value standing out, one holding more than ``INK_SHARE`` of the box (the background), or
    one that is not the strokes' value in the view the line was measured in."""
    if not _rgb(views) or region.polarity != "bright":
        return None
    x0, y0, x1, y1 = region.box
    spiked = _box_spike(views[0], region.box, INK_SHARE)
    if spiked is None:
        return None
    crop, value = spiked
    hit = crop == value
    # The value must be the strokes' own, as the line was measured in its view (a faint name
    # over a Doppler frame's dark field, its ink at 64: the spike of its box was the field's
    # 36, whose columns began one letter in).
    if region.ink < 0 or region.view >= len(views):
        return None
    seen = float(np.median(views[region.view][y0:y1, x0:x1][hit]))
    if abs(seen - region.ink) > max(ROWS_INK, ROWS_INK_SHARE * region.depth):
        return None
    return hit


def _to_its_rows_in_colour(views: Sequence[np.ndarray], region: TextRegion) -> TextRegion:
    """``region`` cut across its line to the rows where its letters' value lies, on a colour
    frame.

    The model's box of a bright line over an echo's sector runs four or five pixels past the
    letters above and below, over the speckle (a 14 px ID in a 23 px box), and the margin,
    a share of that height, grows with it: the fill blanked 1.1-2.3 % of the frame around
    letters that need a third of that.  Letters are drawn in one colour, a spike of the
    box's luminance histogram (``_histogram_spike``); the rows holding it, a pixel more for
    the letters' soft edge, are the line.  Only when that value runs along most of the box
    (the letters, not one glyph's colour or a speck of the sector), is the strokes' value in
    the view the line was measured in, leaves at least the glyphs' height, and by at most
    ``ROWS_CUT`` of the height on either side: a second line in the box, of another colour,
    is taller than what may be cut.  Never along the line: cut to the value's columns, a
    serif S held in single pixels and a faint 10 px name's last letter, over a Doppler
    frame, holding none, were lost.  Not on grey frames (``_to_its_ink`` there) nor for
    dark lines (their value is the field's black)."""
    hit = _letters_value(views, region)
    if hit is None:
        return region
    x0, y0, x1, y1 = region.box
    if region.vertical:
        hit = hit.T
    height, length = hit.shape
    rows = np.flatnonzero(hit.sum(axis=1) >= INK_HITS)
    cols = np.flatnonzero(hit.any(axis=0))
    if rows.size == 0 or cols[-1] - cols[0] + 1 < ROWS_ALONG * length:
        return region
    most = int(ROWS_CUT * height)
    a0 = min(max(0, int(rows[0]) - 1), most)
    a1 = max(min(height, int(rows[-1]) + 2), height - most)
    if (a0, a1) == (0, height):
        return region
    # Rows of the value shorter than the glyphs are not the letters' (a yellow name over a
    # Doppler map: the spike was the map's saturated white, in the rows of the letters'
    # lower half).
    if a1 - a0 < region.glyph_height:
        return region
    if region.vertical:
        box = (x0 + a0, y0, x0 + a1, y1)
    else:
        box = (x0, y0 + a0, x1, y0 + a1)
    return replace(region, box=box, reason=region.reason + ", cut to its letters' rows")


#: A dark line on a colour frame is the gaps round bright letters (``_gaps_to_its_letters``)
#: when its box's histogram spike lies at least this many 8-bit levels over the box's median
#: ...
GAPS_UNDER = 96
#: ... and holds at most this share of the box (letters' cores: 4-16 %; a bright field under
#: dark letters, 29 % of the box of a black date on a colour bar)
GAPS_INK_SHARE = 0.2


def _gaps_to_its_letters(views: Sequence[np.ndarray], region: TextRegion) -> TextRegion:
    """A vertical dark line of the gaps round bright letters cut across to the letters, on a
    colour frame: the columns where the letters' one value lies (``_histogram_spike``), a
    pixel more on either side for their soft edge.

    A grey 20 px date written down an echo's sector, not found as a bright line (its letters
    join the sector's bright wall), was taken as a dark vertical line of the gaps between its
    letters and the black beside them, 25 px across for 13 px letters; the margin, a share of
    that width, grew with it and the box blanked 3.8 % of the frame.  ``_gaps_round_letters``
    cuts such a line to the bright line of its letters where one was taken; here none was,
    and the letters' value stands for it.  Only where that value is bright in the box (over
    its median by ``GAPS_UNDER``: a dark name's spike is the field's black under it), holds
    a letters' share of the box (``GAPS_INK_SHARE``), runs along ``ROWS_ALONG`` of the line
    and lies inside it, short of both its sides.  Only vertical lines: a black 19 px ID
    over a Doppler frame, joined with the vendor's white "PWR" and a white frame's edge into
    one horizontal dark line, had the white as its spike (its letters' rows were kept by one
    pixel); a name written up or down the sector is where letters' gaps join the black on
    both sides (seed 17, and a grey name up a Doppler frame, 1.67 -> 0.06 %).  Never
    along the line (the model read the line's extent; a last letter drawn in single pixels
    holds no pixel of the value)."""
    if not _rgb(views) or region.polarity != "dark" or not region.vertical or region.glyphs == 0:
        return region
    x0, y0, x1, y1 = region.box
    spiked = _box_spike(views[0], region.box, GAPS_INK_SHARE)
    if spiked is None:
        return region
    crop, value = spiked
    if value < float(np.median(crop)) + GAPS_UNDER:
        return region
    hit = (crop == value).T  # rows across the line, columns along it
    height, length = hit.shape
    rows = np.flatnonzero(hit.sum(axis=1) >= INK_HITS)
    cols = np.flatnonzero(hit.any(axis=0))
    if rows.size == 0 or cols[-1] - cols[0] + 1 < ROWS_ALONG * length:
        return region
    a0, a1 = max(0, int(rows[0]) - 1), min(height, int(rows[-1]) + 2)
    # The gaps lie round the letters: black on both sides of them across the line.  A value
    # reaching an edge of the box is a field the line ends on (a black date over a colour
    # bar's edge: the bar's white in its lower rows), not letters inside it.
    if a0 == 0 or a1 == height:
        return region
    return replace(
        region,
        box=(x0 + a0, y0, x0 + a1, y1),
        reason=region.reason + ", cut to the letters in its gaps",
    )


#: A dark line on a colour frame grows across to its grey letters (``_across_to_its_letters``)
#: by at most this many of its glyph heights on either side ...
LETTERS_ACROSS = 1.0
#: ... over gaps of at most this many rows without the letters' value (a stroke's gap).
LETTERS_GAP = 1


def _across_to_its_letters(
    views: Sequence[np.ndarray], region: TextRegion, margin: float
) -> list[TextRegion]:
    """The rest of the grey letters whose gaps a dark line on a colour frame is, across the
    line past its box: pieces over the rows where their one value runs on, along only the
    columns holding it.

    Grey letters over a Doppler frame, half on the vendor's black field and half over the
    sector (or over the colour map), were found as a dark line of their gaps, 4-8 px high
    for 10-15 px letters: the box held the rows where the gaps stood out and the fill left
    the rest (a 20 px ID at 72 %, a 17 px date at 74 %, an 18 px name at 80 %, a 14 px date
    at 21 %).  The letters are drawn in one grey value (``_histogram_spike`` of the box
    widened across by ``LETTERS_ACROSS`` glyphs); the rows next to the box that hold
    ``INK_HITS`` pixels of it in the box's span, over gaps of ``LETTERS_GAP`` rows, are the
    rest of them.  The sector's grey speckle holds that exact value in a pixel or none of a
    row; a field of it runs on past the reach, and then nothing is grown on that side.  Only
    a grey value (a Doppler map's colours are not) brighter than the box's median (the
    letters round dark gaps), running along ``ROWS_ALONG`` of the line, and only past the
    box's margin (``_margins``), which covers a row or two of the letters already: a 2-row
    piece of a vendor's grey header letters, filled, changed the verifier's second look at
    the header beside it, and its box grew by 109 px (a J2K frame from 0.38 to 0.93 %)."""
    if not _rgb(views) or region.polarity != "dark" or region.glyphs == 0:
        return []
    x0, y0, x1, y1 = region.box
    reach = max(2, int(LETTERS_ACROSS * region.glyph_height))
    rows, cols = views[0].shape[:2]
    # The window: the box widened by the reach across and, for a piece's last letter past
    # the line's end (a date's last digit beyond the gaps found), by twice that along.
    if region.vertical:
        w0, w1 = max(0, x0 - reach), min(cols, x1 + reach)
        v0, v1 = max(0, y0 - 2 * reach), min(rows, y1 + 2 * reach)
        window = (w0, v0, w1, v1)
        a0, a1, b0, b1 = x0 - w0, x1 - w0, y0 - v0, y1 - v0
    else:
        w0, w1 = max(0, y0 - reach), min(rows, y1 + reach)
        v0, v1 = max(0, x0 - 2 * reach), min(cols, x1 + 2 * reach)
        window = (v0, w0, v1, w1)
        a0, a1, b0, b1 = y0 - w0, y1 - w0, x0 - v0, x1 - v0
    wx0, wy0, wx1, wy1 = window
    # The letters' value is the spike over the box's own span, widened across only.
    span = (x0, wy0, x1, wy1) if not region.vertical else (wx0, y0, wx1, y1)
    spiked = _box_spike(views[0], span, GAPS_INK_SHARE)
    if spiked is None:
        return []
    _crop, value = spiked
    inside = views[0][y0:y1, x0:x1]
    if value <= float(np.median(inside)):
        return []
    red, green, blue = (views[i][wy0:wy1, wx0:wx1] for i in (1, 2, 3))
    hit = (views[0][wy0:wy1, wx0:wx1] == value) & (red == green) & (green == blue)
    if region.vertical:
        hit = hit.T  # rows across the line, columns along it
    length = b1 - b0
    cols_in = np.flatnonzero(hit[a0:a1, b0:b1].any(axis=0))
    if cols_in.size == 0 or cols_in[-1] - cols_in[0] + 1 < ROWS_ALONG * length:
        return []
    held = hit[:, b0:b1].sum(axis=1) >= INK_HITS
    grown = [a0, a1]
    for side, start, step, end in ((0, a0 - 1, -1, -1), (1, a1, 1, held.size)):
        last, r = None, start
        while r != end and (last is None or abs(r - last) <= LETTERS_GAP + 1):
            if held[r]:
                last = r
            elif last is None and abs(r - start) > LETTERS_GAP:
                break
            r += step
        if last is None:
            continue
        if r == end and held[end - step]:
            continue  # the value runs on to the reach: a field, not letters
        grown[side] = last if side == 0 else last + 1
    covered = _margins(region, margin)[0 if region.vertical else 1]
    pieces = []
    for p0, p1 in ((grown[0], a0), (a1, grown[1])):
        if p1 - p0 <= covered:
            continue
        # Along, the piece spans only the letters' columns (a pixel more for their soft
        # edge): the whole line's length, with a margin of the grown height, pushed an 18 px
        # name's frame from 0.66 to 1.29 %.  Past the line's ends, columns of the value in
        # any of the letters' rows over gaps of at most a glyph's height (a 17 px date's last
        # digit lay 5 px past the gaps found, its bottom in no pixel of the value).
        along = hit[grown[0] : grown[1]].any(axis=0)
        inner = np.flatnonzero(along[b0:b1])
        if inner.size == 0:
            continue
        first, last = b0 + int(inner[0]), b0 + int(inner[-1])
        gap = max(2, region.glyph_height)
        c = first - 1
        while c >= 0 and first - c <= gap:
            if along[c]:
                first = c
            c -= 1
        c = last + 1
        while c < along.size and c - last <= gap:
            if along[c]:
                last = c
            c += 1
        c0, c1 = max(0, first - 1), min(along.size, last + 2)
        if region.vertical:
            box = (w0 + p0, v0 + c0, w0 + p1, v0 + c1)
        else:
            box = (v0 + c0, w0 + p0, v0 + c1, w0 + p1)
        pieces.append(
            replace(region, box=box, reason=region.reason + ", the rest of its letters across")
        )
    return pieces


#: On a colour frame a bright line's box is cut along its line (``_to_its_letters_along``) only
#: where its letters' value stops at least this many glyph heights short of an end.
ALONG_UNREAD = 1.0


def _to_its_letters_along(
    detector: BurnedInTextDetector, views: Sequence[np.ndarray], region: TextRegion
) -> TextRegion:
    """``region`` cut along its line to its letters, on a colour frame, where neither the
    letters' value nor the characters read reach an end of it.

    A grey 16 px ID over an echo's sector joined a blob of speckle past its last digit into a
    ninth "glyph": the model read the digits over 81 % of the line (past ``READ_SHARE``, so
    ``_read_part`` left it whole) and the box, with its margin, blanked 1 % of the frame past
    the text.  Two cues must agree before the end is dropped: the letters' one value
    (``_letters_value``) holds no pixel there, and no character was read there (the part read
    is widened by half a glyph).  Either alone loses letters: the value's columns miss a serif
    letter drawn in single pixels of it, and the model does not read every last letter.  The
    model is asked only when the value stops ``ALONG_UNREAD`` glyphs short of an end."""
    hit = _letters_value(views, region)
    if hit is None or region.glyph_height <= 0:
        return region
    along = (hit.T if region.vertical else hit).any(axis=0)
    cols = np.flatnonzero(along)
    if cols.size == 0:
        return region
    reach = ALONG_UNREAD * region.glyph_height
    length = along.size
    first, last = int(cols[0]), int(cols[-1]) + 1
    if first < reach and length - last < reach:
        return region
    extent = detector.extent(views, region)
    if extent is None:
        return region
    a0, a1 = (1, 3) if region.vertical else (0, 2)
    start = region.box[a0]
    lo = max(region.box[a0], min(extent[a0], start + first - 1))
    hi = min(region.box[a1], max(extent[a1], start + last + 1))
    if lo - region.box[a0] < reach and region.box[a1] - hi < reach:
        return region
    box = list(region.box)
    box[a0], box[a1] = lo, hi
    return replace(
        region, box=(box[0], box[1], box[2], box[3]), reason=region.reason + ", cut to its letters"
    )


def _to_its_colour(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    region: TextRegion,
    margin: float,
) -> TextRegion:
    """``region`` cut to the extent of its text's own colour.

    Grey letters over an MR mosaic's slices join the slices' rims into a line whose glyph
    height is the letters' but whose box runs over the rims beside and above them (15-90 px
    of the mosaic boxed with a name: 3.7-6.3 % of it).  Burned-in text is drawn in one
    value: in the full-range view of the box the letters' value is a spike of the histogram,
    held by far more pixels than the values next to it, while anatomy's values spread
    (``COLOUR_SALIENT``, ``COLOUR_PIXELS``; the most common value was the slices' dark rims
    under a grey name up the mosaic's edge).  The lowest few values are the gaps' noise;
    the maximum counts (bright letters are burned there, and a dark "line" of the gaps
    between them and the rims holds them too).
    The rows across the line holding many such pixels are the letters' (``COLOUR_ROW``), and
    along it the letters run where a window of half their height holds a third of their
    height of them.  The box is cut there only if that is a real cut (``COLOUR_CUT``) and
    the cut box still reads as text with about as many characters as the whole line
    (``COLOUR_LOST``): another text of another colour in the line would be lost.

    Only on frames with a near-black field at a common minimum (``frames._at_the_minimum``:
    a mosaic's tiles), where the slices' rims are what text joins.  On every frame it cut
    boxes short of 5 of 180 strings of the held-out placements' seed 0 (a bone scan's 264
    levels, a Doppler frame's 8 bits, a small MR's thin letters over its own grey)."""
    view = views[0]
    if view.ndim != 2 or getattr(views, "minimum", None) is None:
        return region
    x0, y0, x1, y1 = region.box
    spiked = _box_spike(view, region.box)
    if spiked is None:
        return region
    crop, value = spiked
    # Measured out to the box's margin: a line cut to what was read may end a letter short of
    # the text, which its margin covered; the cut box's margin is smaller.
    wx0, wy0, wx1, wy1 = _expand(region, margin, view.shape)
    hit = view[wy0:wy1, wx0:wx1] == value
    if region.vertical:
        hit = hit.T
    across = hit.sum(axis=1)
    rows = np.flatnonzero(across >= max(2.0, COLOUR_ROW * float(across.max())))
    if rows.size == 0:
        return region
    r0, r1 = int(rows[0]), int(rows[-1]) + 1
    height = r1 - r0
    along = np.convolve(hit[r0:r1].sum(axis=0), np.ones(max(3, height // 2)), mode="same")
    cols = np.flatnonzero(along >= max(4.0, height / 3))
    if cols.size == 0:
        return region
    # Half a glyph on: a thin first or last glyph (a serif "1") has no pixel of the full
    # colour, only its anti-aliased shades.
    pad = max(2, height // 2)
    c0, c1 = max(0, int(cols[0]) - pad), min(hit.shape[1], int(cols[-1]) + 1 + pad)
    if height * (c1 - c0) > COLOUR_CUT * (x1 - x0) * (y1 - y0):
        return region  # no real cut, and the characters below only widen it (no model call)
    # ... and on over every character the recogniser read surely in the whole line (its
    # reading is cached): a thin glyph in anti-aliased shades only is still a character.
    origin = wy0 if region.vertical else wx0
    for centre, p in detector.characters(views, region) or []:
        if p >= COLOUR_CHAR:
            c0 = max(0, min(c0, int(centre - origin - 0.6 * height)))
            c1 = min(hit.shape[1], max(c1, int(np.ceil(centre - origin + 0.6 * height)) + 1))
    if region.vertical:
        box = (wx0 + r0, wy0 + c0, wx0 + r1, wy0 + c1)
    else:
        box = (wx0 + c0, wy0 + r0, wx0 + c1, wy0 + r1)
    if (box[2] - box[0]) * (box[3] - box[1]) > COLOUR_CUT * (x1 - x0) * (y1 - y0):
        return region
    cut = replace(region, box=box, reason=region.reason + ", cut to its colour")
    if not detector.confirm(views, cut):
        return region
    if (
        _alnum(detector.read(views, cut) or "")
        < _alnum(detector.read(views, region) or "") - COLOUR_LOST
    ):
        return region
    return cut


#: A line cut to the rows of the smaller lines it holds keeps this share of their height
#: above and below them (a piece of a name may lack its capitals' tops)
INSIDE_EDGE = 0.3
#: ... and are at least this tall (px): a 6 px dark "line" inside a faint 11 px name is the
#: gaps between its letters' feet, not the letters
INSIDE_HEIGHT = 8


def _to_the_line_inside(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    region: TextRegion,
    taken: Sequence[TextRegion],
) -> TextRegion:
    """``region`` cut across its line to the rows of the taken lines of much smaller glyphs
    it holds (``_holds_across``), when it is a weak candidate: text over an abdominal MR
    joined with the organ above or below it into a line of taller "glyphs" that the model
    reads the text in (the text is in its crop), and whose box, with a margin of a third of
    that height, blanked the organ (a 17 px name in a 35 px line: 10 % of the image).  The
    line is kept along its length (it may hold letters the smaller line lacks), and cut only
    if the cut box still reads as text with about as many characters as the whole line
    (``COLOUR_LOST``): a line holding two lines of text, of which one was found on its own,
    keeps both.  Never a strong line: a bright 28 px ID over an ultrasound palette is a strong
    line of its own letters holding the dark line of the gaps between their lower halves,
    and cut to that line's rows it left the letters' tops.  Nor to a line it reads much more
    text than (``_reads_more``): that is a piece of its letters (the gaps in two digits of a
    date over a radiograph's lung, read "76" in a line read "1976-04-25").  Nor to a line of
    the other polarity: under a grey name over the mosaic's slices the dark 8 px line of the
    gaps between its letters' feet reads the name too, and the name's own 25 px line cut to
    it kept none of the letters' tops; but a dark line on a colour frame is cut to the bright
    line of the letters it holds (``_gaps_round_letters``)."""
    if region.strong or region.glyph_height <= 0:
        return region
    inner = [
        t
        for t in taken
        if t is not region
        and (t.polarity == region.polarity or _gaps_round_letters(views, region, t))
        and t.glyph_height >= INSIDE_HEIGHT
        and _inside_across(region, t)
        and not _reads_more(detector, views, region, t)
    ]
    if not inner:
        return region
    c0, c1 = (0, 2) if region.vertical else (1, 3)
    lo = min(t.box[c0] for t in inner)
    hi = max(t.box[c1] for t in inner)
    edge = max(1, int(round(INSIDE_EDGE * max(t.glyph_height for t in inner))))
    box = list(region.box)
    box[c0] = max(box[c0], lo - edge)
    box[c1] = min(box[c1], hi + edge)
    if box[c1] - box[c0] >= region.box[c1] - region.box[c0]:
        return region
    cut = replace(
        region,
        box=(box[0], box[1], box[2], box[3]),
        glyph_height=max(t.glyph_height for t in inner),
        reason=region.reason + ", cut to the line inside",
    )
    if not detector.confirm(views, cut):
        return region
    if (
        _alnum(detector.read(views, cut) or "")
        < _alnum(detector.read(views, region) or "") - COLOUR_LOST
    ):
        return region
    # Along the line, to the characters read in the cut (half a glyph of the text past them):
    # the taller line ran on over the organ past the text's end.
    extent = detector.extent(views, cut)
    if extent is not None:
        cut = replace(cut, box=extent)
    return cut


#: On a mosaic frame a taken line is cut to its letters' stored value (``_to_its_stored_value``)
#: when that value is held by this many times as many pixels of the line's box as the values
#: within ``STORED_BESIDE`` of it, on average ...
STORED_SALIENT = 5.0
STORED_BESIDE = 8
#: ... and a row across the line is the letters' when it holds this share of the most such
#: pixels any row holds (``COLOUR_ROW``); values under this level of the full-range view are
#: the gaps' noise, not ink.
STORED_FIELD = 3
#: ... and a run of columns holding it is letters when it holds at least this many pixels
STORED_RUN = 3
#: ... and a pixel lies on the field around the slices when this share of a square of the
#: letters' height around it is at the gaps' noise
STORED_OFF_FIELD = 0.5
#: ... and letters fewer rows tall than this have strokes a pixel or two wide, whose
#: anti-aliasing can leave a glyph without one pixel of the value
STORED_SMALL = 12
STORED_SMALL_GAP = 1.5
#: ... and bright letters (at the frame's maximum) are the pixels within this share of the
#: stored range below it: the cores of anti-aliased strokes
STORED_NEAR_TOP = 0.1


def _to_its_stored_value(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    region: TextRegion,
    taken: Sequence[TextRegion],
    margin: float,
) -> TextRegion:
    """``region`` cut to the extent of its letters' one stored value, on an MR mosaic's frame.

    A name over the mosaic's slices joins the slices' rims into lines that run past it along
    (a faint hospital name's dark line completed by reading to 64 px before its first
    letter, a dark date's to 25 px past its last) and across (the rims above and below a
    grey ID: a 29 px "line" for 14 px letters), and their fills, each with a margin of its
    height, blanked 1.1-6.1 % of the mosaic around letters that need a fifth of that.  The
    letters are drawn in one value: in the stored values (1593 levels where the 8-bit views
    merge six) that value is held by the letters' cores and by almost no pixel of the
    slices' noisy anatomy, while ``_to_its_colour``'s 8-bit spike there spreads over the
    rims (a grey ID's value in the 8-bit view ran 75 px past it).  A bright or grey name's
    value is the spike of its box's values over the field (``STORED_SALIENT``); a dark
    name's (a dark line with no such spike) is the frame's minimum, which off the field
    around the slices only letters hold.
    The rows holding many of its pixels and the runs of columns between them that hold
    strokes of it are the letters (``STORED_RUN``; see below for small fonts), a dark name
    runs on over the field it ends on (its letters there are unseen), and on over the
    characters read surely next to them.  The box is only ever cut to them, never grown,
    and the cut must still read as text, unless it lies in another line taken (the lower
    halves of a date's letters, joined with the rims under them, read as nothing alone).
    Burned-in text of another colour in the same box would be lost, so the value is the
    box's own, not its margin's."""
    stored = _grey_stored(views)
    view = views[0]
    if not _a_mosaic(views) or stored is None:
        return region
    # The value is the one the box's own pixels hold (a line of another colour stacked
    # against it lies in its margin); its pixels are looked for out to the margin (a line
    # cut to what was read may end a letter short of the text).
    x0, y0, x1, y1 = region.box
    if not (view[y0:y1, x0:x1] >= STORED_FIELD).any():
        return region
    value = _stored_spike(view, stored, region.box)
    dark = value is None
    if dark and region.polarity != "dark":
        return region
    wx0, wy0, wx1, wy1 = _expand(region, margin, view.shape)
    # The field around the slices: where most of a letter-sized square is at the gaps' noise.
    k = max(3, region.glyph_height) | 1
    field = (
        cv2.blur(
            (view < STORED_FIELD).astype(np.float32),
            (k, k),
            borderType=cv2.BORDER_REPLICATE,
        )[wy0:wy1, wx0:wx1]
        >= STORED_OFF_FIELD
    )
    if not dark:
        hit = (stored[wy0:wy1, wx0:wx1] == value) & (view[wy0:wy1, wx0:wx1] >= STORED_FIELD)
    else:
        # Dark letters are burned at the frame's minimum, which the gaps' noise holds too;
        # over the slices only the letters hold it (a dark date's 326 pixels at 0).
        hit = (stored[wy0:wy1, wx0:wx1] == int(stored.min())) & ~field
        if int(hit[y0 - wy0 : y1 - wy0, x0 - wx0 : x1 - wx0].sum()) < COLOUR_PIXELS:
            return region
    # Along the line, small bright letters (burned at the frame's maximum) are the pixels
    # near it: their anti-aliased strokes hold the maximum in a pixel or two per glyph, or
    # none (a bright 11 px name's first three letters over the gap held none, and the cut lost
    # them), but their cores lie within ``STORED_NEAR_TOP`` of it, where only a few dozen
    # pixels of the slices do.  Their rows are still those holding the value itself.
    near = hit
    if not dark and value == int(stored.max()):
        top = int(value) - int(STORED_NEAR_TOP * (int(value) - int(stored.min())))
        near = (stored[wy0:wy1, wx0:wx1] >= top) & (view[wy0:wy1, wx0:wx1] >= STORED_FIELD)
    if region.vertical:
        hit, near, field = hit.T, near.T, field.T
    across = hit.sum(axis=1)
    rows = np.flatnonzero(across >= max(2.0, COLOUR_ROW * float(across.max())))
    if rows.size == 0:
        return region
    r0, r1 = int(rows[0]), int(rows[-1]) + 1
    height = r1 - r0
    if height < STORED_SMALL:
        hit = near
    cols = np.flatnonzero(hit[r0:r1].any(axis=0))
    # Columns chained over gaps of at most half a letter's height: the runs holding a few
    # pixels of the value, two of them touching (a stroke), are letters; the anatomy's pixels
    # at the value are scattered alone (five over 12 columns, 23 px before a grey name).
    # A larger font's letters all hold strokes of it, and a quarter of their height is left
    # for their soft edges.  A small font's end glyph holds one or two, or none (a grey 12 px
    # name's "NO": three apart): its letters run on over any pixel of the value within
    # ``STORED_SMALL_GAP`` of their height (a "K" holding two, 11 px before the next
    # letter's strokes of it), and a letter's height more is left for one holding none.
    runs = np.split(cols, np.flatnonzero(np.diff(cols) > max(2, height // 2)) + 1)
    band = hit[r0:r1].view(np.uint8)
    touching = cv2.filter2D(band, -1, np.ones((3, 3), np.float32), borderType=cv2.BORDER_CONSTANT)
    stroke = (band > 0) & (touching >= 2)
    letters = [
        run
        for run in runs
        if band[:, run[0] : run[-1] + 1].sum() >= STORED_RUN
        and stroke[:, run[0] : run[-1] + 1].any()
    ]
    if not letters:
        return region
    first, last = int(letters[0][0]), int(letters[-1][-1])
    pad = max(2, height // 4)
    if height < STORED_SMALL:
        pad = height
        reach = int(STORED_SMALL_GAP * height)
        for c in cols[::-1]:
            if first - reach <= c < first:
                first = int(c)
        for c in cols:
            if last < c <= last + reach:
                last = int(c)
    c0, c1 = max(0, first - pad), min(hit.shape[1], last + 1 + pad)
    # ... and on over the field the letters end on: letters burned in the gaps' black run on
    # under the gap unseen (``_through_field``).
    if dark:
        under = field[r0:r1].mean(axis=0) >= STORED_OFF_FIELD
        while c1 < hit.shape[1] and under[c1]:
            c1 += 1
        while c0 > 0 and under[c0 - 1]:
            c0 -= 1
    # ... and on over the characters read surely next to them, one after the other (a thin
    # end glyph held only in anti-aliased shades); a "character" read farther off is the
    # slices' rims read as letters.
    origin = wy0 if region.vertical else wx0
    sure = sorted(
        c - origin for c, p in detector.characters(views, region) or [] if p >= COLOUR_CHAR
    )
    for centre in sure:
        if c0 - height <= centre < c0:
            c0 = max(0, int(centre - 0.6 * height))
    for centre in reversed(sure):
        if c1 < centre <= c1 + height:
            c1 = min(hit.shape[1], int(np.ceil(centre + 0.6 * height)) + 1)
    r0, r1 = max(0, r0 - 1), min(hit.shape[0], r1 + 1)
    if region.vertical:
        ink = (wx0 + r0, wy0 + c0, wx0 + r1, wy0 + c1)
    else:
        ink = (wx0 + c0, wy0 + r0, wx0 + c1, wy0 + r1)
    box = (max(x0, ink[0]), max(y0, ink[1]), min(x1, ink[2]), min(y1, ink[3]))
    if box[2] <= box[0] or box[3] <= box[1] or box == region.box:
        return region
    cut = replace(region, box=box, reason=region.reason + ", cut to its stored value")
    if detector.confirm(views, cut):
        return cut
    # A piece of the letters too small to read alone (their lower halves, joined with the
    # rims under them into a 18 px "line" under a faint date) is read in another line taken.
    others = [_expand(t, margin, view.shape) for t in taken if t is not region]
    return cut if others and _covered(box, others).all() else region


def _stored_spike(view: np.ndarray, stored: np.ndarray, box: Box) -> int | None:
    """The stored value held by ``STORED_SALIENT`` times as many pixels of ``box`` (those over
    the gaps' noise) as the values within ``STORED_BESIDE`` of it, on average: the value its
    letters are drawn in; None where no value stands out so (dark letters, or none)."""
    x0, y0, x1, y1 = box
    own = view[y0:y1, x0:x1] >= STORED_FIELD
    return _one_stored_value(stored[y0:y1, x0:x1][own])


#: A dark line over a mosaic's slices whose box holds a bright or grey stored value's spike
#: is grown across to the rows holding that value, at most this many of its heights past
#: each side (``_across_to_its_stored_value``)
STORED_ACROSS = 1.0
#: ... over rows where under this share of its length holds the value (a row of letters: a
#: light field drawn under dark letters holds it from end to end)
STORED_FLAT = 0.8
#: ... unless a bright line taken covers this share of its box
STORED_TAKEN = 0.5


def _across_to_its_stored_value(
    views: Sequence[np.ndarray], region: TextRegion, taken: Sequence[TextRegion]
) -> TextRegion:
    """A dark line taken on an MR mosaic's frame grown across to its letters' rows, where its
    box holds the spike of a brighter stored value (``_stored_spike``): the line is the gaps
    between and inside grey or bright letters, and ends where they touch a slice.

    Bold grey letters over a gap and the slice under it: the gaps between them are a dark
    9 px line (read "A3025" at 0.8, taken), their own line joins the slice under their feet
    (a 25 px "line" dropped as an echo of it), and the dark line's box ended 3-6 rows above
    the letters' bottoms (15-20 % of a 23 px ID left).  The letters' value, held by almost
    no pixel of the slices (``_to_its_stored_value``), shows their rows: the box grows over
    the consecutive rows holding a quarter of its best row's pixels of it (``COLOUR_ROW``),
    no farther than ``STORED_ACROSS`` of its height.  Never cut here, and not grown where a
    bright line taken holds ``STORED_TAKEN`` of its box (the letters' own line, taken: the
    grown box's wider margin only blanked more around them)."""
    stored = _grey_stored(views)
    view = views[0]
    if region.polarity != "dark" or not _a_mosaic(views) or stored is None:
        return region
    if any(_overlap(region.box, t.box) >= STORED_TAKEN for t in taken if t.polarity != "dark"):
        return region
    value = _stored_spike(view, stored, region.box)
    if value is None:
        return region
    x0, y0, x1, y1 = region.box
    # Rows across the line, columns along it; only the rows within reach are compared.
    if region.vertical:
        stored, view, (x0, y0, x1, y1) = stored.T, view.T, (y0, x0, y1, x1)
    height = y1 - y0
    reach = int(STORED_ACROSS * height)
    w0, w1 = max(0, y0 - reach), min(stored.shape[0], y1 + reach)
    hit = (stored[w0:w1, x0:x1] == value) & (view[w0:w1, x0:x1] >= STORED_FIELD)
    across = hit.sum(axis=1)
    enough = (across >= max(2.0, COLOUR_ROW * float(across[y0 - w0 : y1 - w0].max()))) & (
        across < STORED_FLAT * (x1 - x0)
    )
    r0, r1 = y0, y1
    while r0 > w0 and enough[r0 - 1 - w0]:
        r0 -= 1
    while r1 < w1 and enough[r1 - w0]:
        r1 += 1
    if (r0, r1) == (y0, y1):
        return region
    box = (r0, x0, r1, x1) if region.vertical else (x0, r0, x1, r1)
    return replace(region, box=box, reason=region.reason + ", grown across to its stored value")


def _gaps_round_letters(views: Sequence[np.ndarray], line: TextRegion, inner: TextRegion) -> bool:
    """Whether ``line`` is a dark line holding ``inner``, a bright one, on a colour frame: the
    gaps between a faint name's letters written up an echo's sector joined with the black
    around it into a "line" of 19 px glyphs three times the letters' width, the letters'
    own 8 px line inside it; the dark line's box blanked 6 % of the frame.  Only this way
    round and only in colour: on a grey mosaic the dark line of the gaps between a grey
    name's feet lies inside the name's own taller line, and cut to it lost the letters' tops."""
    return _rgb(views) and line.polarity == "dark" and inner.polarity == "bright"


def _inside_across(line: TextRegion, inner: TextRegion) -> bool:
    """Whether ``inner``, a line of smaller glyphs, lies across ``line``'s height within it
    and along ``JOINED_SHARE`` of the shorter one's length, ``line`` being over 1.5 times as
    tall: the boxes' part of ``_holds_across``, without its test that the glyph sizes differ
    (a 15 px name joined with the organ above it into a 21 px line is of about its size)."""
    c0, c1 = (0, 2) if line.vertical else (1, 3)
    r, o = line.box, inner.box
    return (
        inner.vertical == line.vertical
        and 0 < inner.glyph_height < line.glyph_height
        and r[c0] <= o[c0]
        and o[c1] <= r[c1]
        and r[c1] - r[c0] > 1.5 * (o[c1] - o[c0]) + 2
        and _along(line, inner)
    )


#: Model calls per frame for lines found only in the chroma window (``_in_colour``).
COLOUR_CALLS = 4
#: ... the share of such a line's box that bright lines already taken may cover (the rest is new)
COLOUR_TAKEN = 0.5
#: ... its box is cut to its longest run of characters read at least this surely, each within
#: ``COLOUR_GAP`` glyph heights of the last (the map's blobs beside a name read as a few
#: scattered "letters", the name as a run of sure ones)
COLOUR_SURE = 0.6
COLOUR_GAP = 2.0


def _in_colour(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    taken: Sequence[TextRegion],
    hint_tokens: set[str],
) -> list[TextRegion]:
    """Coloured lines over grey (``frames._chroma``): yellow or cyan letters over speckle join
    its blobs in every other view, and white vendor text they cross joins them into one
    "word" (a name written up the image through the vendor's header).  The chroma window is
    searched for bright lines in its own right, apart from the other views (where grey is
    black, the letters stand alone), and a line counts only if the recogniser reads it there
    (or it reads as a header hint): the colour map's blobs read as nothing.  Lines mostly
    covered by bright lines already taken are those lines (a dark line of the gaps between a
    cyan name's letters is not its line): not read again, but a larger line found
    here that holds one of them across is still the letters joined with the map beside them."""
    chroma = getattr(views, "chroma", None)
    if chroma is None:
        return []
    candidates, seen = [], []
    for r in detector.detect(DetectionViews([chroma])):
        if r.polarity != "bright" or r.glyphs < 2:
            continue
        if sum(_overlap(r.box, t.box) for t in taken if t.polarity == "bright") > COLOUR_TAKEN:
            seen.append(r)
        else:
            candidates.append(r)
    found = _read_on_its_own(
        detector,
        chroma,
        views,
        candidates,
        COLOUR_CALLS,
        hint_tokens,
        ", in colour over grey",
        cut=_to_sure_run,
    )
    return [r for r in found if not _holds_smaller(r, found + seen)]


def _along(line: TextRegion, other: TextRegion) -> bool:
    """Whether ``other`` runs along ``line`` (on ``line``'s axis) over ``JOINED_SHARE`` of the
    shorter one's length."""
    a0, a1 = (1, 3) if line.vertical else (0, 2)
    r, o = line.box, other.box
    return min(o[a1], r[a1]) - max(o[a0], r[a0]) >= JOINED_SHARE * min(o[a1] - o[a0], r[a1] - r[a0])


def _holds_smaller(region: TextRegion, lines: Sequence[TextRegion]) -> bool:
    """Whether ``region`` holds, across its line, another of ``lines`` of much smaller glyphs
    over most of the shorter one's length: in the chroma window cyan letters over a colour
    map join it into "glyphs" twice their height, and both lines read as the name; the
    smaller one is the name (as in ``_without_joined``, for lines not strong on their own)."""
    return any(other is not region and _holds_across(region, other) for other in lines)


def _holds_across(line: TextRegion, inner: TextRegion) -> bool:
    """Whether ``line`` holds ``inner``, a line of much smaller glyphs, across its height and
    along ``JOINED_SHARE`` of the shorter one's length, and is over 1.5 times as tall: what a
    line joined with what its letters cross looks like (``_without_joined``,
    ``_holds_smaller``)."""
    return _inside_across(line, inner) and not same_glyph_size(inner, line)


def _to_sure_run(
    detector: BurnedInTextDetector, views: Sequence[np.ndarray], region: TextRegion
) -> TextRegion:
    """``region`` cut along its line to its longest run of surely read characters (half a
    glyph height past the first and last): in the chroma window a yellow name over grey
    anatomy next to a colour map is one line with the map's blobs, which read as a "T" or an
    "rt" here and there, never as a run of sure characters."""
    chars = detector.characters(views, region) or []
    x0, y0, x1, y1 = region.box
    h = region.glyph_height or ((x1 - x0) if region.vertical else (y1 - y0))
    sure = sorted(c for c, p in chars if p >= COLOUR_SURE)
    if not sure or h <= 0:
        return region
    runs: list[list[float]] = [[sure[0]]]
    for c in sure[1:]:
        if c - runs[-1][-1] <= COLOUR_GAP * h:
            runs[-1].append(c)
        else:
            runs.append([c])
    run = max(runs, key=len)
    a0, a1 = (1, 3) if region.vertical else (0, 2)
    box = list(region.box)
    box[a0] = max(box[a0], int(run[0] - 0.6 * h))
    box[a1] = min(box[a1], int(np.ceil(run[-1] + 0.6 * h)) + 1)
    if box[a1] <= box[a0]:
        return region
    return replace(region, box=(box[0], box[1], box[2], box[3]))


#: Model calls per frame for lines found only in the one-index window (``_hidden_by_palette``).
ALIAS_CALLS = 4
#: ... the share of the pixels of such a line's box not at the window's index that must be
#: its aliases (of its colour): the line's ground, or its ink, is then hidden by the palette
ALIAS_HIDDEN = 0.5
#: ... and the share of its box that lines already taken may cover (the rest is new)
ALIAS_TAKEN = 0.5
#: A strong line there of at least this many glyphs no taller than ``ALIAS_SMALL`` px is
#: taken unread: the recogniser reads nothing in a 6 px font's broken strokes
ALIAS_GLYPHS = 4
ALIAS_SMALL = 8


def _hidden_by_palette(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    taken: Sequence[TextRegion],
    hint_tokens: set[str],
) -> list[TextRegion]:
    """Lines drawn at one palette index over another of the same colour (``frames._one_index``):
    a black name at index 0 over an ultrasound sector whose floor is index 1, black too, is in
    no view of the colours, but a viewer with another palette shows it.  The one-index window
    is searched on its own, for lines of either polarity; a line counts only where most of its
    box off the window's index is of that index's colour (the palette hides the line: white
    vendor text on the black field shows in every view and is not this window's business) and
    only if the recogniser reads it there (or it reads as a header hint)."""
    window = getattr(views, "one_index", None)
    aliases = getattr(views, "aliases", None)
    if window is None or aliases is None:
        return []
    candidates = []
    for r in detector.detect(DetectionViews([window])):
        x0, y0, x1, y1 = r.box
        off = window[y0:y1, x0:x1] != 0
        if r.glyphs < 2 or not off.any():
            continue
        if float(np.mean(aliases[y0:y1, x0:x1][off])) < ALIAS_HIDDEN:
            continue
        if sum(_overlap(r.box, t.box) for t in taken) > ALIAS_TAKEN:
            continue
        candidates.append(r)
    read = _read_on_its_own(
        detector,
        window,
        views,
        candidates,
        ALIAS_CALLS,
        hint_tokens,
        ", hidden by the palette",
        cut=_read_part,
    )
    # An 8 px name drawn at the field's index over the sector's floor is six glyphs of one or
    # two pixels' strokes (the palette's index, not a blend, at each pixel: no soft edge):
    # the window shows it whole and at full contrast, a viewer with another palette shows it
    # too, and the recogniser, scaling it up eightfold, reads nothing.  Nothing else in that
    # window is a line of several glyphs of a small font: the field and its aliases are flat.
    unread = [
        replace(r, reason=r.reason + ", hidden by the palette, too small to read")
        for r in candidates
        if r.strong
        and r.glyphs >= ALIAS_GLYPHS
        and 0 < r.glyph_height <= ALIAS_SMALL
        and _clear_of(r.box, read)
    ]
    return read + unread


#: Model calls per frame for lines found only in the dark-field window (``_on_dark_field``).
DARK_FIELD_CALLS = 4
#: ... the share of their strokes within a tolerance of the ink's value there: letters at the
#: minimum are one colour (0.96-1.0 on the bone scan), the field's noise mostly not (0.2-0.4)
DARK_FIELD_UNIFORM = 0.6
#: ... and their strokes' contrast to the texture around them (``TextRegion.snr``, the
#: detector's bar for text): 30-32 for letters at the minimum on the bone scan's field, 2-5
#: for the lines of one colour that the mosaic's gaps make (one ran into a grey ID written up
#: a gap, read its end as "10" and boxed 2.8 % of the mosaic)
DARK_FIELD_SNR = 16.0


def _on_dark_field(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    taken: Sequence[TextRegion],
    hint_tokens: set[str],
) -> list[TextRegion]:
    """Dark lines lying wholly on a near-black field (``frames._dark_field``): a name at the
    minimum over a bone scan's background at 1-2 levels differs from it by under one level of
    every detection view, yet a student windowing to the low end reads it.  The field window
    is searched for dark lines in its own right, apart from the other views (its noise's own
    minima are dark strokes too, and in the union of views they would join real letters); a
    line counts only where the field lies under most of its box, and only if the recogniser
    reads it there (or it reads as a header hint): the field's speckle reads as nothing.

    Only lines of one colour, standing out of the field's noise, apart from every line taken:
    in an MR mosaic's gaps a row of the field's noise minima 25 px high ran through a white name
    over the slices and, with the name in it, read as digits (14 % of the mosaic boxed)."""
    field = getattr(views, "dark_field", None)
    if field is None:
        return []
    candidates = [
        r
        for r in detector.detect(DetectionViews([field]))
        if r.polarity == "dark"
        and r.glyphs >= 2
        and r.uniformity >= DARK_FIELD_UNIFORM
        and r.snr >= DARK_FIELD_SNR
        and _over_field(field, r)
        and _clear_of(r.box, taken)
    ]
    return _read_on_its_own(
        detector, field, views, candidates, DARK_FIELD_CALLS, hint_tokens, ", on a near-black field"
    )


#: Model calls per frame for lines found only in the bottom-of-range window (``_at_the_bottom``).
BOTTOM_CALLS = 4
#: ... the share of their box at the minimum (black in that window): letters burned there
#: have their cores at it (0.05-0.3 of a line's box), dark anatomy at most a few pixels.
BOTTOM_INK = 0.02
#: ... and under this share of their box inside one line already taken.
BOTTOM_TAKEN = 0.5
#: ... unless that line's glyphs are under this share of their height and their rows reach
#: out of its own by this share of their glyph height (``_feet_of``)
BOTTOM_PART = 0.8
BOTTOM_OUT = 0.25


def _at_the_bottom(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    taken: Sequence[TextRegion],
    hint_tokens: set[str],
    certain_height: int,
) -> list[TextRegion]:
    """Dark lines found only in the bottom-of-range window (``frames._bottom_of_range``): a
    bold black ID over an abdominal MR's bowel, or a narrow one over a small MR's darker
    tissue, touches the dark anatomy around it and is one organ-sized "glyph" with it in
    every other view, read as nothing.  In that window only what lies at the bottom of the
    range is dark, and the letters stand apart.  Searched on its own (like the dark-field
    window), a line counts only where part of its box lies at the minimum and the recogniser
    reads it there (or it reads as a header hint)."""
    window = getattr(views, "bottom_window", None)
    if window is None:
        return []
    # Organ-sized "glyphs" are dark anatomy with the letters in it (a 36 px line around a
    # black ID over a small MR read the ID and blanked 17 % of the image).  A line already
    # taken is not read again; one taken over part of a name (a narrow black ID over a small
    # MR: two of its letters, joined with the tissue between them into a bright "line")
    # leaves the rest to be read here.
    # A line taken over the feet of the letters only (a dark date over a small CT's blocks of
    # pixels, taken as its lower 11 of 17 px) is not this line: it leaves their tops.
    found = _detect_near_the_minimum(detector, window, 2 * certain_height, "dark")
    candidates = [
        r
        for r in found
        if _dark_lines([r], [t for t in taken if not _feet_of(t, r)], certain_height, BOTTOM_TAKEN)
        and float(np.mean(window.at_zero()[r.box[1] : r.box[3], r.box[0] : r.box[2]])) >= BOTTOM_INK
    ]
    if not candidates:
        return []  # (the whole window is made only to read a line in it)
    # Cut to what was read: dark anatomy next to the letters at the minimum may join the
    # line's ends (the reading is cached: no model call).
    return _read_on_its_own(
        detector,
        window.whole,
        views,
        candidates,
        BOTTOM_CALLS,
        hint_tokens,
        ", at the bottom of the range",
        cut=_read_part,
    )


def _feet_of(taken: TextRegion, line: TextRegion) -> bool:
    """Whether ``taken`` holds only part of ``line``'s letters across the line: glyphs under
    ``BOTTOM_PART`` of ``line``'s height, in its rows, with ``line``'s rows reaching out of
    its own by at least ``BOTTOM_OUT`` of ``line``'s glyph height."""
    if taken.vertical != line.vertical or taken.glyph_height >= BOTTOM_PART * line.glyph_height:
        return False
    c0, c1 = (0, 2) if line.vertical else (1, 3)
    t, r = taken.box, line.box
    if min(t[c1], r[c1]) <= max(t[c0], r[c0]):
        return False
    return max(t[c0] - r[c0], r[c1] - t[c1]) >= BOTTOM_OUT * line.glyph_height


#: Model calls per frame for lines found only in the penumbra window (``_in_the_penumbra``),
#: most contrasted first.
PENUMBRA_CALLS = 2
#: ... their strokes' contrast to the texture around them (``TextRegion.snr``) there: 168 for
#: a bold ID at the minimum over the tibia's ramp, at most 44 for the ramp's own noise minima
#: and the band's ragged edge.
PENUMBRA_SNR = 80.0
#: ... and not this share of their box inside one line already taken
PENUMBRA_INSIDE = 0.98


def _in_the_penumbra(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    taken: Sequence[TextRegion],
    hint_tokens: set[str],
    certain_height: int,
) -> list[TextRegion]:
    """Dark lines found only in the penumbra window (``frames._penumbra``): an ID burned at the
    minimum of a radiograph over the ramp from its collimation band into the exposed field is
    a few levels from the ramp in every view, and its letters touch the band.  In that window
    the band is white and the letters black on the stretched ramp.  Searched on its own, near
    its pixels at the minimum; a line counts only if its strokes stand far out of the ramp's
    noise (``PENUMBRA_SNR``), part of its box lies at the minimum, and the recogniser reads
    it there (or it reads as a header hint)."""
    window = getattr(views, "penumbra", None)
    if window is None:
        return []
    # A line taken short of the band (its last digit over the ramp, read as nothing in the
    # other views) leaves the rest to be read here; one inside it is it.
    found = _detect_around_zeros(detector, window, 2 * certain_height)
    candidates = [
        r
        for r in _dark_lines(found, taken, certain_height, PENUMBRA_INSIDE)
        if r.snr >= PENUMBRA_SNR
        and float(np.mean(window[r.box[1] : r.box[3], r.box[0] : r.box[2]] == 0)) >= BOTTOM_INK
    ]
    candidates.sort(key=lambda r: -r.snr)
    return _read_on_its_own(
        detector,
        window,
        views,
        candidates[:PENUMBRA_CALLS],
        PENUMBRA_CALLS,
        hint_tokens,
        ", at the minimum beside a flat field",
        cut=_read_part,
    )


#: Side (px) of the cells in which a window's pixels at 0 are gathered (``_detect_around_zeros``).
ZERO_CELL = 16


def _detect_around_zeros(
    detector: BurnedInTextDetector, window: np.ndarray, reach: int
) -> list[TextRegion]:
    """Lines of ``window`` within about ``reach`` of its pixels at 0, searched only in the
    boxes of connected cells holding such pixels (with ``reach`` around them): the tibia's
    pixels at the minimum off its bands lie along the two ramps, 0.2 of the frame; the box
    of them all is the whole exposed field between (a search of 65 ms CPU)."""
    rows, cols = window.shape
    ch, cw = -(-rows // ZERO_CELL), -(-cols // ZERO_CELL)
    zero = cv2.compare(window, 0, cv2.CMP_EQ)
    cells = cv2.threshold(
        cv2.resize(zero, (cw, ch), interpolation=cv2.INTER_AREA), 0, 255, cv2.THRESH_BINARY
    )[1]
    around = 2 * -(-reach // ZERO_CELL) + 1
    cells = cv2.dilate(cells, np.ones((around, around), np.uint8))
    count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(cells, connectivity=8)
    found: list[TextRegion] = []
    for x, y, w, h, _area in stats[1:count]:
        x0, x1 = x * ZERO_CELL, min(cols, (x + w) * ZERO_CELL)
        y0, y1 = y * ZERO_CELL, min(rows, (y + h) * ZERO_CELL)
        part = np.ascontiguousarray(window[y0:y1, x0:x1])
        found += [_shifted(r, x0, y0) for r in detector.detect(DetectionViews([part]))]
    return found


#: Model calls per frame for lines found only in the at-the-minimum window (``_on_the_minimum``),
#: most glyphs first: the gaps' noise makes a score of two- and three-"glyph" lines there.
MINIMUM_CALLS = 4


def _on_the_minimum(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    taken: Sequence[TextRegion],
    hint_tokens: set[str],
    certain_height: int,
) -> list[TextRegion]:
    """Dark lines found only in the at-the-minimum window (``frames._at_the_minimum``): a bold
    ID at 0 written up an MR mosaic's gap between slices, over the gap's noise (1-10 of 1593
    levels, some of it at 0 too) and the slices' dark rims, is one dark band with them in every
    other window, and in the dark-field window its strokes touch the noise's minima (no line
    there).  Its cores at the minimum stand alone in this window.  A line counts only if the
    recogniser reads it in the dark-field window (what a student windowing to the low end
    sees; or it reads as a header hint): the noise's clusters read as nothing there.  Lines of
    organ-sized "glyphs" are the slices' dark rims; lines mostly inside one taken are that
    line."""
    minimum = getattr(views, "minimum", None)
    field = getattr(views, "dark_field", None)
    if minimum is None or field is None:
        return []
    candidates = _dark_lines(
        detector.detect(DetectionViews([minimum])), taken, certain_height, BOTTOM_TAKEN
    )
    candidates.sort(key=lambda r: -r.glyphs)
    found = _read_on_its_own(
        detector,
        field,
        views,
        candidates[:MINIMUM_CALLS],
        MINIMUM_CALLS,
        hint_tokens,
        ", at the minimum across a near-black field",
        cut=_read_part,
    )
    own = _view_first([field, *views], 0)
    return [_complete_line(detector, own, r) for r in found]


#: Model calls per frame for lines found only in the one-value window (``_in_one_value``),
#: most glyphs first.
ONE_VALUE_CALLS = 3


def _in_one_value(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    taken: Sequence[TextRegion],
    hint_tokens: set[str],
    certain_height: int,
) -> list[TextRegion]:
    """Lines found only in the one-value window (``frames._in_one_value``): letters drawn in
    one value over a large frame's texture.  A bold 26 px name at 0 over a shoulder MR's dark
    noise (0-40 of 595 levels) differs from the noise's dips by a few levels, and a faint
    18 px one over the muscle from its blobs; in every view their strokes join the texture
    into lines of two or three "glyphs" far back in the reading order (50th to 220th of 240
    weak candidates, read as nothing) or, turned by 270 degrees, into a run on one baseline
    past the runs' budget (24th of 36).  Their cores at that one value stand alone in the
    window, a line of four to ten glyphs among a handful of candidates.  A line counts only
    if the recogniser reads it in the full-range view (what a student sees; or it reads as
    a header hint); lines of organ-sized "glyphs" and lines mostly inside one taken are
    left out.  On an MR mosaic a grey bold 20 px date over a slice as bright as it was found
    nowhere else (all of it left)."""
    window = getattr(views, "one_value", None)
    if window is None:
        return []
    candidates = _dark_lines(
        detector.detect(DetectionViews([window])), taken, certain_height, BOTTOM_TAKEN
    )
    candidates.sort(key=lambda r: (-r.glyphs, r.box))
    found = _read_on_its_own(
        detector,
        views[0],
        views,
        candidates[:ONE_VALUE_CALLS],
        ONE_VALUE_CALLS,
        hint_tokens,
        ", drawn in one value over a texture",
        cut=_read_part,
    )
    return [_complete_line(detector, views, r) for r in found]


#: The stroke window over a large frame's texture (``_out_of_texture``): a white top-hat of
#: this kernel (px) keeps bright strokes up to 4 px wide ...
TEXTURE_KERNEL = 5
#: ... and only its pixels at or over this percentile of the window (the deepest 2 %): a faint
#: name's strokes lie there, most of the texture's grain under it (with the whole window
#: searched, 370 candidates and 1 s a frame; so cut, 140 and 0.12 s).
TEXTURE_PERCENTILE = 98.0
#: Lines of at least this many glyphs count there (the texture's grain makes shorter ones) ...
TEXTURE_GLYPHS = 4
#: ... and this many of them, deepest first, are read.
TEXTURE_CALLS = 2


def _out_of_texture(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    taken: Sequence[TextRegion],
    hint_tokens: set[str],
    certain_height: int,
) -> list[TextRegion]:
    """Faint lines over a large frame's busy texture, found in a stroke window of their own.

    A faint 14-15 px name a fifth of the range over a shoulder MR's muscle is drawn in thin
    strokes (only a tenth of its pixels at its one value, too few for the one-value window):
    in every view its letters join the texture's blobs into lines of two or three "glyphs"
    that read as nothing, or a vertical one is cut across by horizontal rows of grain.  A
    white top-hat keeps what is narrower than its kernel, and letters drawn in one value
    stand out of it whole, deeper than the grain: kept only at its deepest pixels, the line
    is the deepest of a dozen lines of four glyphs or more.  Only on frames that have the
    one-value window (large MONOCHROME2 frames with a busy texture, ``frames._in_one_value``);
    a line counts only if the recogniser reads it in that window (or it reads as a header
    hint); organ-sized "glyphs" and lines touching one taken are left out.  Not on an MR
    mosaic: its one-value window is for its letters drawn in one value."""
    if getattr(views, "one_value", None) is None or _a_mosaic(views):
        return []
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (TEXTURE_KERNEL, TEXTURE_KERNEL))
    strokes = cv2.morphologyEx(views[0], cv2.MORPH_TOPHAT, kernel)
    deep = np.percentile(strokes[::4, ::4], TEXTURE_PERCENTILE)
    window = cv2.normalize(
        np.where(strokes >= deep, strokes, np.uint8(0)), None, 0, 255, cv2.NORM_MINMAX
    )
    candidates = [
        r
        for r in detector.detect(DetectionViews([window]))
        if r.polarity == "bright"
        and r.glyphs >= TEXTURE_GLYPHS
        and r.glyph_height <= certain_height
        and _clear_of(r.box, taken)
    ]
    deepest = sorted(candidates, key=lambda r: (-r.depth, r.box))[:TEXTURE_CALLS]
    found = _read_on_its_own(
        detector,
        window,
        views,
        deepest,
        len(deepest),
        hint_tokens,
        ", in a stroke window over a busy texture",
        cut=_read_part,
    )
    own = _view_first([window, *views], 0)
    return [replace(_complete_line(detector, own, replace(r, ink=-1.0)), ink=r.ink) for r in found]


#: Stored levels over the minimum that the darkest-levels window over a large frame's texture
#: keeps (``_darkest_over_texture``): the cores of thin dark letters drawn at the minimum lie
#: there (blended with the noise by their anti-aliasing, only a sixth of a 12 px name's
#: pixels are at the minimum itself), the noise's dips around the joint only in specks (at
#: 3-4 levels those join into lines: 240 candidates instead of 10).
DARKEST_LEVELS = 2
#: Lines of at least this many glyphs count there, and this many of them are read, most
#: glyphs first.
DARKEST_GLYPHS = 4
DARKEST_CALLS = 2


def _darkest_over_texture(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    taken: Sequence[TextRegion],
    hint_tokens: set[str],
    certain_height: int,
) -> list[TextRegion]:
    """Thin dark lines over the near-black noise of a large frame's texture, found in a
    window of the frame's darkest stored levels.

    A 12 px name drawn at the minimum (0) over a shoulder MR's dark noise (0-20 of 595
    levels) is a few levels under the noise's dips in every view, and too thin for the
    one-value window: nothing of it is a candidate.  Only the pixels within
    ``DARKEST_LEVELS`` of the minimum are black in this window, but for straight runs (the
    black border) and specks (the noise's own minima): the letters' cores stand alone, the
    line with most glyphs of a dozen.  Only on frames that have the one-value window (large
    MONOCHROME2 frames with a busy texture, ``frames._in_one_value``); a line counts only if
    the recogniser reads it in that window (or it reads as a header hint).  Not on an MR
    mosaic: its gaps' near-black noise is the darkest levels (a faint 25 px date's line
    joined with it blanked 1.87 % of the mosaic)."""
    stored = getattr(views, "stored", None)
    if getattr(views, "one_value", None) is None or stored is None or _a_mosaic(views):
        return []
    least = stored.min()
    at = np.where(stored <= least + DARKEST_LEVELS, np.uint8(255), np.uint8(0))
    window = black_but_runs_and_specks(at)
    candidates = [
        r
        for r in _dark_lines(detector.detect(DetectionViews([window])), taken, certain_height, 1.0)
        if r.glyphs >= DARKEST_GLYPHS and _clear_of(r.box, taken)
    ]
    most = sorted(candidates, key=lambda r: (-r.glyphs, r.box))[:DARKEST_CALLS]
    found = _read_on_its_own(
        detector,
        window,
        views,
        most,
        len(most),
        hint_tokens,
        ", in the darkest levels of a busy texture",
        cut=_read_part,
    )
    own = _view_first([window, *views], 0)
    return [_complete_line(detector, own, r) for r in found]


#: The stroke windows over a radiograph (``_over_a_radiograph``): a white and a black top-hat
#: of this kernel (px) of the stored values keep strokes up to 4 px wide of either sign ...
RADIOGRAPH_KERNEL = 5
#: ... each only at its pixels at or over this percentile (the deepest 2 %) ...
RADIOGRAPH_PERCENTILE = 98.0
#: ... where lines of at least this many glyphs count, and this many of them, deepest first,
#: are read in each window.
RADIOGRAPH_GLYPHS = 4
RADIOGRAPH_CALLS = 4


def _over_a_radiograph(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    taken: Sequence[TextRegion],
    hint_tokens: set[str],
    certain_height: int,
) -> list[TextRegion]:
    """Small grey letters within a computed radiograph's own spread, found in stroke windows
    of its stored values.

    An 8 px ID over a chest film's lung (ink 11,116 of 26,479 stored levels, the film under
    it 10,070 and 1,000 either way) or a 14 px date up a tibia's bone (ink 412 of 1,023, the
    bone 441 and 12 either way) is read by a person in a window of the film around it, but
    differs by four to eight levels from what is under it in every 8-bit view: nothing of it
    is a candidate.  The film's shading is wider than strokes, and its grain is not drawn in
    lines: a white top-hat (letters stored above the film, dark as a MONOCHROME1 film is
    shown) and a black one (below it, light), each kept only at its deepest pixels, show the
    letters as the deepest line or one of the few deepest.  Only on large MONOCHROME1 frames
    (``DetectionViews.radiograph``); a line counts only if the recogniser reads four
    characters or more in it in its window, and reads it as text (or as a header hint);
    organ-sized "glyphs" and lines touching one taken are left out."""
    stored = getattr(views, "stored", None)
    if not getattr(views, "radiograph", False) or stored is None:
        return []
    film = stored.astype(np.float32)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (RADIOGRAPH_KERNEL, RADIOGRAPH_KERNEL))
    found: list[TextRegion] = []
    for op in (cv2.MORPH_TOPHAT, cv2.MORPH_BLACKHAT):
        strokes = cv2.morphologyEx(film, op, kernel)
        deep = np.percentile(strokes[::4, ::4], RADIOGRAPH_PERCENTILE)
        window = cv2.normalize(
            np.where(strokes >= deep, strokes, np.float32(0)), None, 0, 255, cv2.NORM_MINMAX
        ).astype(np.uint8)
        # Only bright lines lie in it (a fifth of the search's time on a chest film).
        search = DetectionViews([window])
        search.bright_only = (0,)
        candidates = [
            r
            for r in detector.detect(search)
            if r.polarity == "bright"
            and r.glyphs >= RADIOGRAPH_GLYPHS
            and r.glyph_height <= certain_height
            and _clear_of(r.box, [*taken, *found])
        ]
        deepest = sorted(candidates, key=lambda r: (-r.depth, r.box))[:RADIOGRAPH_CALLS]
        own = _view_first([window, *views], 0)
        # A line of four glyphs or more reads as as many characters: the bone's grain read
        # as "285" (0.39-0.84), an ID and a date as 7 and 12 characters.
        deepest = [
            r for r in deepest if len(detector.characters(own, r) or ()) >= RADIOGRAPH_GLYPHS
        ]
        read = _read_on_its_own(
            detector,
            window,
            views,
            deepest,
            len(deepest),
            hint_tokens,
            ", in a stroke window of a radiograph",
            cut=_read_part,
        )
        found += [
            _along_its_value(
                stored, replace(_complete_line(detector, own, replace(r, ink=-1.0)), ink=r.ink)
            )
            for r in read
        ]
    return found


def _along_its_value(stored: np.ndarray, region: TextRegion) -> TextRegion:
    """``region`` grown along its line over the columns (rows, for a vertical line) next to
    its ends that hold its letters' one stored value, a gap of at most a glyph height apart.

    A line found in a radiograph's stroke window ends where its last letter's strokes stop
    being among the deepest (an 8 px ID's last "0", a pixel column of it left, 47 levels off
    the film).  Its letters' cores hold one stored value that the film's grain around them
    holds almost nowhere (34 pixels of the ID's line at 11,116, two within 8 levels of it):
    the columns beside the line that hold it are the rest of the letters.  No spike, no
    growth."""
    x0, y0, x1, y1 = region.box
    ink = _one_stored_value(stored[y0:y1, x0:x1])
    if ink is None:
        return region
    gap = max(1, region.glyph_height)
    # Rows across the line, columns along it.
    plane, (a0, a1), (c0, c1) = (
        (stored.T, (y0, y1), (x0, x1)) if region.vertical else (stored, (x0, x1), (y0, y1))
    )
    start, stop = max(0, a0 - 2 * gap), min(plane.shape[1], a1 + 2 * gap)
    at = start + np.flatnonzero((plane[max(0, c0 - 1) : c1 + 1, start:stop] == ink).any(axis=0))
    new0, new1 = a0, a1
    for p in at[at < a0][::-1]:
        if new0 - p > gap:
            break
        new0 = int(p)
    for p in at[at >= a1]:
        if p - (new1 - 1) > gap:
            break
        new1 = int(p) + 1
    if (new0, new1) == (a0, a1):
        return region
    box = (x0, new0, x1, new1) if region.vertical else (new0, y0, new1, y1)
    return replace(region, box=box, reason=region.reason + ", grown over its stored value")


def _one_stored_value(values: np.ndarray) -> int | None:
    """The stored value a box's pixels hold far more often than the values beside it
    (``STORED_SALIENT`` times those within ``STORED_BESIDE`` levels, by at least
    ``COLOUR_PIXELS`` pixels): the one value letters are drawn in.  None without such a
    spike."""
    if values.size == 0:
        return None
    flat = values.astype(np.int64).ravel()
    base = int(flat.min())
    counts = np.bincount(flat - base).astype(np.float64)
    width = 2 * STORED_BESIDE + 1
    beside = (np.convolve(counts, np.ones(width), mode="same") - counts) / (width - 1)
    spike = counts / np.maximum(beside, 1.0)
    spike[counts < COLOUR_PIXELS] = 0
    if spike.max() < STORED_SALIENT:
        return None
    return base + int(spike.argmax())


#: Kernels (px) of the stroke windows over a mosaic's slices (``_over_slices``): a white
#: top-hat at the first keeps bright and grey strokes up to 4 px wide, a black top-hat at the
#: second dark ones up to 8 px; the slices' gyri and rims are wider than either on most rows.
SLICE_KERNELS = ((cv2.MORPH_TOPHAT, 5), (cv2.MORPH_BLACKHAT, 9))
#: Model calls per frame and stroke window for lines found only there, deepest first ...
SLICE_CALLS = 3
#: ... and then most letters first
SLICE_LETTERS = 2
#: ... and then this many of the rest standing out of the window by this contrast to noise
SLICE_SHARP = 1
SLICE_SNR = 24.0


def _over_slices(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    taken: Sequence[TextRegion],
    hint_tokens: set[str],
    certain_height: int,
) -> list[TextRegion]:
    """Lines written over an MR mosaic's slices, found in stroke windows of their own.

    Over the slices, letters of a small or mid-size font touch the gyri, the slices' dark
    rims and the gaps between them, and every detection view makes one blob of them: the
    lines found there are rows or columns of slices (25-40 px "glyphs") that read as nothing,
    and the name under them is never a candidate.  A morphological top-hat keeps only what is
    narrower than its kernel (strokes) and flattens the slices' wide shapes, so the letters
    stand apart there.  Only where the frame has a mosaic's near-black field at the minimum
    (``frames._at_the_minimum`` made), and a line counts only if the recogniser reads it in
    that window (or it reads as a header hint); organ-sized "glyphs" and lines touching one
    taken, or within a glyph height of it, are left out."""
    if not _a_mosaic(views):
        return []

    def grown(line: TextRegion) -> Box:
        # A top-hat shows a taken line's letters again, and the gaps between them as strokes
        # of the other polarity: read there, its rows and ends make boxes just past it.
        reach = max(2, line.glyph_height)
        x0, y0, x1, y1 = line.box
        return (x0 - reach, y0 - reach, x1 + reach, y1 + reach)

    found: list[TextRegion] = []
    for operation, size in SLICE_KERNELS:
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
        window = cv2.normalize(
            cv2.morphologyEx(views[0], operation, kernel), None, 0, 255, cv2.NORM_MINMAX
        )
        candidates = [
            r
            for r in detector.detect(DetectionViews([window]))
            if r.glyph_height <= certain_height
            and not any(_overlap(r.box, grown(t)) > 0 for t in [*taken, *found])
        ]
        # Deepest first: letters drawn in one value stand out of the window whole, the
        # slices' narrow folds only in parts (about half a line's depth there); then a few
        # with most letters: a small font's letters merge into two or three components that
        # stand out less.
        deepest = sorted(candidates, key=lambda r: -r.depth)[:SLICE_CALLS]
        rest = [r for r in sorted(candidates, key=_reading_order) if r not in deepest]
        chosen = deepest + rest[:SLICE_LETTERS]
        # ... and the one standing out of the window most sharply, if it stands out so: the
        # gaps between a bright 13 px ID's letters crossing a gap onto a slice, one dark
        # "glyph" at snr 40 in the white top-hat window (the next line there: 15), read as
        # the ID at 1.0, came after 50 lines of slices.
        sharp = [r for r in rest[SLICE_LETTERS:] if r.snr >= SLICE_SNR]
        chosen += sorted(sharp, key=lambda r: -r.snr)[:SLICE_SHARP]
        read = _read_on_its_own(
            detector,
            window,
            views,
            chosen,
            len(chosen),
            hint_tokens,
            ", in a stroke window over a mosaic's slices",
            cut=_read_part,
        )
        own = _view_first([window, *views], 0)
        # A stroke's depth in a top-hat is its contrast with what it crosses: a grey ID is
        # three times deeper over a gap than over a slice, so the window's ink of the line
        # says nothing of where it ends (an ID up a slice grew no further than the gap it
        # crossed, its first digits left).  It grows to the characters read alone.
        found += [
            replace(_complete_line(detector, own, replace(r, ink=-1.0)), ink=r.ink) for r in read
        ]
    return found


#: Model calls per mosaic frame for dark lines over its slices found in the near-black field's
#: window (``_dark_over_slices``), deepest first ...
DARK_SLICE_CALLS = 2
#: ... each kept unless this share of what was read lies in the boxes of lines taken (the
#: gaps between a bright name's letters, read as the name)
DARK_SLICE_TAKEN = 0.3


def _dark_over_slices(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    taken: Sequence[TextRegion],
    hint_tokens: set[str],
    certain_height: int,
    margin: float,
) -> list[TextRegion]:
    """Dark lines over an MR mosaic's slices, found in the near-black field's window.

    A dark serif name over a row of slices, its strokes a few levels over the minimum: in
    the detection views and the stroke windows its letters join the slices' gyri and dark
    rims, and only three of its letters were found, in the white top-hat window, as the
    bright bits of slice between them (78 % of the name left).  The near-black field's window
    (``frames._dark_field``) gives the lower half of its range to the gaps' noise, where the
    letters are a dark line of their own that reads as the name ("YIFELUERE" at 0.73).  That
    window is searched already for lines over the field (``_on_dark_field``); here for
    horizontal dark lines of three glyphs or more over the slices (not over the field), not
    mostly inside lines taken, the deepest ``DARK_SLICE_CALLS``, each kept if read there as
    text (or as a header hint), cut to what was read, and not ``DARK_SLICE_TAKEN`` inside
    the boxes (with their margins) of lines taken: the gaps between a bright name's or
    date's letters read as it too (46-70 % inside its box), and their box's wider margin
    blanked more round it, or made a flat edge that the verifier read as letters by the
    slice above (1.7 % of the mosaic boxed); the dark name's line held a piece of slice
    taken between its letters (19 %)."""
    field = getattr(views, "dark_field", None)
    if not _a_mosaic(views) or field is None:
        return []
    candidates = [
        r
        for r in detector.detect(DetectionViews([field]))
        if r.polarity == "dark"
        and not r.vertical
        and r.glyphs >= 3
        and r.glyph_height <= certain_height
        and not _over_field(field, r)
        and _taken_share(r.box, taken) < TAKEN_SHARE
    ]
    deepest = sorted(candidates, key=lambda r: -r.depth)[:DARK_SLICE_CALLS]
    found = _read_on_its_own(
        detector,
        field,
        views,
        deepest,
        len(deepest),
        hint_tokens,
        ", dark over a mosaic's slices",
        cut=_read_part,
    )
    fills = [_expand(t, margin, field.shape) for t in taken]
    return [r for r in found if float(_covered(r.box, fills).mean()) < DARK_SLICE_TAKEN]


#: Model calls per mosaic frame for upright lines found in the full-range view alone, deepest
#: first (a rotated 17 px name was third there, after two bright columns of slices)
UPRIGHT_CALLS = 3
#: Levels of noise in a mosaic's near-black field between slices (letters drawn in black run
#: on under it unseen, ``_through_field``)
MOSAIC_FIELD_NOISE = 1


def _upright_over_slices(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    taken: Sequence[TextRegion],
    certain_height: int,
    margin: float,
) -> list[TextRegion]:
    """Upright lines over an MR mosaic's slices, found in the full-range view searched alone.

    A rotated name runs along a column of slices: in the union of the detection views its
    letters join that column (a "line" of 20-25 px glyphs that reads as nothing), and the
    stroke windows cut its serif letters into specks.  The full-range view on its own keeps
    the letters apart from the slices' rims, a line of a few glyphs of the text's width.
    Only vertical lines of two glyphs or more no taller than ``certain_height``, clear of
    every line taken, deepest first, each kept if the recogniser confirms it there.  A line
    found there ends where its letters leave the slice: it runs on under the gap (the field
    is black within ``MOSAIC_FIELD_NOISE`` levels) to the letters on the next slice's rim
    (``_through_field``)."""
    if not _a_mosaic(views):
        return []
    candidates = [
        r
        for r in detector.detect(DetectionViews([views[0]]))
        if r.vertical
        and r.glyphs >= 2
        and r.glyph_height <= certain_height
        and _clear_of(r.box, taken)
    ]
    deepest = sorted(candidates, key=lambda r: -r.depth)[:UPRIGHT_CALLS]
    own = _view_first(views, 0)
    found: list[TextRegion] = []
    for region in deepest:
        if not detector.confirm(own, region):
            continue
        region = _read_part(detector, own, region)
        region = replace(region, reason=region.reason + ", upright over a mosaic's slices")
        grown = replace(_complete_line(detector, own, replace(region, ink=-1.0)), ink=region.ink)
        found.append(_through_field(views, grown, margin, MOSAIC_FIELD_NOISE))
    return found


def _detect_near_the_minimum(
    detector: BurnedInTextDetector,
    bottom: BottomWindow | np.ndarray,
    reach: int,
    polarity: str | None = None,
) -> list[TextRegion]:
    """Lines of the bottom-of-range window within ``reach`` of its pixels at the minimum (a
    line counts there only with some of its box at the minimum): the window is searched in
    that part alone.  A CT slice without padding has a few pixels at the minimum and all its
    air and lungs in the window; searched whole, it cost a text-free slice 3-4 ms of 8.

    ``polarity``: only lines of it are wanted; where the detector is sure it finds none
    (``BurnedInTextDetector.finds_none``), none are looked for (on a text-free CT slice,
    0.3 ms of its 3)."""
    window = bottom if isinstance(bottom, BottomWindow) else BottomWindow.made(bottom)
    at_minimum = window.at_zero()
    rows = np.flatnonzero(at_minimum.any(axis=1))
    if rows.size == 0:
        return []
    cols = np.flatnonzero(at_minimum[rows[0] : rows[-1] + 1].any(axis=0))
    height, width = window.shape
    y0, y1 = max(0, int(rows[0]) - reach), min(height, int(rows[-1]) + 1 + reach)
    x0, x1 = max(0, int(cols[0]) - reach), min(width, int(cols[-1]) + 1 + reach)
    whole = (y0, x0, y1, x1) == (0, 0, height, width)
    views = DetectionViews([window.whole if whole else window.part(y0, y1, x0, x1)])
    if polarity is not None and detector.finds_none(views, polarity):
        return []
    found = detector.detect(views)
    return found if whole else [_shifted(r, x0, y0) for r in found]


def _dark_lines(
    found: Iterable[TextRegion], taken: Sequence[TextRegion], certain_height: int, inside: float
) -> list[TextRegion]:
    """The dark lines of two glyphs or more in ``found`` (a window searched on its own for
    letters at the bottom of the range) no taller than ``certain_height`` (taller "glyphs" are
    dark anatomy with the letters in it), and with less than ``inside`` of their box inside
    any one line already taken (such a line is that line)."""
    return [
        r
        for r in found
        if r.polarity == "dark"
        and r.glyphs >= 2
        and r.glyph_height <= certain_height
        and not any(_overlap(r.box, t.box) >= inside for t in taken)
    ]


def _shifted(region: TextRegion, dx: int, dy: int) -> TextRegion:
    """``region`` found in a crop whose corner is at (``dx``, ``dy``) of the frame."""

    def moved(box: Box) -> Box:
        return (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)

    return replace(
        region,
        box=moved(region.box),
        baseline=region.baseline + (dx if region.vertical else dy) if region.baseline else 0,
        line=moved(region.line) if region.line is not None else None,
    )


#: The reason the detector gives a band between two stacked lines (``detection._stacked_gaps``).
STACKED_BAND = "between stacked lines"


#: A candidate lies inside a line when at least this share of its box does.
INSIDE_SHARE = 0.9


def _inside_joined(region: TextRegion, kept: Sequence[TextRegion], policy: PixelPolicy) -> bool:
    """Whether ``region`` lies inside a strong line of the other polarity and of organ-sized
    glyphs (over ``certain_height``): text joined with what it crosses (a grey name over an
    MR mosaic's slices is also a dark 36 px "line" of the slices' rims and the gaps between
    its letters, which reads the name in its crop).  Painted out with that line, the name's
    own line lost its letters and read as nothing, and the joined line was left to cover
    the name with the slices around it (13 % of the mosaic); read as it is, it can be taken,
    and the joined line judged as its echo (``_without_echoes``)."""
    return any(
        line.polarity != region.polarity
        and line.glyph_height > policy.certain_height
        and _overlap(region.box, line.box) >= INSIDE_SHARE
        for line in kept
    )


def _with_own(
    judged: Sequence[np.ndarray], views: Sequence[np.ndarray], region: TextRegion
) -> list[np.ndarray]:
    """Copies of ``judged`` with ``region``'s own box as it is in ``views``."""
    x0, y0, x1, y1 = region.box
    out = []
    for j, v in zip(judged, views, strict=True):
        j = j.copy()
        j[y0:y1, x0:x1] = v[y0:y1, x0:x1]
        out.append(j)
    return out


def _between_untaken(region: TextRegion, strong: Sequence[TextRegion], taken: set[Box]) -> bool:
    """Whether ``region`` is the detector's band between two stacked lines (``glyphs`` 0, no
    line of its own) of which one was not taken: the band is text only because the lines
    around it are (a small header's middle line joined with both), and two rows of anatomy
    around a 28 px name over an MR mosaic's slices, refuted as text, made bands across the
    slices above and below it."""
    if region.glyphs or region.line is not None or not region.reason.endswith(STACKED_BAND):
        return False
    x0, y0, x1, y1 = region.box

    def found(edge: int, row: int) -> bool:
        return any(
            r.box in taken
            for r in strong
            if r.glyph_height > 0
            and not r.vertical
            and r.polarity == region.polarity
            and r.box[edge] == row
            and x0 <= r.box[0]
            and r.box[2] <= x1
        )

    return not (found(3, y0) and found(1, y1))


def _without_joined(
    taken: Sequence[TextRegion],
    detector: BurnedInTextDetector | None = None,
    views: Sequence[np.ndarray] | None = None,
) -> list[TextRegion]:
    """``taken`` without a line that holds a strong taken line of much smaller glyphs in its
    rows: the line joined with what it crosses (a name over a row of MR mosaic slices is also
    a 16-"glyph" line 19 px high and 30 px tall, whose box blanked 4.5 % of the slices around
    the name), nor the pieces promoted onto such a line.  The inner line is the text;
    ``_complete_line`` still follows its ink to letters it lacks.  Unless the line reads as
    much more text than the inner one (``_reads_more``, with ``detector`` and ``views``):
    then the inner line is a piece of its letters (the bottoms of a grey name's letters over
    the slices, an 8 px "line" read "OKE" under the name's own line read "PUDOKEOSETE")."""

    def joined(r: TextRegion) -> bool:
        return any(
            o is not r
            and o.strong
            # A strong line joined with what it touches: a weak candidate of either polarity
            # (the gaps between its letters), or a line of its polarity with twice its glyphs.
            and (not r.strong or (o.polarity == r.polarity and r.glyphs >= 2 * o.glyphs))
            and _holds_across(r, o)
            and (detector is None or views is None or not _reads_more(detector, views, r, o))
            for o in taken
        )

    dropped = [r for r in taken if joined(r)]

    def on_dropped(line: Box) -> bool:
        return any(
            line[0] <= d.box[0]
            and line[1] <= d.box[1]
            and d.box[2] <= line[2]
            and d.box[3] <= line[3]
            for d in dropped
        )

    return [
        r
        for r in taken
        if not any(r is d for d in dropped) and (r.line is None or not on_dropped(r.line))
    ]


def _without_echoes(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    taken: Sequence[TextRegion],
    policy: PixelPolicy,
    hint_tokens: set[str],
) -> list[TextRegion]:
    """``taken`` without the lines that are another taken line seen again.

    Text over anatomy is found twice: as its own line, and joined with what it touches (the
    organ around dark letters, the speckle between bright ones seen as dark strokes) into a
    line of fewer, taller "glyphs" that reaches past the text.  The model reads the text in
    that line's crop too, so it is taken, and its box blanks the anatomy around the text (an
    abdominal MR lost 1.4-3.7 % of its pixels, the echo cine 1.6 %).  A line lying over a taken
    line of shorter glyphs and more of them is read again with that line painted out, and kept
    only if the model still reads text in it (or a header hint): a line of its own reads on,
    anatomy reads as nothing.  Shortest glyphs first, so a line is judged only against lines
    that stay."""
    shape = views[0].shape
    dropped: set[int] = set()
    kept: list[TextRegion] = []
    for n, region in sorted(enumerate(taken), key=lambda item: item[1].glyph_height):
        if region.glyphs and region.glyph_height > 0:
            box = _expand(region, policy.margin, shape)
            under = [
                t
                for t in kept
                if 0 < t.glyph_height < region.glyph_height
                and _overlap(t.box, box) >= 0.5
                and _may_echo(t, region, policy.certain_height)
                and not _reads_more(detector, views, region, t)
            ]
            if under:
                if not _reads_without(detector, views, under, region, policy, hint_tokens):
                    dropped.add(n)
                    continue
        kept.append(region)
    return [r for n, r in enumerate(taken) if n not in dropped]


#: A weak line beside a taken line of the other polarity is that line's echo only if its glyphs
#: are at least this share of its own height (a line of a name's letters' feet is no echo of it)
BESIDE_HEIGHT = 0.6
#: ... of its own polarity (colour frames), at least this share: a yellow name across the
#: Doppler box's border is found as pieces cut by the border (8 and 15 px glyphs of a 26 px
#: font), each shorter than the 32 px "glyphs" of its echo under the border
BESIDE_SAME_HEIGHT = 0.4
#: ... and it reaches out of that line's rows by at least this share of its own rows
BESIDE_OUT = 1 / 3
#: ... and at least this share of the letters and digits it reads are that line's, in order
BESIDE_READ = 0.6


def _without_echoes_beside(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    taken: Sequence[TextRegion],
    policy: PixelPolicy,
    hint_tokens: set[str],
    same_polarity: bool = False,
) -> list[TextRegion]:
    """``taken`` without the weak lines that read only the text of a taken line of the other
    polarity beside them, across their line (with ``same_polarity``, of their own polarity and
    glyphs shorter than theirs).

    Grey or dark text over the abdomen is found as its own line, and the gaps between its
    letters joined with the organ above or below them as a line of the other polarity that
    lies half off the text (a dark 12 px line above a grey 12 px date, read "1040-07 27";
    bright "glyphs" of 21 px above a dark 15 px name, read "VUL").  The model reads the text
    in that line's padded crop, so it is taken, and its box blanked the organ (1-7.7 % of the
    image).  ``_without_echoes`` judges only lines over a line of shorter glyphs in their
    box.  Such a line is read again with the lines beside it painted out
    (``BESIDE_HEIGHT``, ``BESIDE_OUT``, along ``JOINED_SHARE`` of the shorter one's length,
    reading their text: ``BESIDE_READ``, and not much more than it: ``_reads_more``) and
    dropped if the model reads no text in it any more (nor a header hint), and only if each
    of those lines, read with it painted out, still reads as text: where two lines cover each
    other's letters, both stay.  A line reading other text than the line beside it is never
    judged so: a grey 7 px name under an ultrasound's strong header line (read "ST FUDU HOSP"
    beside "MI=0.8 ...") read as nothing with the header painted over its top rows.

    ``same_polarity`` (colour frames): a yellow 28 px name across the J2K Doppler box's
    bottom border was found as its own bright line, and the speckle under the border as a
    bright line of 32 px "glyphs" below it whose padded crop reads the name above (its own
    rows hold 3 of the name's); read and matched to the header, that box blanked 7 % of the
    image.  Of one polarity, a line is another's echo only where its glyphs are taller:
    the name's own line is never judged against its echo."""
    dropped: set[int] = set()
    for n, region in enumerate(taken):
        if region.strong or not region.glyphs or region.glyph_height <= 0:
            continue
        beside = [
            t
            for m, t in enumerate(taken)
            if m != n
            and m not in dropped
            and (t.polarity == region.polarity) == same_polarity
            and (not same_polarity or t.glyph_height < region.glyph_height)
            and t.glyph_height
            >= (BESIDE_SAME_HEIGHT if same_polarity else BESIDE_HEIGHT) * region.glyph_height
            and _reaches_out_of(region, t)
            and not _reads_more(detector, views, region, t)
            and _read_within(detector.read(views, region), detector.read(views, t))
        ]
        if not beside:
            continue
        if _reads_without(detector, views, beside, region, policy, hint_tokens):
            continue
        if all(
            detector.confirm(_without_but(views, region, t, policy, same_polarity), t)
            for t in beside
        ):
            dropped.add(n)
    return [r for n, r in enumerate(taken) if n not in dropped]


def _without_columns_onto(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    taken: Sequence[TextRegion],
    policy: PixelPolicy,
    hint_tokens: set[str],
) -> list[TextRegion]:
    """``taken`` without the vertical lines that begin or end on a taken horizontal line and
    read as text only with its letters in their crop.

    A column of anatomy is text-shaped transposed (the gap between a bone scan's shins, 22
    px wide and 116 tall, as six 15 px "glyphs"), and where it runs onto a name written
    across it, its padded crop holds the name's letters and reads them: taken, its box blanked
    the shins above the name (2 % of the image).  Such a column is read again with the
    horizontal lines in its first or last glyph height painted out, and dropped if the model
    reads no text in it any more (nor a header hint).  A vertical name the horizontal one
    only touches keeps the rest of its letters and still reads."""
    dropped: set[int] = set()
    for n, column in enumerate(taken):
        if not column.vertical or not column.glyphs or column.glyph_height <= 0:
            continue
        x0, y0, x1, y1 = column.box
        h = column.glyph_height
        ends = [
            line
            for line in taken
            if not line.vertical
            and line.glyphs
            and line.box[0] < x1
            and x0 < line.box[2]
            and (y0 <= line.box[1] < y0 + h or y1 - h < line.box[3] <= y1)
        ]
        if not ends:
            continue
        if not _reads_without(detector, views, ends, column, policy, hint_tokens):
            dropped.add(n)
    return [r for n, r in enumerate(taken) if n not in dropped]


#: A line is the gaps of the strong line of the other polarity it crosses, run on into the
#: field, only where it runs on past that line by more than this many of its glyph heights
RUN_ON = 2


def _off_the_letters_crossed(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    taken: Sequence[TextRegion],
    policy: PixelPolicy,
    hint_tokens: set[str],
) -> list[TextRegion]:
    """``taken`` with the lines that are the gaps between another line's letters, run on into
    the field past them, cut to that line's letters (or dropped, where its box with its
    margin holds what is left).

    Bright letters over the small MR's dark tissue are found as their own line, and their
    gaps joined with the dark field beside them as a dark line of as tall "glyphs" that
    crosses them (``_crossed``) and runs on past their end (39 px, to the next organ); the
    model reads the name in its crop, so it is taken, and its box blanked the field (3.9 % of
    the image; a vertical name over the bone scan, its dark line run on 157 px up the shin:
    2.4 %).  ``_without_echoes`` leaves it: its glyphs are no taller, and more of them.  A line
    running on by more than ``RUN_ON`` glyph heights past the strong lines of the other
    polarity crossing it is read again with those painted out; if the model reads no text in
    it any more (nor a header hint), nor anything legible in what runs on past them (the
    letters of a dark ID whose bright gaps were found over its middle digits only: its ends
    still read), its letters are theirs, and it is cut to their extent along the line.  Only
    strong lines' extent, and only a long run: a dark 7 px name over the echo, crossed by a
    weak bright line of two 15 px "glyphs" over its middle, ran on 10 px past it, one letter
    that reads as nothing on its own, and was cut to it (27 % of the name left).  Judged on
    the lines as found, before ``_complete_line`` reads them on: a dark 8 px name's line read
    on to its first letters past its gaps' bright line would be cut back."""
    out: list[TextRegion | None] = list(taken)
    for n, line in enumerate(taken):
        h = line.glyph_height
        if not line.glyphs or h <= 0:
            continue
        crossing = [
            r
            for r in out
            if r is not None  # (two lines never both cut to each other)
            and r.strong
            and r.polarity != line.polarity
            and r.vertical == line.vertical
            and r.glyphs
            and _crossed(line, [r], views)
        ]
        if not crossing:
            continue
        l0, l1 = (1, 3) if line.vertical else (0, 2)
        lo = min(r.box[l0] for r in crossing)
        hi = max(r.box[l1] for r in crossing)
        if line.box[l0] >= lo - RUN_ON * h and line.box[l1] <= hi + RUN_ON * h:
            continue  # not running on past them
        judged = _without(views, crossing, line, policy, same_size=False)
        if detector.confirm(judged, line) or _matches_hint(
            detector.read(judged, line) or "", hint_tokens
        ):
            continue
        ends = []
        for a, b in ((line.box[l0], lo), (hi, line.box[l1])):
            if b - a > RUN_ON * h:
                end = list(line.box)
                end[l0], end[l1] = a, b
                ends.append(replace(line, box=(end[0], end[1], end[2], end[3])))
        if any(not detector.refutes(judged, end) for end in ends):
            continue  # letters of its own past the crossing line's
        box = list(line.box)
        box[l0], box[l1] = max(box[l0], lo), min(box[l1], hi)
        cut = (box[0], box[1], box[2], box[3])
        if box[l0] >= box[l1]:
            continue
        shape = views[0].shape
        if _covered(cut, [_expand(r, policy.margin, shape) for r in crossing]).all():
            out[n] = None
        else:
            out[n] = replace(line, box=cut, reason=line.reason + ", cut to the letters it crosses")
    return [r for r in out if r is not None]


def _without_but(
    views: Sequence[np.ndarray],
    echo: TextRegion,
    line: TextRegion,
    policy: PixelPolicy,
    own: bool,
) -> list[np.ndarray]:
    """``views`` with ``echo`` painted over for ``line`` to be read again; with ``own``, not
    over ``line``'s own box: an echo of the line's polarity, of taller glyphs, painted with
    its margin (0.3 of its height, 13 px) covered the yellow name it echoes, and the name read
    as nothing."""
    judged = _without(views, [echo], line, policy, same_size=False)
    if own:
        x0, y0, x1, y1 = line.box
        for copy, view in zip(judged, views, strict=True):
            copy[y0:y1, x0:x1] = view[y0:y1, x0:x1]
    return judged


def _read_within(mine: str | None, theirs: str | None) -> bool:
    """Whether a reading ``mine`` (not empty) is mostly part of ``theirs``: ``BESIDE_READ`` of
    its letters and digits are found in ``theirs`` in the same order."""
    a, b = _normalise(mine or ""), _normalise(theirs or "")
    if not a or not b:
        return False
    common = sum(m.size for m in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    return common >= BESIDE_READ * len(a)


def _reaches_out_of(line: TextRegion, other: TextRegion) -> bool:
    """Whether ``line`` runs along ``other`` (``JOINED_SHARE`` of the shorter one's length)
    in rows overlapping its rows or within half a glyph of them, and reaches out of its rows
    by ``BESIDE_OUT`` of its own."""
    if line.vertical != other.vertical:
        return False
    if not _along(line, other):
        return False
    c0, c1 = (0, 2) if line.vertical else (1, 3)
    r, o = line.box, other.box
    if min(o[c1], r[c1]) - max(o[c0], r[c0]) < -(line.glyph_height // 2):
        return False  # rows apart: another line of the block
    return max(o[c0] - r[c0], r[c1] - o[c1]) >= BESIDE_OUT * (r[c1] - r[c0])


#: A line reads as more than the line under it when it reads at least this many times its
#: letters and digits, and this many more.
MORE_TIMES = 2
MORE_CHARS = 2


def _reads_more(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    region: TextRegion,
    line: TextRegion,
) -> bool:
    """Whether ``region`` reads as much more text than ``line``: then ``line`` is a piece of
    ``region``'s text (the bottoms of a grey name's letters over an MR mosaic's slices, a
    strong 8 px "line" read "OKE"), not text that ``region`` sees again.  Painted out, it took
    the name's letters with it, the name's own line (read "PUDOKEOSETE") read as nothing and
    was dropped, and only the 36 px line joined with the slices it crosses was left to cover
    the name (13 % of the mosaic).  An echo reads the text under it or less of it."""
    mine = _alnum(detector.read(views, region) or "")
    theirs = _alnum(detector.read(views, line) or "")
    return mine >= MORE_TIMES * theirs + MORE_CHARS


def _alnum(text: str) -> int:
    """Letters and digits in a reading."""
    return sum(c.isascii() and c.isalnum() for c in text)


def _fainter_echo(line: TextRegion, region: TextRegion) -> bool:
    """``region`` has fewer glyphs than ``line`` and stands out less."""
    return line.glyphs > region.glyphs and (line.depth, line.snr) > (region.depth, region.snr)


def _may_echo(line: TextRegion, region: TextRegion, certain_height: int) -> bool:
    """Whether ``region`` may be ``line`` (of shorter glyphs, inside its box) seen again,
    joined with what it touches: a line of fewer glyphs that stand out less, or a weak
    candidate (taken on the model's reading alone) of taller glyphs and no more of them
    (visibly taller, or half as many: letters run together).  Grey letters over the abdomen
    stand out less than the bright organ they join (a 16 px ID joined with a kidney into two
    32 px "glyphs" blanked 5 % of the image), and a date's two 9 px runs joined with the
    bowel under them into two 18 px ones are as many glyphs as the date's.  A strong line of
    organ-sized glyphs (over ``certain_height``, which the model must read as text to be
    taken), visibly taller, whatever their number: a row of an MR mosaic's slices joined with
    the top of a 24 px name under it is a 21-"glyph" line of 26 px, taken because the name's
    letters read in its crop (16 % of the mosaic).  Smaller strong lines are not judged
    again: a grey ID over the colour bars and a large title over Doppler, strong lines of
    9-23 px over smaller lines of their own letters, read as nothing once those were painted
    out.  A weak candidate of the line's polarity and of glyphs more than twice as tall,
    whatever their number (of the other polarity, a faint date over an ultrasound's colour
    bar is the bright line over its gaps' dark runs): a date over a mosaic's slices joined
    with a slice's edge into three 21 px "glyphs" over the date's two 9 px runs."""
    if _fainter_echo(line, region):
        return True
    if region.strong:
        return region.glyph_height > certain_height and not same_glyph_size(line, region)
    if line.polarity != region.polarity and region.glyph_height <= 2 * line.glyph_height + 2:
        # The gaps between dark letters over speckle seen as bright strokes: the letters'
        # height and an edge more, and a second chance for ``_complete_line`` to read on to
        # the letters' ends (a black name over the echo's blood pool lost its first stem).
        return False
    if line.polarity == region.polarity and region.glyph_height > 2 * line.glyph_height + 2:
        # Glyphs more than twice as tall, however many: a bright 12 px date over the
        # mosaic's slices, found as a dark line of two 9 px runs, was also joined with the
        # slice's edge into a dark line of three 21 px "glyphs" that read part of the date
        # (1.7 % of the mosaic boxed).
        return True
    return line.glyphs >= region.glyphs and (
        not same_glyph_size(line, region) or line.glyphs >= 2 * region.glyphs
    )


def _crossed(region: TextRegion, taken: Sequence[TextRegion], views: Sequence[np.ndarray]) -> bool:
    """Whether a line of the other polarity overlaps a third or more of ``region``'s box: the
    same text seen twice (letters, and the gaps between them as strokes of the other
    polarity); the gaps run on into whatever the letters stand on, so neither is grown
    across.  Not when both lines are the same pixels (``_same_strokes``): coloured letters
    over a coloured bar are brighter than it in one channel and darker in another."""
    return any(
        r.polarity != region.polarity
        and _overlap(region.box, r.box) >= 1 / 3
        and not _same_strokes(views, region, r)
        for r in taken
    )


#: Strokes, for ``_same_strokes``: a view's pixels this far from the median of the boxes'
#: meeting (mostly background; cf. ``ACROSS_CONTRAST``).
STROKE_CONTRAST = 40
#: ... and two lines are the same letters when this share of the fewer strokes coincide.
SAME_STROKES = 0.5


def _same_strokes(views: Sequence[np.ndarray], a: TextRegion, b: TextRegion) -> bool:
    """Whether, where the boxes of lines ``a`` and ``b`` (of opposite polarities) meet, the
    pixels that stand out bright in one of the views that give a pixel's colour
    (``_ink_views``) are mostly those that stand out dark in another.

    Yellow letters over a light-red bar are brighter than it in green and darker in blue:
    one line of each polarity, both the letters.  The gaps between letters seen as strokes of
    the other polarity are the bar's own colour, and in the windows of a monochrome frame
    (monotonic in the stored value) a pixel cannot stand out on both sides of the median."""
    x0, y0 = max(a.box[0], b.box[0]), max(a.box[1], b.box[1])
    x1, y1 = min(a.box[2], b.box[2]), min(a.box[3], b.box[3])
    if x1 <= x0 or y1 <= y0:
        return False
    bright = np.zeros((y1 - y0, x1 - x0), bool)
    dark = np.zeros_like(bright)
    for view in _ink_views(views):
        part = view[y0:y1, x0:x1].astype(np.int16)
        middle = float(np.median(part))
        bright |= part >= middle + STROKE_CONTRAST
        dark |= part <= middle - STROKE_CONTRAST
    fewer = min(int(np.count_nonzero(bright)), int(np.count_nonzero(dark)))
    if fewer < ACROSS_SUPPORT:
        return False
    return int(np.count_nonzero(bright & dark)) >= SAME_STROKES * fewer


#: A slot next to a stacked block is text when the model reads this many characters there,
#: each with at least this probability.
STACK_CHARS = 4
STACK_PROB = 0.3
#: ... one of them read at least this surely.
STACK_SURE = 0.8
#: Largest glyph height (px) of a header's lines.
STACK_HEIGHT = 16


def _next_in_stack(
    detector: BurnedInTextDetector, views: Sequence[np.ndarray], lines: Sequence[TextRegion]
) -> list[TextRegion]:
    """The line above and below a stacked block of two confirmed lines, where the model reads
    text.

    A header of name, ID and date in a small font over the vendor's own text: the first two
    lines are found, the third touches the vendor's line under it and forms components too
    tall to be glyphs, so it is not found at all.  Two lines with about one left edge, one
    glyph size and a line pitch under two and a half glyph heights make a block; the slot one
    pitch past either end of it is read, and taken when the model reads characters there (a
    model call only where the slot is not flat and no line covers it already)."""
    view = views[0]
    rows, cols = view.shape[:2]
    flat = _header_lines(lines)
    extra: list[TextRegion] = []
    for a in flat:
        for b in flat:
            pitch = b.box[1] - a.box[1]
            h = max(a.glyph_height, b.glyph_height)
            if not (0 < pitch <= 2.5 * h) or not same_glyph_size(a, b):
                continue
            if abs(a.box[0] - b.box[0]) > h + 1 or a.polarity != b.polarity:
                continue
            x0, x1 = min(a.box[0], b.box[0]), max(a.box[2], b.box[2])
            for y0 in (a.box[1] - pitch, b.box[1] + pitch):
                y1 = y0 + (b.box[3] - b.box[1])
                if y0 < 0 or y1 > rows:
                    continue
                slot = (x0, y0, x1, y1)
                if any(_overlap(slot, r.box) >= 0.5 for r in list(lines) + extra):
                    continue
                part = view[y0:y1, x0:x1]
                if part.size == 0 or int(part.max()) - int(part.min()) < COMPLETE_FLAT:
                    continue
                region = replace(
                    b, box=slot, strong=True, line=None, reason=b.reason + ", next in a stack"
                )
                # The block is the evidence; the reading only has to show characters (a line
                # written over the vendor's reads garbled, its characters at 0.25-0.95).
                chars = [(c, p) for c, p in detector.characters(views, region) or []]
                if not _shows_characters(chars):
                    continue
                read = [c for c, p in chars if p >= STACK_PROB]
                # The slot is as wide as the block; the line is where its characters are.
                half = int(np.ceil(0.6 * h))
                cut = (max(x0, int(min(read)) - half), y0, min(x1, int(max(read)) + half + 1), y1)
                extra.append(replace(region, box=cut))
    return extra


def _header_lines(lines: Sequence[TextRegion]) -> list[TextRegion]:
    """Lines found as lines: not pieces, not candidates cut down to what was read in them
    (text joined with Doppler colour), in a header's font size and no taller than their
    glyphs."""
    return [
        r
        for r in lines
        if not r.vertical
        and 0 < r.glyph_height <= STACK_HEIGHT
        and r.glyphs > 0
        and r.line is None
        and "cut to the text read" not in r.reason
        and r.box[3] - r.box[1] <= 1.7 * r.glyph_height + 2
    ]


def _letter_pixels(view: np.ndarray, region: TextRegion, box: Box) -> np.ndarray:
    """Pixels of ``box`` that stand out like ``region``'s letters: within half its contrast
    of its ink."""
    x0, y0, x1, y1 = box
    part = view[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)].astype(np.int16)
    if region.polarity == "dark":
        part = 255 - part
    return part >= region.ink - 0.5 * region.depth


def _letter_rows(view: np.ndarray, region: TextRegion, y0: int, y1: int) -> np.ndarray:
    """For rows ``y0``..``y1`` of ``region``'s columns: whether each holds two or more runs of
    pixels that stand out like the line's letters."""
    inked = _letter_pixels(view, region, (region.box[0], y0, region.box[2], y1)).view(np.uint8)
    edges = np.diff(np.pad(inked, ((0, 0), (1, 0))).astype(np.int8), axis=1)
    return (edges == 1).sum(axis=1) >= 2


def _letter_columns(view: np.ndarray, region: TextRegion, box: Box) -> np.ndarray:
    """For the columns of ``box``: whether any of its rows has a pixel that stands out like
    ``region``'s letters."""
    return _letter_pixels(view, region, box).any(axis=0)


def _next_to_a_line(
    detector: BurnedInTextDetector, views: Sequence[np.ndarray], lines: Sequence[TextRegion]
) -> list[TextRegion]:
    """The line under a confirmed header line that no other line stacks with, where the model
    reads characters.

    A header's name over an MR mosaic is found, but the ID and date under it touch the first
    slice and join its edge into components no glyph is (one line of organ-sized "glyphs"), so
    the block of two lines that ``_next_in_stack`` reads on from is never found.  Letters of
    the line's ink in the rows past a gap under the line are the next line of the block: the
    pitch is where they begin, and the slot one pitch away is read like the slot next to a
    block (a model call only where such rows are)."""
    rows = views[0].shape[0]
    flat = _header_lines(lines)
    extra: list[TextRegion] = []
    for line in flat:
        x0, y0, x1, y1 = line.box
        h = line.glyph_height
        if line.ink < 0 or line.depth <= 0 or not 0 <= line.view < len(views):
            continue
        if any(
            o is not line
            and o.polarity == line.polarity
            and same_glyph_size(o, line)
            and abs(o.box[0] - x0) <= h + 1
            and 0 < abs(o.box[1] - y0) <= 2.5 * h
            for o in flat
        ):
            continue  # a block already: ``_next_in_stack`` reads on from it
        reach = int(2.5 * h)
        letters = _letter_rows(views[line.view], line, y0, y1 + reach)
        own = np.flatnonzero(letters[: y1 - y0])
        if own.size == 0:
            continue
        top, bottom = int(own[0]), int(own[-1]) + 1
        gap = np.flatnonzero(~letters[bottom:])
        if gap.size == 0:
            continue
        after = np.flatnonzero(letters[bottom + int(gap[0]) :])
        if after.size == 0:
            continue
        pitch = bottom + int(gap[0]) + int(after[0]) - top
        if not bottom - top < pitch <= reach:
            continue
        slot = (x0, y0 + pitch, x1, y1 + pitch)
        if slot[3] > rows or any(_overlap(slot, r.box) >= 0.5 for r in list(lines) + extra):
            continue
        # A block is left-aligned: the next line's letters begin where this line's do.
        begins = np.flatnonzero(_letter_columns(views[line.view], line, slot))
        if begins.size == 0 or begins[0] > h:
            continue
        region = replace(
            line, box=slot, strong=True, line=None, reason=line.reason + ", next to a line"
        )
        chars = detector.characters(views, region) or []
        if not _shows_characters(chars):
            continue
        read = [c for c, p in chars if p >= STACK_PROB]
        half = int(np.ceil(0.6 * h))
        cut = (max(x0, int(min(read)) - half), slot[1], min(x1, int(max(read)) + half + 1), slot[3])
        extra.append(replace(region, box=cut))
    return extra


def _shows_characters(chars: Sequence[tuple[float, float]]) -> bool:
    """Whether a model's reading of a slot next to a block of text shows a line of characters:
    ``STACK_CHARS`` read at ``STACK_PROB`` or more, one of them at ``STACK_SURE``."""
    read = [c for c, p in chars if p >= STACK_PROB]
    return len(read) >= STACK_CHARS and max(p for _c, p in chars) >= STACK_SURE


def _stacked_on(region: TextRegion, taken: Sequence[TextRegion]) -> bool:
    """Whether a horizontal candidate of a header's font size lies directly under or over a
    taken line (at most one glyph height apart) and starts at its left edge: the next line of
    a left-aligned block (name, ID, date), whatever the taken line was joined with.  A
    candidate overlapping a taken line is part of what was taken (a large title's letters over
    Doppler colour), not a line of its own."""
    h = region.glyph_height
    if region.vertical or not 0 < h <= STACK_HEIGHT:
        return False
    if any(_overlap(region.box, line.box) > 0 for line in taken):
        return False
    x0, y0, x1, y1 = region.box
    for line in taken:
        lx0, ly0, lx1, ly1 = line.box
        if line.vertical or line.polarity != region.polarity or line.glyphs == 0:
            continue
        if abs(lx0 - x0) > h + 1 or min(x1, lx1) <= max(x0, lx0):
            continue
        if 0 <= y0 - ly1 <= h or 0 <= ly0 - y1 <= h:
            return True
    return False


#: Share of a weak vertical candidate on a colour frame inside lines already taken above
#: which it is not read (``_taken_share``).
TAKEN_SHARE = 0.8


def _taken_share(box: Box, taken: Sequence[TextRegion]) -> float:
    """Share of ``box`` inside the boxes of the lines ``taken``."""
    inside = _covered(box, [r.box for r in taken])
    return float(inside.mean()) if inside.size else 0.0


def _covered(box: Box, boxes: Iterable[Box]) -> np.ndarray:
    """Which pixels of ``box`` lie inside any of ``boxes`` (a mask of ``box``'s shape)."""
    x0, y0, x1, y1 = box
    inside = np.zeros((y1 - y0, x1 - x0), bool)
    for a0, b0, a1, b1 in boxes:
        inside[max(0, b0 - y0) : max(0, b1 - y0), max(0, a0 - x0) : max(0, a1 - x0)] = True
    return inside


def _overlap(a: Box, b: Box) -> float:
    """Share of ``a`` covered by ``b``."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    area = max(1, (a[2] - a[0]) * (a[3] - a[1]))
    return max(0, iw) * max(0, ih) / area


def _clear_of(box: Box, lines: Iterable[TextRegion]) -> bool:
    """Whether ``box`` touches none of ``lines``' boxes."""
    return not any(_overlap(box, t.box) > 0 for t in lines)


def _rgb(views: Sequence[np.ndarray]) -> bool:
    """Whether the views are an RGB frame's: the luminance, then the red, green and blue
    channels (``frames`` sets ``separate`` to (1, 2, 3) where a frame holds colour)."""
    return tuple(getattr(views, "separate", ())) == (1, 2, 3) and len(views) >= 4


def _a_mosaic(views: Sequence[np.ndarray]) -> bool:
    """Whether the frame is an MR mosaic's (``detection.a_mosaic``)."""
    return a_mosaic(views)


#: How far past a confirmed line's ends the model reads for more of it, in glyph heights.
COMPLETE_REACH = 6.0
#: A character read past the line's end continues it when its centre lies within this many
#: character pitches of the last one taken (a letter, or a word space), with at least this
#: probability (letters over Doppler colour read at 0.35-0.6) and this share of the median
#: probability of the characters read inside the line.
COMPLETE_GAP = 1.6
#: ... and within this many pitches once the readings of several views are pooled (each view
#: places a character a little differently).
COMPLETE_GAP_POOLED = 2.0
#: The smallest character pitch assumed, in glyph heights.
COMPLETE_PITCH = 0.7
COMPLETE_PROB = 0.3
COMPLETE_RELATIVE = 0.8
#: ... or this share where nothing in the strip read is coloured.  The share guards against
#: the edge of a colour bar or map read as an "l" at about half the line's certainty; on grey,
#: low-contrast letters over a pattern read unevenly (a grey "0" on a flat patch of about its
#: own shade at 0.36 beside the line's own 0.40-0.76), and half the line's certainty stays
#: below this share.
COMPLETE_RELATIVE_GREY = 0.7
#: The strip past an end is looked at only where it is not flat (corner text on black air
#: costs no model call): its range of values, in 8-bit levels.
COMPLETE_FLAT = 12
#: Views read per end of a line whose characters past the end read unsurely (the luminance,
#: then the view the line was found in and the colour channels).
COMPLETE_VIEWS = 3
#: Readings per line: a line grown to the edge of one reading is read once more from there.
COMPLETE_ROUNDS = 2


def _complete_line(
    detector: BurnedInTextDetector, views: Sequence[np.ndarray], region: TextRegion
) -> TextRegion:
    """A confirmed line grown along its axis over the characters a model reads beyond its ends.

    Letters of a line that cross anatomy (dark text over a bright organ, grey text over a test
    pattern, a date running from black air onto Doppler colour) join what they cross into
    components that are no glyphs, so the line is found without them and their part of the
    name stays readable.  The model reads the line in a crop reaching ``COMPLETE_REACH``
    glyph heights past each end; characters read next to an end, one after the other at the
    line's own character pitch (measured on the characters read inside the line), belong to
    it.  Anatomy next to a line reads as nothing, or as a character off the line's pitch, so
    the box stops where the text does."""
    # Where the line was found, not where it has grown to: a dark name found over a bone
    # scan's bone and grown onto the near-black field beside it lies mostly over the field
    # after the first reading, and the field's window, the only one showing its last letters,
    # was then not read again (``_over_field``).
    field = getattr(views, "dark_field", None)
    found_over_field = field is not None and _over_field(field, region)
    for _ in range(COMPLETE_ROUNDS):
        grown = _complete_once(detector, views, region, found_over_field)
        if grown is region:
            break
        a0, a1 = (1, 3) if region.vertical else (0, 2)
        reach = COMPLETE_REACH * region.glyph_height
        # Read again only where the characters ran on to the edge of what was read.
        further = (
            grown.box[a0] < region.box[a0] - reach + 2 * region.glyph_height
            or grown.box[a1] > region.box[a1] + reach - 2 * region.glyph_height
        )
        region = grown
        if not further:
            break
    return region


def _complete_once(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    region: TextRegion,
    found_over_field: bool | None = None,
) -> TextRegion:
    h = region.glyph_height
    if h <= 0 or region.glyphs == 0:
        return region
    view = views[0]
    rows, cols = view.shape[:2]
    a0, a1 = (1, 3) if region.vertical else (0, 2)
    c0, c1 = (0, 2) if region.vertical else (1, 3)
    limit = rows if region.vertical else cols
    box = list(region.box)
    start, stop = box[a0], box[a1]
    strip = int(1.5 * h) + 1

    def busy(view: np.ndarray, lo: int, hi: int) -> bool:
        lo, hi = max(0, lo), min(limit, hi)
        if hi <= lo:
            return False
        if region.vertical:
            part = view[lo:hi, box[c0] : box[c1]]
        else:
            part = view[box[c0] : box[c1], lo:hi]
        return part.size > 0 and int(part.max()) - int(part.min()) >= COMPLETE_FLAT

    def onto_field(field: np.ndarray, lo: int, hi: int) -> bool:
        # A quarter of the strip in the lower half of ``frames._dark_field`` but above its
        # black: the field's noise, not the anatomy the line was found over, nor a flat fill
        # at the minimum (an empty mosaic tile), where nothing can hide.
        lo, hi = max(0, lo), min(limit, hi)
        if region.vertical:
            part = field[lo:hi, box[c0] : box[c1]]
        else:
            part = field[box[c0] : box[c1], lo:hi]
        noise = np.count_nonzero((part > 0) & (part < 128))
        return part.size > 0 and 4 * int(noise) >= part.size

    reach = int(COMPLETE_REACH * h) + 1
    wide = list(box)
    wide[a0], wide[a1] = max(0, start - reach), min(limit, stop + reach)
    probe = replace(region, box=(wide[0], wide[1], wide[2], wide[3]))
    lo, hi = float(start), float(stop)
    # Read where the model sees the whole frame (the luminance); then, while the characters
    # past an end read unsurely there, in the view where the line was found and in the colour
    # channels: dark letters over a near-black blood pool stand out only in the stretched
    # luminance, a faint grey date over Doppler colour in the blue channel, and their last
    # characters read surely only there.
    order = [0]
    if 0 < region.view < len(views):
        order.append(region.view)
    if _rgb(views):
        order += [i for i in (1, 2, 3) if i not in order]
    grey = _coloured(views, probe.box) == 0.0
    relative = COMPLETE_RELATIVE_GREY if grey else COMPLETE_RELATIVE
    pooled: list[tuple[float, float]] = []
    unsure = False
    for n, index in enumerate(order):
        view = views[index]
        if not busy(view, start - strip, start) and not busy(view, stop, stop + strip):
            continue
        chars = detector.characters(views if index == 0 else _view_first(views, index), probe)
        if not chars:
            continue
        # The characters of every view read so far together: each view reads some of the
        # line's last characters surely, and the one between them as a character at all.
        pooled += chars
        gap = COMPLETE_GAP if n == 0 else COMPLETE_GAP_POOLED
        lo, hi, unsure = _chained(pooled, start, stop, h, lo, hi, gap, relative)
        if not unsure or n >= COMPLETE_VIEWS:
            break
    if unsure and region.vertical and getattr(views, "chroma", None) is not None:
        # Letters written up across the border of the Doppler box read unsurely past it (the
        # ruled line runs through them): read again with the rules across the strip filled
        # in.  Vertical lines only, the only ones this was seen to help (a horizontal line
        # across the box's side border was stopped by other causes).
        unruled = _without_rules(views[0], probe)
        if unruled is not None:
            chars = detector.characters(_view_first([unruled, *views], 0), probe)
            if chars:
                pooled += chars
                lo, hi, unsure = _chained(
                    pooled, start, stop, h, lo, hi, COMPLETE_GAP_POOLED, relative
                )
    field = getattr(views, "dark_field", None)
    if (
        field is not None
        and region.polarity == "dark"
        and not (_over_field(field, region) if found_over_field is None else found_over_field)
        and (onto_field(field, start - strip, start) or onto_field(field, stop, stop + strip))
    ):
        # Dark letters at the minimum over a near-black field (an MR mosaic's gap between
        # slices) are invisible in every window but this one (``frames._dark_field``): the
        # views above read nothing there, so nothing says to read on.  Only a line found over
        # something brighter than the field can run on onto it unseen (the gaps between bright
        # letters on a black background are "dark lines" too).
        chars = detector.characters(_view_first([field, *views], 0), probe)
        if chars:
            pooled += chars
            lo, hi, _unsure = _chained(
                pooled, start, stop, h, lo, hi, COMPLETE_GAP_POOLED, relative
            )
    new_start, new_stop = max(0, int(np.floor(lo))), min(limit, int(np.ceil(hi)))
    # The model places a character within a pitch or so; the letters read end where the
    # line's ink does (a large title's box ran on by a pitch over the liver after its "P").
    first, last = ink_span(region, views, new_start, new_stop)
    own_first, own_last = ink_span(region, views, start, stop)
    # A line whose "ink" starts or ends a glyph height inside its own box was not measured
    # on its letters' colour (a grey name running from a radiograph's field onto bone about
    # as bright, found as the field's gaps between its last letters): it says nothing of
    # where they end on that side.
    if own_first < own_last and own_first - start > h:
        first = new_start
    if own_first < own_last and stop - own_last > h:
        last = new_stop
    new_start, new_stop = min(start, max(new_start, first)), max(stop, min(new_stop, last))
    if (new_start, new_stop) == (start, stop):
        return region
    new_start, new_stop = _inked(views, region, new_start, new_stop)
    new_start, new_stop = _off_flat_ends(views, region, new_start, new_stop)
    if (new_start, new_stop) == (start, stop):
        return region
    box[a0], box[a1] = new_start, new_stop
    reason = region.reason
    if "line completed" not in reason:
        reason += ", line completed by reading"
    return replace(region, box=(box[0], box[1], box[2], box[3]), reason=reason)


#: A row (column, for a horizontal line) of a probe is a ruled line across it when, beside
#: the line's box, at least this share of its pixels are brighter by ``RULE_STEP`` levels than
#: both the rows two above and two below.
RULE_SHARE = 0.9
RULE_STEP = 20


def _without_rules(view: np.ndarray, probe: TextRegion) -> np.ndarray | None:
    """``view`` with the straight bright lines that cross ``probe``'s line filled in from the
    rows (columns) on either side of them, or None where none crosses it.

    The Doppler box's border is a 1-2 px bright rule; a name written across it has a letter
    cut by the rule, read at 0.3-0.7 where the rest of the name reads at 0.95, and the line
    stopped there.  A rule is told from a letter's stroke by running on beside the line's box
    (a glyph height each side), where no letter of the line is."""
    x0, y0, x1, y1 = probe.box
    h = max(2, probe.glyph_height)
    rows, cols = view.shape[:2]
    img = view.astype(np.int16)
    if probe.vertical:
        img = img.T  # the rules across a vertical line are rows: columns of the transpose
        x0, y0, x1, y1 = y0, x0, y1, x1
        rows, cols = cols, rows
    # The line runs along x (columns x0-x1, rows y0-y1); a rule crossing it is a column.
    above = img[max(0, y0 - h) : y0, x0:x1]
    below = img[y1 : min(rows, y1 + h), x0:x1]
    side = np.concatenate([above, below], axis=0)
    if side.shape[0] < 2:
        return None
    rules = np.zeros(x1 - x0, bool)
    for i in range(2, x1 - x0 - 2):
        col = side[:, i]
        brighter = (col >= side[:, i - 2] + RULE_STEP) & (col >= side[:, i + 2] + RULE_STEP)
        rules[i] = float(brighter.mean()) >= RULE_SHARE
    if not rules.any():
        return None
    out = img.copy()
    i = 0
    while i < rules.size:
        if not rules[i]:
            i += 1
            continue
        j = i
        while j < rules.size and rules[j]:
            j += 1
        a, b = x0 + i - 1, x0 + j  # the columns either side of the rule
        for k in range(i, j):
            t = (x0 + k - a) / (b - a)
            out[:, x0 + k] = np.round((1 - t) * img[:, a] + t * img[:, b]).astype(np.int16)
        i = j
    out8 = np.clip(out, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out8.T if probe.vertical else out8)


def _off_flat_ends(
    views: Sequence[np.ndarray], region: TextRegion, lo: int, hi: int
) -> tuple[int, int]:
    """``lo``-``hi``, ``region``'s span grown by reading, without the columns (rows, for a
    vertical line) past its box that are flat in the luminance and every colour channel, when
    ``region`` is a dark line on a colour frame: its "ink" is the field between the letters,
    so ``_inked`` does not stop it, and a cyan name on a pink colour bar grew by a pitch over
    the bare bar at each end (its box blanked 1.69 % of the frame).  Nothing is written where
    every view is flat (``COMPLETE_FLAT``)."""
    if not _rgb(views) or region.polarity != "dark":
        return lo, hi
    x0, y0, x1, y1 = region.box
    start, stop = (y0, y1) if region.vertical else (x0, x1)

    def flat(at: int) -> bool:
        for view in views[:4]:
            line = view[at, x0:x1] if region.vertical else view[y0:y1, at]
            if line.size and int(line.max()) - int(line.min()) >= COMPLETE_FLAT:
                return False
        return True

    while lo < start and flat(lo):
        lo += 1
    while hi > stop and flat(hi - 1):
        hi -= 1
    return lo, hi


def _over_field(field: np.ndarray, region: TextRegion) -> bool:
    """Whether ``region``'s box lies mostly over the near-black field of ``field`` (a window
    from ``frames._dark_field``, whose field and noise take its lower half)."""
    x0, y0, x1, y1 = region.box
    part = field[y0:y1, x0:x1]
    return part.size == 0 or bool(np.median(part) < 128)


def _inked(views: Sequence[np.ndarray], region: TextRegion, lo: int, hi: int) -> tuple[int, int]:
    """The growth of a line over colour to ``lo``, ``hi`` along its axis, kept only as far as
    its ink runs on (a gap of at most a glyph height between letters).

    Over a colour map the model reads the map's blobs next to a line as characters at the
    line's pitch, and about as surely as a large title's own letters; the letters crossing
    the map are still drawn in the line's colour, and the map is not."""
    x0, y0, x1, y1 = region.box
    a0, a1 = (1, 3) if region.vertical else (0, 2)
    wide = [x0, y0, x1, y1]
    wide[a0], wide[a1] = min(lo, wide[a0]), max(hi, wide[a1])
    if _coloured(views, (wide[0], wide[1], wide[2], wide[3])) < OVER_COLOUR:
        return lo, hi
    ink = _line_ink(views, region)
    if ink is None:
        return lo, hi
    along = _ink_mask(views, (wide[0], wide[1], wide[2], wide[3]), ink, region.vertical)
    profile = along.any(axis=0)
    origin = wide[a0]
    start, stop = region.box[a0], region.box[a1]
    gap = region.glyph_height + 2
    # Ink missing from most of the line's own box, with a gap wider than that, was not
    # measured on its letters (a grey name half over Doppler colour, its "ink" taken from the
    # colour between them): it says nothing of where the letters past the ends stop.
    own = np.flatnonzero(~profile[start - origin : stop - origin])
    if 2 * own.size > stop - start and _longest_run(own) > gap:
        return lo, hi
    first = start
    for c in range(start - 1, lo - 1, -1):
        if first - c > gap:
            break
        if profile[c - origin]:
            first = c
    last = stop
    for c in range(stop, hi):
        if c + 1 - last > gap:
            break
        if profile[c - origin]:
            last = c + 1
    return max(lo, first - 1), min(hi, last + 1)


def _longest_run(indices: np.ndarray) -> int:
    """Length of the longest run of consecutive values in the sorted ``indices``."""
    breaks = np.flatnonzero(np.diff(indices) != 1)
    bounds = np.concatenate(([-1], breaks, [indices.size - 1]))
    return int(np.diff(bounds).max())


def _view_first(views: Sequence[np.ndarray], index: int) -> DetectionViews:
    """``views`` with view ``index`` first (the one a model reads)."""
    out = DetectionViews([views[index]] + [v for i, v in enumerate(views) if i != index])
    out.separate = ()
    return out


def _chained(
    chars: Sequence[tuple[float, float]],
    start: int,
    stop: int,
    h: int,
    lo: float,
    hi: float,
    gap: float = COMPLETE_GAP,
    relative: float = COMPLETE_RELATIVE,
) -> tuple[float, float, bool]:
    """How far the characters read past a line's ends (``start``, ``stop`` along its axis)
    continue it: (new start, new end), never less than (``lo``, ``hi``).

    A character continues the line when it lies within ``COMPLETE_GAP`` pitches of the last
    one taken.  Every character the model read counts for the chain (it saw a glyph there;
    its probability says how sure it is *which* one), but the line grows only to characters
    read about as surely as the line's own: one letter of a faint line over speckle reads at
    0.1 between two that read at 0.7 and 0.9.  The third value: the chain ran on past the
    last sure character (another view may read it surely)."""
    chars = _one_per_place(chars, 0.35 * h)
    inside = sorted(c for c, p in chars if start <= c <= stop and p >= COMPLETE_PROB)
    # Past the ends, a character must read about as surely as the line's own: the edge of a
    # colour bar or of the image reads as an "l" now and then, at half the line's certainty.
    sure = [p for c, p in chars if start <= c <= stop]
    floor = max(COMPLETE_PROB, relative * float(np.median(sure))) if sure else 1.0
    steps = np.diff(inside)
    pitch = float(np.median(steps)) if steps.size else 0.8 * h
    # Characters read are centred unevenly (the model's steps): a digit or letter is at least
    # about 0.7 glyph heights wide, whatever their spacing suggests.
    pitch = min(max(pitch, COMPLETE_PITCH * h), 1.2 * h)
    half = max(0.6 * h, pitch)
    unsure = False
    # The line's found glyphs reach its end; the last character read inside is centred
    # about half a pitch before it (and characters read by several views crowd there).
    last = max(inside[-1], stop - 0.5 * pitch) if inside else stop - 0.3 * h
    for c, p in sorted((c, p) for c, p in chars if c > stop):
        if c - last > gap * pitch:
            break
        last = c
        unsure = p < floor
        if not unsure:
            hi = max(hi, c + half)
    first = min(inside[0], start + 0.5 * pitch) if inside else start + 0.3 * h
    tail = unsure
    for c, p in sorted(((c, p) for c, p in chars if c < start), reverse=True):
        if first - c > gap * pitch:
            break
        first = c
        tail = p < floor
        if not tail:
            lo = min(lo, c - half)
    return lo, hi, unsure or tail


def _one_per_place(chars: Sequence[tuple[float, float]], near: float) -> list[tuple[float, float]]:
    """Characters read by several views at about one place (closer than ``near``) as one, the
    surest reading of it: the line's pitch is measured between characters, not readings."""
    out: list[tuple[float, float]] = []
    for c, p in sorted(chars):
        if out and c - out[-1][0] < near:
            if p > out[-1][1]:
                out[-1] = (c, p)
            continue
        out.append((c, p))
    return out


#: How far a confirmed line's box may grow across its line over strokes of its ink that
#: continue out of it, in glyph heights (the glyphs found may be only the part of the letters
#: over one background: the rest of their height crosses another).
ACROSS_REACH = 0.6
#: ... past a row of the ink's colour along this share of the line or more: a straight rule
#: (the box of a Doppler map, drawn in white) that letters touch, with more of them beyond.
ACROSS_RULE = 0.8
#: ... over rows where at least two runs of the ink, each at most this many glyph heights long,
#: leave the box (the strokes of several letters).
ACROSS_RUN = 1.5
#: Only lines of glyphs up to this height (px) are grown: the part of a larger letter on the
#: other background is itself glyph-sized and found as a line there, while a small font's
#: part of 2-4 rows is too small to be a glyph.
ACROSS_HEIGHT = 16
#: ... and only on a side where the ink is at most this share of the band past the reach.
ACROSS_BACKGROUND = 0.05
#: A letter's edge: within this share of the ink's contrast to the box's background.
ACROSS_EDGE = 0.35
#: ... whose typical colour differs from the ink's by at least this much in some view.
ACROSS_CONTRAST = 40
#: A pixel is of the line's ink when every view (luminance, each colour channel) is within
#: this many 8-bit levels of the ink's (text is drawn in one colour).
ACROSS_TOLERANCE = 4
#: The ink is the most common colour of the box's most extreme tenth (for its polarity), and
#: only where at least this many of the box's pixels have it.
ACROSS_SUPPORT = 6


def _ink_views(views: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The views that together give a pixel's colour: the luminance, and the colour channels
    of a colour image (a grey date over a blue and a light-blue bar has about the bars'
    luminance in places, never their colour)."""
    separate = tuple(getattr(views, "separate", ()))
    if separate in ((1, 2, 3), (1, 2)) and len(views) > max(separate):
        return [views[0]] + [views[i] for i in separate]
    return [views[0]]


def _ink_share(
    planes: Sequence[np.ndarray], ink: Sequence[int], box: Box, tolerance: Sequence[float]
) -> float:
    """Share of ``box``'s pixels (clipped to the frame) of the ink's colour, or 1.0 when the
    box's typical colour is within ``ACROSS_CONTRAST`` of the ink's in every view (letters on
    a background of about their own colour: the gaps between bright letters seen as "dark
    text" on dark speckle); 0 outside the frame."""
    rows, cols = planes[0].shape[:2]
    x0, y0, x1, y1 = max(0, box[0]), max(0, box[1]), min(cols, box[2]), min(rows, box[3])
    if x1 <= x0 or y1 <= y0:
        return 0.0
    matched = np.ones((y1 - y0, x1 - x0), bool)
    unlike = False
    for plane, value, tol in zip(planes, ink, tolerance, strict=True):
        part = plane[y0:y1, x0:x1]
        matched &= np.abs(part - value) <= tol
        unlike |= abs(float(np.median(part)) - value) >= ACROSS_CONTRAST
    return float(matched.mean()) if unlike else 1.0


def _complete_across(views: Sequence[np.ndarray], region: TextRegion) -> TextRegion:
    """A confirmed line's box grown across its line over its ink that runs on out of it.

    Letters whose lower (or upper) part crosses onto another background (a date written over
    the border of two colour bars, a name whose descenders touch the vendor's line under it)
    are found only by the part that stands out on one background, and the line's box ends at
    that border; the rest of each letter stays readable under it.  The letters are drawn in
    one colour: the pixels of the line's ink connected to the ink inside the box are the rest
    of the letters, and the box grows over them, by at most ``ACROSS_REACH`` glyph heights
    on each side (anatomy of the ink's colour touching a letter costs a few rows, not an
    organ).  Only lines already confirmed are grown: the model judged the line as found."""
    h = region.glyph_height
    if h <= 0 or region.glyphs == 0 or h > ACROSS_HEIGHT:
        return region
    rows, cols = views[0].shape[:2]
    x0, y0, x1, y1 = region.box
    if x1 <= x0 or y1 <= y0:
        return region
    k = int(np.ceil(ACROSS_REACH * h))
    if region.vertical:
        wx0, wy0, wx1, wy1 = max(0, x0 - k), y0, min(cols, x1 + k), y1
    else:
        wx0, wy0, wx1, wy1 = x0, max(0, y0 - k), x1, min(rows, y1 + k)
    planes = [v[wy0:wy1, wx0:wx1].astype(np.int16) for v in _ink_views(views)]
    lum = planes[0]
    inside = np.zeros(lum.shape, bool)
    inside[y0 - wy0 : y1 - wy0, x0 - wx0 : x1 - wx0] = True
    # The extreme tenth of the box for the line's polarity: the letters' cores.
    found = _extreme_colour(planes, region.polarity, inside)
    if found is None:
        return region
    ink_planes = found[1]
    matched = np.ones(lum.shape, bool)
    for plane, value in zip(planes, ink_planes, strict=True):
        matched &= np.abs(plane - value) <= ACROSS_TOLERANCE
    if int(np.count_nonzero(matched & inside)) < ACROSS_SUPPORT:
        return region
    # Letters stand out from their line's background (the box is mostly background): a
    # "line" whose extreme tenth is about the colour of the rest of its box is the gaps
    # between bright letters, or speckle, seen as dark text.
    if not any(
        abs(float(np.median(plane[inside])) - value) >= ACROSS_CONTRAST
        for plane, value in zip(planes, ink_planes, strict=True)
    ):
        return region
    # The letters' anti-aliased edges join their strokes: within a share of the ink's contrast
    # to the box's background in every view (a grey letter's edge over a light-blue bar is
    # bluish grey, never the bar's blue).
    loose = np.ones(lum.shape, bool)
    tolerance = []
    for plane, value in zip(planes, ink_planes, strict=True):
        spread = abs(float(np.median(plane[inside])) - value)
        tolerance.append(max(ACROSS_TOLERANCE, ACROSS_EDGE * spread))
        loose &= np.abs(plane - value) <= tolerance[-1]
    count, labels = cv2.connectedComponents(loose.view(np.uint8), connectivity=8)
    if count <= 1:
        return region
    touching = np.unique(labels[matched & inside])  # the ones holding the ink itself
    ink_mask = np.isin(labels, touching[touching > 0])
    if region.vertical:
        ink_mask = ink_mask.T  # rows across the line, columns along it
        first, last = x0 - wx0, x1 - wx0
    else:
        first, last = y0 - wy0, y1 - wy0
    widest = max(2, int(np.ceil(ACROSS_RUN * h)))

    def letters(row: np.ndarray) -> bool:
        # Several letters' strokes run on out of the box: two or more narrow runs of ink.
        # A letter joined with bone or a bright organ of the ink's value runs on as one wide
        # run, which is no more of the line.
        edges = np.diff(np.concatenate(([0], row.view(np.uint8), [0])).astype(np.int8))
        starts, stops = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
        return starts.size >= 2 and bool(np.all(stops - starts <= widest))

    # Only where the ink is rare past the reach: dark "letters" on black speckle, or white
    # letters on bone of the same white, have their ink all around them.
    frame_planes = [v.astype(np.int16) for v in _ink_views(views)]
    if region.vertical:
        near_lo = _ink_share(
            frame_planes, ink_planes, (x0 - 2 * k - 2, y0, x0 - k - 1, y1), tolerance
        )
        near_hi = _ink_share(
            frame_planes, ink_planes, (x1 + k + 1, y0, x1 + 2 * k + 2, y1), tolerance
        )
    else:
        near_lo = _ink_share(
            frame_planes, ink_planes, (x0, y0 - 2 * k - 2, x1, y0 - k - 1), tolerance
        )
        near_hi = _ink_share(
            frame_planes, ink_planes, (x0, y1 + k + 1, x1, y1 + 2 * k + 2), tolerance
        )

    colour = getattr(views, "chroma", None) is not None

    def onward(i: int, step: int) -> bool:
        # Letters go on at row ``i``, or, on a colour frame, past a straight rule of the ink's
        # colour there (the Doppler box's white border, which a name written up beside it
        # touches).
        if letters(ink_mask[i]):
            return True
        on = i + step
        return (
            colour
            and float(ink_mask[i].mean()) >= ACROSS_RULE
            and 0 <= on < ink_mask.shape[0]
            and letters(ink_mask[on])
        )

    if near_lo <= ACROSS_BACKGROUND:
        while first > 0 and onward(first - 1, -1):
            first -= 1
    if near_hi <= ACROSS_BACKGROUND:
        while last < ink_mask.shape[0] and onward(last, 1):
            last += 1
    if region.vertical:
        box = (wx0 + first, y0, wx0 + last, y1)
    else:
        box = (x0, wy0 + first, x1, wy0 + last)
    if box == region.box:
        return region
    return replace(region, box=box, reason=region.reason + ", grown over its ink")


#: A line runs on unseen under a flat field of its ink's colour (white letters over the white
#: square of a test pattern) for at most this many glyph heights: the field must end within
#: that, where the letters show again.
FIELD_REACH = 6.0
#: ... and the field covers at least this many of the line's inner rows (all but its first
#: and last, where the letters' edges and what they cross lie).
FIELD_ROWS = 3
#: What a line grown by ``_through_field`` adds to its reason.
FIELD_RUN = ", run on under a field of its ink"


def _through_field(
    views: Sequence[np.ndarray], region: TextRegion, margin: float, noise: int = 0
) -> TextRegion:
    """A confirmed line's box grown along its axis across a flat field of its ink's colour that
    its end runs into, to where the field ends.

    White letters written over a white field are invisible there and show only where the
    field ends (the test pattern's white square: a header's first column on the border
    before it, its last letters on the grey square after it), so the line is found past the
    field and the letters before it stay.  The field costs nothing to cover: its pixels are
    the ink's own value.  Guarded so that it never grows over anatomy: the field is one
    extreme value (0 or 255) in every view over the line's inner rows, the line's own box
    holds that value as letters do (some pixels, never its background), the field ends
    within ``FIELD_REACH`` glyph heights and in one column across the line (a drawn edge,
    not an organ's), and its edge shows letters again (it differs from the column beyond it
    where a stroke crosses it; past a line's end nothing does).  A field is flat within
    ``noise`` levels of its value (an MR mosaic's near-black field between slices is 0-1)."""
    h = region.glyph_height
    if h <= 0 or region.glyphs == 0 or h > ACROSS_HEIGHT:
        return region
    planes = [v.T for v in views] if region.vertical else list(views)
    rows, limit = planes[0].shape[:2]

    def along(box: Box) -> tuple[int, int, int, int]:
        # (start along, start across, end along, end across) whatever the line's direction
        return (box[1], box[0], box[3], box[2]) if region.vertical else box

    s0, c0, s1, c1 = along(region.box)
    e0, _, e1, _ = along(_expand(region, margin, views[0].shape))
    inner = slice(c0 + 1, c1 - 1)
    if c1 - c0 - 2 < FIELD_ROWS or c0 < 0 or c1 > rows:
        return region
    own = planes[0][c0:c1, s0:s1]
    reach = int(FIELD_REACH * h)
    start, stop = s0, s1
    for step, first in ((-1, e0 - 1), (1, e1)):
        if not 0 <= first < limit:
            continue
        value = int(planes[0][c0 + 1, first])
        if value not in (0, 255):
            continue
        inked = int(np.count_nonzero(own == value))
        if inked == 0 or inked > INK_SHARE_MAX * own.size:
            continue  # not the colour of the line's letters (its background, or absent)

        def flat(col: int, value: int = value) -> bool:
            return all(
                bool(np.all(np.abs(p[inner, col].astype(np.int16) - value) <= noise))
                for p in planes
            )

        col = first
        while 0 <= col < limit and abs(col - first) <= reach and flat(col):
            col += step
        beyond = col + step
        if col == first or not 0 <= beyond < limit or abs(col - first) > reach:
            continue  # no field, or one running on out of reach or to the frame's edge
        if np.any(np.abs(planes[0][inner, beyond].astype(np.int16) - value) <= noise):
            continue  # a ragged edge: an organ's, not a drawn field's
        # The letters show again where the field ends: its edge column differs from the
        # one beyond it where a letter's stroke crosses it (nothing does past a line's end).
        edge = planes[0][c0:c1, col].astype(np.int16)
        if int(np.abs(edge - planes[0][c0:c1, beyond]).max()) < COMPLETE_FLAT:
            continue
        if step < 0:
            start = min(start, col)
        else:
            stop = max(stop, col + 1)
    if (start, stop) == (s0, s1):
        return region
    box = (c0, start, c1, stop) if region.vertical else (start, c0, stop, c1)
    return replace(region, box=box, reason=region.reason + FIELD_RUN)


def _between_under_field(
    views: Sequence[np.ndarray], lines: Sequence[TextRegion]
) -> list[TextRegion]:
    """The line half-way between two horizontal lines that run on under one field of their
    ink's colour to one edge, where its letters show at that edge too.

    A header block (name, ID, date) written in white over a white field shows only where the
    field ends: the first and last lines are found past the field and run on under it to its
    edge (``_through_field``), but a middle line whose letters end over the field, or show
    past it by one digit, is found nowhere.  A block is aligned: its lines begin at one
    column, which here is the field's edge, and the line between two of them lies half-way;
    its slot is taken where the field's edge shows letters in its rows (the edge differs from
    the column beyond it there) and the field runs under it as under the two lines."""
    planes = list(views)
    rows, cols = planes[0].shape[:2]
    ran = [r for r in lines if not r.vertical and FIELD_RUN in r.reason]
    extra: list[TextRegion] = []
    for a in ran:
        for b in ran:
            h = max(a.glyph_height, b.glyph_height)
            pitch = b.box[1] - a.box[1]
            height = a.box[3] - a.box[1]
            if not same_glyph_size(a, b) or not 0 < pitch <= 5 * h:
                continue
            y0 = a.box[1] + int(round(pitch / 2))
            y1 = y0 + height
            if y0 < a.box[3] or y1 > b.box[1] or y1 - y0 - 2 < FIELD_ROWS:
                continue  # no room for a line between them (``_between_lines`` fills it)
            for edge, inward, beyond in (
                (a.box[0], a.box[0] + 1, a.box[0] - 1),
                (a.box[2] - 1, a.box[2] - 2, a.box[2]),
            ):
                same = b.box[0] if beyond < edge else b.box[2] - 1
                if same != edge or not (0 <= beyond < cols and 0 <= inward < cols):
                    continue
                value = int(planes[0][a.box[1] + 1, inward])
                if (
                    value not in (0, 255)
                    or int(planes[0][b.box[1] + 1, inward]) != value
                    or not all(bool(np.all(p[y0 + 1 : y1 - 1, inward] == value)) for p in planes)
                ):
                    continue  # not one field under both lines and the slot
                shown = planes[0][y0:y1, edge].astype(np.int16) - planes[0][y0:y1, beyond]
                if int(np.abs(shown).max()) < COMPLETE_FLAT:
                    continue  # no letter crosses the field's edge there
                slot = (min(a.box[0], b.box[0]), y0, max(a.box[2], b.box[2]), y1)
                if any(_overlap(slot, r.box) >= 0.5 for r in list(lines) + extra):
                    continue
                reason = f"{a.polarity} text, between two lines run on under one field"
                extra.append(replace(a, box=slot, strong=True, line=None, reason=reason))
    return extra


#: A field that letters of its own colour run out of (``_out_of_a_field``) is one extreme value
#: (0 or 255) over at least this share of a row (column) of the frame: a band, not an organ.
EDGE_FIELD = 0.6
#: ... and the field beyond its edge is one value over at least this share of the row next
#: to the edge: a drawn panel, not anatomy or speckle (whose edge teeth everywhere).
EDGE_FLAT = 0.6
#: A pixel beyond the edge differs from that field's value by at least this towards the ink
#: where a letter's stroke crosses the edge.
EDGE_INK = 8
#: Strokes this many pixels apart or less along the edge are one line's.
EDGE_GAP = 8
#: Letters run out of the field by at most this many pixels: deeper, it is a shape.
EDGE_DEPTH = 24
#: The end of the reason of a line found where it runs out of a field of its ink.
OUT_OF_FIELD = ", run out of a field of its ink"


def _out_of_a_field(views: Sequence[np.ndarray]) -> list[TextRegion]:
    """The visible ends of letters written in a flat field's own colour across its straight
    edge, on a colour frame.

    White letters on a secondary capture's white band (a test pattern's colour bars, a
    screenshot's panel) are invisible there; where they cross the band's edge onto the grey
    band beside it, only their tops (or a rotated line's last letters) show, a row of "teeth"
    a few pixels deep that are too short to be glyphs: no line is found and nothing is asked.
    Along a straight edge between two flat fields nothing should cross, so a stretch of
    pixels beyond the edge that lean towards the field's colour, attached to it, is the part
    of a line that ran out of it; it is taken, from the edge to the teeth's tips.  Guarded so
    that it never takes anatomy or speckle: the field is one extreme value over most of the
    frame's width, the field beyond is one value over most of the row next to the edge, and
    the teeth end within ``EDGE_DEPTH`` pixels, in that value again."""
    if getattr(views, "chroma", None) is None:
        return []
    found: list[TextRegion] = []
    for transposed in (False, True):
        plane = views[0].T if transposed else views[0]
        rows, cols = plane.shape[:2]
        for value in (0, 255):
            at = plane == value
            share = np.count_nonzero(at, axis=1) / cols
            field = share >= EDGE_FIELD
            for y in np.flatnonzero(field):
                for d in (-1, 1):
                    first = y + d
                    if not 0 <= first < rows or field[first]:
                        continue
                    found += _teeth(plane, at, int(y), d, value, transposed)
    return found


def _teeth(
    plane: np.ndarray, at: np.ndarray, y: int, d: int, value: int, transposed: bool
) -> list[TextRegion]:
    """The stretches of strokes crossing one edge of a field (``_out_of_a_field``): ``y`` is
    the field's last row, ``d`` the direction beyond it."""
    rows, cols = plane.shape[:2]
    row = plane[y + d]
    levels, counts = np.unique(row, return_counts=True)
    beyond = int(levels[int(np.argmax(counts))])
    if int(counts.max()) < EDGE_FLAT * cols or abs(beyond - value) < 3 * EDGE_INK:
        return []
    toward = 1 if value > beyond else -1

    def leaning(r: int) -> np.ndarray:
        return (plane[r].astype(np.int16) - beyond) * toward >= EDGE_INK

    crossing = leaning(y + d) & at[y]
    xs = np.flatnonzero(crossing)
    if xs.size == 0:
        return []
    stretches: list[list[int]] = [[int(xs[0]), int(xs[0]) + 1]]
    for x in xs[1:].tolist():
        if x - stretches[-1][1] <= EDGE_GAP:
            stretches[-1][1] = x + 1
        else:
            stretches.append([x, x + 1])
    out: list[TextRegion] = []
    for x0, x1 in stretches:
        a0, a1 = max(0, x0 - 1), min(cols, x1 + 1)
        depth = 0
        r = y + d
        while 0 <= r < rows and depth <= EDGE_DEPTH and bool(np.any(leaning(r)[a0:a1])):
            depth += 1
            r += d
        if depth > EDGE_DEPTH or not 0 <= r < rows:
            continue  # a shape standing on the field, or running to the frame's edge
        lo, hi = sorted((y + d, y + d * depth))
        box: Box = (a0, lo, a1, hi + 1)
        if transposed:
            box = (lo, a0, hi + 1, a1)
        polarity = "bright" if value == 255 else "dark"
        out.append(
            TextRegion(
                box,
                0,
                True,
                polarity,
                f"{polarity} text{OUT_OF_FIELD}",
                glyph_height=depth,
                vertical=transposed,
            )
        )
    return out


#: Two lines taken on one baseline in one ink at most this many glyph heights apart may be one
#: line whose middle crosses something that hid it (``_across_a_gap``).
GAP_HEIGHTS = 4.0
#: ... their inks (8-bit view values) within this of each other: one burned colour.
GAP_INK = 4.0
#: ... and the two read together show a character in the gap at least this surely.
GAP_READ = 0.9


def _across_a_gap(
    detector: BurnedInTextDetector, views: Sequence[np.ndarray], lines: Sequence[TextRegion]
) -> list[TextRegion]:
    """The band between two lines taken on one baseline, in one ink, where the middle of one
    line of text crosses something that hides it.

    A grey ID over a radiograph's bone edge is found as two lines, its first and last digits
    over the flat soft tissue; the digits over the edge's darker band stand out of it too
    little to be glyphs, and reading past each line's end stops at the edge (73 % of the
    tibia's ID removed, in two boxes).  Two pieces of one line share its baseline, glyph
    height and ink value; the band between them is taken only if the two read together show a
    character surely in it (``GAP_READ``), so two words of other lines that happen to align,
    with anatomy between them, stay apart (one model call per such pair, which is rare)."""
    candidates = [r for r in lines if r.glyphs and r.glyph_height > 0 and r.ink >= 0]
    bands: list[TextRegion] = []
    for a in candidates:
        for b in candidates:
            if a is b or a.vertical != b.vertical or a.polarity != b.polarity:
                continue
            lo, hi = (1, 3) if a.vertical else (0, 2)  # the box's ends along the line
            gap = b.box[lo] - a.box[hi]
            h = max(a.glyph_height, b.glyph_height)
            if not 0 < gap <= GAP_HEIGHTS * h or not same_glyph_size(a, b):
                continue
            if a.view != b.view or abs(a.ink - b.ink) > GAP_INK:
                continue
            if abs(a.baseline - b.baseline) > max(2, h // 4):
                continue
            across = (
                (min(a.box[0], b.box[0]), max(a.box[2], b.box[2]))
                if a.vertical
                else (min(a.box[1], b.box[1]), max(a.box[3], b.box[3]))
            )
            if a.vertical:
                band: Box = (across[0], a.box[3], across[1], b.box[1])
                whole: Box = (across[0], a.box[1], across[1], b.box[3])
            else:
                band = (a.box[2], across[0], b.box[0], across[1])
                whole = (a.box[0], across[0], b.box[2], across[1])
            if any(_overlap(band, r.box) > 0 for r in list(lines) + bands):
                continue  # something is taken in the gap already
            joined = replace(a, box=whole, glyphs=a.glyphs + b.glyphs, line=None)
            chars = detector.characters(views, joined) or []
            if not any(a.box[hi] < c < b.box[lo] and p >= GAP_READ for c, p in chars):
                continue
            reason = f"{a.polarity} text, between two pieces of one line"
            bands.append(replace(a, box=band, glyphs=0, strong=True, line=None, reason=reason))
    return bands


#: A line over colour is cut across to the rows of its ink only where at least this share of
#: the box's ink lies in those rows (white letters over a colour map; dark "letters" whose ink is
#: the speckle's own black are left as they are).
BAND_SHARE = 0.9
#: A column (row for a vertical line) of the ink in at least this share of a box's rows is a
#: ruled line, not a letter.
BAND_RULE = 0.9


#: Letters are thin strokes: a line whose "ink" covers more than this share of its box is the
#: background between letters (their gaps seen as strokes of the other polarity, a colour bar).
INK_SHARE_MAX = 0.5
#: A colour map is a ramp of many colours: a box where one colour other than the ink covers this
#: share is a flat field (a colour bar, a banner), where letters stand out as they are.
FLAT_SHARE = 0.1
#: A line's ink: its colour in each of ``_ink_views``, how far a letter's anti-aliased edge
#: may differ from it in each, and its largest contrast to the line's box.
_Ink = tuple[list[int], list[float], float]


def _extreme_colour(
    planes: list[np.ndarray], polarity: str, inside: np.ndarray | None = None
) -> tuple[int, list[int], np.ndarray] | None:
    """The most common colour of the most extreme tenth (for ``polarity``) of the pixels
    ``inside`` (all by default), ranked by the first plane: as one code, as its value in each
    plane, and every pixel's code.  None when there is no pixel."""
    lum = planes[0]
    values = lum if inside is None else lum[inside]
    if values.size == 0:
        return None
    if polarity == "dark":
        extreme = lum <= np.percentile(values, 10)
    else:
        extreme = lum >= np.percentile(values, 90)
    if inside is not None:
        extreme &= inside
    codes = np.zeros(lum.shape, np.int64)
    for plane in planes:
        codes = codes * 256 + plane
    found, counts = np.unique(codes[extreme], return_counts=True)
    if found.size == 0:
        return None
    ink = int(found[np.argmax(counts)])
    ink_planes = [(ink >> (8 * k)) & 255 for k in reversed(range(len(planes)))]
    return ink, ink_planes, codes


def _line_ink(
    views: Sequence[np.ndarray], region: TextRegion, contrast: float = ACROSS_CONTRAST
) -> _Ink | None:
    """The colour of ``region``'s letters (see ``_Ink``); None when the box's extreme pixels
    are about the colour of the rest of it (no letters of one colour stand out).

    Text is drawn in one colour; a colour map is a ramp.  The ink is the most common colour of
    the box's most extreme tenth (for its polarity); an edge is within ``ACROSS_EDGE`` of the
    ink's contrast to the box in every view."""
    x0, y0, x1, y1 = region.box
    if x1 <= x0 or y1 <= y0:
        return None
    planes = [v[y0:y1, x0:x1].astype(np.int16) for v in _ink_views(views)]
    lum = planes[0]
    found = _extreme_colour(planes, region.polarity)
    if found is None:
        return None
    ink, ink_planes, codes = found
    others, shares = np.unique(codes, return_counts=True)
    if np.max(shares[others != ink], initial=0) >= FLAT_SHARE * codes.size:
        return None  # letters on a flat field (colour bars, a banner): found as they are
    spreads = [abs(float(np.median(p)) - v) for p, v in zip(planes, ink_planes, strict=True)]
    if max(spreads) < contrast:
        return None
    tolerance = [max(ACROSS_TOLERANCE, ACROSS_EDGE * d) for d in spreads]
    matched = np.ones(lum.shape, bool)
    for plane, value, tol in zip(planes, ink_planes, tolerance, strict=True):
        matched &= np.abs(plane - value) <= tol
    if matched.mean() > INK_SHARE_MAX:
        return None  # the "ink" is the box's background: the gaps between letters, a bar
    return ink_planes, tolerance, max(spreads)


def _ink_mask(views: Sequence[np.ndarray], box: Box, ink: _Ink, vertical: bool) -> np.ndarray:
    """Pixels of ``box`` of the ink's colour (edges included), rows across the line."""
    x0, y0, x1, y1 = box
    planes = [v[y0:y1, x0:x1].astype(np.int16) for v in _ink_views(views)]
    matched = np.ones(planes[0].shape, bool)
    for plane, value, tol in zip(planes, ink[0], ink[1], strict=True):
        matched &= np.abs(plane - value) <= tol
    return matched.T if vertical else matched


def _ink_band(
    views: Sequence[np.ndarray], region: TextRegion, contrast: float = ACROSS_CONTRAST
) -> tuple[int, int, float] | None:
    """The rows (columns for a vertical line) of ``region``'s box that hold its letters, as
    (first, end) along the frame's axis across the line, and the ink's contrast to the box:
    the rows where two or more runs of the ink lie side by side (several letters' strokes),
    holding nearly all of the box's ink; None when the ink does not tell."""
    ink = _line_ink(views, region, contrast)
    if ink is None:
        return None
    matched = _ink_mask(views, region.box, ink, region.vertical)
    # A straight line across the whole box (the outline of the Doppler box, drawn in white
    # too) is no letter: letters' strokes end where the glyphs do.
    matched[:, matched.mean(axis=0) >= BAND_RULE] = False
    edges = np.diff(np.pad(matched.view(np.uint8), ((0, 0), (1, 1))).astype(np.int8), axis=1)
    letters = np.nonzero((edges == 1).sum(axis=1) >= 2)[0]
    if letters.size == 0:
        return None
    first, last = int(letters[0]), int(letters[-1]) + 1
    total = int(np.count_nonzero(matched))
    near = int(np.count_nonzero(matched[max(0, first - 1) : last + 1]))
    if total < ACROSS_SUPPORT or near < BAND_SHARE * total:
        return None
    offset = region.box[0] if region.vertical else region.box[1]
    return offset + first, offset + last, ink[2]


#: A line's box is measured against its ink where at least this share of it is coloured.
OVER_COLOUR = 0.1
#: Along a line over colour, its letters are the run of the ink's exact colour (within
#: ``ACROSS_TOLERANCE``) holding at least this share of it, with gaps of at most two glyph
#: heights (a thin letter of a small font may have no pixel of the exact colour).
SPAN_SHARE = 0.9
SPAN_WIDEN = 4


def _ink_span(views: Sequence[np.ndarray], region: TextRegion) -> tuple[int, int] | None:
    """Where along its axis ``region``'s letters lie: the run of its ink's exact colour that
    holds nearly all of it, widened by half a glyph at each end (``SPAN_WIDEN`` at least: a
    small font's last letter may have its core in its first stroke); None when the ink does
    not tell."""
    ink = _line_ink(views, region)
    if ink is None:
        return None
    exact = (ink[0], [float(ACROSS_TOLERANCE)] * len(ink[0]), ink[2])
    matched = _ink_mask(views, region.box, exact, region.vertical)
    matched[:, matched.mean(axis=0) >= BAND_RULE] = False  # a ruled line, not a letter
    profile = matched.sum(axis=0)
    total = int(profile.sum())
    if total < ACROSS_SUPPORT:
        return None
    gap = 2 * region.glyph_height + 2
    runs: list[list[int]] = []  # [first, end, pixels]
    for c in np.nonzero(profile)[0].tolist():
        if runs and c - runs[-1][1] <= gap:
            runs[-1][1] = c + 1
            runs[-1][2] += int(profile[c])
        else:
            runs.append([c, c + 1, int(profile[c])])
    first, end, pixels = max(runs, key=lambda run: run[2])
    if pixels < SPAN_SHARE * total:
        return None
    offset = region.box[1] if region.vertical else region.box[0]
    widen = max(SPAN_WIDEN, region.glyph_height // 2)
    return offset + first - widen, offset + end + widen


def _over_colour_bands(
    views: Sequence[np.ndarray],
    regions: Sequence[TextRegion],
    detector: BurnedInTextDetector | None = None,
) -> list[TextRegion]:
    """Lines over colour cut across to the rows of their letters.

    Letters over a colour map join it into "glyphs" taller than the text (white letters over
    yellow Doppler stand out in no mask on their own), so a line found there, and the same
    text seen again in other masks (the gaps between its letters, or the letters joined with
    more of the map), is two or three times the text's height; along the line the model's
    reading cuts it (``_read_part``), across it nothing did.  A line whose ink lies in a band
    of rows is cut to that band (one row of anti-aliased edge each side) and along the line to
    the run of its ink; a taller line over colour crossing such a band, along the same
    stretch, is the same text with more of the map: it is cut to the band too; a line of the
    other polarity crossing it is the gaps between its letters (and what they run into): it is
    cut to the letters' line.  ``_complete_across`` grows a line again over its letters' ink
    where a letter runs on out of the band."""
    out = list(regions)
    banded: list[tuple[float, int]] = []
    for i, r in enumerate(out):
        if r.glyphs == 0 or _coloured(views, r.box) < OVER_COLOUR:
            continue
        box = list(r.box)
        c0, c1 = (0, 2) if r.vertical else (1, 3)
        band = _ink_band(views, r)
        if band is not None:
            box[c0], box[c1] = max(r.box[c0], band[0] - 1), min(r.box[c1], band[1] + 1)
            # Letters that reach an edge of the box may run on out of it: the band is then only
            # part of their height, and other lines are not cut to it.
            if _whole_band(views, r, band):
                banded.append((band[2], i))
        span = _ink_span(views, replace(r, box=(box[0], box[1], box[2], box[3])))
        if span is not None:
            a0, a1 = (1, 3) if r.vertical else (0, 2)
            cuts = span[0] > r.box[a0] or span[1] < r.box[a1]
            small = 0 < r.glyph_height <= STRONG_READ_HEIGHT
            if detector is not None and (small or not r.strong) and cuts:
                span = _with_the_reading(detector, views, r, span)
            box[a0], box[a1] = max(r.box[a0], span[0]), min(r.box[a1], span[1])
        if tuple(box) != r.box:
            out[i] = replace(r, box=(box[0], box[1], box[2], box[3]))
    # The letters stand out most from their box: the line of the other polarity crossing them
    # (the gaps between them, and the dark speckle they run into) stands out less.
    letters: list[TextRegion] = []
    for _contrast, i in sorted(banded, key=lambda b: -b[0]):
        cut = _cut_to_letters(out[i], letters)
        if cut is out[i]:
            letters.append(out[i])
        out[i] = cut
    banded_at = {i for _c, i in banded}
    for i, r in enumerate(out):
        if r.glyphs and i not in banded_at and _coloured(views, r.box) >= OVER_COLOUR:
            out[i] = _cut_to_letters(r, letters)
    return out


#: Glyph height (px) up to which a strong line over colour cut to the run of its ink keeps
#: the part the model read surely (``_with_the_reading``).
STRONG_READ_HEIGHT = 12


def _with_the_reading(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    region: TextRegion,
    span: tuple[int, int],
) -> tuple[int, int]:
    """``span`` (along a weak ``region``'s line, ``_ink_span``) grown over the part of the line
    where the model reads text: the "ink" found may be another colour than the letters' (the
    black gaps between yellow letters over a Doppler map, a grey the letters share only where
    they cross the speckle), and a run of it a third of the line long took the rest of a name.
    Only a weak line's, or a strong line's of small glyphs (``STRONG_READ_HEIGHT``): a weak
    line is text because the model read it.  A strong line over colour is text on its shape,
    and its reading may run on over the map it joined (a 21 px ID's line read over the 120 px
    of speckle before it, 1.8 % of the image); but a small grey name's line that began with
    the vendor's white label beside it had its "ink" measured on the label, and the run of it
    kept the label and the name's first letters, leaving the rest of a word up to the next
    line found (92.7 % of the name blanked).  Grown over its longest
    run of surely read characters only (``_to_sure_run``): the model reads speckle past a
    place name's end as a few unsure "letters" (held-out seed 14: a 12 px name's box ran on
    56 px over the map, 2.2 % of the image)."""
    if not detector.confirm(views, region):
        return span
    read = _to_sure_run(detector, views, region)
    if read is region:
        return span
    a0, a1 = (1, 3) if region.vertical else (0, 2)
    return min(span[0], read.box[a0]), max(span[1], read.box[a1])


def _whole_band(
    views: Sequence[np.ndarray], region: TextRegion, band: tuple[int, int, float]
) -> bool:
    """Whether ``band`` (of ``region``'s box) holds its letters' whole height: it ends inside
    the box, or the band of the box grown by two rows across is about the same."""
    c0, c1 = (0, 2) if region.vertical else (1, 3)
    if region.box[c0] < band[0] and band[1] < region.box[c1]:
        return True
    rows, cols = views[0].shape[:2]
    box = list(region.box)
    box[c0], box[c1] = max(0, box[c0] - 2), min(cols if region.vertical else rows, box[c1] + 2)
    grown = _ink_band(views, replace(region, box=(box[0], box[1], box[2], box[3])))
    return grown is not None and abs(grown[0] - band[0]) <= 1 and abs(grown[1] - band[1]) <= 1


def _cut_to_letters(region: TextRegion, letters: Sequence[TextRegion]) -> TextRegion:
    """``region`` cut to the band of the first of ``letters`` it crosses along at least half
    its length, when it is taller than that band or of the other polarity (then also to the
    letters' length); else ``region`` itself."""
    c0, c1 = (0, 2) if region.vertical else (1, 3)
    a0, a1 = (1, 3) if region.vertical else (0, 2)
    r = region.box
    for line in letters:
        b = line.box
        if line.vertical != region.vertical:
            continue
        along = min(r[a1], b[a1]) - max(r[a0], b[a0])
        across = min(r[c1], b[c1]) - max(r[c0], b[c0])
        taller = r[c1] - r[c0] > b[c1] - b[c0]
        gaps = region.polarity != line.polarity
        if across > 0 and (taller or gaps) and along >= 0.5 * (r[a1] - r[a0]):
            box = list(r)
            box[c0], box[c1] = b[c0], b[c1]
            if gaps:
                # The gaps between the letters: part of the letters' line, never grown past it
                # (no glyphs of its own for ``_complete_line`` to read on from).
                box[a0], box[a1] = max(box[a0], b[a0]), min(box[a1], b[a1])
                return replace(
                    region,
                    box=(box[0], box[1], box[2], box[3]),
                    glyphs=0,
                    reason=region.reason + ", gaps of a line of the other polarity",
                )
            return replace(region, box=(box[0], box[1], box[2], box[3]))
    return region


#: A weak candidate next to a line already taken is text only if its characters read at
#: least this surely on average: text touching Doppler colour or bone makes candidates of the
#: colour map beside it, which read as two or three "letters" at 0.6-0.7.
BESIDE_SURE = 0.85


#: ... when at least this share of its box is coloured (a colour map, not grey anatomy; a blob
#: of the map under a name, read as "LS" at 0.6, had 17 % of its box coloured).
BESIDE_COLOUR = 0.1


def _coloured(views: Sequence[np.ndarray], box: Box) -> float:
    """Share of ``box``'s pixels that are coloured (Doppler, a colour bar), 0 for grey images:
    RGB channels that differ by 40 levels, or YBR chroma 20 levels off neutral."""
    x0, y0, x1, y1 = box
    separate = tuple(getattr(views, "separate", ()))
    if _rgb(views):
        r, g, b = (v[y0:y1, x0:x1].astype(np.int16) for v in views[1:4])
        spread = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
        coloured = spread >= 40
    elif separate == (1, 2) and len(views) == 3:
        cb, cr = (np.abs(v[y0:y1, x0:x1].astype(np.int16) - 128) for v in views[1:3])
        coloured = np.maximum(cb, cr) >= 20
    else:
        return 0.0
    return float(coloured.mean()) if coloured.size else 0.0


def _beside(region: TextRegion, taken: Sequence[TextRegion], policy: PixelPolicy) -> bool:
    """Whether ``region``'s box (with its margin) touches a taken line's box without lying
    mostly inside it."""
    shape = (1 << 30, 1 << 30)
    box = _expand(region, policy.margin, shape)
    for other in taken:
        share = _overlap(box, _expand(other, policy.margin, shape))
        if 0 < share < 0.8:
            return True
    return False


def _reads_surely(
    detector: BurnedInTextDetector, views: Sequence[np.ndarray], region: TextRegion
) -> bool:
    chars = detector.characters(views, region)
    if not chars or len(chars) < 2:
        return False
    return float(np.mean([p for _c, p in chars])) >= BESIDE_SURE


#: Share of a candidate's box that changes between frames above which it moves with the image.
MOVING_SHARE = 0.8


def _moves(region: TextRegion, moving: np.ndarray) -> bool:
    x0, y0, x1, y1 = region.box
    crop = moving[y0:y1, x0:x1]
    return crop.size > 0 and float(crop.mean()) >= MOVING_SHARE


#: A confirmed candidate is cut down to what the model read only when that is less than this
#: share of its length: the rest is what the text touched (Doppler, bone), not more text.
READ_SHARE = 0.75


#: A vertical line runs on past the text read in it when an unread end is longer than this many
#: glyph heights (the reading is already widened by half a glyph at each end).
RUN_ON_GLYPHS = 2.0


def _runs_on(region: TextRegion, extent: Box, axis: tuple[int, int]) -> bool:
    """Whether a vertical line runs on at one end past the characters read in it by more than
    ``RUN_ON_GLYPHS`` of its glyphs: a name written up a small MR joined with the anatomy
    above it into one column read whole but for that anatomy (78 % of the column, above
    ``READ_SHARE``), and the column's box blanked 3.5 % of the image."""
    if not region.vertical or region.glyph_height <= 0:
        return False
    a, b = axis
    run = max(extent[a] - region.box[a], region.box[b] - extent[b])
    return run > RUN_ON_GLYPHS * region.glyph_height


def _read_part(
    detector: BurnedInTextDetector, views: Sequence[np.ndarray], region: TextRegion
) -> TextRegion:
    """``region`` cut down along its line to the characters the model read in it, when the
    candidate was mostly something else: white text over colour Doppler joins the Doppler into
    "glyphs" twice the text's height and a line three times its length; the model reads the
    text in it, at its own place."""
    extent = detector.extent(views, region)
    if extent is None:
        return region
    axis = (1, 3) if region.vertical else (0, 2)
    length = region.box[axis[1]] - region.box[axis[0]]
    read = extent[axis[1]] - extent[axis[0]]
    if length <= 0:
        return region
    if read >= READ_SHARE * length and not _runs_on(region, extent, axis):
        return region
    return replace(region, box=extent, reason=region.reason + ", cut to the text read")


#: Glyph height (px) up to which a line of ``PixelPolicy.budget_glyphs`` or more over a
#: mosaic's slices is not cut to what was read (``_read_part_off_slices``): a small font's
#: letters over a slice's rim read as nothing, while a line of larger "glyphs" is as often
#: the letters joined with the slices around them (left whole, a 28 px name's line of 18 px
#: "glyphs" blanked 1.3 % of the mosaic, a 28 px date's column of 23 px ones 5.4 %).
SLICE_UNCUT_HEIGHT = 12


def _read_part_off_slices(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    read_in: Sequence[np.ndarray],
    region: TextRegion,
    policy: PixelPolicy,
) -> TextRegion:
    """``region`` cut to the characters read in it in ``read_in`` (``_read_part``), unless
    it is a line of five or more small glyphs over an MR mosaic's slices (a frame with a
    mosaic's near-black field at the minimum, as for ``_over_slices``): there the part left
    unread is the rest of the letters, not the Doppler or bone the cut is for.  A grey 12 px
    name was found whole, one line of eight 9 px glyphs; read as "NOSALE" over one slice,
    its "^ROLA" over the next slice's rim read as nothing in every view and stroke window,
    and the cut left it (38 % of the name's pixels).  Nor is a shorter line of such glyphs
    whose box holds one stored value's spike (``_holds_a_stored_spike``)."""
    if (
        _a_mosaic(views)
        and not region.vertical
        and 0 < region.glyph_height <= SLICE_UNCUT_HEIGHT
        and (region.glyphs >= policy.budget_glyphs or _holds_a_stored_spike(views, region))
    ):
        return region
    return _read_part(detector, read_in, region)


def _grey_stored(views: Sequence[np.ndarray]) -> np.ndarray | None:
    """The frame's stored values where ``views[0]`` is its grey 8-bit view of the same shape
    (the views of a window searched on its own carry none), else None."""
    stored = getattr(views, "stored", None)
    view = views[0]
    if stored is None or stored.shape != view.shape or view.ndim != 2:
        return None
    return stored


def _holds_a_stored_spike(views: Sequence[np.ndarray], region: TextRegion) -> bool:
    """Whether ``region``'s box holds the spike of one stored value (``_stored_spike``): bright,
    grey or faint letters drawn in one value, which the cuts to the letters' colour and stored
    value take the line down to later (``_to_its_colour``, ``_to_its_stored_value``).  Cut to
    what was read first, a faint 15 px ID's first two digits, over the gap and a slice's rim,
    read as nothing and were lost (17 % of its pixels)."""
    stored = _grey_stored(views)
    if stored is None:
        return False
    view = views[0]
    return _stored_spike(view, stored, region.box) is not None


def _reads_without(
    detector: BurnedInTextDetector,
    views: Sequence[np.ndarray],
    others: Sequence[TextRegion],
    region: TextRegion,
    policy: PixelPolicy,
    hint_tokens: set[str],
) -> bool:
    """Whether ``region`` still reads as text, or as a header hint, with ``others`` painted out
    (``_without``, its own pixels painted too where they lie under them)."""
    judged = _without(views, others, region, policy, same_size=False)
    return detector.confirm(judged, region) or _matches_hint(
        detector.read(judged, region) or "", hint_tokens
    )


def _without(
    views: Sequence[np.ndarray],
    accepted: Sequence[TextRegion],
    candidate: TextRegion,
    policy: PixelPolicy,
    own: bool = False,
    same_size: bool = True,
) -> list[np.ndarray]:
    """Copies of ``views`` with the ``accepted`` lines painted over (median of the ring around
    each), for a model to judge ``candidate``.  A model would read an accepted line in the
    candidate's padded crop and confirm the anatomy that touches the line.  Where the candidate
    has the line's glyph size (the same text seen in the other polarity, or more of it), the
    candidate's own pixels are left as they are (unless not ``same_size``: a line judged
    without the smaller text it echoes).  With ``own``, so are all of its pixels
    outside the lines themselves (in their margins): the next line of a block stacked under a
    tall line (a small name joined with the vendor's logo into one 19 px "line", whose margin
    is 6 px) lies in that margin, and painted over it reads as nothing."""
    shape = views[0].shape
    cx0, cy0, cx1, cy1 = candidate.box
    kept = np.zeros((max(0, cy1 - cy0), max(0, cx1 - cx0)), bool)
    if own:
        kept[:] = True
        for line in accepted:
            if not same_glyph_size(line, candidate):
                lx0, ly0, lx1, ly1 = (line.box[0] - cx0, line.box[1] - cy0,
                                      line.box[2] - cx0, line.box[3] - cy0)  # fmt: skip
                kept[max(0, ly0) : max(0, ly1), max(0, lx0) : max(0, lx1)] = False
    out = []
    for view in views:
        v = view.copy()
        for line in accepted:
            box = _expand(line, policy.margin, shape)
            v[box[1] : box[3], box[0] : box[2]] = _ring_median(view, box)
            if same_size and same_glyph_size(line, candidate):
                v[cy0:cy1, cx0:cx1] = view[cy0:cy1, cx0:cx1]
        if own:
            v[cy0:cy1, cx0:cx1][kept] = view[cy0:cy1, cx0:cx1][kept]
        out.append(v)
    return out


def _ring_median(frame: np.ndarray, box: Box) -> np.ndarray:
    x0, y0, x1, y1 = box
    h, w = frame.shape[:2]
    r = 3
    outer = frame[max(0, y0 - r) : min(h, y1 + r), max(0, x0 - r) : min(w, x1 + r)]
    mask = np.ones(outer.shape[:2], bool)
    mask[
        (y0 - max(0, y0 - r)) : (y0 - max(0, y0 - r)) + (y1 - y0),
        (x0 - max(0, x0 - r)) : (x0 - max(0, x0 - r)) + (x1 - x0),
    ] = False
    ring = outer[mask] if mask.any() else outer.reshape(-1, *frame.shape[2:])
    return np.median(ring, axis=0).astype(frame.dtype)


#: ``_letters_box`` trusts a band of a line's ink at least this share of the line's height
LETTERS_SHARE = 0.6
#: ... and of ink at least this far from the box's median (``_line_ink``'s ``contrast``)
LETTERS_CONTRAST = 12


def _letters_box(views: Sequence[np.ndarray], region: TextRegion) -> Box | None:
    """The part of ``region``'s box its letters fill across the line: the band of rows of its
    ink (``_ink_band``, when that band is the letters' whole height); None when the ink tells
    none, or the letters fill the box.

    A line found taller than its letters (the rows of an organ's edge its strokes joined)
    gets its margin around that slack too: a name over the small MR's tissue in a line twice
    its letters' height took a margin of a third of that line past both.  The margin is meant
    for the letters' anti-aliased edges, so across the line it is measured from the letters.
    Along the line it is not: a thin first glyph (a serif "1", an "N"'s first stem) can lie
    outside the run of the line's ink (``_ink_span``), and the margin measured from that run
    left its first column (a date over the small MR, a name over the tibia)."""
    if region.glyphs == 0 or _coloured(views, region.box) >= OVER_COLOUR:
        return None  # over colour the line is cut to its letters already (_over_colour_bands)
    box = list(region.box)
    c0, c1 = (0, 2) if region.vertical else (1, 3)
    band = _ink_band(views, region, LETTERS_CONTRAST)
    if band is not None and _whole_band(views, region, band):
        first, end = max(box[c0], band[0] - 1), min(box[c1], band[1] + 1)
        if end - first >= LETTERS_SHARE * (box[c1] - box[c0]):
            box[c0], box[c1] = first, end
    if box[0] >= box[2] or box[1] >= box[3] or tuple(box) == region.box:
        return None
    return box[0], box[1], box[2], box[3]


def _letters_boxes(
    views: Sequence[np.ndarray], regions: Sequence[TextRegion]
) -> dict[TextRegion, Box]:
    """``_letters_box`` of each of ``regions`` where the ink tells one.  Where it does not, the
    line keeps its full margins: a margin measured from its glyphs (``_glyph_margins``) is
    only as good as its glyphs are the letters, and a dark name's line found as its bright
    gaps (11 px "glyphs" under 15 px letters, its box 5 rows below their tops) lost the
    letters' top two rows to it over the shoulder MR's texture, which the verifier did not see."""
    out: dict[TextRegion, Box] = {}
    for region in regions:
        letters = _letters_box(views, region)
        if letters is not None:
            out[region] = letters
    return out


def _grey(views: Sequence[np.ndarray]) -> bool:
    """Whether the frame has no colour at all (``_coloured`` is 0 everywhere on it)."""
    return not _rgb(views) and tuple(getattr(views, "separate", ())) != (1, 2)


def _expand_around(
    region: TextRegion, letters: Box | None, margin: float, shape: tuple[int, ...]
) -> Box:
    """``_expand`` of ``region``, its margin measured past its ``letters`` (``_letters_box``)
    where they end inside the box: never less than the region's own box, never more than the
    box with its margin."""
    full = _expand(region, margin, shape)
    if letters is None:
        return full
    x0, y0, x1, y1 = region.box
    mx, my = _glyph_margins(region, margin)
    return (
        max(full[0], min(x0, letters[0] - mx)),
        max(full[1], min(y0, letters[1] - my)),
        min(full[2], max(x1, letters[2] + mx)),
        min(full[3], max(y1, letters[3] + my)),
    )


def _margins(region: TextRegion, margin: float) -> tuple[int, int]:
    """The margin (x, y) of ``_expand``: ``margin`` of the line's height across it, twice that
    along it."""
    x0, y0, x1, y1 = region.box
    across = (x1 - x0) if region.vertical else (y1 - y0)
    m = max(2, int(round(margin * across)))
    along = max(3, int(round(2 * margin * across)))
    return (m, along) if region.vertical else (along, m)


def _glyph_margins(region: TextRegion, margin: float) -> tuple[int, int]:
    """``_margins``, the one across the line measured from its glyph height where its box is
    taller across.

    Across, the margin is for the letters' anti-aliased edges, so it scales with the letters;
    a line whose box took in an organ's edge beside its letters (a 15 px date over the
    abdominal MR in a box 21-34 px across) took a margin of a third of that box above and
    below, blanking 1-4 % of the frame around a 10 px ID.  Along the line the full margin
    stays: a serif date's last digit ran 9 px past its line's box, and the margin measured
    from its 13 px glyphs left its last column.  Riskier than the full margin: used only
    through ``_letters_boxes``, which the verifier undoes (the full margins are filled again
    when anything is found after the first fill)."""
    x0, y0, x1, y1 = region.box
    across = (x1 - x0) if region.vertical else (y1 - y0)
    if not 0 < region.glyph_height < across:
        return _margins(region, margin)
    mx, my = _margins(region, margin)
    gx, gy = _margins(replace(region, box=(0, 0, region.glyph_height, region.glyph_height)), margin)
    return (gx, my) if region.vertical else (mx, gy)


def _expand(region: TextRegion, margin: float, shape: tuple[int, ...]) -> Box:
    """The region's box with a margin: ``margin`` of the line's height across it, twice that
    along it (punctuation and thin glyphs at the ends of a line)."""
    x0, y0, x1, y1 = region.box
    mx, my = _margins(region, margin)
    return (max(0, x0 - mx), max(0, y0 - my), min(shape[1], x1 + mx), min(shape[0], y1 + my))


#: Pixels around a fill that belong to its edge (resampling/rounding at the border).  Only the
#: fill itself is masked: text touching a fill (a line two pixels below a redacted one) must
#: still be found; edge artefacts in speckle are rejected by the detector's contrast measure,
#: which does not count the fill as background.
FILL_EDGE = 1


def _filled_mask(shape: tuple[int, ...], boxes: Sequence[BoxRecord]) -> np.ndarray:
    """Pixels of a frame that were filled, grown by the reach of a fill's edge."""
    mask = np.zeros(shape[:2], bool)
    for _, x0, y0, x1, y1, _reason in boxes:
        mask[max(0, y0 - FILL_EDGE) : y1 + FILL_EDGE, max(0, x0 - FILL_EDGE) : x1 + FILL_EDGE] = (
            True
        )
    return mask


def _fill(pixels: DecodedPixels, index: int, box: Box, value) -> None:
    x0, y0, x1, y1 = box
    pixels.frame(index)[y0:y1, x0:x1] = value


def _fill_keeps_strokes(frame: np.ndarray, box: Box, fill, ring: np.ndarray) -> bool:
    """Black letters on grey anatomy: a black fill would leave the letters' own pixels as they
    were (the box is still opaque, but the text mask is not changed), the surroundings would not."""
    x0, y0, x1, y1 = box
    crop = frame[y0:y1, x0:x1]
    same = crop == fill
    if same.ndim == 3:
        same = same.all(axis=2)
    return bool(same.mean() > 0.002) and bool(np.any(ring != fill))


def _between_lines(regions: Sequence[TextRegion]) -> list[TextRegion]:
    """The bands between redacted text lines stacked closer than a line's height.

    Text written over or between other text (a name squeezed between two lines of a vendor's
    header) joins the lines above and below into components too tall to be glyphs, and is not
    found as a line of its own; what is left of it lies between two lines that were found.
    The band between lines of a block is inter-line space, so blanking it costs nothing."""
    lines = sorted(
        (r for r in regions if not r.vertical and r.glyph_height > 0), key=lambda r: r.box[1]
    )
    bands: list[TextRegion] = []
    for i, a in enumerate(lines):
        for b in lines[i + 1 :]:
            gap = b.box[1] - a.box[3]
            h = max(a.glyph_height, b.glyph_height)
            if gap >= h:
                break
            lo, hi = sorted((a.glyph_height, b.glyph_height))
            overlap = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
            narrower = min(a.box[2] - a.box[0], b.box[2] - b.box[0])
            if gap <= 0 or lo < 0.6 * hi or overlap < 0.5 * narrower:
                continue
            box = (min(a.box[0], b.box[0]), a.box[3], max(a.box[2], b.box[2]), b.box[1])
            reason = f"{a.polarity} text, between stacked lines"
            bands.append(replace(a, box=box, glyphs=0, reason=reason))
    return bands


#: Glyph heights further apart than this (frame pixels) are two fonts, not one header's lines.
ONE_FONT_HEIGHTS = 2


def _bands_of_one_font(regions: Sequence[TextRegion]) -> list[TextRegion]:
    """``regions`` with each band between stacked lines (``STACKED_BAND``) whose two lines
    are of different fonts cut to the columns both lines span (dropped if none).

    The band is for a header's line squeezed between its neighbours, whose letters join the
    lines above and below (``_between_lines``): lines of one header are of one font.  A name
    burned in just under a palette echo's measurement line ("1.06 cm", 12 px, over a 16 px
    name running on over the anatomy) is not a header: the band over both lines' whole width
    joined the vendor's line pieces into one box 360 px long (3.75 % of the image, seed 17).
    Where both lines lie, the band still covers what may be squeezed between them."""
    lines = [r for r in regions if r.glyphs and not r.vertical and r.glyph_height > 0]

    def neighbour(band: Box, edge: int, side: int) -> TextRegion | None:
        """The line whose ``side`` lies at the band's ``edge``, most along the band."""

        def along(r: TextRegion) -> int:
            return min(r.box[2], band[2]) - max(r.box[0], band[0])

        near = [r for r in lines if abs(r.box[side] - band[edge]) <= 1 and along(r) > 0]
        return max(near, key=along, default=None)

    out: list[TextRegion] = []
    for r in regions:
        if r.glyphs or r.vertical or not r.reason.endswith(STACKED_BAND):
            out.append(r)
            continue
        above, below = neighbour(r.box, 1, 3), neighbour(r.box, 3, 1)
        if (
            above is None
            or below is None
            or abs(above.glyph_height - below.glyph_height) <= ONE_FONT_HEIGHTS
        ):
            out.append(r)
            continue
        x0, x1 = max(above.box[0], below.box[0]), min(above.box[2], below.box[2])
        if x1 > x0:
            out.append(replace(r, box=(x0, r.box[1], x1, r.box[3])))
    return out


def _line_boxes(
    regions: Sequence[TextRegion],
    margin: float,
    shape: tuple[int, ...],
    letters: dict[TextRegion, Box] | None = None,
) -> list[tuple[Box, TextRegion]]:
    """The boxes to fill: each region with its margin, and pieces of one line (split at a
    caret, a space or a dash) joined into one box, so no column of a word is left between two
    fills.  With ``letters`` (``_letters_boxes``) a region's margin is measured past its
    letters (``_expand_around``); which pieces are one line is still judged on the full
    margins."""
    # Each item: the box that judges which pieces are one line (the full margin), the region,
    # and the box filled.
    items = [
        (_expand(r, margin, shape), r, _expand_around(r, (letters or {}).get(r), margin, shape))
        for r in regions
    ]
    changed = True
    while changed:
        changed = False
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                a, ra, fa = items[i]
                b, rb, fb = items[j]
                if ra.vertical != rb.vertical:
                    continue
                c0, c1 = (0, 2) if ra.vertical else (1, 3)  # across the line
                l0, l1 = (1, 3) if ra.vertical else (0, 2)  # along the line
                overlap = min(a[c1], b[c1]) - max(a[c0], b[c0])
                smaller = min(a[c1] - a[c0], b[c1] - b[c0])
                gap = max(a[l0], b[l0]) - min(a[l1], b[l1])
                if overlap >= 0.5 * smaller and gap <= max(3, smaller // 2):
                    kept = ra if ra.strong or not rb.strong else rb
                    items[i] = (_union(a, b), kept, _union(fa, fb))
                    del items[j]
                    changed = True
                    break
            if changed:
                break
    return [(fill, region) for _box, region, fill in items]


def _union(a: Box, b: Box) -> Box:
    """The smallest box holding ``a`` and ``b``."""
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _unused_fill(pixels: DecodedPixels, frame: np.ndarray, box: Box, value):
    """``value``, or the nearest value that no pixel of ``box`` had in ``frame``.

    Every pixel of a filled box then changes, so no text pixel can survive by having the fill's
    value by chance (an anti-aliased edge of a letter over anatomy has the anatomy's median
    value about once in a few hundred pixels), and the box is one value: nothing in it depends
    on what it covered.  One level off black or off the ring's median is not visible.
    ``frame`` is the frame as it was before any box was filled: a box overlapping one filled
    before it must not pick a value that only the earlier fill made unused (a letter's pixel
    would get its own value back).
    """
    x0, y0, x1, y1 = box
    crop = frame[y0:y1, x0:x1]
    if crop.size == 0:
        return value
    if pixels.representation is Representation.PALETTE:
        used = np.unique(crop)
        if int(value) not in set(used.tolist()):
            return value
        assert pixels.palette_rgb is not None
        free = np.setdiff1d(np.arange(len(pixels.palette_rgb)), used)
        if free.size == 0:
            return value
        target = pixels.palette_rgb[int(value)].astype(np.int32)
        dist = np.abs(pixels.palette_rgb[free].astype(np.int32) - target).sum(axis=1)
        return frame.dtype.type(free[int(np.argmin(dist))])
    info = np.iinfo(frame.dtype) if frame.dtype.kind in "ui" else None
    if crop.ndim == 3:
        packed = crop.reshape(-1, crop.shape[-1]).astype(np.int64)
        codes = np.unique(packed[:, 0] << 40 | packed[:, 1] << 20 | packed[:, 2])
        base = np.asarray(value, np.int64).reshape(-1)
        keys = set(codes.tolist())
        for step in range(256):
            for sign in (1, -1) if step else (1,):
                v = base + sign * step
                if info is not None:
                    v = np.clip(v, info.min, info.max)
                if int(v[0] << 40 | v[1] << 20 | v[2]) not in keys:
                    return v.astype(frame.dtype)
        return value
    base = int(np.asarray(value).item())
    used = set(np.unique(crop).tolist())
    lo = int(frame.min())
    hi = int(frame.max())
    for step in range(max(hi - lo, 1) + 2):
        for v in (base + step, base - step) if step else (base,):
            if lo <= v <= hi and v not in used:
                return frame.dtype.type(v)
    return value


def _redact_frame(
    pixels: DecodedPixels,
    index: int,
    regions: Sequence[TextRegion],
    policy: PixelPolicy,
    boxes: list[BoxRecord],
    original: np.ndarray,
    letters: dict[TextRegion, Box] | None = None,
    cut: bool = False,
) -> None:
    """Fill ``regions`` on frame ``index``; what was filled is appended to ``boxes``.
    ``letters``: see ``_line_boxes``; with ``cut`` (a grey frame's first fill) lines beside a
    line of letters are cut across to its rows first (``_to_their_lines``)."""
    frame = pixels.frame(index)
    if cut:
        lines = _to_their_lines(regions)
        letters = {**(letters or {}), **{r: r.box for r in lines if r not in regions}}
        regions = lines
    regions = list(regions) + _between_lines(regions)
    if pixels.representation is Representation.PALETTE:
        regions = _bands_of_one_font(regions)
    for box, region in _line_boxes(regions, policy.margin, frame.shape, letters):
        _fill_box(pixels, index, box, region.polarity, original)
        boxes.append((index, *box, region.reason))


#: ``_to_their_lines``: a line of at most this many glyphs ...
ECHO_GLYPHS = 3
#: ... beside a line of at least this many, and of at least twice its glyphs
LETTERS_GLYPHS = 6
#: ... or a line of the other polarity around a line of at least this many glyphs, of at
#: least this share of its glyph height
HELD_GLYPHS = 4
HELD_HEIGHT = 0.6
#: ... when the line's box is at least this much taller across than its own glyphs (a line
#: as tall as its glyphs took in nothing beside its letters: the dark line of a mono name's
#: gaps inside its bright letters' line ends rows above the letters' feet)
TALLER_THAN_GLYPHS = 1.25


def _to_their_lines(regions: Sequence[TextRegion]) -> list[TextRegion]:
    """``regions``, each line that runs along a line of letters for at least half its length
    and crosses its rows cut across to those rows, with its glyph height.  The line of letters
    is one of many glyphs (``LETTERS_GLYPHS``, twice the other's, which has ``ECHO_GLYPHS`` at
    most), or one of the other polarity inside the line's box across, of ``HELD_GLYPHS``
    glyphs at least ``HELD_HEIGHT`` as tall as the line's (the dark line of a bright string's
    gaps inside its line has glyphs half as tall: it is not the letters), where the line's box
    is ``TALLER_THAN_GLYPHS`` its glyphs across (a mono name's gaps, 10 "glyphs" of 13 px
    inside its letters' 17 px line, end 5 rows above their feet: the line held nothing but
    its letters, and the cut left their feet).  A line of the
    letters' own glyph size that shares less than half of their rows is the next line of a
    block: never cut.

    The abdominal MR's organs beside a string give lines that take in the string's letters
    and an organ's edge past them: lines of two or three "glyphs" (the other polarity's line
    of a date's gaps joined with the liver's edge, 19-28 px across a 14 px ID; an organ read
    on from a string's end), the dark line of a bright ID's gaps joined with the edges
    above and below it (26 px across a 15 px ID), and the bright line of a light label field
    joined with the body wall (33 px across dark 14 px letters).  Their boxes with their
    margins blanked 1-5 % of the frame past the letters, which the line of letters holds
    whole.  Riskier than the full boxes: used on a grey frame's first fill only, which the
    verifier undoes (the full boxes are filled again when anything is found after it)."""
    out: list[TextRegion] = []
    for echo in regions:
        c0, c1 = (0, 2) if echo.vertical else (1, 3)
        a0, a1 = (1, 3) if echo.vertical else (0, 2)
        cut = echo
        for line in regions:
            if line.vertical != echo.vertical or line is echo:
                continue
            few = echo.glyphs <= ECHO_GLYPHS and line.glyphs >= max(LETTERS_GLYPHS, 2 * echo.glyphs)
            held = (
                line.polarity != echo.polarity
                and echo.box[c1] - echo.box[c0] >= TALLER_THAN_GLYPHS * echo.glyph_height
                and line.glyphs >= HELD_GLYPHS
                and line.glyph_height >= HELD_HEIGHT * echo.glyph_height
                and echo.box[c0] <= line.box[c0]
                and line.box[c1] <= echo.box[c1]
            )
            along = min(echo.box[a1], line.box[a1]) - max(echo.box[a0], line.box[a0])
            lo, hi = max(echo.box[c0], line.box[c0]), min(echo.box[c1], line.box[c1])
            if not (few or held) or along < 0.5 * (echo.box[a1] - echo.box[a0]) or hi <= lo:
                continue
            if 2 * (hi - lo) < line.box[c1] - line.box[c0] and same_glyph_size(echo, line):
                continue  # the next line of a block of text, touching this one's rows
            if (lo, hi) != (echo.box[c0], echo.box[c1]):
                box = list(echo.box)
                box[c0], box[c1] = lo, hi
                cut = replace(
                    echo,
                    box=(box[0], box[1], box[2], box[3]),
                    glyph_height=line.glyph_height,
                    reason=echo.reason + ", cut to the rows of a line of letters",
                )
            break
        out.append(cut)
    return out


@dataclass
class _FrameRegions:
    """What to redact in the frames of a cine: lines found on the scanned frames (redacted on
    every frame: burned-in text stays where it is), and lines found where a single frame
    changed outside the moving image (a clock, a frame counter)."""

    per_frame: dict[int, list[TextRegion]]
    everywhere: list[TextRegion]
    scanned: Iterable[int] | None = None


#: Luminance change (8-bit levels) that counts as a change between frames (JPEG noise is less).
FRAME_CHANGE = 12
#: A changing region larger than this share of the frame is the moving image, not a label.
MOVING_AREA = 0.02


#: Frames (of a cine) in which a pixel changed from the first frame above which it is not part
#: of burned-in text: text is drawn with the same pixels on every frame.  A few frames, not
#: one: lossy compression re-encodes a letter next to moving speckle a little differently.
STEADY_CHANGES = 3
#: Share of a weak candidate's strokes that changed in ``STEADY_CHANGES`` frames or more above
#: which it moves with the image: nearly all.  On the echo cine most rows of tissue and speckle
#: the model read as nothing are at 0.9-1.0; a faint clock beside the heart (two digits of
#: eight change) at 0.65-0.75, a static ID over it at 0.0-0.3 (JPEG quality 70).
STROKES_CHANGE = 0.9
#: Share of a candidate's box on the moving image (``_decide_cine``'s ``moving``) from which
#: the rule applies: a clock or a frame counter beside the image changes too, and is read.
STEADY_MOVING = 0.5
#: A candidate's strokes: its pixels whose top-hat (7 px, the detector's kernel) is at least
#: this share of the strongest in its box, and at least ``STROKE_HAT`` levels: the letters,
#: not the brighter tissue under faint text.
STROKE_PEAK = 0.5
STROKE_HAT = 12
_STROKE_KERNEL = cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7))


class _SteadyText(BurnedInTextDetector):
    """``detector`` on the scanned frames of a cine: weak candidates whose strokes change from
    frame to frame are not candidates.  Burned-in text stays the same while the tissue and
    speckle move, so a row of blobs of the moving image that looks like letters costs no model
    call (38 of the 99 calls on the echo cine, 10-40 ms each, all of which read as nothing).
    Only on the moving image: text that changes beside it (a clock) is read as before.  Strong
    lines are judged as before (``_decide``'s own ``_moves``)."""

    def __init__(
        self, detector: BurnedInTextDetector, changing: np.ndarray, moving: np.ndarray
    ) -> None:
        self.detector = detector
        self.changing = changing
        self.moving = moving
        self.supports_ignore = detector.supports_ignore
        self.supports_reading = detector.supports_reading

    def detect(
        self, views: Sequence[np.ndarray], ignore: np.ndarray | None = None
    ) -> list[TextRegion]:
        if ignore is not None:
            regions = self.detector.detect(views, ignore=ignore)
        else:
            regions = self.detector.detect(views)
        return [r for r in regions if r.strong or not self._changes(views, r)]

    def finds_none(self, views: Sequence[np.ndarray], polarity: str) -> bool:
        return self.detector.finds_none(views, polarity)  # (only fewer regions than it)

    def _changes(self, views: Sequence[np.ndarray], region: TextRegion) -> bool:
        view = views[region.view] if 0 <= region.view < len(views) else views[0]
        x0, y0, x1, y1 = region.box
        if not self.moving[y0:y1, x0:x1].mean() >= STEADY_MOVING:
            return False  # a clock or a frame counter beside the image: read on every scan
        rows, cols = view.shape[:2]
        px0, py0 = max(0, x0 - 8), max(0, y0 - 8)
        around = view[py0 : min(rows, y1 + 8), px0 : min(cols, x1 + 8)]
        if around.size == 0:
            return False
        op = cv2.MORPH_TOPHAT if region.polarity == "bright" else cv2.MORPH_BLACKHAT
        hat = cv2.morphologyEx(around, op, _STROKE_KERNEL)[y0 - py0 : y1 - py0, x0 - px0 : x1 - px0]
        strokes = hat >= max(STROKE_HAT, STROKE_PEAK * int(hat.max(initial=0)))
        if not strokes.any():
            return False
        return float(self.changing[y0:y1, x0:x1][strokes].mean()) >= STROKES_CHANGE

    def confirm(self, views: Sequence[np.ndarray], region: TextRegion) -> bool:
        return self.detector.confirm(views, region)

    def read(self, views: Sequence[np.ndarray], region: TextRegion) -> str | None:
        return self.detector.read(views, region)

    def refutes(self, views: Sequence[np.ndarray], region: TextRegion) -> bool:
        return self.detector.refutes(views, region)

    def extent(self, views: Sequence[np.ndarray], region: TextRegion) -> Box | None:
        return self.detector.extent(views, region)

    def characters(
        self, views: Sequence[np.ndarray], region: TextRegion
    ) -> list[tuple[float, float]] | None:
        return self.detector.characters(views, region)


def _decide_cine(
    detector: BurnedInTextDetector,
    source: FrameSource,
    policy: PixelPolicy,
    hint_tokens: set[str],
) -> _FrameRegions:
    """Temporal consistency in a multi-frame image (cine, multi-frame CT/XA).

    Burned-in annotations stay at the same place on every frame while the image moves.  Every
    ``policy.scan_every``-th frame (and the last) is examined in full, and a line found there
    is redacted on every frame.  Between scans, a frame is compared with the first: the parts
    that change in every frame (the moving image, where speckle would only give the model more
    to misread) are left to the scans; a small change outside them (a clock, a frame counter,
    a name shown on one frame) is examined on that frame.  A 30-frame echo costs three full
    examinations instead of thirty, and on them the model reads only candidates whose strokes
    stay the same from frame to frame (``_SteadyText``).

    Two passes over the frames, each decoding them one at a time: the first counts where
    frames change (what moves is known only after the last frame), the second compares each
    frame again and examines it.  Decoding a frame twice costs less than keeping a 4,000-frame
    cine's frames, or even their change masks (38 MiB packed), for the second pass.
    """
    source.find_value_range()
    reference: np.ndarray | None = None
    changes: np.ndarray | None = None
    n = 0
    for i, frame in source.frames():
        lum = luminance(source.window(i, frame), i)
        n = i + 1
        if reference is None:
            reference = lum
            changes = np.zeros(reference.shape, np.uint16)
            continue
        changes += cv2.absdiff(lum, reference) > FRAME_CHANGE
    assert reference is not None and changes is not None
    source.count = n  # a decoder may yield fewer frames than declared: those are the image
    rows, cols = reference.shape
    scanned = sorted(set(range(0, n, policy.scan_every)) | {n - 1})
    # Pixels that change in many frames: the moving image.  A clock that changes on every
    # frame is a small region (kept a candidate below), a name shown on one frame is not
    # "many frames".
    often = changes >= max(2, (n - 1) // 4)
    changing = changes >= STEADY_CHANGES
    del changes
    closed = cv2.morphologyEx(often.view(np.uint8), cv2.MORPH_CLOSE, _CLOSE)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    large = np.zeros(count, bool)
    large[1:] = stats[1:, cv2.CC_STAT_AREA] > MOVING_AREA * rows * cols
    moving = cv2.dilate(large[labels].view(np.uint8), _CLOSE).view(bool)
    del labels
    steady = _SteadyText(detector, changing, moving)
    examined = set(scanned)
    everywhere: list[TextRegion] = []
    per_frame: dict[int, list[TextRegion]] = {}
    for i, frame in source.frames():
        pixels = source.window(i, frame)
        if i in examined:
            views = detection_views(pixels, i)
            for region in _decide(steady, views, policy, hint_tokens, moving=often):
                if not any(
                    r.box == region.box and r.polarity == region.polarity for r in everywhere
                ):
                    everywhere.append(region)
            continue
        diff = cv2.absdiff(luminance(pixels, i), reference) > FRAME_CHANGE
        quiet = diff & ~moving
        if not quiet.any():
            continue
        views = None
        grown = cv2.dilate(quiet.view(np.uint8), _NEAR)
        count, _labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
        for x, y, w, h, _area in stats[1:count]:
            # A line of text is small; what is bigger is the image itself changing.
            if h > 64 or w * h > 0.1 * rows * cols:
                continue
            x0, y0 = max(0, x - 8), max(0, y - 8)
            x1, y1 = min(cols, x + w + 8), min(rows, y + h + 8)
            if views is None:
                views = detection_views(pixels, i)
            crop = _crop_views(views, (x0, y0, x1, y1))
            for region in _decide(detector, crop, policy, hint_tokens):
                bx0, by0, bx1, by1 = region.box
                per_frame.setdefault(i, []).append(
                    replace(region, box=(bx0 + x0, by0 + y0, bx1 + x0, by1 + y0))
                )
    return _FrameRegions(per_frame, everywhere, scanned + sorted(per_frame))


_CLOSE = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (15, 15))
_NEAR = np.ones((5, 5), np.uint8)


def _crop_views(views: Sequence[np.ndarray], box: Box) -> list[np.ndarray]:
    x0, y0, x1, y1 = box
    out = DetectionViews(np.ascontiguousarray(v[y0:y1, x0:x1]) for v in views)
    out.separate = getattr(views, "separate", ())
    out.bright_only = getattr(views, "bright_only", ())
    field = getattr(views, "dark_field", None)
    if field is not None:
        out.dark_field = np.ascontiguousarray(field[y0:y1, x0:x1])
    bottom = getattr(views, "bottom_window", None)
    if bottom is not None:
        out.bottom = bottom.part(y0, y1, x0, x1)
    penumbra = getattr(views, "penumbra", None)
    if penumbra is not None:
        out.penumbra = np.ascontiguousarray(penumbra[y0:y1, x0:x1])
    one_index, aliases = getattr(views, "one_index", None), getattr(views, "aliases", None)
    if one_index is not None and aliases is not None:
        out.one_index = np.ascontiguousarray(one_index[y0:y1, x0:x1])
        out.aliases = np.ascontiguousarray(aliases[y0:y1, x0:x1])
    return out


#: The reason recorded for a box a person drew.
DRAWN = "drawn by teacher/curator"

#: A box for some frames: ``(frame, x0, y0, x1, y1)``, frame None for every frame.
FrameBox = tuple[int | None, int, int, int, int]


def _frame_boxes(boxes: Sequence, cols: int, rows: int) -> list[FrameBox]:
    """Boxes as ``(frame or None, x0, y0, x1, y1)`` clipped to the image; a 4-tuple is for every
    frame."""
    out: list[FrameBox] = []
    for b in boxes:
        frame, coords = (None, b) if len(b) == 4 else (b[0], b[1:5])
        x0, y0 = max(0, int(coords[0])), max(0, int(coords[1]))
        x1, y1 = min(cols, int(coords[2])), min(rows, int(coords[3]))
        if x1 > x0 and y1 > y0:
            out.append((None if frame is None else int(frame), x0, y0, x1, y1))
    return out


def _kept(record: BoxRecord, keep: Sequence[FrameBox]) -> bool:
    """Whether a person said an automatic box is not text: half of it or more lies in a box
    they kept for its frame (or for every frame)."""
    frame, x0, y0, x1, y1 = record[:5]
    area = max(1, (x1 - x0) * (y1 - y0))
    for kf, kx0, ky0, kx1, ky1 in keep:
        if kf is not None and kf != frame:
            continue
        iw = min(x1, kx1) - max(x0, kx0)
        ih = min(y1, ky1) - max(y0, ky0)
        if iw > 0 and ih > 0 and iw * ih >= 0.5 * area:
            return True
    return False


def _fill_box(
    pixels: DecodedPixels,
    index: int,
    box: Box,
    polarity: str = "bright",
    original: np.ndarray | None = None,
) -> None:
    """Blank one box: with the dark background, or with the surroundings where they are light
    (a label field) or the text is dark, never leaving a pixel as it was (in ``original``, the
    frame before any box was filled).  The same rule at upload and when a review is replayed,
    so a replayed box has the same pixels."""
    frame = pixels.frame(index)
    dark = bright_fill(pixels, index)
    value = dark
    if pixels.representation in (Representation.MONOCHROME2, Representation.RGB):
        # Dark text on a light field (inverted): fill with the field, not with black, so the
        # letters themselves change.  The polarity tag alone is not enough: the gaps between
        # dark letters also look like bright strokes.
        ring = _ring_median(frame, box)
        lo, hi = float(frame.min()), float(frame.max())
        if float(np.mean(ring)) > lo + 0.5 * (hi - lo) or _fill_keeps_strokes(
            frame, box, dark, ring
        ):
            value = ring
    elif polarity == "dark" and pixels.representation is not Representation.PALETTE:
        value = _ring_median(frame, box)
    elif pixels.representation is Representation.MONOCHROME1:
        # A radiograph shown inverted stores its black at the maximum, the fill's value: black
        # letters over the lung (a bold ID, found as a "bright" line of stored values) have
        # their cores at it (as the box's commonest value they once kept it: 85 % changed),
        # so the box takes its surroundings, as dark text on MONOCHROME2 does.
        ring = _ring_median(frame, box)
        if _fill_keeps_strokes(frame, box, dark, ring):
            value = ring
    before = frame if original is None else original
    # One value over the whole box, one that none of its pixels had: every letter pixel
    # changes, and the box keeps no outline of what it covered.  (Keeping a black margin's
    # own pixels and changing only those that bordered the letters drew the letters' outlines
    # one level off the fill: invisible in a viewer, readable by anyone who thresholds the
    # downloaded pixels.)
    _fill(pixels, index, box, _unused_fill(pixels, before, box, value))


def _drawn_records(drawn: Sequence[FrameBox], count: int) -> list[BoxRecord]:
    """The records of the boxes a person drew, frame by frame (their fills need no pixels to
    be known)."""
    records: list[BoxRecord] = []
    for i in range(count):
        records += [(i, *b[1:], DRAWN) for b in drawn if b[0] is None or b[0] == i]
    return records


def _apply_drawn(pixels: DecodedPixels, index: int, drawn: Sequence[FrameBox]) -> None:
    """Fill the boxes a person drew on frame ``index``: one dark value (the background's)."""
    boxes = [b[1:] for b in drawn if b[0] is None or b[0] == index]
    if boxes:
        fill = bright_fill(pixels, index)
        for box in boxes:
            _fill(pixels, index, box, fill)


#: Redacts one frame in place (the frame held by the window, its index): see ``_store``.
FrameRedaction = Callable[[DecodedPixels, int], None]


def _store(
    ds: Dataset,
    source: FrameSource,
    changed: set[int],
    every: bool,
    redact: FrameRedaction,
    restart: Callable[[], None] = lambda: None,
) -> str:
    """Redact the ``changed`` frames and store every frame into ``ds``, one frame at a time.

    The first way of :func:`storage_plans` whose encoder takes the image is used (the first
    frame is tried on each beforehand; a refusal later starts the pass again with the next
    way, after ``restart`` forgets what ``redact`` recorded).  ``every``: every frame is
    re-encoded, not only the changed ones (in-pixel overlay bits to clear).  Returns the
    transfer syntax keyword.
    """
    plans = storage_plans(ds, source.representation)
    for plan in plans:
        writer = FrameWriter(ds, plan, source.count)
        if not plan.native and plan is not plans[-1]:
            _, first = next(source.frames())
            try:
                writer.encode(first)
            except EncoderRefused:
                continue
        restart()
        try:
            for i, frame in source.frames():
                if source.count == 1:
                    frame = frame.copy()  # the source keeps its single frame for each pass
                pixels = source.window(i, frame)
                if i in changed:
                    redact(pixels, i)
                writer.add(i, frame, every or i in changed)
        except EncoderRefused:
            continue
        return writer.finish()
    raise AssertionError("the last way of storing cannot refuse")  # pragma: no cover


def clean_pixels(
    ds: Dataset,
    hints: Iterable[str] = (),
    extra_boxes: Sequence = (),
    detector: BurnedInTextDetector | None = None,
    policy: PixelPolicy | None = None,
    *,
    automatic: Sequence[BoxRecord] | None = None,
    keep: Sequence = (),
) -> PixelCleaningResult:
    """Remove overlays and burned-in text from every frame of ``ds`` (in place).

    Parameters
    ----------
    ds : pydicom.Dataset
        Image instance with Pixel Data (any transfer syntax pydicom and its plugins decode).
        Pixel Data is replaced only if something was redacted; otherwise byte-identical.
    hints : iterable of str
        Original identifying header values (names, IDs, dates, institution), collected before
        the header was cleaned; they make weak candidates that read as a hint count as text and
        are never safe-listed.
    extra_boxes : sequence of (x0, y0, x1, y1) or (frame, x0, y0, x1, y1)
        Teacher/curator-drawn rectangles, for every frame or for one frame.
    detector : BurnedInTextDetector, optional
        Defaults to :func:`default_detector`.
    policy : PixelPolicy, optional
        Redact all text (default) or keep a safe-list of tokens.
    automatic : sequence of BoxRecord, optional
        Replay of a review: the boxes an earlier run of this function found on the same
        original (``result.boxes`` without the drawn ones).  They are filled as they are,
        without detecting again, so a teacher's change to a 2140x1760 radiograph is applied in
        well under a second; the detection (and its verification) ran when the file arrived.
    keep : sequence of (x0, y0, x1, y1) or (frame, x0, y0, x1, y1)
        Areas a person said are not text (with ``automatic``): an automatic box lying mostly
        in one is not filled, so the original pixels stay there.
    """
    policy = policy or PixelPolicy()
    detector = detector or default_detector()
    result = PixelCleaningResult()
    result.overlays_removed = remove_overlay_planes(ds)
    if "PixelData" not in ds:
        # Float or double pixel data (parametric maps) is not scanned: not confirmed, not clean.
        if "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
            result.ok = False
            result.reasons.append(
                "Float pixel data (a parametric map) cannot be checked for burned-in text yet."
            )
        return result
    if int(ds.get("BitsAllocated", 8)) == 1:
        result.frames = int(ds.get("NumberOfFrames", 1) or 1)
        result.ok = False
        result.reasons.append(
            "1-bit pixel data (a segmentation or bitmap) cannot be checked for burned-in text yet."
        )
        return result
    hint_tokens = _hint_tokens(hints)
    # Frame by frame, never all frames decoded at once: detection (a pass over the frames),
    # then redaction, verification and re-encoding (a second pass, each frame stored as soon
    # as it is done, into a spool that is a temporary file once past 8 MiB).  Memory is one
    # decoded frame and a constant, whatever the number of frames.
    source = FrameSource(ds)
    result.frames = source.count
    need_store = has_high_bit_content(ds)
    if need_store:
        result.overlays_removed.append("in-pixel overlay bits above Bits Stored")
    rows, cols = source.rows, source.columns
    drawn = _frame_boxes(extra_boxes, cols, rows)
    if automatic is not None:
        kept_areas = _frame_boxes(keep, cols, rows)
        fills: dict[int, list[tuple[Box, str]]] = {}
        for record in automatic:
            frame = int(record[0])
            if not 0 <= frame < source.count or _kept(record, kept_areas):
                continue
            box = _frame_boxes([record[:5]], cols, rows)
            if box:
                polarity = "dark" if str(record[5]).startswith("dark") else "bright"
                fills.setdefault(frame, []).append((box[0][1:], polarity))
                result.boxes.append((frame, *box[0][1:], str(record[5])))
        drawn_boxes = _drawn_records(drawn, source.count)
        result.boxes += drawn_boxes
        changed = set(fills) | {b[0] for b in drawn_boxes}

        def replay(pixels: DecodedPixels, i: int) -> None:
            if i in fills:
                original = pixels.frame(i).copy()
                for box, polarity in fills[i]:
                    _fill_box(pixels, i, box, polarity, original)
            _apply_drawn(pixels, i, drawn)

        if changed or need_store:
            result.transfer_syntax = _store(ds, source, changed, need_store, replay)
            result.changed = True
        return result
    #: per frame, where its lines' letters lie in their boxes (``_letters_boxes``)
    letters: dict[int, dict[TextRegion, Box]] = {}
    #: single frames with no colour: their lines are cut to their lines of letters first
    grey: set[int] = set()
    if source.count > 1 and policy.scan_every > 1:
        found = _decide_cine(detector, source, policy, hint_tokens)
        verify: set[int] | None = set(found.scanned)
        per_frame = found.per_frame
        everywhere = found.everywhere
    else:
        per_frame, everywhere, verify = {}, [], None
        seen = 0
        for i, frame in source.frames():
            views = detection_views(source.window(i, frame), i)
            regions = _decide(detector, views, policy, hint_tokens)
            if regions:
                per_frame[i] = regions
                letters[i] = _letters_boxes(views, regions)
                if _grey(views):
                    grey.add(i)
            seen = i + 1
        source.count = seen
    result.frames = source.count
    drawn_boxes = _drawn_records(drawn, source.count)
    detected = set(range(source.count)) if everywhere else set(per_frame)
    changed = detected | {b[0] for b in drawn_boxes}
    found_boxes: list[BoxRecord] = []
    retry_boxes: list[BoxRecord] = []
    remained: list[str] = []

    def redact(pixels: DecodedPixels, i: int) -> None:
        regions = everywhere + per_frame.get(i, [])
        original = None
        own: list[BoxRecord] = []
        if regions:
            # The frame as it was, for choosing fill values (and for the verifier's rounds).
            original = pixels.frame(i).copy()
            _redact_frame(pixels, i, regions, policy, own, original, letters.get(i), i in grey)
        _apply_drawn(pixels, i, drawn)
        found_boxes.extend(own)
        if verify is not None and i not in verify:
            return
        # Verifier: re-run detection on the changed frame, ignoring the fills themselves (a
        # black box in speckle makes the speckle next to it look like strokes on black);
        # redact again, then give up.
        filled = _filled_mask((rows, cols), own + [b for b in drawn_boxes if b[0] == i])
        for attempt in range(policy.retries + 1):
            remaining = _decide(
                detector,
                detection_views(pixels, i),
                policy,
                hint_tokens,
                ignore=filled,
                recheck=True,
            )
            if not remaining:
                break
            if attempt == policy.retries:
                remained.append(f"frame {i}: text remained after redaction")
                break
            if original is None:  # only a drawn box was filled on the first pass
                original = pixels.frame(i).copy()
            again: list[BoxRecord] = []
            if attempt == 0 and (letters.get(i) or i in grey):
                # Text left beside lines whose margins were measured past their letters or
                # from their glyphs, or cut to a line of letters (``_to_their_lines``): a
                # line found in part may go on past its box, where the full margin reached
                # (a name over bright tissue whose last letters only the verifier found, 15 px
                # past the first piece's box).  The full margins, then what was left.
                _redact_frame(pixels, i, regions, policy, again, original)
            _redact_frame(pixels, i, remaining, policy, again, original)
            retry_boxes.extend(again)
            filled |= _filled_mask(filled.shape, again)

    if changed or need_store:

        def restart() -> None:
            found_boxes.clear()
            retry_boxes.clear()
            remained.clear()

        result.transfer_syntax = _store(ds, source, changed, need_store, redact, restart)
        result.changed = True
    result.boxes = found_boxes + drawn_boxes + retry_boxes
    if remained:
        result.ok = False
        result.reasons.extend(remained)
    return result
