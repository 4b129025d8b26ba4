"""Hostile DICOM files built from real pydicom test files (synthetic content only)."""

from __future__ import annotations

import io
import struct

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate
from pydicom.pixels import get_encoder
from pydicom.uid import JPEG2000Lossless


def tiny_codestream_declaring(rows: int, columns: int) -> bytes:
    """A JPEG 2000 codestream of a 64x64 zero image whose SIZ marker (ISO 15444-1 A.5.1)
    declares ``columns`` x ``rows`` pixels in one tile: a decoder would allocate the declared
    size. A few hundred bytes."""
    encoded = get_encoder(JPEG2000Lossless).encode(
        np.zeros((64, 64), np.uint8),
        rows=64,
        columns=64,
        samples_per_pixel=1,
        bits_allocated=8,
        bits_stored=8,
        pixel_representation=0,
        photometric_interpretation="MONOCHROME2",
        number_of_frames=1,
    )
    data = bytearray(encoded)
    at = data.find(b"\xff\x4f\xff\x51")
    assert at >= 0
    # Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz (each 4 bytes after Lsiz and Rsiz)
    struct.pack_into(">IIIIII", data, at + 8, columns, rows, 0, 0, columns, rows)
    return bytes(data)


def j2k_bomb(frames: int = 40, side: int = 16384, header_side: int | None = None) -> bytes:
    """The issue's file: JPEG 2000 Lossless, ``frames`` frames of a tiny codestream each
    declaring ``side`` x ``side`` (10.7 GB decoded for 40 frames of 16384^2), in the header of
    pydicom's MR_small_jp2klossless.dcm; the header declares ``header_side`` (default: the same
    size)."""
    ds = pydicom.dcmread(get_testdata_file("MR_small_jp2klossless.dcm"))
    header_side = side if header_side is None else header_side
    ds.Rows = ds.Columns = header_side
    ds.SamplesPerPixel = 1
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.NumberOfFrames = frames
    ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
    ds.PixelData = encapsulate([tiny_codestream_declaring(side, side)] * frames)
    ds["PixelData"].VR = "OB"
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
