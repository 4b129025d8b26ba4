"""Decoded frames in their stored representation, detection views and background values.

DICOM PS3.3 C.7.6.3.1 (Image Pixel Module): monochrome frames are kept as *stored values* (any
bit depth, signed or not; Modality LUT / windowing are monotonic, so detection on a window of the
stored values is equivalent), palette colour frames as indices, colour frames as RGB, except
uncompressed YBR_FULL / YBR_FULL_422 which are kept as (upsampled) YBR so that redaction happens
in the stored colour space without a lossy YBR->RGB->YBR round trip.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

import cv2
import numpy as np
from pydicom import Dataset
from pydicom.pixels import get_decoder

from ..spool import rewound
from .detection import BUSY_FRAME
from .overlays import has_high_bit_content

__all__ = [
    "Representation",
    "DecodedPixels",
    "DetectionViews",
    "BottomWindow",
    "FrameSource",
    "decode",
    "detection_views",
    "luminance",
    "bright_fill",
]


class Representation(str, Enum):
    """What the decoded sample values mean."""

    MONOCHROME1 = "MONOCHROME1"
    MONOCHROME2 = "MONOCHROME2"
    RGB = "RGB"
    YBR_FULL = "YBR_FULL"
    PALETTE = "PALETTE COLOR"


@dataclass
class DecodedPixels:
    """Frames as one array ``(frames, rows, columns[, samples])`` plus how to read them.

    ``frames`` holds every frame (:func:`decode`) or a window of them, frame ``first`` of the
    image first and ``total`` frames in the image (:meth:`FrameSource.window`, one frame): the
    functions that take a frame index read it with :meth:`frame`, so they work on either.
    """

    frames: np.ndarray
    representation: Representation
    palette_rgb: np.ndarray | None = None  # (entries, 3) uint8 for PALETTE COLOR
    value_range: tuple[float, float] | None = None  # of all frames, for ``luminance``
    first: int = 0
    total: int | None = None

    @property
    def count(self) -> int:
        """Frames in the image (not only those held)."""
        return int(self.frames.shape[0]) if self.total is None else self.total

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` of the image (a view: filling it fills the frame held)."""
        return self.frames[index - self.first]


def _palette(ds: Dataset) -> np.ndarray:
    """Every index of a PALETTE COLOR image as 8-bit RGB, ``(entries, 3)``."""
    from pydicom.pixels import apply_color_lut

    nbits = int(ds.BitsAllocated)
    every_index = np.arange(1 << nbits, dtype=np.uint8 if nbits == 8 else np.uint16)
    rgb = apply_color_lut(every_index, ds).astype(np.float64)
    top = 255.0 if rgb.max() <= 255 else 65535.0
    return np.clip(rgb / top * 255.0, 0, 255).astype(np.uint8)


class FrameSource:
    """The frames of ``ds`` decoded one at a time, in order, as often as asked.

    A multi-frame image is never decoded whole: a 4,000-frame 320x240 YBR JPEG echo is 880 MiB
    decoded and 24 MiB as stored, so each pass over it (compare frames, detect, redact and
    re-encode) decodes the frames again, one at a time, and keeps none.  A single frame is
    decoded once and kept (every pass asks for it again).
    """

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds
        tsyntax = ds.file_meta.TransferSyntaxUID
        photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip()
        self.native_ybr = not tsyntax.is_compressed and photometric in ("YBR_FULL", "YBR_FULL_422")
        #: Frames the header declares (what is published; a decoder may yield fewer)
        self.count = int(ds.get("NumberOfFrames", 1) or 1)
        self.samples = int(ds.get("SamplesPerPixel", 1))
        self.rows, self.columns = int(ds.Rows), int(ds.Columns)
        self.decoder = get_decoder(tsyntax)
        self.palette_rgb: np.ndarray | None = None
        if photometric == "PALETTE COLOR":
            self.representation = Representation.PALETTE
            self.palette_rgb = _palette(ds)
        elif self.samples == 3:
            self.representation = Representation.YBR_FULL if self.native_ybr else Representation.RGB
        elif photometric == "MONOCHROME1":
            self.representation = Representation.MONOCHROME1
        else:
            self.representation = Representation.MONOCHROME2
        self.value_range: tuple[float, float] | None = None
        self._single: np.ndarray | None = None
        self._native_dtype = _native_dtype(ds, tsyntax, photometric, self.count, self.samples)

    def _shaped(self, arr: np.ndarray) -> np.ndarray:
        """One frame as ``(rows, columns[, samples])``."""
        if arr.ndim == (3 if self.samples > 1 else 2):
            return arr
        return arr.reshape(arr.shape[-(3 if self.samples > 1 else 2) :])

    def frames(self) -> Iterator[tuple[int, np.ndarray]]:
        """``(index, frame)`` for every frame, each a writeable array of its own (the single
        frame of a one-frame image is the same array each time)."""
        with rewound(self.ds):
            yield from self._frames()

    def _frames(self) -> Iterator[tuple[int, np.ndarray]]:
        if self.count == 1:
            if self._single is None:
                arr = self._native_single()
                if arr is None:
                    arr, _ = self.decoder.as_array(self.ds, as_rgb=not self.native_ybr)
                if arr.ndim == (4 if self.samples > 1 else 3):
                    arr = arr[0]
                self._single = arr if arr.flags.writeable else arr.copy()
            yield 0, self._single
            return
        index = 0
        for frame, _ in self.decoder.iter_array(self.ds, as_rgb=not self.native_ybr):
            if index == self.count:
                break  # more fragments than frames: the header's count is what is published
            yield index, self._shaped(frame if frame.flags.writeable else frame.copy())
            index += 1
        if index == 0:
            raise ValueError("no frame could be decoded")

    def _native_single(self) -> np.ndarray | None:
        """The single frame read straight from Pixel Data (see :func:`_native_dtype`), or None
        when the value is not the frame's bytes (buffered, or of another length: the decoder
        then says what is wrong)."""
        if self._native_dtype is None:
            return None
        value = self.ds.PixelData
        size = self.rows * self.columns * self._native_dtype.itemsize
        if not isinstance(value, bytes) or len(value) not in (size, size + 1):
            return None
        if int(self.ds.BitsStored) < 8 * self._native_dtype.itemsize and has_high_bit_content(
            self.ds
        ):
            return None
        pixels = np.frombuffer(value, self._native_dtype, self.rows * self.columns)
        return pixels.reshape(self.rows, self.columns).copy()

    def window(self, index: int, frame: np.ndarray) -> DecodedPixels:
        """Frame ``index`` as a :class:`DecodedPixels` holding only that frame."""
        return DecodedPixels(
            frame[np.newaxis],
            self.representation,
            self.palette_rgb,
            self.value_range,
            first=index,
            total=self.count,
        )

    def find_value_range(self) -> None:
        """The stored range of all frames (monochrome ``luminance`` compares frames on it)."""
        if self.representation not in (Representation.MONOCHROME1, Representation.MONOCHROME2):
            return
        lo, hi = np.inf, -np.inf
        for _, frame in self.frames():
            lo, hi = min(lo, float(frame.min())), max(hi, float(frame.max()))
        self.value_range = (lo, hi)


