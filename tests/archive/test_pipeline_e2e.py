"""The whole path with real components: upload → real Celery worker (Redis in CI) → anonymized
instances → search → rendered frames; bad files reported per file; a killed worker loses nothing.
"""

from __future__ import annotations

import io

import pydicom
import pytest
from django.test import Client
from PIL import Image
from pydicom.data import get_testdata_file

from archive.models import Case, Instance, UploadItem
from archive.services.cases import publish_case
from archive.services.incoming import sweep_incoming
from archive.services.review import discard_originals
from tests.conftest import dicom_bytes, wait_for
from tests.hostile.uploads import done
from tests.hostile.uploads import upload as post_upload
from tests.phi import SyntheticPatient, inject_phi, unique_copy

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _case(owner, **extra) -> Case:
    fields = {
        "title": "Tension pneumothorax after line insertion",
        "modality": "CT",
        "body_region": "chest",
        "findings": "Large right pneumothorax with shift.",
    }
    fields.update(extra)
    return Case.objects.create(owner=owner, **fields)


def test_upload_is_anonymized_by_a_real_worker_then_found_and_rendered(
    celery_worker_process, teacher, student, curator, storage_dirs, patient
):
    def tampered(name: str, hook=None) -> bytes:
        ds = pydicom.dcmread(get_testdata_file(name))
        inject_phi(ds, patient)
        if hook:
            hook(ds)
        return dicom_bytes(ds)

    good = tampered("CT_small.dcm")
    mr = tampered("MR_small.dcm")
    truncated = good[: len(good) // 3]
    # Original names carry the patient's name, as hospital exports often do.
    files = {
        f"{patient.family}_ct.dcm": good,
        f"{patient.family}_mr.dcm": mr,
        "notes.txt": b"This is not an image, just notes about the case.\n",
        "cut.dcm": truncated,
        "empty.dcm": b"",
    }
    client = Client()
    client.force_login(teacher)
    case = _case(teacher)
    upload = post_upload(client, case, files)

    wait_for(lambda: done(upload), timeout=90, message="the worker to finish the upload")

    items = list(upload.items.order_by("pk"))
    assert [i.status for i in items] == [
        "anonymized",
        "anonymized",
        "rejected",
        "rejected",
        "rejected",
    ], [i.reason for i in items]
    not_dicom, cut, empty = (i.reason for i in items[2:])
    assert "not a DICOM file" in not_dicom
    assert "truncated" in cut.lower() or "damaged" in cut.lower()
    assert "empty" in empty.lower()
    for item in items:
        for secret in patient.secrets():
            assert secret not in item.label and secret not in item.reason
    # The raw holding area keeps only the anonymized originals, for the teacher's review (until
    # the case is submitted or published); the rejected files' bytes are gone.
    held = [p for p in storage_dirs["holding"].rglob("*") if p.is_file()]
    assert len(held) == 2

    # Every stored instance is free of the synthetic patient, in every byte.
    instances = list(Instance.objects.filter(series__study__case=case))
    assert len(instances) == 2
    for instance in instances:
        data = instance.file.read()
        instance.file.close()
        for secret in patient.secrets():
            assert secret.encode() not in data, "a synthetic identifier survived"
        assert patient.family not in instance.file.name

    # Unpublished: the student cannot see the case, its images or its search entry.
    student_client = Client()
    student_client.force_login(student)
    assert student_client.get(f"/cases/{case.pk}/").status_code == 404
    assert student_client.get(f"/instances/{instances[0].pk}/frames/0.png").status_code == 404
    assert student_client.get("/api/search", {"q": "pneumothorax"}).json()["total"] == 0

    publish_case(case=case, user=curator)  # queues indexing on the real worker
    assert not [p for p in storage_dirs["holding"].rglob("*") if p.is_file()]
    wait_for(
        lambda: student_client.get("/api/search", {"q": "pneumothorax"}).json()["total"] == 1,
        timeout=60,
        message="the published case to be indexed",
    )
    hit = student_client.get("/api/search", {"q": "pneumothorax", "modality": "CT"}).json()
    assert hit["results"][0]["id"] == case.pk
    page = student_client.get(hit["results"][0]["url"])
    assert page.status_code == 200
    png = student_client.get(f"/instances/{instances[0].pk}/frames/0.png?preset=lung")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(png.content))
    assert image.size[0] > 0 and len(set(image.getdata())) > 4, "the frame rendered blank"


def test_killed_worker_loses_nothing_and_processes_each_file_once(
    celery_worker_process, teacher, storage_dirs
):
    patient = SyntheticPatient()
    base = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    inject_phi(base, patient)
    files = {f"slice{n:03d}.dcm": dicom_bytes(unique_copy(base, n)) for n in range(1, 121)}
    client = Client()
    client.force_login(teacher)
    case = _case(teacher)
    upload = post_upload(client, case, files)

    def processed() -> int:
        return upload.items.exclude(status=UploadItem.Status.PENDING).count()

    wait_for(lambda: processed() >= 5, timeout=60, message="the worker to start processing")
    celery_worker_process.kill()
    done_before_restart = processed()
    assert done_before_restart < len(files), "the worker finished before it could be killed"

    celery_worker_process.start()
    wait_for(lambda: done(upload), timeout=120, message="the restarted worker to finish")

    statuses = list(upload.items.values_list("status", flat=True))
    assert statuses.count("anonymized") == len(files), statuses
    instances = Instance.objects.filter(series__study__case=case)
    assert instances.count() == len(files)
    assert all(i.upload_items.count() == 1 for i in instances)
    # A worker killed while staging its output leaves a temporary file in the incoming area,
    # which the hourly sweep removes (here at once).
    sweep_incoming(older_than=0)
    # One kept original per file (for the teacher's review), then none once the review ends.
    assert len([p for p in storage_dirs["holding"].rglob("*") if p.is_file()]) == len(files)
    discard_originals(case=case)
    assert not [p for p in storage_dirs["holding"].rglob("*") if p.is_file()]
    stored = [p for p in storage_dirs["media"].rglob("*.dcm")]
    assert len(stored) == len(files), "a killed worker left an orphan or lost a file"
