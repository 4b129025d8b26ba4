"""Frames and instances in the transfer syntax a client asked for (PS3.18 8.7.3), with pydicom.

Frames served uncompressed are the stored values, little endian, pixel-interleaved; colour
frames are RGB whatever the stored photometric interpretation (pydicom converts YBR), which is
what a viewer expects of decoded colour data. Nothing here rescales or windows a value.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

import numpy as np
import pydicom
from pydicom.encaps import get_frame
from pydicom.pixels import get_encoder, pack_bits, pixel_array
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from archive.models import Instance
from archive.privacy import redact_dataset

__all__ = ["FrameOutOfRange", "frames_in", "instance_in", "stored_syntax"]


class FrameOutOfRange(Exception):
    pass


def stored_syntax(instance: Instance) -> str:
    with instance.file.open("rb") as fh:
        ds = pydicom.dcmread(fh, stop_before_pixels=True)
    return str(ds.file_meta.get("TransferSyntaxUID", ExplicitVRLittleEndian))


def _little_endian_bytes(array: np.ndarray, bits_allocated: int) -> bytes:
    if bits_allocated == 1:
        return pack_bits(array)
    if array.dtype.itemsize > 1 and array.dtype.byteorder not in ("<", "|", "="):
        array = array.astype(array.dtype.newbyteorder("<"))
    return np.ascontiguousarray(array).tobytes()


def frames_in(instance: Instance, numbers: Iterable[int], syntax: str) -> list[bytes]:
    """Frames (1-based ``numbers``) of an instance as ``syntax`` bytes, one item per frame."""
    numbers = list(numbers)
    count = max(instance.frames, 1)
    if not instance.has_pixels or any(n < 1 or n > count for n in numbers):
        raise FrameOutOfRange
    with instance.file.open("rb") as fh:
        ds = pydicom.dcmread(fh, stop_before_pixels=True)
        stored = UID(str(ds.file_meta.TransferSyntaxUID))
        if syntax == stored and stored.is_compressed:
            fh.seek(0)
            full = pydicom.dcmread(fh)
            return [get_frame(full.PixelData, n - 1, number_of_frames=count) for n in numbers]
        if UID(syntax).is_compressed:
            fh.seek(0)
            full = pydicom.dcmread(fh)
            if stored.is_compressed:
                full.decompress()
            encoder = get_encoder(syntax)
            return [encoder.encode(full, index=n - 1) for n in numbers]
        out = []
        bits = int(ds.get("BitsAllocated", 16))
        for n in numbers:
            fh.seek(0)
            out.append(_little_endian_bytes(pixel_array(fh, index=n - 1), bits))
        return out


def instance_in(instance: Instance, syntax: str, terms: Iterable[str] = ()) -> Iterator[bytes]:
    """The anonymized file in ``syntax``, without ``terms`` (what the privacy policy hides from
    this user) in any text element."""
    terms = list(terms)
    with instance.file.open("rb") as fh:
        head = pydicom.dcmread(fh, stop_before_pixels=True)
        stored = str(head.file_meta.TransferSyntaxUID)
        if syntax == stored and not terms:
            fh.seek(0)
            while chunk := fh.read(256 * 1024):
                yield chunk
            return
        fh.seek(0)
        ds = pydicom.dcmread(fh)
    redact_dataset(ds, terms)
    if syntax != stored:
        if "PixelData" in ds and UID(stored).is_compressed:
            ds.decompress()  # Explicit VR Little Endian, colour as RGB
        if UID(syntax).is_compressed:
            ds.compress(syntax)
        else:
            ds.file_meta.TransferSyntaxUID = syntax
    out = io.BytesIO()
    if syntax == ImplicitVRLittleEndian:
        ds.save_as(out, enforce_file_format=True, implicit_vr=True, little_endian=True)
    else:
        ds.save_as(out, enforce_file_format=True)
    yield out.getvalue()
