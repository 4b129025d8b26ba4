"""The profile as options (PS3.15 Table E.1-1 columns): read from text, refused when unknown or
contradictory, and one test per option that switching it changes the output as documented in
docs/deid-profile.md, and that De-identification Method Code Sequence (CID 7050) says so."""

from __future__ import annotations

import pydicom
import pytest
from pydicom import Dataset
from pydicom.filebase import DicomBytesIO

from archive.deid import DeidResult, Policy, deidentify_bytes
from archive.deid.enums import ProfileOptionValues as O
from archive.deid.options import (
    DEFAULT_PROFILE,
    ProfileError,
    parse_acknowledgements,
    parse_profile,
)
from tests.deid.conftest import PHI, POLICY, inject_phi, load, to_bytes

KEYS = {"uid_key": POLICY.uid_key, "pseudonym_key": POLICY.pseudonym_key}


def _policy(options) -> Policy:
    return Policy.from_profile(options, **KEYS)


def _with(option: O) -> Policy:
    return _policy({*DEFAULT_PROFILE, option})


def _without(option: O) -> Policy:
    return _policy(set(DEFAULT_PROFILE) - {option})


def _run(ds: Dataset, policy: Policy) -> tuple[Dataset, DeidResult]:
    result = deidentify_bytes(to_bytes(ds), policy)
    return pydicom.dcmread(DicomBytesIO(result.to_bytes())), result


def _codes(ds: Dataset) -> set[str]:
    return {item.CodeValue for item in ds.DeidentificationMethodCodeSequence}


def _header_only(result: DeidResult) -> list[str]:
    return [r for r in result.reasons if "pixel data was not checked" not in r]


# --- reading a profile -------------------------------------------------------------------------


def test_the_default_is_the_archives_choice() -> None:
    assert POLICY.profile == (
        O.RETAIN_LONGITUDINAL_MODIFIED_DATES,
        O.RETAIN_PATIENT_CHARACTERISTICS,
        O.CLEAN_DESCRIPTORS,
        O.CLEAN_STRUCTURED_CONTENT,
        O.CLEAN_GRAPHICS,
        O.RETAIN_SAFE_PRIVATE,
    )
    assert set(_policy(DEFAULT_PROFILE).profile) == set(DEFAULT_PROFILE)


def test_names_meanings_and_codes_are_all_accepted() -> None:
    text = "Retain UIDs Option, retain_device_identity ,113112, CLEAN GRAPHICS"
    assert parse_profile(text, {O.RETAIN_UIDS}) == {
        O.RETAIN_UIDS,
        O.RETAIN_DEVICE_IDENTITY,
        O.RETAIN_INSTITUTION_IDENTITY,
        O.CLEAN_GRAPHICS,
    }
    assert parse_profile("") == frozenset()  # the Basic Profile alone


def test_an_unknown_option_is_refused_with_the_list_of_real_ones() -> None:
    with pytest.raises(ProfileError, match="does not exist: 'clean-pixels'.*clean-graphics"):
        parse_profile("clean-descriptors, clean-pixels")


def test_full_and_modified_dates_contradict() -> None:
    with pytest.raises(ProfileError, match="both .*full-dates and .*modified-dates"):
        parse_profile(
            "retain-longitudinal-full-dates, retain-longitudinal-modified-dates",
            {O.RETAIN_LONGITUDINAL_FULL_DATES},
        )


@pytest.mark.parametrize(
    ("option", "word"),
    [(O.RETAIN_LONGITUDINAL_FULL_DATES, "full-dates"), (O.RETAIN_UIDS, "retain-uids")],
)
def test_identifying_options_need_an_acknowledgement(option: O, word: str) -> None:
    with pytest.raises(ProfileError) as refused:
        parse_profile(option.value)
    assert refused.value.needs_acknowledgement == word
    assert "a teaching archive should not use it" in str(refused.value)
    assert parse_profile(option.value, parse_acknowledgements(word)) == {option}
    with pytest.raises(ProfileError, match="accepts no option"):
        parse_acknowledgements("full-dates, everything")


# --- one test per option -------------------------------------------------------------------------


