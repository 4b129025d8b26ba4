"""Write redacted frames back into a dataset (DICOM PS3.5 8.2 and Annex A.4).

Every file that can be decoded can be written: a codec without an encoder never rejects an
image, it only decides how the redacted frames are stored.

* Native (uncompressed, also deflated) sources: PixelData is rebuilt in the same transfer syntax
  (big endian is rewritten as Explicit VR Little Endian).  Uncompressed YBR_FULL_422 becomes
  YBR_FULL (the decoded, upsampled samples are the stored ones, so nothing is lost).
* Lossless encapsulated sources with a pydicom encoder (RLE Lossless, JPEG-LS Lossless, JPEG 2000
  Lossless): only the changed frames are re-encoded, every other frame keeps its original bytes.
  Colour JPEG 2000 Lossless (YBR_RCT) is decoded to RGB and its changed frames are encoded with
  the reversible multi-component transform again, so it stays YBR_RCT (PS3.5 8.2.4).
* Lossless encapsulated sources without an encoder (JPEG Lossless processes 14/SV1, HTJ2K, JPEG
  2000 Part 2): every frame is stored losslessly in ``LOSSLESS_TARGETS`` (JPEG-LS Lossless, else
  RLE Lossless, else Explicit VR Little Endian).
* Lossy sources (JPEG baseline/extended, JPEG-LS near-lossless, JPEG 2000, HTJ2K): all frames
  are stored losslessly the same way, so the redaction adds no second generation of loss.  The
  decoded colour space is what is stored: a YBR_FULL_422 JPEG cine becomes RGB (PS3.3 C.7.6.3.1.2
  allows YBR_FULL_422 only for the JPEG and native syntaxes), planar configuration 0.
  LossyImageCompression stays "01" because the image *was* lossy once, and the method of that
  compression is recorded when the source did not say (PS3.3 C.7.6.1.1.5).

The frames are written one at a time (:class:`FrameWriter`): the cleaner hands each frame over
as it finishes with it, and the writer appends its bytes to a spool (``archive/deid/spool.py``),
never keeping a decoded frame (:func:`store_frames` is the same for frames decoded whole).  A
spool past 8 MiB is an unnamed temporary file, which becomes the dataset's Pixel Data as it is
(a buffered value: pydicom decodes frames from it and writes it to the output file in pieces),
so the memory of a long cine's output is that constant, not the frames' bytes.

JPEG-LS Lossless is preferred to RLE for a lossy source: on the bundled 320x240 echo cine it
encodes in 2.7 ms a frame against RLE's 3.5 ms, and into 45 KB against RLE's 100 KB.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from struct import pack

import numpy as np
from pydicom import Dataset
from pydicom.encaps import generate_frames
from pydicom.pixels import get_encoder
from pydicom.uid import (
    HTJ2K,
    JPEG2000,
    JPEG2000MC,
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)

from ..spool import PIECE, Spool, own_reader
from .frames import DecodedPixels, Representation

__all__ = [
    "store_frames",
    "FrameWriter",
    "EncoderRefused",
    "storage_plans",
    "LOSSY_SYNTAXES",
    "LOSSLESS_TARGETS",
]

#: Lossy transfer syntaxes and the Lossy Image Compression Method each one means (PS3.3
#: C.7.6.1.1.5.1).
LOSSY_SYNTAXES: dict[str, str] = {
    JPEGBaseline8Bit: "ISO_10918_1",
    JPEGExtended12Bit: "ISO_10918_1",
    JPEGLSNearLossless: "ISO_14495_1",
    JPEG2000: "ISO_15444_1",
    JPEG2000MC: "ISO_15444_2",
    HTJ2K: "ISO_15444_15",
}
#: Lossless syntaxes whose frames can be re-encoded one by one (the rest keep their bytes).
REENCODABLE = (RLELossless, JPEGLSLossless, JPEG2000Lossless)
#: Where frames go when their own syntax cannot be kept, in order of preference.
LOSSLESS_TARGETS = (JPEGLSLossless, RLELossless)


class EncoderRefused(Exception):
    """A plugin refused a frame: store the image the next way (:func:`storage_plans`)."""


def _stored_dtype(ds: Dataset) -> np.dtype:
    bits = int(ds.BitsAllocated)
    signed = int(ds.get("PixelRepresentation", 0)) == 1
    if (
        int(ds.get("SamplesPerPixel", 1)) > 1
        or str(ds.PhotometricInterpretation) == "PALETTE COLOR"
    ):
        signed = False
    return np.dtype(f"{'i' if signed else 'u'}{bits // 8}")


def _photometric(ds: Dataset, representation: Representation) -> str:
    """The Photometric Interpretation of the decoded frames (what will be stored)."""
    if representation is Representation.RGB:
        return "RGB"
    if representation is Representation.YBR_FULL:
        return "YBR_FULL"
    return str(ds.PhotometricInterpretation)


def _encode_kwargs(ds: Dataset, photometric: str) -> dict:
    return {
        "rows": int(ds.Rows),
        "columns": int(ds.Columns),
        "number_of_frames": 1,
        "samples_per_pixel": int(ds.get("SamplesPerPixel", 1)),
        "bits_allocated": int(ds.BitsAllocated),
        "bits_stored": int(ds.BitsStored),
        "pixel_representation": int(ds.get("PixelRepresentation", 0)),
        "photometric_interpretation": photometric,
        "planar_configuration": 0,
    }


@dataclass(frozen=True)
class StoragePlan:
    """One way to store the frames: in ``tsyntax``, natively or encapsulated; with
    ``only_changed`` the frames not redacted keep their stored bytes."""

    tsyntax: UID
    photometric: str
    only_changed: bool = False

    @property
    def native(self) -> bool:
        return not self.tsyntax.is_compressed


def _encoder(tsyntax: UID):
    try:
        encoder = get_encoder(tsyntax)
    except NotImplementedError:
        return None
    return encoder if encoder.is_available else None


def storage_plans(ds: Dataset, representation: Representation) -> list[StoragePlan]:
    """The ways to store redacted frames of ``ds``, in order of preference (module docstring).

    Every list ends in a way that cannot be refused (Explicit VR Little Endian, which every
    reader reads), or is one: a native source is rewritten in its own syntax.
    """
    tsyntax = UID(ds.file_meta.TransferSyntaxUID)
    photometric = _photometric(ds, representation)
    if tsyntax == JPEG2000Lossless and str(ds.PhotometricInterpretation) == "YBR_RCT":
        # Decoded to RGB (the decoder undoes the reversible colour transform), stored as it
        # came: YBR_RCT, the encoder applying the transform again (PS3.5 8.2.4; pydicom's
        # JPEG 2000 encoder uses MCT for YBR_RCT), so the frames not redacted keep their bytes.
        photometric = "YBR_RCT"
    if not tsyntax.is_compressed:
        native = ExplicitVRLittleEndian if tsyntax == ExplicitVRBigEndian else tsyntax
        return [StoragePlan(native, photometric)]
    plans: list[StoragePlan] = []
    if tsyntax in LOSSY_SYNTAXES:
        targets: tuple[UID, ...] = LOSSLESS_TARGETS
    elif tsyntax in REENCODABLE:
        if photometric == str(ds.PhotometricInterpretation) and _encoder(tsyntax) is not None:
            # Same samples as stored: re-encode the changed frames only.
            plans.append(StoragePlan(tsyntax, photometric, only_changed=True))
        # Decoded into another colour space (YBR_RCT/ICT -> RGB), or no encoder for it.
        targets = (tsyntax, *LOSSLESS_TARGETS)
    else:
        targets = LOSSLESS_TARGETS
    # YBR_RCT is JPEG 2000's alone: elsewhere the decoded samples are stored, as RGB.
    plans += [
        StoragePlan(t, photometric if t == JPEG2000Lossless else _photometric(ds, representation))
        for t in targets
        if _encoder(t) is not None
    ]
    plans.append(StoragePlan(ExplicitVRLittleEndian, _photometric(ds, representation)))
    return plans


class FrameWriter:
    """The Pixel Data of one :class:`StoragePlan`, assembled frame by frame.

    Encapsulated output is laid out as :func:`pydicom.encaps.encapsulate` lays it out (a Basic
    Offset Table with every frame's offset, one even-length fragment a frame), native output
    as the frames' stored values in little endian: the bytes are the same as when all frames
    were decoded first and stored together.
    """

    def __init__(self, ds: Dataset, plan: StoragePlan, count: int) -> None:
        self.ds = ds
        self.plan = plan
        self.count = count
        self.dtype = _stored_dtype(ds)
        self.written = 0
        self._originals: Iterator[bytes] | None = None
        # Each frame goes into a spool as it is done (archive/deid/spool.py): a small image's
        # Pixel Data stays in memory and goes into the dataset as bytes, a cine's goes to an
        # unnamed temporary file and into the dataset as that file (a buffered value, which
        # pydicom decodes and writes from a piece at a time), so the frames written are never
        # in memory together, whatever their number.
        self.data = Spool()
        if plan.native:
            return
        self.encoder = _encoder(plan.tsyntax)
        self.kwargs = _encode_kwargs(ds, plan.photometric)
        self.data.write(b"\xfe\xff\x00\xe0" + pack("<I", 4 * count) + bytes(4 * count))
        self._offsets: list[int] = []
        self._offset = 0
        if plan.only_changed:
            # Read beside the decoder's pass over the same Pixel Data: a reader of its own.
            self._originals = generate_frames(own_reader(ds.PixelData), number_of_frames=count)

    def encode(self, frame: np.ndarray) -> bytes:
        """One frame in the plan's syntax; :class:`EncoderRefused` when the plugin refuses."""
        try:
            return self.encoder.encode(
                np.ascontiguousarray(frame.astype(self.dtype, copy=False)), **self.kwargs
            )
        except Exception as exc:  # noqa: BLE001 - a plugin's refusal: try the next way to store
            raise EncoderRefused from exc

    def add(self, index: int, frame: np.ndarray, changed: bool) -> None:
        """Frame ``index`` (the next one), decoded and redacted if ``changed``."""
        assert index == self.written, "frames are written in order"
        self.written += 1
        if self.plan.native:
            arr = frame.astype(self.dtype, copy=False)
            little = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False)
            self.data.write(little.tobytes())
            return
        original = next(self._originals) if self._originals is not None else None
        fragment = original if original is not None and not changed else self.encode(frame)
        if index < self.count:
            self._offsets.append(self._offset)
        if len(fragment) % 2:
            fragment += b"\0"
        item = b"\xfe\xff\x00\xe0" + pack("<I", len(fragment))
        self.data.write(item)
        self.data.write(fragment)
        self._offset += len(item) + len(fragment)
        if index < self.count - 1 and self._offset > 2**32 - 1:
            raise ValueError("the encapsulated frames are too long for a Basic Offset Table")

    def finish(self) -> str:
        """Put the frames written into ``ds``; the transfer syntax keyword now in use."""
        ds, plan = self.ds, self.plan
        ds.PhotometricInterpretation = plan.photometric
        if int(ds.get("SamplesPerPixel", 1)) > 1:
            ds.PlanarConfiguration = 0
        source = UID(ds.file_meta.TransferSyntaxUID)
        ds.file_meta.TransferSyntaxUID = plan.tsyntax
        buffer, self.data = self.data, Spool()
        if plan.native:
            if buffer.tell() % 2:
                buffer.write(b"\0")
        else:
            buffer.seek(8)
            buffer.write(pack(f"<{len(self._offsets)}I", *self._offsets))
        if not plan.native and self.written < self.count:
            # Fewer frames than the table has room for: as ``encapsulate`` of those frames.
            buffer = _shorter_table(buffer, self.written, self.count)
        if buffer.rolled:
            buffer.seek(0)
            ds.PixelData = buffer
        else:
            ds.PixelData = buffer.getvalue()
            buffer.close()
        del buffer
        ds["PixelData"].VR = "OB" if not plan.native or int(ds.BitsAllocated) <= 8 else "OW"
        ds["PixelData"].is_undefined_length = not plan.native
        if source in LOSSY_SYNTAXES:
            ds.LossyImageCompression = "01"
            if not ds.get("LossyImageCompressionMethod"):
                ds.LossyImageCompressionMethod = LOSSY_SYNTAXES[source]
        return plan.tsyntax.keyword or str(plan.tsyntax)


