"""Spooled values write the same file as values in memory (issue #18, bounded memory).

A value past ``SPOOL_MEMORY`` takes other paths: the received Pixel Data is read where it lies
(``ByteView``), the cleaner's frames go to a temporary file (``Spool``), the file is written and
verified from there. With the threshold lowered to a few bytes, every one of pydicom's test files
of a transfer syntax goes those paths, and the file written must be the same, byte for byte, as
when everything is in memory; a redaction on one frame only also keeps the other frames'
original fragments, read beside the decoder's pass over the same bytes.
"""

from __future__ import annotations

import functools
import io

import pydicom
import pytest
from pydicom.data import get_testdata_file

from archive.deid import Policy, deidentify_bytes, reading, spool
from archive.deid.pixels import clean_pixels
from archive.deid.spool import ByteView, FileView, Spool

FILES = [
    "CT_small.dcm",  # native, one frame
    "MR_small_bigendian.dcm",  # big endian: read again without views
    "MR_small_implicit.dcm",
    "image_dfl.dcm",  # deflated: read again without views
    "SC_rgb_rle_2frame.dcm",  # RLE: the frame not redacted keeps its fragment
    "MR_small_jp2klossless.dcm",
    "examples_jpeg2k.dcm",  # YBR_RCT
    "MR_small_jpeg_ls_lossless.dcm",
    "examples_ybr_color.dcm",  # a 30-frame JPEG cine, stored losslessly
    "rtdose_rle.dcm",  # 15 frames, 32-bit
    "examples_palette.dcm",
    "SC_ybr_full_422_uncompressed.dcm",
]

KEYS = {"uid_key": b"spool-test-uid-key-0123", "pseudonym_key": b"spool-test-pseud-0123"}


def _source(name: str) -> bytes:
    ds = pydicom.dcmread(get_testdata_file(name))
    ds.PatientName = "Spoolington^Synthia"  # synthetic
    buffer = io.BytesIO()
    ds.save_as(buffer)
    return buffer.getvalue()


def _written(data: bytes, boxes) -> tuple[bytes, object]:
    cleaner = functools.partial(clean_pixels, extra_boxes=boxes)
    result = deidentify_bytes(data, Policy(**KEYS, pixel_cleaner=cleaner))
    assert result.status == "anonymized", result.reasons
    value = result.dataset["PixelData"].value
    out = result.to_bytes()
    result.close()
    return out, value


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("boxes", [[(0, 0, 0, 8, 8)], []], ids=["frame 0 redacted", "as found"])
def test_a_spooled_file_is_written_as_one_held_in_memory(monkeypatch, tmp_path, name, boxes):
    data = _source(name)
    in_memory, value = _written(data, boxes)
    assert isinstance(value, bytes)
    monkeypatch.setattr(spool, "SPOOL_MEMORY", 64)
    monkeypatch.setattr(reading, "SPOOL_MEMORY", 64)
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(spool, "_directory", str(folder))
    spooled, value = _written(data, boxes)
    read_again = name in ("image_dfl.dcm", "MR_small_bigendian.dcm")  # positions not trusted
    assert isinstance(value, Spool | ByteView) or read_again
    assert spooled == in_memory
    assert list(folder.iterdir()) == []  # unnamed temporary files, closed


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("boxes", [[(0, 0, 0, 8, 8)], []], ids=["frame 0 redacted", "as found"])
def test_a_file_read_where_it_lies_is_written_as_its_bytes(monkeypatch, tmp_path, name, boxes):
    """The worker gives the engine the received file open, not its bytes: the Pixel Data is
    then a view of the file, read a frame at a time, and the output is the same file."""
    data = _source(name)
    from_bytes, _ = _written(data, boxes)
    monkeypatch.setattr(spool, "SPOOL_MEMORY", 64)
    monkeypatch.setattr(reading, "SPOOL_MEMORY", 64)
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(spool, "_directory", str(folder))
    received = tmp_path / "received.dcm"
    received.write_bytes(data)
    with received.open("rb") as fh:
        from_file, value = _written(fh, boxes)
    read_again = name in ("image_dfl.dcm", "MR_small_bigendian.dcm")  # positions not trusted
    assert isinstance(value, Spool | FileView) or read_again
    assert from_file == from_bytes
    assert list(folder.iterdir()) == []


def test_a_file_that_is_not_dicom_is_refused_as_its_bytes_are(tmp_path):
    """What is checked before a byte is parsed reads the head of the file as it read the
    bytes: empty, a zip archive, a text file."""
    policy = Policy(**KEYS, pixel_cleaner=clean_pixels)
    for content in (b"", b"PK\x03\x04" + bytes(200), b"Dear colleague, " * 20):
        path = tmp_path / "file"
        path.write_bytes(content)
        with pytest.raises(reading.RejectedInput) as from_bytes:
            deidentify_bytes(content, policy)
        with path.open("rb") as fh, pytest.raises(reading.RejectedInput) as from_file:
            deidentify_bytes(fh, policy)
        assert str(from_file.value) == str(from_bytes.value)


def test_a_spool_moves_to_an_unnamed_file_past_its_memory(tmp_path, monkeypatch):
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(spool, "_directory", str(folder))
    held = Spool(max_memory=16)
    held.write(b"0123456789")
    assert not held.rolled
    held.write(b"abcdefghij")
    assert held.rolled and held.size == 20
    assert held.getvalue() == b"0123456789abcdefghij"
    assert list(folder.iterdir()) == []  # no name in the folder: nothing to find or leak
    held.seek(5)
    assert held.read(3) == b"567"
    held.close()
