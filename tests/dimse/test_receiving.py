"""De-identification starts while the association is open, and nothing of it shows before release.

A real pynetdicom peer sends a study to the listener in batches while a real Celery worker
de-identifies them: the database shows settled outputs while the association is still open, yet
no case, instance or upload report exists for anyone; on release the study is filed into the
teacher's draft case and the finalizer runs once. An abort after processing began leaves nothing
behind: no upload, item, instance, case or file in any storage.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.test import Client
from django.utils import timezone
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage

from archive.dimse.listener import DicomListener
from archive.dimse.session import RECEIVED_TITLE_PREFIX
from archive.models import (
    Case,
    Instance,
    ReceivedStudyFailure,
    Series,
    Study,
    Upload,
    UploadItem,
)
from tests.conftest import wait_for
from tests.dimse.conftest import CALLED_AET, write_series
from tests.dimse.test_filing_failures import DatabaseRefusal

pytestmark = pytest.mark.django_db(transaction=True)

SENT = 12


@pytest.fixture(autouse=True)
def _small_batches(settings):
    # Batches of 4 instances: the 12 sent here become 3 batches while the association is open.
    settings.TA_DICOM_BATCH_FILES = 4
    settings.TA_DICOM_BATCH_SECONDS = 60


def _associate(port: int):
    ae = AE(ae_title="TESTPACS")
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 30
    assoc = ae.associate("127.0.0.1", port, ae_title=CALLED_AET)
    assert assoc.is_established
    return assoc


def _processed_ahead() -> int:
    return UploadItem.objects.exclude(deidentified_file="").count()


def _files(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()]


def _send_and_wait_for_processing(listener, tmp_path, patient):
    files = write_series(tmp_path / "in", "CT_small.dcm", patient, count=SENT)
    assoc = _associate(listener.port)
    for path in files:
        assert assoc.send_c_store(path).Status == 0x0000
    # The last batch is filed now; the peer keeps the association open until we let it go.
    wait_for(
        lambda: _processed_ahead() >= SENT // 2,
        timeout=120,
        message="the worker to de-identify instances while the association is open",
    )
    return assoc


@pytest.mark.e2e
def test_instances_are_deidentified_while_the_association_is_open_and_shown_only_after_release(
    celery_worker_process, listener, node, tmp_path, patient, storage_dirs, curator, admin_client
):
    assoc = _send_and_wait_for_processing(listener, tmp_path, patient)
    assert assoc.is_established

    # Processing is under way, and nobody sees any of it: no case, no instance, no report.
    upload = Upload.objects.get()
    assert upload.status == Upload.Status.RECEIVING and upload.case is None
    assert not Case.objects.exists() and not Instance.objects.exists()
    assert not Study.objects.exists() and not Series.objects.exists()
    for user in (node.teacher, curator):
        c = Client()
        c.force_login(user)
        assert c.get(f"/uploads/{upload.public_id}/status").status_code == 404
        assert RECEIVED_TITLE_PREFIX not in c.get("/my/cases/").content.decode()
    assert admin_client.get("/admin/archive/upload/").context["cl"].result_count == 0
    assert admin_client.get("/admin/archive/uploaditem/").context["cl"].result_count == 0

    assoc.release()
    wait_for(
        lambda: Upload.objects.filter(status=Upload.Status.DONE).exists(),
        timeout=120,
        message="the released study to be finished",
    )
    upload.refresh_from_db()
    statuses = list(upload.items.order_by("pk").values_list("status", flat=True))
    assert statuses == ["anonymized"] * SENT
    case = upload.case
    assert case.owner == node.teacher and case.status == Case.Status.DRAFT
    assert Instance.objects.filter(series__study__case=case).count() == SENT
    teacher = Client()
    teacher.force_login(node.teacher)
    assert teacher.get(f"/cases/{case.pk}/").status_code == 200
    assert teacher.get(f"/uploads/{upload.public_id}/status").status_code == 200
    # The finalizer ran once, and neither raw files nor waiting outputs are left.
    assert upload.finished_by
    wait_for(
        lambda: celery_worker_process.log_text().count(f"Upload {upload.pk} finished by") == 1,
        timeout=10,
        message="the finalizer's log line",
    )
    wait_for(lambda: not _files(storage_dirs["holding"]), timeout=10, message="holding emptied")
    assert not UploadItem.objects.exclude(deidentified_file="").exists()
    assert celery_worker_process.log_text().count(f"Upload {upload.pk} finished by") == 1


def _drop(assoc, listener) -> None:
    # The peer vanishes mid-study: no A-RELEASE, no A-ABORT, just a closed socket.
    assoc.dul.socket.socket.close()
    assoc.kill()


@pytest.mark.e2e
@pytest.mark.parametrize(
    "end",
    [
        lambda assoc, listener: assoc.abort(),
        _drop,
        lambda assoc, listener: listener.stop(),
    ],
    ids=["A-ABORT", "dropped-connection", "listener-stopped"],
)
def test_abort_after_processing_began_leaves_nothing_anywhere(
    celery_worker_process, listener, node, tmp_path, patient, storage_dirs, end
):
    assoc = _send_and_wait_for_processing(listener, tmp_path, patient)
    assert _files(storage_dirs["holding"])
    end(assoc, listener)

    wait_for(
        lambda: not Upload.objects.exists() and not _files(storage_dirs["holding"]),
        timeout=20,
        message="everything of the aborted association to be deleted",
    )
    # Chunks still queued or in the worker's hands find the upload gone and write nothing.
    time.sleep(3)
    assert not Upload.objects.exists() and not UploadItem.objects.exists()
    assert not Case.objects.exists() and not Instance.objects.exists()
    assert not Study.objects.exists() and not Series.objects.exists()
    for area in ("holding", "media", "quarantine", "render"):
        assert not _files(storage_dirs[area]), area


@pytest.mark.e2e
def test_failed_filing_on_release_keeps_every_raw_file_for_a_curator_and_nothing_else(
    celery_worker_process, listener, node, tmp_path, patient, storage_dirs, transactional_db
):
    assoc = _send_and_wait_for_processing(listener, tmp_path, patient)
    refusal = DatabaseRefusal(patient.family)
    refusal.refuse("archive_case")  # the release cannot create the draft case
    try:
        assoc.release()
        wait_for(
            lambda: ReceivedStudyFailure.objects.exists(),
            timeout=30,
            message="the study to be kept for a curator",
        )
    finally:
        refusal.allow("archive_case")
    failure = ReceivedStudyFailure.objects.get()
    assert failure.instance_count == SENT and failure.upload is None
    kept = sorted(p.name for p in (storage_dirs["quarantine"] / "dimse").rglob("*.raw"))
    assert kept == [f"{n:08d}.raw" for n in range(1, SENT + 1)]
    # What was de-identified ahead is gone with its upload; no case ever existed.
    wait_for(lambda: not _files(storage_dirs["holding"]), timeout=10, message="holding emptied")
    assert not Upload.objects.exists() and not UploadItem.objects.exists()
    assert not Case.objects.exists() and not Instance.objects.exists()


def test_an_upload_left_receiving_by_a_killed_listener_is_removed_at_the_next_start(
    node, storage_dirs, tmp_path, patient
):
    from django.core.files.base import ContentFile

    def receiving(age: dt.timedelta) -> Upload:
        upload = Upload.objects.create(
            uploaded_by=node.teacher,
            source="dicom",
            status=Upload.Status.RECEIVING,
            last_received_at=timezone.now() - age,
        )
        item = UploadItem(upload=upload, label="Received instance 1")
        item.raw_file.save(f"dimse/{upload.public_id}/00000001.raw", ContentFile(b"raw"), False)
        item.deidentified_file.save(
            f"dimse/{upload.public_id}/00000001.deid", ContentFile(b"out"), False
        )
        item.save()
        return upload

    stale = receiving(dt.timedelta(hours=2))
    live = receiving(dt.timedelta(seconds=5))  # another listener's association in progress
    server = DicomListener(ae_title=CALLED_AET, host="127.0.0.1", port=0, network_timeout=5)
    server.start()
    try:
        assert list(Upload.objects.values_list("pk", flat=True)) == [live.pk]
        assert not (storage_dirs["holding"] / "dimse" / str(stale.public_id)).exists()
        assert len(_files(storage_dirs["holding"] / "dimse" / str(live.public_id))) == 2
    finally:
        server.stop()
