"""Burned-in text through the whole ingest path: the name a scanner burned into the pixels is gone
from the stored instance, the boxes are kept for the teacher's review, and a lossy source is
stored losslessly with a transfer syntax that matches its pixel data."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from archive.models import Case, Instance
from archive.services.intake import receive_files, received_from_bytes
from archive.services.processing import process_upload
from tests.conftest import dicom_bytes
from tests.deid.pixels.synthetic import (
    Text,
    alpha_mask,
    blend,
    set_native_pixels,
    tesseract_words,
    to_gray8,
)
from tests.phi import inject_phi

pytestmark = pytest.mark.django_db(transaction=True)


def _ingest(teacher, data: bytes) -> Instance:
    case = Case.objects.create(owner=teacher, title="Case", modality="CT", body_region="chest")
    upload = receive_files(case=case, user=teacher, files=[received_from_bytes(data)])
    process_upload(upload.pk)
    item = upload.items.get()
    assert item.status == "anonymized", item.reason
    return item.instance


def test_name_burned_into_a_ct_is_redacted_and_its_box_reported(teacher, patient):
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    inject_phi(ds, patient)
    frame = ds.pixel_array
    alpha = alpha_mask(frame.shape, [Text(patient.family.upper(), (4, 4), size=11, kind="mono")])
    set_native_pixels(ds, blend(frame, alpha, int(frame.max())))

    instance = _ingest(teacher, dicom_bytes(ds))

    with instance.file.open("rb") as fh:
        out = pydicom.dcmread(fh)
    assert out.BurnedInAnnotation == "NO"
    text = alpha > 0.3
    changed = np.mean(out.pixel_array[text] != ds.pixel_array[text])
    assert changed > 0.99, (changed, instance.pixel_report)
    boxes = instance.pixel_report["boxes"]
    assert boxes and all(len(b) == 6 for b in boxes)
    frame_no, x0, y0, x1, y1, _reason = boxes[0]
    assert frame_no == 0 and x0 < 20 and y0 < 20, "the box is not where the text was"
    outside = alpha < 0.01
    outside[: y1 + 8, : x1 + 8] = False
    unchanged = np.mean(out.pixel_array[outside] == frame[outside])
    assert unchanged > 0.99


def test_lossy_colour_source_is_stored_losslessly_and_decodes(teacher, patient):
    ds = pydicom.dcmread(get_testdata_file("SC_rgb_jpeg_gdcm.dcm"))
    inject_phi(ds, patient)
    rgb = ds.pixel_array  # pydicom converts YBR to RGB
    alpha = alpha_mask(rgb.shape[:2], [Text(patient.family.upper(), (2, 2), size=14)])
    set_native_pixels(ds, blend(rgb, alpha, (255, 255, 255)))
    ds.PhotometricInterpretation = "RGB"
    ds.LossyImageCompression = "01"

    instance = _ingest(teacher, dicom_bytes(ds))

    with instance.file.open("rb") as fh:
        out = pydicom.dcmread(fh)
    assert not out.file_meta.TransferSyntaxUID.is_compressed or (
        out.file_meta.TransferSyntaxUID.is_compressed
        and not out.file_meta.TransferSyntaxUID.is_lossy
    )
    assert out.LossyImageCompression == "01"
    assert out.pixel_array.shape == rgb.shape
    text = alpha > 0.3
    assert np.mean(np.any(out.pixel_array[text] != ds.pixel_array[text], axis=-1)) > 0.99
    assert patient.family.upper() not in tesseract_words(to_gray8(out.pixel_array))
