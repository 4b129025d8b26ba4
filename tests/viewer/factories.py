"""Cases with real anonymized images, built without a worker: receive the files, then run the
processing service in-process (as tests/archive/test_permissions.py does)."""

from __future__ import annotations

import io

import numpy as np
import pydicom
from pydicom.data import get_testdata_file

from archive.models import Case, Diagnosis
from archive.services.intake import receive_files, received_from_bytes
from archive.services.processing import process_upload
from tests.conftest import dicom_bytes
from tests.phi import SyntheticPatient, inject_phi, unique_copy


def ct_stack(count: int, *, hook=None, patient: SyntheticPatient | None = None) -> list[bytes]:
    """``count`` slices of one CT series (CT_small shifted a little per slice, synthetic PHI)."""
    base = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    inject_phi(base, patient or SyntheticPatient())
    pixels = base.pixel_array
    out = []
    for n in range(count):
        ds = unique_copy(base, n + 1)
        ds.PixelData = np.roll(pixels, n * 6, axis=0).astype(pixels.dtype).tobytes()
        if hook:
            hook(ds)
        out.append(dicom_bytes(ds))
    return out


def rgb_multiframe(*, hook=None, patient: SyntheticPatient | None = None) -> bytes:
    """pydicom's two-frame RGB RLE secondary capture: a colour multi-frame (cine) object."""
    ds = pydicom.dcmread(get_testdata_file("SC_rgb_rle_2frame.dcm"))
    inject_phi(ds, patient or SyntheticPatient())
    if hook:
        hook(ds)
    return dicom_bytes(ds)


def make_case(
    owner,
    files: list[bytes],
    *,
    publish: bool = True,
    title: str = "Chest CT of a young adult",
    **fields,
) -> Case:
    fields.setdefault("modality", "CT")
    fields.setdefault("body_region", "chest")
    case = Case.objects.create(owner=owner, title=title, **fields)
    upload = receive_files(case=case, user=owner, files=[received_from_bytes(b) for b in files])
    process_upload(upload.pk)
    if publish:
        case.status = Case.Status.PUBLISHED
        case.save(update_fields=["status"])
    return case


def pneumothorax() -> Diagnosis:
    return Diagnosis.objects.get_or_create(
        name="Pneumothorax",
        defaults={"icd10": "J93.1", "synonyms": "PTX\nCollapsed lung", "name_cs": "Pneumotorax"},
    )[0]


def read_zip_members(data: bytes) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}
