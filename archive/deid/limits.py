"""Limits on what one input may make the engine do: parse, and decode (pure library, no Django).

A 30 KB file can declare gigabytes: a JPEG 2000 codestream of a zero image declaring
16384x16384 is a few hundred bytes, and forty of them in one instance decode to 10.7 GB.  A
decoder believes what the codestream says, so the sizes are checked *before* anything is
decoded: the header's Rows x Columns x Samples per Pixel x Bits Allocated per frame and times
Number of Frames per instance (PS3.3 C.7.6.3), and the dimensions each compressed frame declares
in its own header (JPEG SOF, PS3.5 A.4.1 / ISO 10918-1 B.2.2; JPEG-LS SOF55, ISO 14495-1 C.2.2;
JPEG 2000 SIZ, ISO 15444-1 A.5.1; the RLE header's segment count, PS3.5 G.5), which must be the
header's.  Parsing is bounded too: sequence nesting depth, element count and value length.

Every check raises :class:`archive.deid.reading.RejectedInput` with a sentence for the teacher
that quotes sizes only, never a value of the file.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from pydicom import Dataset
from pydicom.encaps import generate_frames
from pydicom.sequence import Sequence
from pydicom.uid import UID

from archive.deid.elements import RawDataElement, element_vr
from archive.deid.spool import rewound

__all__ = [
    "codec_failure",
    "InputLimits",
    "check_parsed",
    "check_pixel_geometry",
    "declared_frame_geometry",
]


def codec_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure of a decoder or encoder on damaged data: any ``Exception``,
    and pyo3's PanicException, what a codec written in Rust (pylibjpeg-rle) raises when it
    panics. That one derives from BaseException, so ``except Exception`` lets it through (the
    fuzzer found it: an RLE frame decoded with a changed Rows overran its buffer)."""
    if type(exc).__name__ in _CALLER_LIMITS:
        return False
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


#: The caller's time limits (Celery's soft limit is an Exception): not a failure of the file's
#: codec but the end of the caller's time, which must reach the caller (the worker settles the
#: item as "not processed safely within the time limit" and hands the chunk's rest on).
_CALLER_LIMITS = frozenset({"SoftTimeLimitExceeded"})


MiB = 1024**2


@dataclass(frozen=True)
class InputLimits:
    """How much one instance may hold.

    The defaults fit real studies: a 10,000 x 10,000 16-bit radiograph frame (191 MiB) and a
    4,000-frame 640 x 480 RGB ultrasound cine (3.4 GiB over all frames, processed frame by
    frame); an SR content tree is rarely nested more than a dozen levels deep.
    """

    #: decoded bytes of one frame
    max_frame_bytes: int = 200 * MiB
    #: decoded bytes of every frame of the instance together
    max_instance_bytes: int = 4 * 1024 * MiB
    #: nesting depth of sequences (a top-level sequence's items are depth 1)
    max_depth: int = 32
    #: elements of the whole dataset, every item of every sequence counted
    max_elements: int = 200_000
    #: bytes of one element's value other than Pixel Data (bounded by the sizes above)
    max_value_bytes: int = 64 * MiB


def _reject(message: str) -> None:
    from archive.deid.reading import RejectedInput

    raise RejectedInput(message)


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


_PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
_UNDEFINED = 0xFFFFFFFF


