"""Reading IHE TCE Key Object Selection text and de-identifying it (pure, no network)."""

from __future__ import annotations

import pydicom
from pydicom.data import get_testdata_file

from archive.deid import collect_phi_hints
from archive.dimse.key_objects import (
    REMOVED,
    deidentify_fields,
    deidentify_text,
    teaching_file_fields,
)
from tests.phi import inject_phi


def _hints(patient):
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    inject_phi(ds, patient)
    return [collect_phi_hints(ds)]


def test_fields_from_equals_and_colon_lines_with_continuations():
    fields = teaching_file_fields(
        [
            "Title = Pneumothorax\nhistory: dyspnoea\n  after a fall\nFindings=Air\nDx: PTX\n"
            "unrelated: ignored"
        ]
    )
    assert fields.title == "Pneumothorax"
    assert fields.history == "dyspnoea\nafter a fall"
    assert fields.findings == "Air"
    assert fields.diagnosis == "PTX"


def test_names_parts_ids_and_dates_are_removed(patient):
    born = patient.birth_date
    text = (
        f"{patient.given.lower()} {patient.family.upper()} (ID {patient.patient_id}) born "
        f"{born[:4]}-{born[4:6]}-{born[6:8]}, seen 3/4/2021 and on 20210304 at "
        f"{patient.institution}; accession {patient.accession}. Left lower lobe consolidation."
    )
    out = deidentify_text(text, _hints(patient))
    for secret in patient.secrets():
        assert secret.upper() not in out.upper()
    assert "3/4/2021" not in out and "20210304" not in out
    assert "Left lower lobe consolidation." in out
    assert out.count(REMOVED) >= 6


def test_short_hints_only_match_whole_tokens(patient):
    patient_hints = _hints(patient)
    out = deidentify_text("Predecessor lesion, 12 mm", patient_hints)
    assert out == "Predecessor lesion, 12 mm"


def test_every_field_is_cleaned(patient):
    fields = teaching_file_fields([f"title=Case of {patient.family}\ndiagnosis=Pneumonia"])
    clean = deidentify_fields(fields, _hints(patient))
    assert clean.title == f"Case of {REMOVED}"
    assert clean.diagnosis == "Pneumonia"
