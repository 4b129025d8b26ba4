"""Mutations of real DICOM files for the fuzzer (``test_fuzz.py``, ``make fuzz``).

Each seed is a real pydicom test file with a synthetic patient injected; a mutation works on
its bytes the way damaged or hostile files differ from good ones: cut short, a VR changed, a
length made bogus or huge, the transfer syntax swapped under an unchanged body, bytes of the
pixel data (fragments) corrupted, the image's dimensions changed, random bytes written.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import pydicom
from hypothesis import strategies as st
from pydicom.data import get_testdata_file
from pydicom.dataset import FileMetaDataset
from pydicom.filewriter import write_file_meta_info

from tests.conftest import dicom_bytes
from tests.phi import SyntheticPatient, inject_phi

#: Small real files, every kind of pixel data and none: native CT/MR, big endian, implicit VR,
#: RLE, JPEG-LS, JPEG 2000, JPEG extended, RGB JPEG baseline, a two-frame RGB RLE, and an RT
#: Structure Set without pixels.
SEEDS = (
    "CT_small.dcm",
    "MR_small.dcm",
    "MR_small_bigendian.dcm",
    "MR_small_implicit.dcm",
    "MR_small_RLE.dcm",
    "MR_small_jpeg_ls_lossless.dcm",
    "MR_small_jp2klossless.dcm",
    "JPGExtended.dcm",
    "SC_rgb_jpeg_dcmtk.dcm",
    "SC_rgb_rle_2frame.dcm",
    "rtstruct.dcm",
)

TRANSFER_SYNTAXES = (
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.5",
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.201",
)
VRS = (b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT",
       b"OB", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST", b"TM", b"UI", b"UL", b"UN",
       b"US", b"UT", b"ZZ")  # fmt: skip
LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT"})
#: Rows, Columns, Samples per Pixel, Bits Allocated, Bits Stored, Number of Frames
GEOMETRY = frozenset({0x00280010, 0x00280011, 0x00280002, 0x00280100, 0x00280101, 0x00280008})
DIMENSIONS = (0, 1, 2, 3, 7, 8, 12, 16, 17, 32, 64, 255, 4096, 16384, 65535)


KINDS = ("truncate", "vr", "vr", "length", "syntax", "syntax", "fragments", "fragments",
         "geometry", "geometry", "bytes", "bytes", "insert")  # fmt: skip


@dataclass(frozen=True)
class Element:
    """Where one top-level element of a seed's body lies in its bytes."""

    tag: int
    header: int  # offset of the tag
    value: int  # offset of the value
    length_at: int  # offset of the length field
    length_size: int  # 2 or 4
    explicit: bool


@dataclass(frozen=True)
class Seed:
    name: str
    data: bytes
    body: int  # offset of the dataset after the file meta
    elements: tuple[Element, ...]
    secrets: tuple[str, ...]
    pixel_data: int | None  # offset of the Pixel Data value


def _elements(data: bytes) -> tuple[Element, ...]:
    ds = pydicom.dcmread(io.BytesIO(data))
    implicit = ds.original_encoding[0]
    out = []
    for tag, raw in ds._dict.items():
        value = getattr(raw, "value_tell", None)
        if value is None:
            continue
        if implicit:
            out.append(Element(int(tag), value - 8, value, value - 4, 4, False))
            continue
        if data[value - 8 : value - 6] in LONG_VRS and data[value - 6 : value - 4] == b"\0\0":
            out.append(Element(int(tag), value - 12, value, value - 4, 4, True))
        else:
            out.append(Element(int(tag), value - 8, value, value - 2, 2, True))
    return tuple(out)


def load_seed(name: str, patient: SyntheticPatient) -> Seed:
    ds = pydicom.dcmread(get_testdata_file(name), force=True)
    inject_phi(ds, patient)
    data = dicom_bytes(ds)
    (group_length,) = struct.unpack_from("<I", data, 132 + 8)
    body = 132 + 12 + group_length
    elements = _elements(data)
    pixel = next((e.value for e in elements if e.tag == 0x7FE00010), None)
    return Seed(name, data, body, elements, tuple(patient.secrets()), pixel)


