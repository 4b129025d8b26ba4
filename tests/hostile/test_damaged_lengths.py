"""Damaged lengths the fuzzer found with its second seed (``make fuzz TA_FUZZ_SEED=20261130``),
as fixed cases: one length changed in a real pydicom file with a synthetic patient, so that an
element swallows the ones after it. Neither may end as an anonymized file that names the
patient."""

from __future__ import annotations

import io
import random
import struct

import pydicom
import pytest

from archive.deid import RejectedInput, deidentify_bytes
from archive.services.policy import archive_policy
from tests.hostile.fuzzing import load_seed
from tests.phi import SyntheticPatient


def _with_length(name: str, tag: int, length: int | None) -> tuple[bytes, list[str]]:
    """``name`` with the length of element ``tag`` set to ``length`` (None: just long enough to
    swallow every element up to and including the patient's name)."""
    patient = SyntheticPatient(rng=random.Random(20261130))
    seed = load_seed(name, patient)
    element = next(e for e in seed.elements if e.tag == tag)
    if length is None:
        after_name = next(e for e in seed.elements if e.tag > 0x00100010)
        length = after_name.header - element.value
    data = bytearray(seed.data)
    big_endian = name.endswith("bigendian.dcm")
    fmt = (">" if big_endian else "<") + ("H" if element.length_size == 2 else "I")
    struct.pack_into(fmt, data, element.length_at, length)
    return bytes(data), [s.upper() for s in patient.secrets()]


def test_a_private_date_that_swallows_the_patient_module_is_rejected():
    # GE's private (0009,1042) DA written 541 bytes long holds group 0010 (the patient's name):
    # the name was then unknown to the cleaner, and "CT for <surname>" in Study Description
    # was published.
    data, _ = _with_length("JPGExtended.dcm", 0x00091042, None)
    with pytest.raises(
        RejectedInput, match=r"\(0009,1042\) holds (a DA value of|binary data in a DA value)"
    ):
        deidentify_bytes(data, archive_policy())


def test_what_is_written_is_verified_again():
    # Pixel Representation's length made 0xFFFF in a big-endian file: the dataset in memory
    # passed the verifier, the file written from it held the patient's name when read back.
    data, secrets = _with_length("MR_small_bigendian.dcm", 0x00280103, 0xFFFF)
    try:
        result = deidentify_bytes(data, archive_policy())
    except RejectedInput as exc:
        assert str(exc)
        return
    output = result.to_bytes().upper()
    if result.status == "anonymized":
        assert not any(s.encode() in output for s in secrets)
    else:
        assert result.reasons


def test_a_private_text_value_holding_element_headers_is_rejected():
    # The same private element written as LO (vendors' long strings are allowed): what it
    # swallowed is full of element headers, which no text value holds.
    patient = SyntheticPatient(rng=random.Random(20261130))
    seed = load_seed("JPGExtended.dcm", patient)
    element = next(e for e in seed.elements if e.tag == 0x00091042)
    after_name = next(e for e in seed.elements if e.tag > 0x00100010)
    data = bytearray(seed.data)
    data[element.header + 4 : element.header + 6] = b"LO"
    struct.pack_into("<H", data, element.length_at, after_name.header - element.value)
    with pytest.raises(RejectedInput, match=r"\(0009,1042\) holds binary data in a LO value"):
        deidentify_bytes(bytes(data), archive_policy())


def test_a_number_value_that_is_not_whole_numbers_is_rejected():
    # The same element rewritten as FD: 8-byte numbers, so a length of another multiple is
    # damaged, whatever it swallowed.
    patient = SyntheticPatient(rng=random.Random(20261130))
    seed = load_seed("JPGExtended.dcm", patient)
    element = next(e for e in seed.elements if e.tag == 0x00091042)
    data = bytearray(seed.data)
    data[element.header + 4 : element.header + 6] = b"FD"
    struct.pack_into("<H", data, element.length_at, 542)
    with pytest.raises(RejectedInput, match=r"\(0009,1042\) is 542 bytes long, not a whole"):
        deidentify_bytes(bytes(data), archive_policy())


def test_a_public_tag_the_standard_does_not_define_is_removed():
    # One damaged byte made Accession Number (0008,0050) an element (0108,0050) that no
    # dictionary knows: what it holds cannot be judged, so it goes.
    patient = SyntheticPatient(rng=random.Random(20261130))
    seed = load_seed("CT_small.dcm", patient)
    accession = next(e for e in seed.elements if e.tag == 0x00080050)
    data = bytearray(seed.data)
    data[accession.header + 1] = 0x01  # group 0x0008 → 0x0108 (little endian)
    ds = pydicom.dcmread(io.BytesIO(bytes(data)))
    value = ds[0x01080050].value
    assert value  # the synthetic accession number, now under an unknown tag
    result = deidentify_bytes(bytes(data), archive_policy())
    assert 0x01080050 not in result.dataset
    assert str(value).encode() not in result.to_bytes()


def test_a_number_value_that_is_not_whole_numbers_is_rejected_in_implicit_vr():
    # Implicit VR: no VR is written, the dictionary's is implied (FD for Diffusion Gradient
    # Orientation, three numbers). Two stray bytes inside it make 26 bytes, not a whole number
    # of 8-byte values: a damaged length, as in the explicit case above.
    patient = SyntheticPatient(rng=random.Random(20261130))
    ds = pydicom.dcmread(io.BytesIO(load_seed("CT_small.dcm", patient).data))
    ds.DiffusionGradientOrientation = [0.0, 0.0, 1.0]
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    data = buffer.getvalue()
    header = struct.pack("<HHI", 0x0018, 0x9089, 24)
    assert data.count(header) == 1
    data = data.replace(header, struct.pack("<HHI", 0x0018, 0x9089, 26) + b"\0\0")
    with pytest.raises(RejectedInput, match=r"\(0018,9089\) is 26 bytes long, not a whole"):
        deidentify_bytes(data, archive_policy())