def _shorter_table(buffer: Spool, written: int, count: int) -> Spool:
    """Encapsulated frames whose Basic Offset Table had room for ``count`` frames, with a
    table of the ``written`` frames: copied into a new spool a piece at a time."""
    shorter = Spool()
    buffer.seek(8)
    shorter.write(b"\xfe\xff\x00\xe0" + pack("<I", 4 * written) + buffer.read(4 * written))
    buffer.seek(8 + 4 * count)
    while piece := buffer.read(PIECE):
        shorter.write(piece)
    buffer.close()
    return shorter


def store_frames(ds: Dataset, pixels: DecodedPixels, changed: set[int]) -> str:
    """Store ``pixels`` (all frames, of which frames ``changed`` differ from the source) into
    ``ds``.

    Returns the transfer syntax keyword now in use, for the audit record.  Never raises for a
    missing encoder: the last resort is Explicit VR Little Endian, which every reader reads.
    """
    for plan in storage_plans(ds, pixels.representation):
        writer = FrameWriter(ds, plan, pixels.count)
        try:
            for index in range(pixels.count):
                writer.add(index, pixels.frame(index), index in changed)
        except EncoderRefused:
            continue
        return writer.finish()
    raise AssertionError("the last plan cannot refuse")  # pragma: no cover