def _swap_syntax(seed: Seed, syntax: str) -> bytes:
    meta = FileMetaDataset()
    old = pydicom.dcmread(io.BytesIO(seed.data), stop_before_pixels=True).file_meta
    for elem in old:
        meta.add(elem)
    meta.TransferSyntaxUID = syntax
    buffer = io.BytesIO()
    write_file_meta_info(buffer, meta, enforce_standard=True)
    return seed.data[:128] + b"DICM" + buffer.getvalue() + seed.data[seed.body :]


@dataclass(frozen=True)
class Mutated:
    """A mutated file; its repr (what hypothesis prints for a failing example) is short."""

    seed: str
    data: bytes
    mutations: tuple[str, ...]

    def __repr__(self) -> str:
        import hashlib

        digest = hashlib.sha256(self.data).hexdigest()[:12]
        return f"<{self.seed} {'+'.join(self.mutations)} {len(self.data)} bytes sha256 {digest}>"


@st.composite
def mutated(draw, seeds: list[Seed]) -> Mutated:
    """A seed's bytes with one to three mutations, and what was done (for the report)."""
    seed = draw(st.sampled_from(seeds))
    data = bytearray(seed.data)
    done: list[str] = []
    for _ in range(draw(st.integers(1, 2))):
        # Mostly mutations that leave a readable file (a cut file is rejected at once).
        kind = draw(st.sampled_from(KINDS))
        elements = [e for e in seed.elements if e.header + 8 <= len(data)]
        if kind == "truncate":
            at = draw(st.integers(0, max(len(data) - 1, 0)))
            del data[at:]
        elif kind == "vr" and elements:
            e = draw(st.sampled_from([e for e in elements if e.explicit] or elements))
            if e.explicit:
                data[e.header + 4 : e.header + 6] = draw(st.sampled_from(VRS))
        elif kind == "length" and elements:
            e = draw(st.sampled_from(elements))
            top = 0xFFFF if e.length_size == 2 else 0xFFFFFFFF
            value = draw(st.one_of(st.sampled_from([0, 1, 3, top, top - 1, top // 2]),
                                   st.integers(0, top)))  # fmt: skip
            fmt = "<H" if e.length_size == 2 else "<I"
            if e.length_at + e.length_size <= len(data):
                struct.pack_into(fmt, data, e.length_at, value)
        elif kind == "syntax" and len(data) == len(seed.data):
            data = bytearray(_swap_syntax(seed, draw(st.sampled_from(TRANSFER_SYNTAXES))))
        elif kind == "fragments" and seed.pixel_data is not None and seed.pixel_data < len(data):
            for _ in range(draw(st.integers(1, 16))):
                at = draw(st.integers(seed.pixel_data, len(data) - 1))
                data[at] = draw(st.integers(0, 255))
        elif kind == "geometry":
            e = next((e for e in elements if e.tag in GEOMETRY and draw(st.booleans())), None)
            if e is not None and e.value + 2 <= len(data):
                if e.tag == 0x00280008:  # IS: text, written in the element's own length
                    fmt = "<H" if e.length_size == 2 else "<I"
                    (width,) = struct.unpack_from(fmt, data, e.length_at)
                    text = str(draw(st.integers(0, 99999999))).encode()[:width]
                    data[e.value : e.value + width] = text.ljust(width)
                else:
                    struct.pack_into("<H", data, e.value, draw(st.sampled_from(DIMENSIONS)))
        elif kind == "bytes" and data:
            at = draw(st.integers(0, len(data) - 1))
            chunk = draw(st.binary(min_size=1, max_size=16))
            data[at : at + len(chunk)] = chunk
        elif kind == "insert":
            at = draw(st.integers(0, len(data)))
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        else:
            continue
        done.append(kind)
    return Mutated(seed.name, bytes(data), tuple(done))