def test_retain_longitudinal_modified_dates() -> None:
    ds = inject_phi(load("CT_small.dcm"))
    shifted, _ = _run(ds, POLICY)
    removed, _ = _run(ds, _without(O.RETAIN_LONGITUDINAL_MODIFIED_DATES))
    assert shifted.StudyDate not in ("", PHI["study_date"]) and len(shifted.StudyDate) == 8
    assert shifted.LongitudinalTemporalInformationModified == "MODIFIED"
    assert removed.StudyDate == ""  # Z
    assert removed.LongitudinalTemporalInformationModified == "REMOVED"
    assert "113107" in _codes(shifted) and "113107" not in _codes(removed)


def test_retain_longitudinal_full_dates() -> None:
    ds = inject_phi(load("CT_small.dcm"))
    ds.SeriesDate = "2019.07.04"  # a legacy form: kept, written in the standard one
    policy = _policy(
        set(DEFAULT_PROFILE) - {O.RETAIN_LONGITUDINAL_MODIFIED_DATES}
        | {O.RETAIN_LONGITUDINAL_FULL_DATES}
    )
    out, result = _run(ds, policy)
    assert out.StudyDate == PHI["study_date"] and out.SeriesDate == PHI["study_date"]
    assert out.PatientBirthDate == ""  # the birth date is never kept
    assert out.LongitudinalTemporalInformationModified == "UNMODIFIED"
    assert "113106" in _codes(out) and "113107" not in _codes(out)
    assert _header_only(result) == []  # kept dates are no residual PHI under this profile


def test_retain_patient_characteristics() -> None:
    ds = inject_phi(load("CT_small.dcm"))
    ds.PatientSex, ds.PatientWeight, ds.PatientAge = "F", 71, "072Y"
    kept, _ = _run(ds, POLICY)
    removed, _ = _run(ds, _without(O.RETAIN_PATIENT_CHARACTERISTICS))
    assert (kept.PatientSex, kept.PatientWeight, kept.PatientAge) == ("F", 71, "072Y")
    assert removed.PatientSex == ""  # Z, Type 2
    assert "PatientWeight" not in removed and "PatientAge" not in removed  # X, Type 3
    assert "113108" in _codes(kept) and "113108" not in _codes(removed)


def test_retain_device_identity() -> None:
    ds = inject_phi(load("CT_small.dcm"))
    ds.StationName, ds.DeviceSerialNumber = "CTSYN01", "SN-SYN-7731"
    default, _ = _run(ds, POLICY)
    kept, result = _run(ds, _with(O.RETAIN_DEVICE_IDENTITY))
    assert default.StationName == "ANONYMIZED" and default.DeviceSerialNumber == "ANONYMIZED"
    assert kept.StationName == "CTSYN01" and kept.DeviceSerialNumber == "SN-SYN-7731"
    assert _header_only(result) == []
    assert "113109" in _codes(kept) and "113109" not in _codes(default)


def test_retain_institution_identity() -> None:
    ds = inject_phi(load("CT_small.dcm"))
    default, _ = _run(ds, POLICY)
    kept, result = _run(ds, _with(O.RETAIN_INSTITUTION_IDENTITY))
    assert default.InstitutionName == "ANONYMIZED" and "InstitutionAddress" not in default
    assert kept.InstitutionName == PHI["institution"]
    assert kept.InstitutionAddress.startswith(PHI["institution_address"])
    assert _header_only(result) == []
    assert "113112" in _codes(kept) and "113112" not in _codes(default)


def test_retain_uids() -> None:
    ds = inject_phi(load("CT_small.dcm"))
    policy = _policy({*DEFAULT_PROFILE, O.RETAIN_UIDS})
    default, _ = _run(ds, POLICY)
    kept, result = _run(ds, policy)
    assert default.SOPInstanceUID != ds.SOPInstanceUID
    assert kept.SOPInstanceUID == ds.SOPInstanceUID
    assert kept.StudyInstanceUID == ds.StudyInstanceUID
    assert kept.ReferencedImageSequence[0].ReferencedSOPInstanceUID == "1.2.999.17.4.1"
    assert kept.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert _header_only(result) == []
    assert "113110" in _codes(kept) and "113110" not in _codes(default)