def check_parsed(ds: Dataset, limits: InputLimits) -> None:
    """Reject a dataset nested too deep, with too many elements, or with a value too long.

    pydicom parses a sequence of undefined length while reading (recursively: Python's stack
    is the limit there, and a RecursionError is a rejection too) and keeps one of defined length
    raw until it is accessed; this converts those, one level at a time, so that their items are
    counted and their depth is checked here instead of in the middle of de-identification.
    """
    count = 0
    stack: list[tuple[Dataset, int]] = [(ds, 0)]
    while stack:
        current, depth = stack.pop()
        store = current._dict
        count += len(store)
        if count > limits.max_elements:
            _reject(
                f"The DICOM file has more than {limits.max_elements:,} elements, more than the "
                "archive reads in one file."
            )
        for tag, elem in list(store.items()):
            if type(elem) is RawDataElement and element_vr(int(tag), elem) == "SQ":
                elem = current[tag]  # parses this level only; deeper ones stay raw
            value = getattr(elem, "value", None)
            if isinstance(value, Sequence):
                if depth + 1 > limits.max_depth:
                    _reject(
                        f"The DICOM file nests sequences more than {limits.max_depth} levels "
                        "deep, more than the archive reads."
                    )
                stack.extend((item, depth + 1) for item in value)
                continue
            if int(tag) in _PIXEL_TAGS:
                continue
            length = getattr(elem, "length", None)
            if length is None or length == _UNDEFINED:
                length = len(value) if isinstance(value, bytes | str) else 0
            if length > limits.max_value_bytes:
                _reject(
                    f"An element of the DICOM file is {_size(length)} long, more than the "
                    f"{_size(limits.max_value_bytes)} the archive accepts for one value."
                )


def _int(ds: Dataset, keyword: str, default: int | None = None) -> int:
    value = ds.get(keyword, default)
    if value is None or value == "":
        if default is None:
            _reject(f"The DICOM file has pixel data but no {keyword}.")
        return int(default)  # type: ignore[arg-type]
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(keyword) from None
    if number < 0:
        _reject(f"The DICOM file's {keyword} is negative.")
    return number


@dataclass(frozen=True)
class FrameGeometry:
    """What a compressed frame says about itself; ``None`` where its format does not say."""

    rows: int | None
    columns: int | None
    samples: int | None = None
    segments: int | None = None  # RLE


