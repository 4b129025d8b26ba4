"""Write redacted frames back into a dataset (DICOM PS3.5 8.2 and Annex A.4).

Every file that can be decoded can be written: a codec without an encoder never rejects an
image, it only decides how the redacted frames are stored.

* Native (uncompressed, also deflated) sources: PixelData is rebuilt in the same transfer syntax
  (big endian is rewritten as Explicit VR Little Endian).  Uncompressed YBR_FULL_422 becomes
  YBR_FULL (the decoded, upsampled samples are the stored ones, so nothing is lost).
* Lossless encapsulated sources with a pydicom encoder (RLE Lossless, JPEG-LS Lossless, JPEG 2000
  Lossless): only the changed frames are re-encoded, every other frame keeps its original bytes.
  Colour JPEG 2000 (YBR_RCT/YBR_ICT) is decoded to RGB, so all its frames are re-encoded as RGB.
* Lossless encapsulated sources without an encoder (JPEG Lossless processes 14/SV1, HTJ2K, JPEG
  2000 Part 2): every frame is stored losslessly in ``LOSSLESS_TARGETS`` (JPEG-LS Lossless, else
  RLE Lossless, else Explicit VR Little Endian).
* Lossy sources (JPEG baseline/extended, JPEG-LS near-lossless, JPEG 2000, HTJ2K): all frames
  are stored losslessly the same way, so the redaction adds no second generation of loss.  The
  decoded colour space is what is stored: a YBR_FULL_422 JPEG cine becomes RGB (PS3.3 C.7.6.3.1.2
  allows YBR_FULL_422 only for the JPEG and native syntaxes), planar configuration 0.
  LossyImageCompression stays "01" because the image *was* lossy once, and the method of that
  compression is recorded when the source did not say (PS3.3 C.7.6.1.1.5).

JPEG-LS Lossless is preferred to RLE for a lossy source: on the bundled 320x240 echo cine it
encodes in 2.7 ms a frame against RLE's 3.5 ms, and into 45 KB against RLE's 100 KB.
"""

from __future__ import annotations

import numpy as np
from pydicom import Dataset
from pydicom.encaps import encapsulate, generate_frames
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

from .frames import DecodedPixels, Representation

__all__ = ["store_frames", "LOSSY_SYNTAXES", "LOSSLESS_TARGETS"]

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


def _stored_dtype(ds: Dataset) -> np.dtype:
    bits = int(ds.BitsAllocated)
    signed = int(ds.get("PixelRepresentation", 0)) == 1
    if (
        int(ds.get("SamplesPerPixel", 1)) > 1
        or str(ds.PhotometricInterpretation) == "PALETTE COLOR"
    ):
        signed = False
    return np.dtype(f"{'i' if signed else 'u'}{bits // 8}")


def _photometric(ds: Dataset, pixels: DecodedPixels) -> str:
    """The Photometric Interpretation of the decoded frames (what will be stored)."""
    if pixels.representation is Representation.RGB:
        return "RGB"
    if pixels.representation is Representation.YBR_FULL:
        return "YBR_FULL"
    return str(ds.PhotometricInterpretation)


def _native_bytes(ds: Dataset, frames: np.ndarray) -> bytes:
    arr = frames.astype(_stored_dtype(ds), copy=False)
    if arr.ndim == 4 and int(ds.get("PlanarConfiguration", 0)) == 1:
        arr = arr.transpose(0, 3, 1, 2)
    data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
    return data + b"\0" if len(data) % 2 else data


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


def _set_native(ds: Dataset, pixels: DecodedPixels, tsyntax: UID) -> None:
    ds.PhotometricInterpretation = _photometric(ds, pixels)
    if int(ds.get("SamplesPerPixel", 1)) > 1:
        ds.PlanarConfiguration = 0
    ds.file_meta.TransferSyntaxUID = tsyntax
    ds.PixelData = _native_bytes(ds, pixels.frames)
    ds["PixelData"].VR = "OB" if int(ds.BitsAllocated) <= 8 else "OW"
    ds["PixelData"].is_undefined_length = False


def _encode(tsyntax: UID, ds: Dataset, photometric: str, frames) -> list[bytes] | None:
    """``frames`` encoded one by one in ``tsyntax``; None when no plugin can (any refusal)."""
    try:
        encoder = get_encoder(tsyntax)
    except NotImplementedError:
        return None
    if not encoder.is_available:
        return None
    kwargs = _encode_kwargs(ds, photometric)
    dtype = _stored_dtype(ds)
    try:
        return [
            encoder.encode(np.ascontiguousarray(f.astype(dtype, copy=False)), **kwargs)
            for f in frames
        ]
    except Exception:  # noqa: BLE001 - a plugin's refusal means: try the next way to store
        return None


def _set_encapsulated(ds: Dataset, tsyntax: UID, photometric: str, fragments) -> None:
    ds.PhotometricInterpretation = photometric
    if int(ds.get("SamplesPerPixel", 1)) > 1:
        ds.PlanarConfiguration = 0
    ds.file_meta.TransferSyntaxUID = tsyntax
    ds.PixelData = encapsulate(list(fragments))
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True


def _store_lossless(ds: Dataset, pixels: DecodedPixels, targets=LOSSLESS_TARGETS) -> str:
    """Every frame in the first of ``targets`` that can encode it, else uncompressed."""
    photometric = _photometric(ds, pixels)
    for tsyntax in targets:
        fragments = _encode(tsyntax, ds, photometric, pixels.frames)
        if fragments is not None:
            _set_encapsulated(ds, tsyntax, photometric, fragments)
            return tsyntax.keyword
    _set_native(ds, pixels, ExplicitVRLittleEndian)
    return ExplicitVRLittleEndian.keyword


def store_frames(ds: Dataset, pixels: DecodedPixels, changed: set[int]) -> str:
    """Store ``pixels`` (of which frames ``changed`` differ from the source) into ``ds``.

    Returns the transfer syntax keyword now in use, for the audit record.  Never raises for a
    missing encoder: the last resort is Explicit VR Little Endian, which every reader reads.
    """
    tsyntax = UID(ds.file_meta.TransferSyntaxUID)
    if not tsyntax.is_compressed:
        _set_native(
            ds, pixels, ExplicitVRLittleEndian if tsyntax == ExplicitVRBigEndian else tsyntax
        )
        return ds.file_meta.TransferSyntaxUID.keyword or str(ds.file_meta.TransferSyntaxUID)
    if tsyntax in LOSSY_SYNTAXES:
        method = LOSSY_SYNTAXES[tsyntax]
        keyword = _store_lossless(ds, pixels)
        ds.LossyImageCompression = "01"
        if not ds.get("LossyImageCompressionMethod"):
            ds.LossyImageCompressionMethod = method
        return keyword
    photometric = _photometric(ds, pixels)
    if tsyntax in REENCODABLE and photometric == str(ds.PhotometricInterpretation):
        # Same samples as stored: re-encode the changed frames only.
        fragments = _encode(tsyntax, ds, photometric, [pixels.frames[i] for i in sorted(changed)])
        if fragments is not None:
            original = list(generate_frames(ds.PixelData, number_of_frames=pixels.count))
            for i, fragment in zip(sorted(changed), fragments, strict=True):
                original[i] = fragment
            _set_encapsulated(ds, tsyntax, photometric, original)
            return tsyntax.keyword
    # Decoded into another colour space (YBR_RCT/ICT → RGB), or no encoder for this syntax.
    targets = (tsyntax, *LOSSLESS_TARGETS) if tsyntax in REENCODABLE else LOSSLESS_TARGETS
    return _store_lossless(ds, pixels, targets)