#: Uncompressed little-endian transfer syntaxes (Pixel Data stored as it is in memory).
_NATIVE_LITTLE_ENDIAN = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1")


def _native_dtype(
    ds: Dataset, tsyntax: str, photometric: str, count: int, samples: int
) -> np.dtype | None:
    """The type of a single monochrome frame stored uncompressed, little endian, in 8 or 16
    bits, or None.  Such Pixel Data is the frame's bytes: where nothing lies in the bits above
    Bits Stored but the sign (:func:`has_high_bit_content`), pydicom's decoder returns exactly
    them (masked or sign-extended, they are the same), after option and validation work that
    cost ten times the copy of a 512x512 CT slice."""
    if (
        tsyntax not in _NATIVE_LITTLE_ENDIAN
        or count != 1
        or samples != 1
        or photometric not in ("MONOCHROME1", "MONOCHROME2")
    ):
        return None
    bits = int(ds.get("BitsAllocated", 0) or 0)
    if bits not in (8, 16) or not 0 < int(ds.get("BitsStored", 0) or 0) <= bits:
        return None
    signed = ds.get("PixelRepresentation", 0)
    if signed not in (0, 1):
        return None
    return np.dtype(f"<{'i' if signed else 'u'}{bits // 8}")


def decode(ds: Dataset) -> DecodedPixels:
    """Decode every frame of ``ds`` into one array (any transfer syntax pydicom + plugins can
    decode).  For looking at an image whole (tests, benchmarks); the cleaner reads the frames
    one at a time from a :class:`FrameSource`."""
    source = FrameSource(ds)
    out: np.ndarray | None = None
    count = 0
    for index, frame in source.frames():
        if out is None:
            out = np.empty((source.count, *frame.shape), frame.dtype)
        out[index] = frame
        count = index + 1
    assert out is not None
    arr = out if count == source.count else out[:count]
    return DecodedPixels(arr, source.representation, source.palette_rgb)


