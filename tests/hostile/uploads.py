"""Uploads through the browser's endpoint, for end-to-end tests (hostile input, the pipeline)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pydicom.uid import generate_uid

from archive.models import Case, Upload


def instance(phi_file, name: str, number: int) -> bytes:
    """A real pydicom image with the synthetic patient, as another instance of its series."""

    def renumber(ds):
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = number

    return phi_file(name, renumber)


def upload(client: Client, case: Case, files: dict[str, bytes]) -> Upload:
    uploads = [
        SimpleUploadedFile(name, data, content_type="application/octet-stream")
        for name, data in files.items()
    ]
    response = client.post(
        f"/cases/{case.pk}/upload/", {"files": uploads}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 201, response.content
    return Upload.objects.get(public_id=response.json()["id"])


def done(upload: Upload) -> bool:
    upload.refresh_from_db()
    return upload.status == Upload.Status.DONE


def new_case(teacher) -> Case:
    return Case.objects.create(owner=teacher, title="Pneumothorax", modality="CT")
