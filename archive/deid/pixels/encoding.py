"""Write redacted frames back into a dataset (DICOM PS3.5 8.2 and Annex A.4).

* Native (uncompressed, also deflated) sources: PixelData is rebuilt in the same transfer syntax
  (big endian is rewritten as Explicit VR Little Endian).  Uncompressed YBR_FULL_422 becomes
  YBR_FULL (the decoded, upsampled samples are the stored ones, so nothing is lost).
* Lossless encapsulated sources with a pydicom encoder (RLE Lossless, JPEG-LS Lossless, JPEG 2000
  Lossless): only the changed frames are re-encoded, every other frame keeps its original bytes.
* Lossless encapsulated sources without an encoder (JPEG Lossless processes 14/SV1): decompressed
  to Explicit VR Little Endian.
* Lossy sources (JPEG baseline/extended, JPEG-LS near-lossless, JPEG 2000): all frames are stored
  losslessly (RLE Lossless, else Explicit VR Little Endian) so the redaction adds no second
  generation of loss; LossyImageCompression stays "01" because the image *was* lossy once
  (PS3.3 C.7.6.1.1.5).
"""

from __future__ import annotations

import numpy as np
from pydicom import Dataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.pixels import get_encoder
from pydicom.uid import (
    JPEG2000,
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

__all__ = ["store_frames", "LOSSY_SYNTAXES"]

LOSSY_SYNTAXES = frozenset({JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLSNearLossless, JPEG2000})
REENCODABLE = (RLELossless, JPEGLSLossless, JPEG2000Lossless)


def _stored_dtype(ds: Dataset) -> np.dtype:
    bits = int(ds.BitsAllocated)
    signed = int(ds.get("PixelRepresentation", 0)) == 1
    if (
        int(ds.get("SamplesPerPixel", 1)) > 1
        or str(ds.PhotometricInterpretation) == "PALETTE COLOR"
    ):
        signed = False
    return np.dtype(f"{'i' if signed else 'u'}{bits // 8}")


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
    if pixels.representation is Representation.RGB:
        ds.PhotometricInterpretation = "RGB"
    elif pixels.representation is Representation.YBR_FULL:
        ds.PhotometricInterpretation = "YBR_FULL"
    if int(ds.get("SamplesPerPixel", 1)) > 1:
        ds.PlanarConfiguration = 0
    ds.file_meta.TransferSyntaxUID = tsyntax
    ds.PixelData = _native_bytes(ds, pixels.frames)
    ds["PixelData"].VR = "OB" if int(ds.BitsAllocated) <= 8 else "OW"
    ds["PixelData"].is_undefined_length = False


def _encapsulate_all(ds: Dataset, pixels: DecodedPixels, tsyntax: UID) -> bool:
    """Encode every frame losslessly in ``tsyntax``; False if no plugin could do it."""
    photometric = (
        "RGB" if pixels.representation is Representation.RGB else str(ds.PhotometricInterpretation)
    )
    if pixels.representation is Representation.YBR_FULL:
        photometric = "YBR_FULL"
    encoder = get_encoder(tsyntax)
    if not encoder.is_available:
        return False
    kwargs = _encode_kwargs(ds, photometric)
    dtype = _stored_dtype(ds)
    try:
        fragments = [
            encoder.encode(np.ascontiguousarray(f.astype(dtype, copy=False)), **kwargs)
            for f in pixels.frames
        ]
    except Exception:  # noqa: BLE001 - any plugin refusal means: fall back to native
        return False
    ds.PhotometricInterpretation = photometric
    if int(ds.get("SamplesPerPixel", 1)) > 1:
        ds.PlanarConfiguration = 0
    ds.file_meta.TransferSyntaxUID = tsyntax
    ds.PixelData = encapsulate(fragments)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return True


def store_frames(ds: Dataset, pixels: DecodedPixels, changed: set[int]) -> str:
    """Store ``pixels`` (of which frames ``changed`` differ from the source) into ``ds``.

    Returns the transfer syntax keyword now in use, for the audit record.
    """
    tsyntax = UID(ds.file_meta.TransferSyntaxUID)
    if not tsyntax.is_compressed:
        _set_native(
            ds, pixels, ExplicitVRLittleEndian if tsyntax == ExplicitVRBigEndian else tsyntax
        )
        return ds.file_meta.TransferSyntaxUID.keyword or str(ds.file_meta.TransferSyntaxUID)
    if tsyntax in LOSSY_SYNTAXES:
        if not _encapsulate_all(ds, pixels, RLELossless):
            _set_native(ds, pixels, ExplicitVRLittleEndian)
        ds.LossyImageCompression = "01"
        return ds.file_meta.TransferSyntaxUID.keyword
    if (
        tsyntax in REENCODABLE
        and pixels.representation is not Representation.RGB
        or (tsyntax == RLELossless)
    ):
        photometric = str(ds.PhotometricInterpretation)
        if pixels.representation is Representation.RGB:
            photometric = "RGB"
        encoder = get_encoder(tsyntax)
        if encoder.is_available:
            n = pixels.count
            original = list(generate_frames(ds.PixelData, number_of_frames=n))
            kwargs = _encode_kwargs(ds, photometric)
            dtype = _stored_dtype(ds)
            try:
                for i in sorted(changed):
                    original[i] = encoder.encode(
                        np.ascontiguousarray(pixels.frames[i].astype(dtype, copy=False)), **kwargs
                    )
            except Exception:  # noqa: BLE001 - plugin refused: store natively below
                pass
            else:
                ds.PixelData = encapsulate(original)
                ds["PixelData"].is_undefined_length = True
                return tsyntax.keyword
    # Colour JPEG 2000 (YBR_RCT/ICT), JPEG Lossless: every frame decoded; keep it lossless.
    if tsyntax in REENCODABLE and _encapsulate_all(ds, pixels, tsyntax):
        return tsyntax.keyword
    _set_native(ds, pixels, ExplicitVRLittleEndian)
    return "ExplicitVRLittleEndian"
