"""The archive's own output de-identified again (an imported case package, a downloaded study
uploaded again) passes: the engine's placeholder is no PHI hint, so nothing is quarantined for
a value the first pass wrote."""

from __future__ import annotations

import pydicom
import pytest
from pydicom.data import get_testdata_file

from archive.deid.engine import deidentify_bytes
from archive.deid.hints import PLACEHOLDER_TEXT
from archive.services.policy import archive_policy
from tests.conftest import dicom_bytes
from tests.phi import SyntheticPatient, inject_phi


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm"])
def test_deidentifying_the_output_again_is_anonymized(name):
    ds = pydicom.dcmread(get_testdata_file(name))
    inject_phi(ds, SyntheticPatient())
    first = deidentify_bytes(dicom_bytes(ds), archive_policy())
    assert first.status == "anonymized", first.reasons
    again = deidentify_bytes(first.to_bytes(), archive_policy())
    assert again.status == "anonymized", again.reasons
    if name == "CT_small.dcm":  # the case that used to fail: Type 2 text given the placeholder
        assert again.dataset.InstitutionName == PLACEHOLDER_TEXT
