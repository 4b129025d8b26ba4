"""Parsing is bounded: sequence nesting depth, element count and value length (issue #18).

Files past a limit are rejected with a reason, never with a RecursionError or a hang.
"""

from __future__ import annotations

import struct

import pydicom
import pytest
from pydicom import Dataset
from pydicom.data import get_testdata_file
from pydicom.uid import ExplicitVRLittleEndian

from archive.deid import RejectedInput, deidentify_bytes
from archive.services.policy import archive_policy
from tests.conftest import dicom_bytes

UNDEFINED = 0xFFFFFFFF


def _header_bytes() -> bytes:
    """rtstruct.dcm (a real file without pixel data) as bytes, explicit VR little endian."""
    ds = pydicom.dcmread(get_testdata_file("rtstruct.dcm"), force=True)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return dicom_bytes(ds)


def _nested(depth: int) -> bytes:
    """A Content Sequence nested ``depth`` levels deep, undefined lengths (as SR writers do)."""
    open_sq = struct.pack("<HH2sHI", 0x0040, 0xA730, b"SQ", 0, UNDEFINED)
    item = struct.pack("<HHI", 0xFFFE, 0xE000, UNDEFINED)
    end_item = struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
    end_sq = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    return (open_sq + item) * depth + (end_item + end_sq) * depth


def _with(extra: bytes) -> bytes:
    # (0040,A730) goes where its tag belongs, before the first element of a higher tag.
    data = _header_bytes()
    ds = pydicom.dcmread(get_testdata_file("rtstruct.dcm"), force=True)
    first_after = next(e.tag for e in ds if e.tag > 0x0040A730)
    marker = struct.pack("<HH", first_after.group, first_after.element)
    at = data.index(marker, 132)
    return data[:at] + extra + data[at:]


@pytest.mark.parametrize("depth", [33, 3000])
def test_sequences_nested_too_deep_are_rejected_with_a_reason(depth):
    with pytest.raises(RejectedInput) as caught:
        deidentify_bytes(_with(_nested(depth)), archive_policy())
    assert str(caught.value) == (
        "The DICOM file nests sequences more than 32 levels deep, more than the archive reads."
    )


def test_defined_length_sequences_are_checked_before_de_identification():
    """pydicom keeps a sequence of defined length raw until it is accessed: its depth must be
    checked all the same (here 40 levels written by pydicom, each with a defined length)."""
    ds = pydicom.dcmread(get_testdata_file("rtstruct.dcm"), force=True)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    level = ds
    for _ in range(40):
        item = Dataset()
        item.ValueType = "CONTAINER"
        level.ContentSequence = [item]
        level = item
    with pytest.raises(RejectedInput, match="more than 32 levels deep"):
        deidentify_bytes(dicom_bytes(ds), archive_policy())


def test_nesting_within_the_limit_is_read():
    result = deidentify_bytes(_with(_nested(20)), archive_policy())
    assert result.status == "anonymized"


def test_too_many_elements_are_rejected(settings):
    settings.TA_MAX_ELEMENTS = 50  # rtstruct.dcm has 106, its sequences' items counted
    with pytest.raises(RejectedInput, match="more than 50 elements"):
        deidentify_bytes(_header_bytes(), archive_policy())


def test_a_value_too_long_is_rejected(settings):
    settings.TA_MAX_VALUE_BYTES = 1024
    ds = pydicom.dcmread(get_testdata_file("rtstruct.dcm"), force=True)
    ds.add_new(0x00091010, "OB", b"\0" * 2048)
    ds.add_new(0x00090010, "LO", "SYNTHETIC CREATOR")
    with pytest.raises(RejectedInput) as caught:
        deidentify_bytes(dicom_bytes(ds), archive_policy())
    assert str(caught.value) == (
        "An element of the DICOM file is 2.0 KiB long, more than the 1.0 KiB the archive "
        "accepts for one value."
    )
