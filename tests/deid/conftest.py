"""Fixtures for the de-identification engine: real pydicom test files + synthetic PHI."""

from __future__ import annotations

import copy
import io

import pydicom
import pytest
from pydicom import Dataset
from pydicom.data import get_testdata_file
from pydicom.sequence import Sequence

from archive.deid import Policy

# Synthetic identifying values, invented for these tests (never real data).
PHI = {
    "name_family": "Zyxwvuts",
    "name_given": "Qwertina",
    "patient_id": "SYNPID99173",
    "issuer": "SYNTHISSUER",
    "other_id": "SYNOTHER8842",
    "birth_date": "19470312",
    "study_date": "20190704",
    "address": "77 Fakestreet Lane",
    "town": "Nowheresville",
    "phone": "+1-555-0199-321",
    "referrer": "Drplaceholder",
    "institution": "Synthetic Memorial Hospital",
    "institution_address": "12 Imaginary Blvd",
    "operator": "Opfakename",
    "accession": "SYNACC55219",
    "request_id": "SYNREQ7781",
    "private_text": "Privnotename",
    "nested_person": "Deepnestname",
}

POLICY = Policy(uid_key=b"test-uid-key-0123456789", pseudonym_key=b"test-pseudonym-key-0123")


def load(name: str) -> Dataset:
    path = get_testdata_file(name)
    assert path is not None, name
    return pydicom.dcmread(path, force=True)


def load_bytes(name: str) -> bytes:
    path = get_testdata_file(name)
    assert path is not None, name
    with open(path, "rb") as f:
        return f.read()


def to_bytes(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def inject_phi(ds: Dataset) -> Dataset:
    """Put synthetic PHI everywhere: top level, nested sequences, private blocks."""
    ds = copy.deepcopy(ds)
    name = f"{PHI['name_family']}^{PHI['name_given']}"
    ds.PatientName = name
    ds.PatientID = PHI["patient_id"]
    ds.IssuerOfPatientID = PHI["issuer"]
    ds.PatientBirthDate = PHI["birth_date"]
    ds.PatientAddress = f"{PHI['address']}^{PHI['town']}"
    ds.PatientTelephoneNumbers = PHI["phone"]
    ds.ReferringPhysicianName = f"{PHI['referrer']}^Hortensia"
    ds.InstitutionName = PHI["institution"]
    ds.InstitutionAddress = f"{PHI['institution_address']}, Fictiontown"
    ds.OperatorsName = f"{PHI['operator']}^Ulf"
    ds.AccessionNumber = PHI["accession"]
    ds.StudyDate = PHI["study_date"]
    ds.SeriesDate = PHI["study_date"]
    ds.ImageComments = f"Seen by {PHI['referrer']} for {PHI['name_family']}"
    ds.StudyDescription = f"CT CHEST {PHI['name_family']}"
    ds.SeriesDescription = "AXIAL 5MM"
    ds.AdditionalPatientHistory = f"{PHI['name_given']} fell on {PHI['study_date']}"
    ds.PatientAge = None
    del ds.PatientAge
    other = Dataset()
    other.PatientID = PHI["other_id"]
    other.IssuerOfPatientID = PHI["issuer"]
    ds.OtherPatientIDsSequence = Sequence([other])
    request = Dataset()
    request.RequestedProcedureID = PHI["request_id"]
    request.ReasonForTheRequestedProcedure = f"pain {PHI['name_family']}"
    ds.RequestAttributesSequence = Sequence([request])
    # Deep nesting inside a sequence the profile keeps and cleans.
    deep = Dataset()
    deep.ContentCreatorName = f"{PHI['nested_person']}^Ann"
    deep.InstitutionName = PHI["institution"]
    deep.ContentDate = PHI["study_date"]
    deep.CodeValue = "121311"
    deep.CodingSchemeDesignator = "DCM"
    deep.CodeMeaning = "Localizer"
    ref = Dataset()
    ref.ReferencedSOPClassUID = ds.SOPClassUID
    ref.ReferencedSOPInstanceUID = "1.2.999.17.4.1"
    ref.PurposeOfReferenceCodeSequence = Sequence([deep])
    ref.PerformingPhysicianName = PHI["referrer"]
    ds.ReferencedImageSequence = Sequence([ref])
    # Private block with text, OB bytes and a nested private sequence.
    block = ds.private_block(0x0011, "SYNTH PRIVATE", create=True)
    block.add_new(0x01, "LO", PHI["private_text"])
    block.add_new(0x02, "OB", f"xx{PHI['patient_id']}yy".encode())
    inner = Dataset()
    inner.PatientName = name
    inner_block = inner.private_block(0x0013, "SYNTH NESTED", create=True)
    inner_block.add_new(0x01, "LO", PHI["nested_person"])
    block.add_new(0x03, "SQ", Sequence([inner]))
    return ds


def phi_strings() -> list[str]:
    values = list(PHI.values())
    # Date in common textual forms as well.
    values += ["2019-07-04", "1947-03-12"]
    return values


def assert_no_phi(data: bytes, extra: list[str] = ()) -> None:  # type: ignore[assignment]
    upper = data.upper()
    for value in [*phi_strings(), *extra]:
        assert value.upper().encode() not in upper, "synthetic PHI survived in output bytes"


@pytest.fixture
def policy() -> Policy:
    return POLICY
