"""A teacher's uploads are limited per hour (issue #18), with a sentence saying when to retry."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from archive.models import Case, Upload, UploadItem

pytestmark = pytest.mark.django_db


def _post(client: Client, case: Case, name: str):
    upload = SimpleUploadedFile(name, b"not dicom", content_type="application/octet-stream")
    return client.post(
        f"/cases/{case.pk}/upload/", {"files": [upload]}, HTTP_ACCEPT="application/json"
    )


def test_uploads_per_teacher_are_limited_per_hour(settings, teacher, other_teacher):
    settings.TA_UPLOADS_PER_HOUR = 3
    settings.CELERY_TASK_ALWAYS_EAGER = False
    case = Case.objects.create(owner=teacher, title="Pneumothorax", modality="CT")
    client = Client()
    client.force_login(teacher)
    for n in range(3):
        assert _post(client, case, f"f{n}.txt").status_code == 201
    refused = _post(client, case, "f3.txt")
    assert refused.status_code == 429
    assert refused.json()["error"] == (
        "You have sent 3 uploads in the last hour, the most the archive takes from one "
        "teacher; nothing was stored. Try again in 60 minutes, or put more files in one "
        "upload (a folder or a zip)."
    )
    assert Upload.objects.count() == 3 and UploadItem.objects.count() == 3
    # Another teacher is not held back.
    other_case = Case.objects.create(owner=other_teacher, title="Fracture", modality="CR")
    other = Client()
    other.force_login(other_teacher)
    assert _post(other, other_case, "g.txt").status_code == 201
