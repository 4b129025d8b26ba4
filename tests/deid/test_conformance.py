"""Each class of validation error the engine used to introduce, fixed at its root (issue 17).

Every test de-identifies a real pydicom file carrying the case, checks what a PACS would see
(the attribute removed, empty, or a valid value) and that dciodvfy finds nothing new.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.sequence import Sequence

from archive.deid import DateModeValues, Policy, RejectedInput, deidentify_bytes
from archive.deid.conformance import TYPE_1, TYPE_2, TYPE_3, attribute_types
from archive.deid.dates import cap_age, parse_da, shift_da, shift_dt
from tests.deid.conftest import POLICY, inject_phi, load, load_bytes, to_bytes
from tests.deid.test_dciodvfy import new_errors

needs_dciodvfy = pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="needs dicom3tools")
CT = "1.2.840.10008.5.1.4.1.1.2"
REMOVE_DATES = Policy(
    uid_key=POLICY.uid_key, pseudonym_key=POLICY.pseudonym_key, date_mode=DateModeValues.REMOVE
)


def _run(ds: Dataset, tmp_path: Path, policy: Policy = POLICY) -> Dataset:
    source = to_bytes(ds)
    output = deidentify_bytes(source, policy).to_bytes()
    if shutil.which("dciodvfy"):
        assert new_errors(source, output, tmp_path) == []
    return pydicom.dcmread(DicomBytesIO(output))


def _ref(uid: str) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    item.ReferencedSOPInstanceUID = uid
    return item


def test_types_come_from_the_standard() -> None:
    types = attribute_types(CT)
    tag = pydicom.datadict.tag_for_keyword
    assert types[(tag("ReferencedStudySequence"),)] == TYPE_3  # PS3.3 C.7.2.1 General Study
    assert types[(tag("AccessionNumber"),)] == TYPE_2
    request = (tag("RequestAttributesSequence"), tag("ScheduledProcedureStepID"))
    assert types[request] == TYPE_1  # 1C in the Request Attributes Macro
    assert attribute_types("1.2.3.4.5.6.7.8") == {}  # a private SOP Class: no opinion


@needs_dciodvfy
def test_type_3_sequence_the_profile_empties_is_removed(tmp_path: Path) -> None:
    # X/Z in Table E.1-1; an empty Type 3 sequence is "Bad Sequence number of Items 0".
    ds = inject_phi(load("CT_small.dcm"))
    ds.ReferencedStudySequence = Sequence([_ref("1.2.999.5.1")])
    out = _run(ds, tmp_path)
    assert "ReferencedStudySequence" not in out


@needs_dciodvfy
def test_type_3_attribute_the_profile_empties_is_removed(tmp_path: Path) -> None:
    ds = inject_phi(load("CT_small.dcm"))
    ds.ConsultingPhysicianName = "Consultfake^Hedwig"  # Z; Type 3 in General Study
    out = _run(ds, tmp_path)
    assert "ConsultingPhysicianName" not in out
    assert out.AccessionNumber == "" and out.ReferringPhysicianName == ""  # Z, Type 2: kept


@needs_dciodvfy
def test_type_1_attribute_the_profile_removes_gets_a_dummy(tmp_path: Path) -> None:
    # Scheduled Procedure Step ID is X in Table E.1-1 but Type 1C in the Request Attributes
    # Macro of the General Series module: removing it is "Missing attribute Type 1C".
    ds = inject_phi(load("CT_small.dcm"))
    request = ds.RequestAttributesSequence[0]
    request.ScheduledProcedureStepID = "SPS-SYN-4411"
    out = _run(ds, tmp_path)
    item = out.RequestAttributesSequence[0]
    assert item.ScheduledProcedureStepID == "ANONYMIZED"
    assert item.RequestedProcedureID == "ANONYMIZED"


@needs_dciodvfy
def test_type_2_attribute_the_profile_removes_is_emptied(tmp_path: Path) -> None:
    # Responsible Person is X, but Type 2C in the Patient module when the patient is an animal.
    ds = inject_phi(load("CT_small.dcm"))
    ds.PatientSpeciesDescription = "Canis lupus familiaris"
    ds.PatientBreedDescription = "Beagle"
    ds.PatientBreedCodeSequence = Sequence()
    ds.BreedRegistrationSequence = Sequence()
    ds.ResponsiblePerson = "Ownerfake^Karl"
    ds.ResponsiblePersonRole = "OWNER"
    out = _run(ds, tmp_path)
    assert out.ResponsiblePerson == ""
    assert "ResponsiblePersonRole" not in out  # 1C: only with a Responsible Person value


@needs_dciodvfy
@pytest.mark.parametrize(
    ("value", "expected"),
    [("851027", "19851027"), ("1985.10.27", "19851027"), ("1985-10-27", "19851027")],
)
def test_legacy_dates_are_read_and_written_in_the_standard_form(
    tmp_path: Path, value: str, expected: str
) -> None:
    ds = inject_phi(load("CT_small.dcm"))
    ds.StudyDate = value
    ds.SeriesDate = value
    days = deidentify_bytes(to_bytes(ds), POLICY).dataset.StudyDate
    out = _run(ds, tmp_path)
    assert out.StudyDate == days and len(days) == 8 and days.isdigit()
    assert shift_da(value, 0) == expected
    assert out.SeriesDate == out.StudyDate


@needs_dciodvfy
def test_dates_that_cannot_be_read_follow_their_type(tmp_path: Path) -> None:
    ds = inject_phi(load("CT_small.dcm"))
    ds.StudyDate = "27/10/85X"  # Type 2 in General Study: empty
    ds.AcquisitionDate = "19851399"  # Type 3 in General Image: removed
    out = _run(ds, tmp_path)
    assert out.StudyDate == ""
    assert "AcquisitionDate" not in out


@needs_dciodvfy
def test_invalid_date_in_a_type_1_content_item_gets_a_dummy(tmp_path: Path) -> None:
    ds = load("test-SR.dcm")
    item = Dataset()
    item.RelationshipType = "HAS OBS CONTEXT"
    item.ValueType = "DATE"
    concept = Dataset()
    concept.CodeValue, concept.CodingSchemeDesignator = "111060", "DCM"
    concept.CodeMeaning = "Study Date"
    item.ConceptNameCodeSequence = Sequence([concept])
    item.Date = "20191332"  # Type 1 in a DATE content item
    ds.ContentSequence.append(item)
    out = _run(ds, tmp_path)
    assert out.ContentSequence[-1].Date == "19000101"


def test_datetimes_in_iso_form_and_with_bad_times() -> None:
    assert shift_dt("2019-07-04T12:30:45.5+01:00", 0) == "20190704123045.5+0100"
    assert shift_dt("2019-07-04T12:30:45Z", 1) == "20190705123045+0000"
    assert shift_dt("20190704256000", 1) == "20190705"  # hour 25: cut back to the date
    assert shift_dt("20190704123000+2500", 0) == "20190704123000"  # no such offset
    assert shift_dt("201907", 40) == "201908"
    assert shift_dt("2019-13-01", 0) is None
    assert parse_da("690101") is not None and parse_da("690101").year == 1969
    assert parse_da("680101").year == 2068


@needs_dciodvfy
def test_ages_in_loose_forms_are_written_validly(tmp_path: Path) -> None:
    assert cap_age("45") == ("045Y", False)
    assert cap_age("4 m") == ("004M", False)
    assert cap_age("X45") == (None, False)
    ds = inject_phi(load("CT_small.dcm"))
    ds.PatientAge = "45Y"
    out = _run(ds, tmp_path)
    assert out.PatientAge == "045Y"
    ds.PatientAge = "forty"  # Type 3 in Patient Study: removed
    out = _run(ds, tmp_path)
    assert "PatientAge" not in out


@needs_dciodvfy
def test_invalid_uids_come_out_valid(tmp_path: Path) -> None:
    ds = inject_phi(load("CT_small.dcm"))
    ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID = "1.2.03.4"  # leading zero
    out = _run(ds, tmp_path)
    uid = out.ReferencedImageSequence[0].ReferencedSOPInstanceUID
    assert uid.startswith("2.25.") and uid.is_valid


@needs_dciodvfy
def test_person_names_written_are_valid(tmp_path: Path) -> None:
    ds = inject_phi(load("CT_small.dcm"))
    ds.PerformingPhysicianName = "X" * 70 + "^Overlong"  # invalid PN in the input
    out = _run(ds, tmp_path)
    assert "PerformingPhysicianName" not in out  # Type 3 in General Series
    assert str(out.PatientName).startswith("ANON^")


def test_a_private_sop_class_keeps_the_profile_choice() -> None:
    ds = inject_phi(load("CT_small.dcm"))
    ds.SOPClassUID = "1.2.3.4.5.6.7.8.9"
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.ReferencedStudySequence = Sequence([_ref("1.2.999.5.1")])
    ds.ConsultingPhysicianName = "Consultfake^Hedwig"
    out = deidentify_bytes(to_bytes(ds), POLICY).dataset
    assert len(out.ReferencedStudySequence) == 0
    assert out.ConsultingPhysicianName == ""


def test_a_file_truncated_inside_a_sequence_is_rejected() -> None:
    with pytest.raises(RejectedInput, match="truncated"):
        deidentify_bytes(load_bytes("rtplan_truncated.dcm"), POLICY)


@needs_dciodvfy
def test_an_implicit_body_under_an_explicit_transfer_syntax_is_written(tmp_path: Path) -> None:
    source = load_bytes("SC_rgb_jpeg.dcm")
    output = deidentify_bytes(source, POLICY).to_bytes()
    out = pydicom.dcmread(io.BytesIO(output))
    assert list(out.ImageType) == ["DERIVED", "SECONDARY", "OTHER"]
    assert new_errors(source, output, tmp_path) == []


@needs_dciodvfy
def test_remove_dates_mode_keeps_type_1_dates(tmp_path: Path) -> None:
    # Basic Profile dates (X, Z, X/D...) on a CT: nothing Type 1/2 goes missing.
    ds = inject_phi(load("CT_small.dcm"))
    out = _run(ds, tmp_path, REMOVE_DATES)
    assert out.StudyDate == "" and out.StudyTime == ""  # Z, Type 2
    assert out.ContentDate == "19000101"  # Z/D, Type 2: the dummy is chosen
    assert "AcquisitionDate" not in out  # X/Z, Type 3
