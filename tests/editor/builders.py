"""Cases with real anonymized images, built without a worker (intake + processing in-process)."""

from __future__ import annotations

from django.test import Client
from pydicom.uid import generate_uid

from archive.models import Case, Diagnosis, UploadItem
from archive.services.intake import receive_files, received_from_bytes
from archive.services.processing import process_upload
from tests.conftest import wait_for


def case_with_images(owner, files: list[bytes], **fields) -> Case:
    fields.setdefault("title", "Right upper lobe mass")
    fields.setdefault("modality", "CT")
    fields.setdefault("body_region", "chest")
    case = Case.objects.create(owner=owner, **fields)
    upload = receive_files(case=case, user=owner, files=[received_from_bytes(f) for f in files])
    process_upload(upload.pk)
    # A worker started by the test may have taken an item first (items are locked while one
    # process works on them): wait until it has committed.
    wait_for(
        lambda: not upload.items.filter(status=UploadItem.Status.PENDING).exists(),
        timeout=60,
        message="the upload's items to be processed",
    )
    return case


def hcc() -> Diagnosis:
    return Diagnosis.objects.create(
        name="Hepatocellular carcinoma",
        icd10="C22.0",
        synonyms="HCC\nHepatoma\nLiver cell carcinoma",
        name_cs="Hepatocelulární karcinom",
    )


def quarantined_item(case: Case, data: bytes = b"DICM quarantined bytes") -> UploadItem:
    """An item as the pipeline leaves a file that failed verification."""
    from django.core.files.base import ContentFile

    upload = case.uploads.first() or receive_files(case=case, user=case.owner, files=[])
    item = UploadItem.objects.create(upload=upload, label="File 9", size=len(data))
    item.quarantined_file.save(f"{upload.public_id}/{item.pk:08d}.dcm", ContentFile(data))
    item.mark(UploadItem.Status.QUARANTINED, "Residual PHI found in (0010,0010).")
    item.save()
    return item


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def new_series(ds) -> None:
    """A hook for the test-file builders: this file starts a series of its own."""
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