def test_clean_descriptors() -> None:
    ds = inject_phi(load("CT_small.dcm"))
    kept, _ = _run(ds, POLICY)
    removed, _ = _run(ds, _without(O.CLEAN_DESCRIPTORS))
    assert kept.SeriesDescription == "AXIAL 5MM"
    assert "SeriesDescription" not in removed  # X, Type 3
    assert "StudyDescription" not in kept  # names the patient: the Basic Profile action
    assert "113105" in _codes(kept) and "113105" not in _codes(removed)


def _sr_with_text(text: str) -> Dataset:
    ds = inject_phi(load("test-SR.dcm"))
    for item in ds.ContentSequence:
        if item.ValueType == "TEXT":
            item.TextValue = text
    return ds


def test_clean_structured_content() -> None:
    ds = _sr_with_text(f"Nodule 4 mm, seen by Dr. {PHI['referrer']}")
    cleaned, _ = _run(ds, POLICY)
    dummy, _ = _run(ds, _without(O.CLEAN_STRUCTURED_CONTENT))
    texts = [i.TextValue for i in cleaned.ContentSequence if i.ValueType == "TEXT"]
    assert texts and all(t.startswith("Nodule 4 mm") and PHI["referrer"] not in t for t in texts)
    assert {i.TextValue for i in dummy.ContentSequence if i.ValueType == "TEXT"} == {"ANONYMIZED"}
    assert "113104" in _codes(cleaned) and "113104" not in _codes(dummy)


def test_clean_graphics() -> None:
    ds = load("examples_overlay.dcm")
    rows = 0x60000010  # Overlay Rows: kept by the Basic Profile, removed with the overlay
    assert rows in ds and 0x60003000 in ds
    removed, _ = _run(ds, POLICY)
    basic, _ = _run(ds, _without(O.CLEAN_GRAPHICS))
    assert not any(e.tag >> 16 == 0x6000 for e in removed)
    assert rows in basic and 0x60003000 not in basic  # overlay data: X either way
    assert "113103" in _codes(removed) and "113103" not in _codes(basic)


def test_retain_safe_private() -> None:
    ds = inject_phi(load("MR_small.dcm"))
    block = ds.private_block(0x0019, "SIEMENS MR HEADER", create=True)
    block.add_new(0x0C, "IS", "1000")  # B Value, Table E.3.10-1
    kept, _ = _run(ds, POLICY)
    removed, _ = _run(ds, _without(O.RETAIN_SAFE_PRIVATE))
    assert kept[0x0019100C].value == 1000 and kept[0x00190010].value == "SIEMENS MR HEADER"
    assert not any(e.tag.is_private for e in removed.iterall())
    assert not any(e.tag.group == 0x0011 for e in kept.iterall())  # not in the table
    assert "113111" in _codes(kept) and "113111" not in _codes(removed)


def test_content_items_of_acquisition_context_are_kept_and_cleaned() -> None:
    ds = load("waveform_ecg.dcm")
    item = ds.AcquisitionContextSequence[0]
    item.TextValue = f"placed by {PHI['operator']}^Ulf"
    item.ValueType = "TEXT"
    kept, _ = _run(ds, POLICY)
    basic, _ = _run(ds, _without(O.CLEAN_STRUCTURED_CONTENT))
    assert len(kept.AcquisitionContextSequence) == 1
    assert PHI["operator"] not in str(kept.AcquisitionContextSequence[0].get("TextValue", ""))
    assert len(basic.AcquisitionContextSequence) == 0  # X/Z, Type 2: emptied
    assert "AcquisitionContextSequence" in basic  # present, as Type 2 needs


def test_a_kept_institution_named_again_as_issuer_is_not_residual_phi() -> None:
    # Scanners often write the hospital as Issuer of Patient ID too (tests/phi.py does).
    from tests.phi import SyntheticPatient
    from tests.phi import inject_phi as inject_scanner_phi

    patient = SyntheticPatient()
    ds = inject_scanner_phi(load("CT_small.dcm"), patient)
    out, result = _run(ds, _with(O.RETAIN_INSTITUTION_IDENTITY))
    assert out.InstitutionName == patient.institution
    assert _header_only(result) == []
    assert patient.patient_id not in result.to_bytes().decode("latin-1")
