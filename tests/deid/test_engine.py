"""End-to-end de-identification of real pydicom test files with synthetic PHI."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import replace

import pydicom
import pytest
from pydicom import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID

from archive.deid import (
    DateModeValues,
    DeidResult,
    Policy,
    RejectedInput,
    collect_phi_hints,
    deidentify_bytes,
    deidentify_dataset,
    pseudonymize_patient,
    pseudonymize_uid,
    verify,
)
from archive.deid.engine import PIXELS_NOT_CHECKED
from archive.deid.hints import HintCategoryValues, PhiHints
from archive.deid.pixels import clean_pixels
from archive.deid.private import SAFE_PRIVATE, creator_key
from archive.deid.uids import CLASS_UID_TAGS, is_standard_uid
from tests.deid.conftest import (
    PHI,
    assert_no_phi,
    inject_phi,
    load,
    load_bytes,
    phi_strings,
    to_bytes,
)

PYDICOM_ROOT = PYDICOM_IMPLEMENTATION_UID  # written in our file meta
UID_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")

FILES = [
    "CT_small.dcm",
    "MR_small.dcm",
    "MR_small_RLE.dcm",
    "JPEG2000.dcm",
    "JPGExtended.dcm",
    "image_dfl.dcm",
    "examples_overlay.dcm",
    "rtstruct.dcm",
    "rtplan.dcm",
    "rtdose.dcm",
    "test-SR.dcm",
    "badVR.dcm",
    "waveform_ecg.dcm",
    "SC_rgb_rle_2frame.dcm",
    "MR_small_bigendian.dcm",
    "MR_small_implicit.dcm",
    "reportsi.dcm",
]


def _original_uids(ds: Dataset) -> set[str]:
    uids = set()
    for elem in ds.iterall():
        if elem.VR == "UI" and elem.tag not in CLASS_UID_TAGS and elem.value:
            values = elem.value if isinstance(elem.value, list) else [elem.value]
            uids.update(str(v) for v in values if not is_standard_uid(str(v)))
    return uids


def _read(result: DeidResult) -> Dataset:
    return pydicom.dcmread(DicomBytesIO(result.to_bytes()))


def _assert_only_safe_private(ds: Dataset) -> None:
    """Private elements left are rows of PS3.15 Table E.3.10-1 and their creators."""
    for elem in ds:
        tag = elem.tag
        if elem.VR == "SQ":
            for item in elem.value:
                _assert_only_safe_private(item)
        if not tag.is_private or tag.element < 0x1000:
            continue
        creator = creator_key(str(ds[(tag.group << 16) | (tag.element >> 8)].value))
        assert (tag.group, creator, tag.element & 0xFF) in SAFE_PRIVATE, "private element kept"


@pytest.mark.parametrize("name", FILES)
def test_no_synthetic_phi_survives(name: str, policy: Policy) -> None:
    original = inject_phi(load(name))
    result = deidentify_bytes(to_bytes(original), policy)

    # The policy has no pixel cleaner: an image is set aside for that reason alone (its
    # header is checked below all the same), a document without pixels is published.
    has_pixels = "PixelData" in original
    assert result.reasons == ([PIXELS_NOT_CHECKED] if has_pixels else [])
    assert result.status == ("quarantined" if has_pixels else "anonymized")
    data = result.to_bytes()
    uids = _original_uids(original)
    extra = sorted(u for u in uids if len(u) > 9 and not PYDICOM_ROOT.startswith(u))
    assert_no_phi(data, extra=extra)
    out = _read(result)
    _assert_only_safe_private(out)
    for elem in out.iterall():
        if elem.VR == "UI" and elem.value:
            for uid in elem.value if isinstance(elem.value, list) else [elem.value]:
                assert UID_RE.match(str(uid)) and len(str(uid)) <= 64
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert out.PatientIdentityRemoved == "YES"
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"
    codes = {item.CodeValue for item in out.DeidentificationMethodCodeSequence}
    assert {"113100", "113107", "113108", "113105", "113103", "113111"} <= codes
    assert out.PatientBirthDate == ""
    assert "OtherPatientIDsSequence" not in out and "ImageComments" not in out
    for item in out.get("RequestAttributesSequence", []):  # kept under Clean Descriptors
        # Type 1C in the Request Attributes Macro of image IODs: a dummy, not removed.
        assert item.get("RequestedProcedureID") in (None, "ANONYMIZED")
    assert str(out.PatientName).startswith("ANON^")
    # Audit is JSON and carries no values.
    audit = json.dumps(result.audit)
    for value in phi_strings():
        assert value not in audit


def test_verifier_finds_residual_phi_without_naming_it(policy: Policy) -> None:
    original = inject_phi(load("CT_small.dcm"))
    hints = collect_phi_hints(original)
    result = deidentify_dataset(original, policy)
    out = result.dataset
    assert verify(out, hints) == []
    leaky = out.copy()
    item = Dataset()
    item.TextValue = f"call {PHI['phone']}"
    leaky.ContentSequence = [item]
    leaky.add_new(0x00291010, "OB", f"..{PHI['name_family'].upper()}..".encode())
    leaky.StudyInstanceUID = original.StudyInstanceUID
    reasons = verify(leaky, hints)
    assert len(reasons) == 4
    assert "Residual phone number found in TextValue (0040,A160)." in reasons  # a header value
    # ... and the shape of a phone number in kept free text, whoever's number it is.
    assert (
        "Residual phone number pattern found in the free text of TextValue (0040,A160)." in reasons
    )
    assert any("(0029,1010)" in r for r in reasons)
    assert any("StudyInstanceUID" in r and "UID" in r for r in reasons)
    for reason in reasons:
        for value in phi_strings():
            assert value.upper() not in reason.upper()


def test_same_patient_same_pseudonym_and_shift(policy: Policy) -> None:
    first = deidentify_bytes(to_bytes(inject_phi(load("CT_small.dcm"))), policy).dataset
    mr = inject_phi(load("MR_small.dcm"))
    mr.StudyDate = "20200105"
    second = deidentify_bytes(to_bytes(mr), policy).dataset
    assert first.PatientName == second.PatientName
    assert first.PatientID == second.PatientID
    assert re.match(r"^ANON-[0-9A-F]{20}$", str(first.PatientID))

    def day(value: str) -> dt.date:
        return dt.datetime.strptime(value, "%Y%m%d").date()

    shift1 = day(first.StudyDate) - day(PHI["study_date"])
    shift2 = day(second.StudyDate) - day("20200105")
    assert shift1 == shift2
    assert -3650 <= shift1.days <= -10
    # Interval between the two studies is preserved.
    assert day(second.StudyDate) - day(first.StudyDate) == day("20200105") - day(PHI["study_date"])
    other = inject_phi(load("CT_small.dcm"))
    other.PatientID = "SYNPID00001"
    third = deidentify_bytes(to_bytes(other), policy).dataset
    assert third.PatientID != first.PatientID


def _days_after(date: str, days: int) -> str:
    return (dt.datetime.strptime(date, "%Y%m%d") + dt.timedelta(days=days)).strftime("%Y%m%d")


def test_a_study_date_shifted_onto_the_birth_date_passes(policy: Policy) -> None:
    """A child imaged exactly as many days after birth as the patient's dates are shifted
    back: the shifted study date is the birth date.  That value is the engine's own output
    and tells nobody the birth date, so the instance is not quarantined for it (it was:
    "Residual date found in StudyDate", and CI once hit it with a random synthetic patient)."""
    ds = inject_phi(load("CT_small.dcm"))
    days = pseudonymize_patient(ds, policy).date_shift_days
    study = _days_after(PHI["birth_date"], -days)
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = study
    ds.AcquisitionDateTime = study + "101500"
    # The archive's own pixel cleaner: with it the written file is verified again, read back.
    with_pixels = replace(policy, pixel_cleaner=clean_pixels)
    result = deidentify_bytes(to_bytes(ds), with_pixels)
    assert result.status == "anonymized", result.reasons
    out = pydicom.dcmread(io.BytesIO(result.to_bytes()))
    assert out.StudyDate == out.SeriesDate == PHI["birth_date"]  # the coincidence happened
    assert out.AcquisitionDateTime == PHI["birth_date"] + "101500"
    assert out.get("PatientBirthDate", "") != PHI["birth_date"]


def test_a_kept_study_date_on_the_birth_date_is_still_residual(policy: Policy) -> None:
    """Full Dates keeps dates as they are: a newborn's study on the day of birth shows the
    birth date, which is never kept, so the curator decides."""
    keep = Policy(
        uid_key=policy.uid_key, pseudonym_key=policy.pseudonym_key, date_mode=DateModeValues.KEEP
    )
    ds = inject_phi(load("CT_small.dcm"))
    ds.StudyDate = PHI["birth_date"]
    reasons = deidentify_bytes(to_bytes(ds), keep).reasons
    assert "Residual date found in StudyDate (0008,0020)." in reasons


def test_only_the_shifted_value_of_a_shifted_date_is_excused() -> None:
    """The birth date anywhere the engine did not write it by a shift is residual; a shifted
    value that also holds another kind of identifying value is residual too."""
    birth, patient_id = PHI["birth_date"], "20100101123456"
    hints = PhiHints(
        substrings={
            birth: HintCategoryValues.DATE,
            patient_id: HintCategoryValues.IDENTIFIER,
            "03121015": HintCategoryValues.IDENTIFIER,  # overlaps the birth date "19470312"
        },
        shifted_dates=frozenset(
            {
                (0x00080020, birth),
                (0x0008002A, patient_id),
                (0x00080021, "20000101"),
                (0x0040A120, birth + "101500"),
            }
        ),
    )
    ds = Dataset()
    ds.StudyDate = birth  # written by the shift
    ds.SeriesDate = birth  # not the value the shift wrote there
    ds.AcquisitionDateTime = patient_id  # shifted, and also an identifier of the input
    ds.DateTime = birth + "101500"  # shifted onto the birth date, an ID across its time
    item = Dataset()
    item.StudyDate = birth  # a nested copy of a shifted element: the same (tag, value)
    item.ContentDate = birth
    ds.ReferencedStudySequence = [item]
    reasons = verify(ds, hints)
    assert sorted(reasons) == [
        "Residual date found in ContentDate (0008,0023).",
        "Residual date found in SeriesDate (0008,0021).",
        "Residual identifier found in AcquisitionDateTime (0008,002A).",
        "Residual identifier found in DateTime (0040,A120).",
    ]


def test_age_computed_and_capped(policy: Policy) -> None:
    ds = inject_phi(load("CT_small.dcm"))
    out = deidentify_dataset(ds, policy).dataset
    assert out.PatientAge == "072Y"  # 1947-03-12 .. 2019-07-04
    ds.PatientBirthDate = "19200101"
    out = deidentify_dataset(ds, policy).dataset
    assert out.PatientAge == "090Y"
    ds.PatientAge = "095Y"
    result = deidentify_dataset(ds, policy)
    assert result.dataset.PatientAge == "090Y"
    assert any(a["action"] == "age above 89 reported as 090Y" for a in result.audit)


def test_date_mode_remove(policy: Policy) -> None:
    pol = Policy(
        uid_key=policy.uid_key, pseudonym_key=policy.pseudonym_key, date_mode=DateModeValues.REMOVE
    )
    out = deidentify_bytes(to_bytes(inject_phi(load("CT_small.dcm"))), pol).dataset
    assert out.StudyDate == ""
    assert out.LongitudinalTemporalInformationModified == "REMOVED"
    codes = {item.CodeValue for item in out.DeidentificationMethodCodeSequence}
    assert "113107" not in codes


def test_references_resolve_across_files(policy: Policy) -> None:
    rtstruct = load("rtstruct.dcm")
    frame_ref = rtstruct.ReferencedFrameOfReferenceSequence[0]
    study_ref = frame_ref.RTReferencedStudySequence[0]
    series_ref = study_ref.RTReferencedSeriesSequence[0]
    image = load("CT_small.dcm")
    image.StudyInstanceUID = study_ref.ReferencedSOPInstanceUID
    image.SeriesInstanceUID = series_ref.SeriesInstanceUID
    image.FrameOfReferenceUID = frame_ref.FrameOfReferenceUID
    contour_image = Dataset()
    contour_image.ReferencedSOPClassUID = image.SOPClassUID
    contour_image.ReferencedSOPInstanceUID = image.SOPInstanceUID
    series_ref.ContourImageSequence = [contour_image]

    out_image = deidentify_bytes(to_bytes(image), policy).dataset
    out_struct = deidentify_bytes(to_bytes(rtstruct), policy).dataset
    new_frame = out_struct.ReferencedFrameOfReferenceSequence[0]
    new_study = new_frame.RTReferencedStudySequence[0]
    new_series = new_study.RTReferencedSeriesSequence[0]
    assert new_frame.FrameOfReferenceUID == out_image.FrameOfReferenceUID
    assert new_study.ReferencedSOPInstanceUID == out_image.StudyInstanceUID
    assert new_series.SeriesInstanceUID == out_image.SeriesInstanceUID
    assert new_series.ContourImageSequence[0].ReferencedSOPInstanceUID == out_image.SOPInstanceUID
    assert out_image.file_meta.MediaStorageSOPInstanceUID == out_image.SOPInstanceUID
    for roi in out_struct.StructureSetROISequence:
        assert roi.ReferencedFrameOfReferenceUID == out_image.FrameOfReferenceUID
    # ROI names are kept (clean descriptors) for teaching.
    assert [r.ROIName for r in out_struct.StructureSetROISequence] == [
        r.ROIName for r in rtstruct.StructureSetROISequence
    ]


def test_sr_references_resolve(policy: Policy) -> None:
    def refs(ds: Dataset) -> list[str]:
        return [str(e.value) for e in ds.iterall() if e.keyword == "ReferencedSOPInstanceUID"]

    sr = load("test-SR.dcm")
    out = deidentify_bytes(load_bytes("test-SR.dcm"), policy).dataset
    assert refs(sr)
    assert refs(out) == [pseudonymize_uid(uid, policy) for uid in refs(sr)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "This file is empty."),
        (b"hello, this is a text file" * 20, "This is not a DICOM file"),
        (b"\x00" * 128 + b"DICM" + b"\x02\x00", "DICOM file"),
    ],
)
def test_bad_inputs_rejected(policy: Policy, data: bytes, message: str) -> None:
    with pytest.raises(RejectedInput, match=re.escape(message)):
        deidentify_bytes(data, policy)


@pytest.mark.parametrize("name", ["MR_truncated.dcm", "rtplan_truncated.dcm"])
def test_truncated_files_rejected(policy: Policy, name: str) -> None:
    with pytest.raises(RejectedInput, match="truncated"):
        deidentify_bytes(load_bytes(name), policy)


def test_truncated_copy_of_real_file_rejected(policy: Policy) -> None:
    data = to_bytes(inject_phi(load("CT_small.dcm")))
    with pytest.raises(RejectedInput) as info:
        deidentify_bytes(data[: len(data) // 2], policy)
    for value in phi_strings():
        assert value not in str(info.value)


@pytest.mark.parametrize(
    ("name", "syntax"),
    [
        ("ExplVR_LitEndNoMeta.dcm", "1.2.840.10008.1.2.1"),
        ("ExplVR_BigEndNoMeta.dcm", "1.2.840.10008.1.2.2"),
        ("MR_small_bigendian.dcm", "1.2.840.10008.1.2.2"),
        ("MR_small_implicit.dcm", "1.2.840.10008.1.2"),
        ("image_dfl.dcm", "1.2.840.10008.1.2.1.99"),
    ],
)
def test_encodings_round_trip(policy: Policy, name: str, syntax: str) -> None:
    result = deidentify_bytes(load_bytes(name), policy)
    out = _read(result)
    assert out.file_meta.TransferSyntaxUID == syntax
    assert out.SOPInstanceUID == result.dataset.SOPInstanceUID
    if "PixelData" in out:
        original = load(name)
        assert (out.pixel_array == original.pixel_array).all()


def test_no_preamble_garbage_rejected(policy: Policy) -> None:
    with pytest.raises(RejectedInput, match="not a DICOM file"):
        deidentify_bytes(load_bytes("no_meta.dcm"), policy)


def test_private_blocks_removed_and_safe_private_kept(policy: Policy) -> None:
    ds = inject_phi(load("MR_small.dcm"))
    # Real odd-group content from pydicom's private-sequence test files.
    for name in ("nested_priv_SQ.dcm", "priv_SQ.dcm", "UN_sequence.dcm"):
        for elem in load(name):
            if elem.tag.group & 1:
                ds.add(elem)
    siemens = ds.private_block(0x0019, "SIEMENS MR HEADER", create=True)
    siemens.add_new(0x0C, "IS", "1000")
    # Text at safe elements: the patient's name fails the verifier, a plain code passes.
    siemens.add_new(0x0D, "CS", PHI["name_family"].upper())
    siemens.add_new(0x0E, "FD", [0.0, 0.7071, 0.7071])
    ge = ds.private_block(0x0019, "GEMS_ACQU_01", create=True)
    ge.add_new(0x9E, "LO", "EPI2_DIFF")  # Internal Pulse Sequence Name
    ge.add_new(0x23, "LO", "39.37 mm")  # Table Speed, but not with the table's VR (DS)
    result = deidentify_bytes(to_bytes(ds), policy)
    assert result.reasons == [PIXELS_NOT_CHECKED]  # nothing in the header
    out = _read(result)
    private = {elem.tag: elem.value for elem in out.iterall() if elem.tag.is_private}
    assert private == {
        0x00190010: "SIEMENS MR HEADER",
        0x0019100C: "1000",
        0x0019100E: [0.0, 0.7071, 0.7071],
        0x00190011: "GEMS_ACQU_01",
        0x0019119E: "EPI2_DIFF",
    }
    audit = {(a["tag"], a["action"]) for a in result.audit}
    assert ("(0019,100D)", "removed: safe private value failed verification") in audit
    assert_no_phi(result.to_bytes())


def test_bad_vr_file_does_not_stop_batch(policy: Policy) -> None:
    result = deidentify_bytes(load_bytes("badVR.dcm"), policy)
    result.to_bytes()
    assert result.reasons == [PIXELS_NOT_CHECKED]  # the header was de-identified


def test_overlays_removed(policy: Policy) -> None:
    result = deidentify_bytes(load_bytes("examples_overlay.dcm"), policy)
    out = _read(result)
    assert not [e for e in out if 0x6000 <= e.tag.group <= 0x60FF]
    assert any(a["action"] == "removed (overlay)" for a in result.audit)


def test_input_dataset_not_modified(policy: Policy) -> None:
    ds = inject_phi(load("CT_small.dcm"))
    before = to_bytes(ds)
    deidentify_dataset(ds, policy)
    assert to_bytes(ds) == before


def test_pixel_cleaner_hook(policy: Policy) -> None:
    seen = {}

    def cleaner_ok(ds: Dataset, hints: object) -> bool:
        seen["hints"] = list(hints)  # type: ignore[call-overload]
        return True

    def cleaner_fails(ds: Dataset, hints: object) -> bool:
        return False

    def cleaner_raises(ds: Dataset, hints: object) -> bool:
        raise RuntimeError(PHI["name_family"])

    data = to_bytes(inject_phi(load("CT_small.dcm")))
    kwargs = {"uid_key": policy.uid_key, "pseudonym_key": policy.pseudonym_key}
    ok = deidentify_bytes(data, Policy(**kwargs, pixel_cleaner=cleaner_ok))
    assert ok.status == "anonymized" and ok.pixels_clean is True
    assert ok.dataset.BurnedInAnnotation == "NO"
    assert "113101" in {i.CodeValue for i in ok.dataset.DeidentificationMethodCodeSequence}
    assert PHI["name_family"].upper() in seen["hints"]
    for cleaner in (cleaner_fails, cleaner_raises):
        bad = deidentify_bytes(data, Policy(**kwargs, pixel_cleaner=cleaner))
        assert bad.status == "quarantined" and bad.pixels_clean is False
        assert PHI["name_family"] not in " ".join(bad.reasons)
    plain = deidentify_bytes(data, policy)  # no cleaner: burned-in text not looked for
    assert plain.pixels_clean is None
    assert plain.status == "quarantined" and plain.reasons == [PIXELS_NOT_CHECKED]
    assert "113101" not in {i.CodeValue for i in plain.dataset.DeidentificationMethodCodeSequence}


def test_hints_repr_hides_values(policy: Policy) -> None:
    result = deidentify_bytes(to_bytes(inject_phi(load("CT_small.dcm"))), policy)
    assert PHI["name_family"].upper() not in repr(result.phi_hints)
    assert PHI["name_family"].upper() not in repr(result)