def _to_u8(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    if hi <= lo:
        return np.zeros(values.shape, np.uint8)
    # In place: one float copy of the frame instead of four (the same operations).
    scaled = values.astype(np.float32)
    scaled -= np.float32(lo)
    scaled *= np.float32(255.0 / (hi - lo))
    np.clip(scaled, 0, 255, out=scaled)
    return scaled.astype(np.uint8)


def _top_window(frame: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``_to_u8(frame, lo, hi)`` computed only where it is not zero: the top of a CT's range
    is bone and letters, a small part of the frame.  Zero is what the window makes of every
    value up to ``lo`` (as a float32, as ``_to_u8`` takes it), so an integer frame is
    converted only in the box of its values above that."""
    if frame.dtype.kind not in "iu" or hi <= lo:
        return _to_u8(frame, lo, hi)
    above = frame > math.floor(float(np.float32(lo)))
    x, y, w, h = cv2.boundingRect(above.view(np.uint8))
    out = np.zeros(frame.shape, np.uint8)
    if w and h:
        out[y : y + h, x : x + w] = _to_u8(frame[y : y + h, x : x + w], lo, hi)
    return out


def _linear_percentiles(sample: np.ndarray, q: tuple[float, ...]) -> np.ndarray:
    """``np.percentile(sample, q)`` (its default, linear method) of an integer sample, by the
    same operations without its general machinery.  The order statistics it interpolates
    between are counted, not partitioned for, where the sample spans at most 65,536 values: a
    CT slice's sample is mostly a few values (air), on which a partition costs ten times the
    count."""
    if sample.dtype.kind not in "iu":
        return np.percentile(sample, q)
    arr = sample.flatten()
    n = arr.size
    least, most = int(arr.min()), int(arr.max())
    virtual = (n - 1) * np.true_divide(q, 100)
    below = np.floor(virtual)
    above = below + 1
    past = virtual >= n - 1
    below[past] = -1
    above[past] = -1
    lower, upper = below.astype(np.intp), above.astype(np.intp)
    if most - least < 1 << 16:
        # The k-th smallest value is the first whose count of values up to it exceeds k.
        counts = np.bincount(arr.astype(np.intp) - least, minlength=most - least + 1).cumsum()
        a = (np.searchsorted(counts, lower % n, side="right") + least).astype(arr.dtype)
        b = (np.searchsorted(counts, upper % n, side="right") + least).astype(arr.dtype)
    else:
        arr.partition(np.unique(np.concatenate(([0, -1], lower, upper))))
        a, b = arr[lower], arr[upper]
    gamma = virtual - lower
    diff = np.subtract(b, a)
    out = np.add(a, diff * gamma)
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5, casting="unsafe")
    return out


class DetectionViews(list):
    """The windows of one frame; ``separate``: the indices of windows whose strokes are also
    looked at on their own, not only in the union of all windows (colour channels, where a
    colour stands alone that touches others in luminance; the top-of-range window, where
    letters burned at the maximum stand apart from the bone they touch)."""

    separate: tuple[int, ...] = ()
    #: windows that show only what lies above a field, black: no dark text shows there
    bright_only: tuple[int, ...] = ()
    #: a window not in the union of views (:func:`_dark_field`): read past the ends of dark
    #: lines, and searched on its own for dark lines lying on the field
    dark_field: np.ndarray | None = None
    #: a window not in the union of views (:func:`_bottom_of_range`): searched on its own for
    #: dark lines burned at the minimum over dark anatomy, near its pixels at the minimum
    #: (:class:`BottomWindow`: made whole only where a line found there is read)
    bottom_window: BottomWindow | None = None
    #: a window not in the union of views (:func:`_at_the_minimum`): searched on its own for
    #: dark lines burned at the minimum across a near-black field whose noise reaches it
    minimum: np.ndarray | None = None
    #: a window not in the union of views (:func:`_in_one_value`): what lies at a value its
    #: neighbourhood holds far more often than the values beside it (letters drawn in one
    #: value) black, everything else white; searched on its own for lines of such letters
    #: over a large frame's texture (``cleaner._in_one_value``)
    one_value: np.ndarray | None = None
    #: a window not in the union of views (:func:`_chroma`): how far each pixel is from grey,
    #: searched on its own for coloured lines over grey speckle
    chroma: np.ndarray | None = None
    #: a window not in the union of views (:func:`_one_index`): a palette colour frame's field,
    #: an index whose colour the palette gives other indices too, black, every other index
    #: white; searched on its own for lines the palette hides
    one_index: np.ndarray | None = None
    #: ... and where the frame holds those other indices (the field's aliases): a line counts
    #: only where the pixels of its box off the field are mostly of them
    aliases: np.ndarray | None = None
    #: a window not in the union of views (:func:`_penumbra`): searched on its own for letters
    #: at the minimum over the ramp beside a flat field at the minimum (a radiograph's
    #: collimation band)
    penumbra: np.ndarray | None = None
    #: a large MONOCHROME1 frame (a computed radiograph): searched in stroke windows of its
    #: stored values for small letters within the film's own spread (``cleaner._over_a_radiograph``)
    radiograph: bool = False
    #: the frame's stored values (monochrome), where one level of the 8-bit windows merges
    #: several: letters drawn in one value are one stored value, anatomy is many
    stored: np.ndarray | None = None

    @property
    def bottom(self) -> np.ndarray | None:
        """The bottom-of-range window whole (:attr:`bottom_window`), or None."""
        return None if self.bottom_window is None else self.bottom_window.whole

    @bottom.setter
    def bottom(self, window: np.ndarray | None) -> None:
        self.bottom_window = None if window is None else BottomWindow.made(window)


class BottomWindow:
    """The bottom-of-range window of a frame (:func:`_bottom_of_range`), made only as far as
    it is looked at.

    Lines are searched in it only near its pixels at the minimum, and a line counts only if
    it is read there (``cleaner._at_the_bottom``): a text-free CT slice has a few such pixels
    and no line near them, so only the part of the window around them is made (the whole
    cost 0.2 ms of the slice's 4 ms).  The window is 0 where the frame lies at or under the
    last stored value it makes 0 (it is monotonic); a part is made from the frame's part by
    the same operations, so each is what the whole window holds there.  It is made from the
    frame as it is when first looked at: views are for detection, before the frame is
    redacted.
    """

    def __init__(self, frame: np.ndarray | None, lo: float, top: float) -> None:
        self._frame = frame
        self._lo, self._top = lo, top
        self._whole: np.ndarray | None = None
        self._zero: np.ndarray | None = None

    @classmethod
    def made(cls, window: np.ndarray) -> BottomWindow:
        """A window already made (a crop of another frame's, in a test a given one)."""
        out = cls(None, 0.0, 0.0)
        out._whole = window
        return out

    @property
    def whole(self) -> np.ndarray:
        if self._whole is None:
            assert self._frame is not None
            self._whole = _to_u8(self._frame, self._lo, self._top)
        return self._whole

    @property
    def shape(self) -> tuple[int, ...]:
        return self.whole.shape if self._frame is None else self._frame.shape[:2]

    def part(self, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        """The window in rows ``y0:y1``, columns ``x0:x1`` (a contiguous array)."""
        if self._whole is not None or self._frame is None:
            return np.ascontiguousarray(self.whole[y0:y1, x0:x1])
        return _to_u8(self._frame[y0:y1, x0:x1], self._lo, self._top)

    def at_zero(self) -> np.ndarray:
        """Where the window is 0: the pixels at the bottom of the frame's range."""
        if self._zero is None:
            last = None if self._whole is not None else self._last_zero()
            if last is None:
                self._zero = self.whole == 0
            else:
                assert self._frame is not None
                self._zero = self._frame <= last
        return self._zero

    def _last_zero(self) -> int | None:
        """The last stored value the window makes 0, or None (a float frame; a window
        narrower than the values looked at).  The window makes 0 of the values up to one
        level of it over ``lo``: those and a few past them are put through it."""
        frame = self._frame
        if frame is None or frame.dtype.kind not in "iu":
            return None
        first = math.floor(self._lo)
        values = np.arange(first, first + int((self._top - self._lo) / 255.0) + 3)
        zeros = int(np.count_nonzero(_to_u8(values, self._lo, self._top) == 0))
        if zeros == values.size:
            return None
        # (Within the frame's type, for the comparison: it holds no value over its maximum.)
        return min(first + zeros - 1, int(np.iinfo(frame.dtype).max))


def _colour_views(rgb: np.ndarray) -> DetectionViews:
    if rgb.dtype != np.uint8:
        rgb = _to_u8(rgb, 0, float(rgb.max()) or 1.0)
    rgb = np.ascontiguousarray(rgb)
    y = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    views = [y]
    # Coloured text on grey anatomy (even isoluminant) stands out in at least one channel.  The
    # channels, not a chroma image: in chroma a colour Doppler map on grey is a saturated,
    # uniform "stroke" on a zero background, in the channels it varies like the map does.
    sub = rgb[::4, ::4]
    views = DetectionViews(views)
    if int((sub.max(axis=2).astype(np.int16) - sub.min(axis=2)).max()) >= 40:
        views.extend(cv2.split(rgb))
        views.separate = (1, 2, 3)
        views.chroma = _chroma(rgb)
    # Low-contrast toolbar text on dark grey: stretch the dark half as well.
    lo, hi = _percentiles(y, 1, 99)
    if hi - lo < 200 and hi > lo:
        views.append(_to_u8(y, lo, hi))
    flat = _off_flat_fields(y)
    if flat is not None:
        views.append(flat)
    return views


#: A colour frame is made of flat fields (a test pattern's bars, a screenshot's panels) where
#: at least this share of its pixels have the value of their neighbourhood's median.
FLAT_FRAME = 0.97
#: ... the neighbourhood (pixels, a side): wider than a letter's stroke, so the median is the
#: field under a letter.
FLAT_REACH = 9
#: ... and how much a pixel's difference from its field is stretched in :func:`_off_flat_fields`.
FLAT_GAIN = 4


def _off_flat_fields(y: np.ndarray) -> np.ndarray | None:
    """A window of how far each pixel of a flat-field colour frame lies off its field: the
    field (the neighbourhood's median) is mid-grey, ``FLAT_GAIN`` levels a level off it.

    Grey letters 12 levels over a light grey bar (grey:0.8 on 192) have anti-aliased strokes
    of 4-12 levels: in every other view under the smallest stroke threshold but for a few
    pixels, so no glyph was found.  On a field with no noise at all a few levels is a stroke;
    the median keeps the fields' straight edges, so they are flat here too.  None where the
    frame is not made of flat fields (speckle, anatomy: their texture is not stretched)."""
    field = cv2.medianBlur(y, FLAT_REACH)
    if np.count_nonzero(field == y) < FLAT_FRAME * y.size:
        return None
    off = cv2.subtract(y, field).astype(np.int16) - cv2.subtract(field, y)
    return np.clip(128 + FLAT_GAIN * off, 0, 255).astype(np.uint8)


def _chroma(rgb: np.ndarray) -> np.ndarray:
    """How far each pixel is from grey: its largest channel minus its smallest.

    Yellow or cyan letters over ultrasound speckle differ from it in luminance and in every
    channel by less than the speckle's own blobs do (they join the speckle into blobs, and
    white vendor text they cross into words); speckle and vendor text are grey, so here they
    are black and the letters stand alone.  A Doppler colour map is coloured too: it is no
    help over the map, and its blobs are shapes the model reads as nothing."""
    return cv2.subtract(
        cv2.max(cv2.max(rgb[..., 0], rgb[..., 1]), rgb[..., 2]),
        cv2.min(cv2.min(rgb[..., 0], rgb[..., 1]), rgb[..., 2]),
    )


#: Palette entries whose 8-bit colours differ by at most this in every channel look the same.
ALIAS_TOLERANCE = 2
#: The one-index window is made only for an index covering at least this share of the frame
#: (a field a line can lie on, not a level of speckle).
ALIAS_FIELD = 0.05
#: ... the most common indices looked at for one that has an alias.
ALIAS_LOOKED_AT = 4


def _one_index(frame: np.ndarray, palette: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """A window of a palette colour frame in which two indices of one colour differ.

    A palette may give several indices the same colour: an ultrasound's field outside the
    sector at index 0 and the sector's floor at index 1, both black; the label boxes at 255,
    black again.  A name drawn at index 0 over the sector is then invisible in every view of
    the colours (luminance, channels, chroma), yet it is in the pixel data: a viewer with
    another palette, or one reading the indices, shows it.  Here the frame's field, its most
    common index that the palette gives another index's colour, is black and every other
    index white: a line drawn at it over its aliases is black on white, one drawn at an alias
    over it white on black.  Only a field can be that index (``ALIAS_FIELD``): a level of
    speckle among others of nearly its colour (a ramp whose neighbouring entries are one level
    apart) would make a window of noise.

    Returns the window and where the frame holds the field's aliases, or None where none of
    the frame's ``ALIAS_LOOKED_AT`` most common indices is such a field.
    """
    sample = frame[::2, ::2]  # the field's share, not every pixel's index, is what counts
    counts = np.bincount(sample.ravel(), minlength=len(palette))
    colours = palette.astype(np.int16)
    for index in np.argsort(-counts, kind="stable")[:ALIAS_LOOKED_AT]:
        if counts[index] < ALIAS_FIELD * sample.size:
            break
        alias = np.abs(colours - colours[index]).max(axis=1) <= ALIAS_TOLERANCE
        alias[index] = False
        if not alias.any():
            continue
        if frame.dtype == np.uint8:  # table lookups, not numpy's fancy indexing (5x the time)
            window = cv2.compare(frame, int(index), cv2.CMP_NE)
            return window, cv2.LUT(frame, alias.view(np.uint8)).view(bool)
        window = np.where(frame == index, np.uint8(0), np.uint8(255))
        return window, alias[frame]
    return None


def _percentiles(img: np.ndarray, low: float, high: float) -> tuple[float, float]:
    """Percentiles of an 8-bit image from a histogram of a subsample (no sort)."""
    sub = img[::2, ::2]
    hist = np.bincount(sub.ravel(), minlength=256).cumsum()
    n = hist[-1]
    lo = int(np.searchsorted(hist, n * low / 100.0))
    hi = int(np.searchsorted(hist, n * high / 100.0))
    return float(lo), float(hi)


def detection_views(pixels: DecodedPixels, index: int) -> list[np.ndarray]:
    """Several 8-bit windows of one frame, all of the frame's shape.

    Monochrome: the full stored range (letters brighter than bone stay apart from it) and a
    robust 0.5-99.5 percentile window (low-contrast text next to a few extreme pixels).
    Colour: luminance, the three channels (coloured text), a stretched luminance and, on a
    frame of flat fields, how far each pixel lies off its field (:func:`_off_flat_fields`).
    Palette colour: those of its colours, and apart from them the window of its field's index
    where the palette gives the field's colour to other indices too (:func:`_one_index`).
    """
    frame = pixels.frame(index)
    rep = pixels.representation
    if rep is Representation.PALETTE:
        assert pixels.palette_rgb is not None
        views = _colour_views(pixels.palette_rgb[frame])
        found = _one_index(frame, pixels.palette_rgb)
        if found is not None:
            views.one_index, views.aliases = found
        return views
    if rep is Representation.RGB:
        return _colour_views(frame)
    if rep is Representation.YBR_FULL:
        views = [np.ascontiguousarray(frame[..., 0])]
        cb = np.ascontiguousarray(frame[..., 1])
        cr = np.ascontiguousarray(frame[..., 2])
        if max(int(np.abs(c[::4, ::4].astype(np.int16) - 128).max()) for c in (cb, cr)) >= 20:
            views = DetectionViews(views + [cb, cr])
            views.separate = (1, 2)
        return views
    lo = float(frame.min())
    hi = float(frame.max())
    views = DetectionViews([_to_u8(frame, lo, hi)])
    views.stored = frame
    views.radiograph = rep is Representation.MONOCHROME1 and min(frame.shape[:2]) >= BUSY_FRAME
    if hi > lo:
        # Letters burned at the top of the range over bright bone: stretch the top tenth.
        views.append(_top_window(frame, hi - 0.12 * (hi - lo), hi))
        views.separate = (1,)
    sample = frame[::4, ::4] if frame.size > 65536 else frame
    plo, median, phi = (float(v) for v in _linear_percentiles(sample, (0.5, 50, 99.5)))
    if (phi - plo) < 0.75 * (hi - lo) and phi > plo:
        views.append(_to_u8(frame, plo, phi))
        if (phi - plo) < 0.5 * (hi - lo):
            # A dim image (a bone scan's hot spots set the range) stretched more than twice:
            # the stretch thickens strokes burned at the top of the range until the glyphs of
            # a 6 px font touch, and in the union of windows they are one long blob, so the
            # full-range view's strokes are looked at on their own as well.
            views.separate = (0, 1)
    if hi > median and hi - median < 0.02 * (hi - lo):
        # A near-saturated field (a portal image's open field 0.2 % under the maximum): letters
        # burned at the maximum differ from it by a few levels of every window above, and a
        # window stretched to the field turns its noise into strokes that join them.  Only
        # where something lies 3 spreads of the field over its median is there anything to
        # show; then the field goes to black and what lies above it (the letters) to white.
        spread = max(1.0, 1.4826 * float(np.median(np.abs(sample - median))))
        if median + 3 * spread < hi:
            views.append(_above_field(frame, hi, median, spread))
            views.bright_only = (len(views) - 1,)
    if hi > lo:
        views.dark_field = _dark_field(frame, sample, lo, hi, phi)
        views.bottom_window = _bottom_of_range(frame, sample, lo, hi)
        if views.dark_field is not None and views.bottom_window is None:
            views.minimum = _at_the_minimum(frame, lo)
            if rep is Representation.MONOCHROME2 and hi - lo < ONE_VALUE_LEVELS:
                # An MR mosaic (``detection.a_mosaic``): a grey bold 20 px date over a slice
                # as bright as the letters joins it in every view into lines of organ-sized
                # "glyphs"; in the 1593 stored levels the letters' one value stands alone.
                views.one_value = _in_one_value(frame, lo, hi)
        elif (
            views.dark_field is None
            and views.bottom_window is None
            and rep is Representation.MONOCHROME2
            and min(frame.shape[:2]) >= BUSY_FRAME
            and hi - lo < ONE_VALUE_LEVELS
        ):
            # A large frame with no window for dark letters at its minimum (common there, a
            # shoulder MR's black border) and a busy texture: a bold 26 px name at 0 over the
            # near-black noise around the joint, or a faint 18 px one a fifth of the range
            # over the muscle, joins the texture's dips or blobs in every view into lines of
            # two or three "glyphs" that read as nothing.  Their cores, at the letters' one
            # value, stand alone in this window (60 ms a frame).
            views.one_value = _in_one_value(frame, lo, hi)
        if views.dark_field is None and views.bottom_window is None:
            views.penumbra = _penumbra(frame, sample, lo, hi)
    return views


#: The share of the range above the minimum that the penumbra window stretches: the ramp
#: from a radiograph's collimation band (0) into the exposed field rises a few levels a pixel.
PENUMBRA_SHARE = 0.04
#: ... made only where the pixels within that share over the minimum (the ramp) are at least
#: the first and at most the second share of the frame: a narrow edge, not a dim image (an
#: MR's background noise lies there on a quarter of the frame).
PENUMBRA_FRAME = (0.005, 0.1)
#: Side (px) of the squares of the flat field: only what fills them at the minimum is field.
FLAT_FIELD = 9


def _penumbra(frame: np.ndarray, sample: np.ndarray, lo: float, hi: float) -> np.ndarray | None:
    """A window for letters burned at the minimum over the ramp beside a flat field there.

    A CR's collimated band is stored flat at the minimum (41 % of the Fuji tibia at 0) and
    rises to the exposed field over a ramp some 50 px wide, 0-100 of 1023 levels.  A
    MONOCHROME1 ID burned at the minimum (white as shown) over that ramp differs from it by
    3-25 levels, under 6 of every other view's, and its letters touch the band, so the
    bottom of the range is no help (the letters are one blob with the band).  Here that
    bottom (``PENUMBRA_SHARE`` of the range) is stretched and the flat field, what fills
    squares of ``FLAT_FIELD`` at the minimum, is white: the letters are black on the grey
    ramp and apart from the band.  None unless the minimum is common (a field lies there) and
    the ramp's share of the frame is that of an edge (``PENUMBRA_FRAME``)."""
    if float(np.count_nonzero(sample <= lo)) < BOTTOM_RARE * sample.size:
        return None
    top = lo + PENUMBRA_SHARE * (hi - lo)
    ramp = float(np.count_nonzero((sample > lo) & (sample <= top))) / sample.size
    if not PENUMBRA_FRAME[0] <= ramp <= PENUMBRA_FRAME[1]:
        return None
    at = np.where(frame <= lo, np.uint8(255), np.uint8(0))
    field = cv2.morphologyEx(
        at, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (FLAT_FIELD, FLAT_FIELD))
    )
    window = _to_u8(frame, lo, top)
    window[field > 0] = 255
    return window


#: The share of the range above the minimum that the bottom-of-range window stretches (the
#: top-of-range window's share, mirrored).
BOTTOM_SHARE = 0.12
#: ... made only where fewer than this share of the frame lies at the minimum: where more does
#: (an MR mosaic's gaps, a CT's padding), the letters at the minimum touch a black field in it.
BOTTOM_RARE = 0.05


def _bottom_of_range(
    frame: np.ndarray, sample: np.ndarray, lo: float, hi: float
) -> BottomWindow | None:
    """A window for dark letters burned at the minimum over dark anatomy: the bottom
    ``BOTTOM_SHARE`` of the range stretched, everything above it white.  A bold black ID over
    the bowel of an abdominal MR touches the dark loops around it, which join its letters into
    organ-sized "glyphs" in every other view (a 43 px line that read as nothing); here only
    what lies at the minimum is dark.  None where the minimum is not rare."""
    if float(np.count_nonzero(sample <= lo)) >= BOTTOM_RARE * sample.size:
        return None
    return BottomWindow(frame, lo, lo + BOTTOM_SHARE * (hi - lo))


#: Runs of pixels at the minimum at least this long (pixels, along a row or a column) are a
#: flat fill or a tile's border, not a letter's stroke: longer than the largest glyph found.
MINIMUM_RUN = 49
#: Clusters of at most this many pixels at the minimum, touching no other, are the field's
#: noise (a letter's core at the minimum is larger; an 8 px font's are not, and are lost).
MINIMUM_SPECK = 8


def _at_the_minimum(frame: np.ndarray, lo: float) -> np.ndarray:
    """A window for dark letters burned at the minimum across a near-black field whose noise
    reaches the minimum (an MR mosaic's gaps between slices, median 4 of 1593 stored levels,
    6 % of their pixels at 0): only the pixels at the minimum are black, everything else
    white.  In every other window a bold ID written up a gap and over the slices' dark rims
    joins the gap's noise and the rims into one dark band (``_dark_field`` shows it, speckled
    with the noise's minima that touch its strokes); here the letters' cores stand alone but
    for the noise's own minima, single pixels or small clusters (``MINIMUM_SPECK``; at 3
    the clusters of 4-8 kept a 25 px ID's line running on over the gap's noise), which are
    made white, as are runs of ``MINIMUM_RUN`` (the mosaic's empty tiles, the one-pixel
    border of each tile).  Made only where a dark field lies at
    the minimum and the minimum is common (where it is rare, ``_bottom_of_range``)."""
    at = np.where(frame <= lo, np.uint8(255), np.uint8(0))
    return black_but_runs_and_specks(at)


def black_but_runs_and_specks(at: np.ndarray) -> np.ndarray:
    """``at`` (255 where a pixel is picked) as a window, the picked pixels black, but for
    straight runs of ``MINIMUM_RUN`` (a flat fill, a tile's border) and clusters of at most
    ``MINIMUM_SPECK`` pixels (noise), which are white with the rest."""
    runs = cv2.morphologyEx(
        at, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, MINIMUM_RUN))
    )
    runs |= cv2.morphologyEx(
        at, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (MINIMUM_RUN, 1))
    )
    _count, labels, stats, _centroids = cv2.connectedComponentsWithStats(at, connectivity=8)
    speck = stats[:, cv2.CC_STAT_AREA] <= MINIMUM_SPECK
    speck[0] = False
    white = cv2.bitwise_or(runs, np.where(speck[labels], np.uint8(255), np.uint8(0)))
    return cv2.bitwise_not(cv2.subtract(at, white))


#: Side (px) of the squares whose histograms ``_in_one_value`` compares values in: a few
#: letters of a large font, and enough texture around them (about a thousand pixels) that a
#: value beside theirs is counted reliably.
ONE_VALUE_TILE = 32
#: A value is the letters' where a square holds at least this many pixels of it ...
ONE_VALUE_LEAST = 12
#: ... this many times as many as of any value within ``ONE_VALUE_REACH`` levels of it
ONE_VALUE_SPIKE = 4
ONE_VALUE_REACH = 3
#: Frames of fewer stored levels (the histograms are counted level by level in every square).
ONE_VALUE_LEVELS = 4096


def _in_one_value(frame: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """A window for letters drawn in one value over a texture: black where a pixel's value is
    a spike of the histogram of the ``ONE_VALUE_TILE`` square around it, white elsewhere.

    Burned-in text is drawn in one value and anatomy is not: over a shoulder MR's muscle
    (values spread over a hundred levels, about ten pixels each in a square) the fully inked
    pixels of a large font's letters are a few hundred pixels of one level (a 26 px name at
    0 over near-black noise: 1457 of its 2133 pixels; a faint 18 px one: 287 of 770), and
    the values beside it are the texture's.  Two grids of squares, the second shifted by
    half a square, so letters across a square's edge are counted whole in one of them.  A
    flat fill (the black border) is a spike too: runs of ``MINIMUM_RUN`` are made white, and
    so are clusters of ``MINIMUM_SPECK`` pixels (the texture's own flat spots)."""
    values = (frame.astype(np.int64) - int(lo)).clip(0)
    levels = int(hi - lo) + 1
    height, width = values.shape
    black = np.zeros((height, width), bool)
    half = ONE_VALUE_TILE // 2
    for shift in (0, half):
        rows = (np.arange(height) + shift) // ONE_VALUE_TILE
        cols = (np.arange(width) + shift) // ONE_VALUE_TILE
        across = int(cols[-1]) + 1
        tiles = rows[:, None] * across + cols[None, :]
        keys = (tiles * levels + values).ravel()
        counts = np.bincount(keys, minlength=(int(rows[-1]) + 1) * across * levels)
        counts = counts.reshape(-1, levels)
        padded = np.pad(counts, ((0, 0), (ONE_VALUE_REACH, ONE_VALUE_REACH)))
        beside = np.zeros_like(counts)
        for d in range(-ONE_VALUE_REACH, ONE_VALUE_REACH + 1):
            if d:
                np.maximum(
                    beside,
                    padded[:, ONE_VALUE_REACH + d : ONE_VALUE_REACH + d + levels],
                    out=beside,
                )
        spike = (counts >= ONE_VALUE_LEAST) & (counts >= ONE_VALUE_SPIKE * np.maximum(beside, 1))
        black |= spike.ravel()[keys].reshape(height, width)
    at = np.where(black, np.uint8(255), np.uint8(0))
    return black_but_runs_and_specks(at)


def _dark_field(
    frame: np.ndarray, sample: np.ndarray, lo: float, hi: float, phi: float
) -> np.ndarray | None:
    """A window for reading dark letters over a near-black field: the field up to 3 spreads
    of its noise over its median takes the lower half of the 8-bit range (letters at the
    minimum are black, the field grey), the rest of the range to the 99.5th percentile the
    upper half.  None unless a quarter of the frame is such a field, within 2 % of the range
    above the minimum (not at it: a flat black fill is no field).

    An MR mosaic's gap between slices (median 4 of 1593 stored levels) has noise down to the
    minimum, so a name at 0 crossing it differs from it by under one level of every other
    view.  Not one of the views whose strokes are joined (the noise's own minima are strokes of
    the letters' value there, and such a window made lines of the gaps' speckle): the
    recogniser reads it past the ends of a dark line already taken
    (``cleaner._complete_once``), and it is searched on its own for dark lines of one colour
    lying on the field, each read there before it counts (``cleaner._on_dark_field``)."""
    top = lo + 0.02 * (hi - lo)
    if sample.dtype.kind in "iu":  # the same comparisons in integers, not in float64
        field = sample[(sample > math.floor(lo)) & (sample <= math.floor(top))]
    else:
        field = sample[(sample > lo) & (sample <= top)]
    if field.size < 0.25 * sample.size:
        return None
    median = float(np.median(field))
    spread = 1.4826 * float(np.median(np.abs(field - median)))
    knee = median + 3 * max(spread, 1.0)
    upper = phi if phi > knee else hi
    if upper <= knee:
        return None
    values = frame.astype(np.float32) - np.float32(lo)
    below = values * np.float32(128.0 / (knee - lo))
    above = np.float32(128.0) + (values - np.float32(knee - lo)) * np.float32(
        127.0 / (upper - knee)
    )
    out = np.where(values <= np.float32(knee - lo), below, above)
    return np.clip(out, 0, 255).astype(np.uint8)


#: Side of the blocks in which the open field's level is taken (``_above_field``): larger
#: than the letters of a line, smaller than the field's slow shading.
FIELD_BLOCK = 16
#: A block whose level lies more than this many of the image's spreads under its median is
#: not the open field (the phantom, a banner): there the view is the plain window.
FIELD_DEPTH = 4.0
#: What shows: more than this many spreads of the smoothed residual's noise over its median.
FIELD_NOISE = 3.5
#: ... and only this near (pixels) to a pixel over the plain window's floor: letters burned at
#: the maximum reach it somewhere in every glyph, the field's noise nearly never.
FIELD_REACH = 5
#: Side of the cells in which the pixels over the plain window's floor are gathered: the
#: residual is computed only in the boxes of connected cells around them.
_CELL = 8
_NEIGHBOURS = np.ones((3, 3), np.uint8)


def _above_field(frame: np.ndarray, hi: float, median: float, spread: float) -> np.ndarray:
    """What lies above a near-saturated open field: the field black, the maximum white.

    One window cannot show it: the field's shading (the image's spread, 25 levels on
    pynetdicom's portal image) is twice its noise (12-14 levels), so the window black up to 3
    spreads over the median (this view's first form, still its floor: ``cores``) showed only
    the cores of letters burned at the maximum, and an 8 px font's 1 px strokes, anti-aliased
    to 30-80 % of the way from the field to the maximum, broke into dots no glyph was made
    of.  Here the field is taken block by block (each block's median, smoothed over 5 x 5
    blocks, so a line of letters does not raise it) and subtracted; what lies under it is
    nothing (zero before smoothing, so the dark surroundings of letters on a banner do not
    drown their strokes); a 3 x 3 Gaussian sums a stroke split over two columns and halves
    the noise; what rises ``FIELD_NOISE`` spreads of that over its median and lies within
    ``FIELD_REACH`` of a core shows.  Off the open field (``FIELD_DEPTH``) the view is the
    plain window.  Only the boxes around the cores are computed: the field's noise elsewhere
    would show nowhere, and a whole frame of it cost more than the detection it feeds.
    """
    cores = _to_u8(frame, median + 3 * spread, hi)
    rows, cols = frame.shape
    n = FIELD_BLOCK
    bh, bw = rows // n, cols // n
    if bh < 5 or bw < 5:
        return cores  # too small to take the field block by block
    step = n // 4  # 16 pixels of each block: its median needs no more
    blocks = frame[: bh * n : step, : bw * n : step].reshape(bh, 4, bw, 4)
    blocks = np.partition(blocks.transpose(0, 2, 1, 3).reshape(bh, bw, 16), (7, 8), axis=2)
    levels = (blocks[..., 7].astype(np.float32) + blocks[..., 8]) * np.float32(0.5)
    levels = cv2.medianBlur(levels, 5)
    dark = levels < median - FIELD_DEPTH * spread
    levels[dark] = hi  # nothing shows off the open field but the plain window (below)
    field = cv2.resize(levels, (cols, rows), interpolation=cv2.INTER_LINEAR)
    # The residual in 8 bits: the field's height under the maximum is a few hundred levels at
    # most (2 % of the range), so a level of the stored values is nearly one of these.
    gain = min(1.0, 255.0 / max(hi - median, 1.0))

    def residual(y: np.ndarray | slice, x: slice) -> np.ndarray:
        part = cv2.subtract(frame[y, x].astype(np.float32), field[y, x])
        part = cv2.convertScaleAbs(cv2.max(part, 0.0), alpha=gain)
        return cv2.GaussianBlur(part, (3, 3), 0.7, borderType=cv2.BORDER_REPLICATE)

    # The noise, from strips of three rows across the frame (their middle rows are smoothed
    # exactly as the whole frame would be).
    middle = np.arange(1, rows - 1, 16)
    strips = residual((middle[:, np.newaxis] + np.arange(-1, 2)).ravel(), slice(None))
    sample = strips[1::3, ::4].ravel()
    half = sample.size // 2
    centre = int(np.partition(sample, half)[half])
    deviation = np.abs(sample.astype(np.int16) - centre)
    noise = max(1.0, 1.4826 * float(np.partition(deviation, half)[half]))
    floor = centre + FIELD_NOISE * noise
    top = max(gain * (hi - median), floor + 1.0)
    lut = np.clip((np.arange(256) - floor) * (255.0 / (top - floor)), 0, 255).astype(np.uint8)
    # The cores gathered in cells, a cell's margin around them (more than FIELD_REACH).
    ch, cw = -(-rows // _CELL), -(-cols // _CELL)
    hit = cv2.threshold(cores, 0, 255, cv2.THRESH_BINARY)[1]
    cells = cv2.resize(hit, (cw, ch), interpolation=cv2.INTER_AREA)
    cells = cv2.dilate(cv2.threshold(cells, 0, 255, cv2.THRESH_BINARY)[1], _NEIGHBOURS)
    count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(cells, connectivity=8)
    reach = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * FIELD_REACH + 1,) * 2)
    shown = np.zeros_like(cores)
    for x, y, w, h, _area in stats[1:count]:
        x0, x1 = (x * cols) // cw, min(cols, -(-(x + w) * cols // cw))
        y0, y1 = (y * rows) // ch, min(rows, -(-(y + h) * rows // ch))
        ys, xs = slice(y0, y1), slice(x0, x1)
        part = cv2.LUT(residual(ys, xs), lut)
        part = cv2.bitwise_and(part, part, mask=cv2.dilate(cores[ys, xs], reach))
        off = dark[np.minimum(np.arange(y0, y1) // n, bh - 1)][
            :, np.minimum(np.arange(x0, x1) // n, bw - 1)
        ]
        np.copyto(part, cores[ys, xs], where=off)
        np.maximum(shown[ys, xs], part, out=shown[ys, xs])  # boxes of two cells may overlap
    return shown


def luminance(pixels: DecodedPixels, index: int) -> np.ndarray:
    """One 8-bit grey image of a frame, on the same scale for every frame of the image (the
    whole image's stored range), for comparing frames."""
    frame = pixels.frame(index)
    rep = pixels.representation
    if rep is Representation.PALETTE:
        assert pixels.palette_rgb is not None
        return cv2.cvtColor(np.ascontiguousarray(pixels.palette_rgb[frame]), cv2.COLOR_RGB2GRAY)
    if rep is Representation.RGB:
        rgb = frame if frame.dtype == np.uint8 else _to_u8(frame, 0, float(frame.max()) or 1.0)
        return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    if rep is Representation.YBR_FULL:
        return np.ascontiguousarray(frame[..., 0])
    if pixels.value_range is None:  # all frames held (a window has its source's range)
        pixels.value_range = (float(pixels.frames.min()), float(pixels.frames.max()))
    return _to_u8(frame, *pixels.value_range)


def bright_fill(pixels: DecodedPixels, index: int) -> np.ndarray | int | float:
    """The "black" background value of a frame in stored values (fills bright text)."""
    frame = pixels.frame(index)
    rep = pixels.representation
    if rep is Representation.MONOCHROME2:
        return frame.min()
    if rep is Representation.MONOCHROME1:
        return frame.max()
    if rep is Representation.RGB:
        return np.zeros(3, frame.dtype)
    if rep is Representation.YBR_FULL:
        return np.array([0, 128, 128], frame.dtype)
    assert pixels.palette_rgb is not None
    used = np.unique(frame)
    lum = pixels.palette_rgb[used].astype(np.int32).sum(axis=1)
    return frame.dtype.type(used[int(np.argmin(lum))])
