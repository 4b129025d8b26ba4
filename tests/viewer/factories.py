"""Cases with real anonymized images, built without a worker: receive the files, then run the
processing service in-process (as tests/archive/test_permissions.py does)."""

from __future__ import annotations

import io

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

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
    # Every file given is a valid image: one that did not become an instance is a failure here,
    # reported with who settled it (a worker left running by another test would show).
    settled = list(upload.items.values_list("status", "reason", "processed_by"))
    assert all(status == "anonymized" for status, _, _ in settled), settled
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


def ct_512(count: int, *, patient: SyntheticPatient | None = None) -> list[bytes]:
    """``count`` 512×512 CT slices (CT_small enlarged four times): the size of a real CT."""
    base = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    inject_phi(base, patient or SyntheticPatient())
    pixels = np.kron(base.pixel_array, np.ones((4, 4), dtype=base.pixel_array.dtype))
    spacing = [float(v) / 4 for v in base.PixelSpacing]
    out = []
    for n in range(count):
        ds = unique_copy(base, n + 1)
        ds.Rows, ds.Columns = pixels.shape
        ds.PixelSpacing = [f"{v:.6f}" for v in spacing]
        ds.PixelData = np.roll(pixels, n * 8, axis=0).astype(pixels.dtype).tobytes()
        out.append(dicom_bytes(ds))
    return out


def radiograph_value(row: int, column: int) -> int:
    """The stored value of ``radiograph()`` at a pixel: a smooth 12-bit field a test can check
    the viewer's readout against."""
    return int((row * 3 + column * 2) % 4096)


def radiograph(
    *, rows: int = 2140, columns: int = 1760, patient: SyntheticPatient | None = None
) -> bytes:
    """A chest radiograph the size of a real one (DX, MONOCHROME1, 12 bits stored, window in the
    header, Patient Orientation L\\F, no Image Orientation), built on CT_small's patient and
    study modules with synthetic PHI."""
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    inject_phi(ds, patient or SyntheticPatient())
    for keyword in ("ImageOrientationPatient", "ImagePositionPatient", "SliceLocation",
                    "SliceThickness", "KVP", "DataCollectionDiameter", "ReconstructionDiameter",
                    "GantryDetectorTilt", "TableHeight", "RotationDirection",
                    "ConvolutionKernel", "FrameOfReferenceUID", "PositionReferenceIndicator",
                    "RescaleIntercept", "RescaleSlope"):  # fmt: skip
        if keyword in ds:
            delattr(ds, keyword)
    ds = unique_copy(ds, 1)
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    ds.Modality = "DX"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.PatientOrientation = ["L", "F"]
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.PixelSpacing = ds.ImagerPixelSpacing = ["0.2", "0.2"]
    ds.WindowCenter, ds.WindowWidth = "2048", "4096"
    r, c = np.mgrid[0:rows, 0:columns]
    ds.PixelData = ((r * 3 + c * 2) % 4096).astype(np.uint16).tobytes()
    return dicom_bytes(ds)
