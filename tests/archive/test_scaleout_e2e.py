"""Issue 15: one upload spread over every worker, on the real Redis broker with two real worker
processes. Each item records the worker that settled it (``processed_by``) and how many runs
claimed it (``attempts``); each worker's log says when it ran an upload's finalizer and when it
indexed a case, so "exactly once" is counted, not assumed."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import pydicom
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from pydicom.data import get_testdata_file

from archive.models import Case, Instance, Upload, UploadItem
from archive.services.intake import receive_files, received_from_bytes
from tests.conftest import WorkerProcess, dicom_bytes, purge_broker, wait_for
from tests.phi import SyntheticPatient, inject_phi, unique_copy

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FILES = 120
#: Long enough that Redis never hands a running chunk to the other worker, short enough that a
#: killed worker's chunk comes back (and its claims expire) within the test.
REDELIVERY_SECONDS = 12


@pytest.fixture
def two_workers(storage_dirs, tmp_path, transactional_db) -> Iterator[list[WorkerProcess]]:
    if not django_settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("two workers share the work on Redis (CELERY_BROKER_URL=redis://...)")
    purge_broker()
    env = {
        "TA_VISIBILITY_TIMEOUT": str(REDELIVERY_SECONDS),
        "TA_ITEM_CLAIM_SECONDS": str(REDELIVERY_SECONDS),
    }
    workers = [
        WorkerProcess(storage_dirs, tmp_path / f"{name}.log", name=f"{name}@tests", extra_env=env)
        for name in ("w1", "w2")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.wait_ready()
    yield workers
    for worker in workers:
        worker.stop()


def _study(count: int) -> list[bytes]:
    base = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    inject_phi(base, SyntheticPatient())
    return [dicom_bytes(unique_copy(base, n)) for n in range(1, count + 1)]


def _done(upload: Upload) -> bool:
    upload.refresh_from_db()
    return upload.status == Upload.Status.DONE


def _count(workers: list[WorkerProcess], pattern: str) -> int:
    return sum(len(re.findall(pattern, w.log_text())) for w in workers)


def _assert_every_item_settled_once(upload: Upload, case: Case, storage_dirs) -> None:
    statuses = Counter(upload.items.values_list("status", flat=True))
    assert statuses == {UploadItem.Status.ANONYMIZED: FILES}, statuses
    instances = Instance.objects.filter(series__study__case=case)
    assert instances.count() == FILES
    assert all(i.upload_items.count() == 1 for i in instances)
    # Nothing stored twice or left behind by a discarded run.
    assert len(list(storage_dirs["media"].rglob("*.dcm"))) == FILES
    # The finalizer ran once, after the last item.
    last = max(upload.items.values_list("processed_at", flat=True))
    assert upload.finished_at is not None and upload.finished_at >= last


def test_a_120_file_upload_is_spread_over_two_workers_each_file_once_one_finalizer(
    two_workers, teacher, storage_dirs
):
    case = Case.objects.create(owner=teacher, title="Spread", modality="CT", body_region="chest")
    client = Client()
    client.force_login(teacher)
    files = [
        SimpleUploadedFile(f"slice{n:03d}.dcm", data, content_type="application/dicom")
        for n, data in enumerate(_study(FILES), start=1)
    ]
    response = client.post(
        f"/cases/{case.pk}/upload/", {"files": files}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 201, response.content
    upload = Upload.objects.get(public_id=response.json()["id"])
    wait_for(lambda: _done(upload), timeout=240, message="both workers to finish the upload")

    _assert_every_item_settled_once(upload, case, storage_dirs)
    by_worker = Counter(upload.items.values_list("processed_by", flat=True))
    assert set(by_worker) == {"w1@tests", "w2@tests"}, by_worker
    assert min(by_worker.values()) >= FILES // 10, f"one worker did almost nothing: {by_worker}"
    # Exactly once: no item was claimed by a second run (no redelivery, no takeover).
    assert set(upload.items.values_list("attempts", flat=True)) == {1}
    assert upload.finished_by in {"w1@tests", "w2@tests"}
    assert _count(two_workers, rf"Upload {upload.pk} finished by ") == 1


def test_sigkill_of_one_worker_mid_upload_still_settles_each_item_once_and_indexes_once(
    two_workers, teacher, student, storage_dirs
):
    # A published case (a curator's late upload): its finalizer re-indexes it.
    case = Case.objects.create(
        owner=teacher,
        title="Pneumothorax under tension",
        modality="CT",
        body_region="chest",
        status=Case.Status.PUBLISHED,
        published_at=timezone.now(),
    )
    upload = receive_files(
        case=case, user=teacher, files=[received_from_bytes(b) for b in _study(FILES)]
    )
    w1, w2 = two_workers

    def settled_by(worker: WorkerProcess) -> int:
        return upload.items.filter(processed_by=worker.name).count()

    wait_for(
        lambda: settled_by(w1) >= 4 and settled_by(w2) >= 4,
        timeout=120,
        message="both workers to be processing",
    )
    w1.kill()
    killed_at = settled_by(w1)
    assert upload.items.filter(status=UploadItem.Status.PENDING).exists(), (
        "the upload finished before a worker could be killed"
    )

    wait_for(lambda: _done(upload), timeout=300, message="the surviving worker to finish")
    _assert_every_item_settled_once(upload, case, storage_dirs)
    assert settled_by(w1) == killed_at, "a killed worker settled items"
    assert settled_by(w1) + settled_by(w2) == FILES
    assert upload.finished_by == "w2@tests"

    assert _count(two_workers, rf"Upload {upload.pk} finished by ") == 1
    wait_for(
        lambda: _count(two_workers, rf"Indexed case {case.pk}\.") >= 1,
        timeout=60,
        message="the case to be indexed",
    )
    found = Client()
    found.force_login(student)
    assert found.get("/api/search", {"q": "pneumothorax"}).json()["total"] == 1
    assert _count(two_workers, rf"Indexed case {case.pk}\.") == 1