_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_sof(frame: bytes) -> FrameGeometry | None:
    """Rows, columns and components of a JPEG or JPEG-LS frame (SOFn or SOF55), or None."""
    if frame[:2] != b"\xff\xd8":
        return None
    i, n = 2, len(frame)
    while i + 4 <= n:
        if frame[i] != 0xFF:
            return None
        marker = frame[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # no length
            i += 2
            continue
        (length,) = struct.unpack_from(">H", frame, i + 2)
        if marker in _SOF or marker == 0xF7:
            if i + 10 > n:
                return None
            rows, cols = struct.unpack_from(">HH", frame, i + 5)
            return FrameGeometry(rows, cols, frame[i + 9])
        if marker == 0xDA:  # scan before any frame header
            return None
        i += 2 + length
    return None


def _j2k_siz(frame: bytes) -> FrameGeometry | None:
    """Rows, columns and components of a JPEG 2000 codestream (or JP2 file), from SIZ."""
    at = 0 if frame[:4] == b"\xff\x4f\xff\x51" else frame.find(b"\xff\x4f\xff\x51", 0, 4096)
    if at < 0 or at + 42 > len(frame):
        return None
    xsiz, ysiz, xosiz, yosiz = struct.unpack_from(">IIII", frame, at + 8)
    (csiz,) = struct.unpack_from(">H", frame, at + 40)
    return FrameGeometry(max(ysiz - yosiz, 0), max(xsiz - xosiz, 0), csiz)


def _rle(frame: bytes) -> FrameGeometry | None:
    """The RLE header (PS3.5 G.5): the segment count, and offsets that must start after the
    64-byte header, grow, and stay inside the frame (else: ``segments`` -1, damaged)."""
    if len(frame) < 64:
        return FrameGeometry(None, None, segments=-1)
    segments, *offsets = struct.unpack_from("<16I", frame)
    used = offsets[: min(segments, 15)]
    if used and (
        used[0] != 64
        or any(b <= a for a, b in zip(used, used[1:], strict=False))
        or used[-1] >= len(frame)
    ):
        return FrameGeometry(None, None, segments=-1)
    return FrameGeometry(None, None, segments=segments)


def declared_frame_geometry(tsyntax: UID, frame: bytes) -> FrameGeometry | None:
    """What one compressed frame declares about its size, or None if it cannot be read."""
    if tsyntax == "1.2.840.10008.1.2.5":
        return _rle(frame)
    if frame[:2] == b"\xff\xd8":
        return _jpeg_sof(frame)
    return _j2k_siz(frame)


def _frames(ds: Dataset, count: int) -> Iterator[bytes]:
    try:
        with rewound(ds):
            yield from generate_frames(ds.PixelData, number_of_frames=count)
    except Exception as exc:  # pydicom raises several types on damaged fragments
        _reject(
            "The DICOM file's compressed pixel data is damaged: its fragments cannot be split "
            f"into frames ({type(exc).__name__})."
        )


def check_pixel_geometry(ds: Dataset, limits: InputLimits) -> None:
    """Reject pixel data whose declared decoded size is over the limits, or whose compressed
    frames declare another size than the header, before a byte of it is decoded."""
    if "PixelData" not in ds:
        return
    rows = _int(ds, "Rows")
    cols = _int(ds, "Columns")
    samples = _int(ds, "SamplesPerPixel", 1)
    bits = _int(ds, "BitsAllocated")
    try:
        frames = _int(ds, "NumberOfFrames", 1) or 1
    except ValueError:
        # Not a number (pydicom's badVR.dcm): no decoder will read the pixels either, so the
        # pixel cleaner fails and the instance is quarantined; the header is still cleaned.
        return
    if rows == 0 or cols == 0 or samples == 0 or bits == 0:
        _reject("The DICOM file has pixel data but declares an empty image (a size of zero).")
    if samples not in (1, 3) or bits not in (1, 8, 16, 32, 64):
        _reject(
            f"The DICOM file declares {samples} samples of {bits} bits per pixel, which is not "
            "an image format DICOM allows."
        )
    frame_bytes = (rows * cols * samples * bits + 7) // 8
    if frame_bytes > limits.max_frame_bytes:
        _reject(
            f"The image is too large to process: each frame declares {cols} x {rows} pixels "
            f"({_size(frame_bytes)} decoded), over the limit of {_size(limits.max_frame_bytes)} "
            "per frame."
        )
    if frame_bytes * frames > limits.max_instance_bytes:
        _reject(
            f"The image is too large to process: {frames} frames of {cols} x {rows} pixels "
            f"({_size(frame_bytes * frames)} decoded), over the limit of "
            f"{_size(limits.max_instance_bytes)} per file."
        )
    tsyntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    if tsyntax is None or ds["PixelData"].value is None:
        return
    encapsulated = bool(getattr(ds["PixelData"], "is_undefined_length", False))
    if UID(tsyntax).is_compressed != encapsulated:
        # Native pixels under a compressed transfer syntax or fragments under a native one
        # (a swapped transfer syntax): no decoder reads them as what they are.
        _reject(
            "The DICOM file's pixel data is "
            + ("not compressed" if not encapsulated else "compressed")
            + " although its transfer syntax says otherwise; the file is damaged or "
            "inconsistent and is not decoded."
        )
    if not encapsulated:
        return
    rle_segments = samples * (bits // 8)
    for index, frame in enumerate(_frames(ds, frames)):
        if index >= frames:
            _reject(
                f"The DICOM file's compressed pixel data holds more frames than the {frames} "
                "its header declares."
            )
        geometry = declared_frame_geometry(UID(tsyntax), frame)
        if geometry is None:
            continue  # a format whose header we do not read: the decoder's own checks apply
        if geometry.segments == -1:
            _reject(
                f"Frame {index + 1} of the RLE compressed pixel data has a damaged header (its "
                "segments do not lie inside the frame); the file is not decoded."
            )
        if geometry.segments is not None and geometry.segments != rle_segments:
            _reject(
                f"Frame {index + 1} of the compressed pixel data declares {geometry.segments} "
                f"RLE segments where the header's image needs {rle_segments}; the file is "
                "damaged or inconsistent."
            )
        if geometry.rows is not None and (geometry.rows, geometry.columns) != (rows, cols):
            _reject(
                f"Frame {index + 1} of the compressed pixel data declares {geometry.columns} x "
                f"{geometry.rows} pixels where the header says {cols} x {rows}; the file is "
                "damaged or inconsistent and is not decoded."
            )
        if geometry.samples is not None and geometry.samples not in (samples, 0):
            _reject(
                f"Frame {index + 1} of the compressed pixel data declares {geometry.samples} "
                f"colour components where the header says {samples}; the file is damaged or "
                "inconsistent and is not decoded."
            )
