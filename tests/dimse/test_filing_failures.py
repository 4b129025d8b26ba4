"""A study whose filing fails after every C-STORE was answered "success" is never lost: the real
database refuses the rows (a trigger, as a violated constraint would; or the target case is
deleted mid-filing), the files wait in quarantine for a curator, the admin lists the failure
with a readable reason, and a retry files the study once the cause is gone."""

from __future__ import annotations

import io
import json
import logging
import threading
import zipfile
from pathlib import Path

import pydicom
import pytest
from django.db import connection
from django.test import Client
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage

from archive.dimse.listener import DicomListener
from archive.dimse.session import RECEIVED_TITLE_PREFIX, STATUS_CANNOT_UNDERSTAND
from archive.models import Case, ReceivedStudyFailure, Upload, UploadItem
from tests.conftest import wait_for
from tests.dimse.conftest import (
    CALLED_AET,
    CALLING_AET,
    holding_files,
    storescu,
    write_series,
)

pytestmark = pytest.mark.django_db(transaction=True)

ADMIN_LIST = "/admin/archive/receivedstudyfailure/"


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """The uploads handed to the worker (the worker path has its own tests)."""
    ids: list[int] = []
    monkeypatch.setattr(
        "archive.scheduling.schedule_upload", lambda upload_id: ids.append(upload_id)
    )
    return ids


class DatabaseRefusal:
    """Triggers that make the real database refuse inserts into a table, as a violated
    constraint does. The error text quotes a patient's name, as database errors quote values:
    it must reach neither a log line nor the reason a curator reads."""

    def __init__(self, quoted: str) -> None:
        self.message = f"refused for {quoted}"
        self.tables: list[str] = []

    def refuse(self, table: str) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "CREATE OR REPLACE FUNCTION ta_test_refuse() RETURNS trigger "
                    "LANGUAGE plpgsql AS $$ BEGIN "
                    "RAISE EXCEPTION USING ERRCODE = 'check_violation', MESSAGE = TG_ARGV[0]; "
                    "END $$"
                )
                cursor.execute(
                    f"CREATE TRIGGER ta_test_refuse_{table} BEFORE INSERT ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION ta_test_refuse('{self.message}')"
                )
            else:
                cursor.execute(
                    f"CREATE TRIGGER ta_test_refuse_{table} BEFORE INSERT ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{self.message}'); END"
                )
        self.tables.append(table)

    def allow(self, table: str) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS ta_test_refuse_{table} ON {table}")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS ta_test_refuse_{table}")
        self.tables.remove(table)


@pytest.fixture
def database_refusal(transactional_db, patient):
    refusal = DatabaseRefusal(patient.family)
    yield refusal
    for table in list(refusal.tables):
        refusal.allow(table)


def _curator_client(curator) -> Client:
    c = Client()
    c.force_login(curator)
    return c


def _kept_files(storage_dirs) -> list[Path]:
    return sorted(p for p in (storage_dirs["quarantine"] / "dimse").rglob("*.raw"))


def _our_log(caplog) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("archive"))


def _assert_no_phi(text: str, patient) -> None:
    for secret in patient.secrets():
        assert secret not in text


def _action(c: Client, action: str, failures, **extra):
    data = {"action": action, "_selected_action": [f.pk for f in failures], "index": "0"}
    return c.post(ADMIN_LIST, {**data, **extra}, follow=True)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_refused_filing_keeps_the_study_for_a_curator_who_retries_once_the_cause_is_gone(
    listener, node, curator, teacher, tmp_path, patient, storage_dirs, database_refusal,
    queued, caplog,
):  # fmt: skip
    caplog.set_level(logging.INFO)
    database_refusal.refuse("archive_upload")
    sent = write_series(tmp_path / "in", "CT_small.dcm", patient, count=3)
    result = storescu(listener.port, sent)
    assert result.returncode == 0, result.stderr  # the PACS was told all three were stored

    wait_for(ReceivedStudyFailure.objects.exists, timeout=15, message="the failure record")
    failure = ReceivedStudyFailure.objects.get()
    assert not Upload.objects.exists()
    assert not holding_files(storage_dirs)

    # The study is kept whole, owner-only, under neutral names.
    kept = _kept_files(storage_dirs)
    assert len(kept) == 3
    for path in kept:
        assert path.stat().st_mode & 0o777 == 0o600
        _assert_no_phi(str(path), patient)
    assert {str(pydicom.dcmread(p).SOPInstanceUID) for p in kept} == {
        str(pydicom.dcmread(p).SOPInstanceUID) for p in sent
    }
    assert str(pydicom.dcmread(kept[0]).PatientName) == patient.name

    assert failure.status == ReceivedStudyFailure.Status.KEPT
    assert failure.calling_ae_title == CALLING_AET
    assert failure.peer_address == "127.0.0.1"
    assert failure.node == node
    assert failure.instance_count == 3
    assert failure.error_type == "IntegrityError"
    assert failure.reason.startswith(
        "Filing failed after receipt: The database refused the new records because they "
        "conflicted with other data"
    )
    assert failure.reason.endswith(
        "The 3 received instance(s) are kept for a curator: retry the filing once the cause "
        "is fixed, or download or discard them."
    )
    _assert_no_phi(failure.reason, patient)
    log = _our_log(caplog)
    assert (
        f"Association from {CALLING_AET} could not be filed ({failure.error_type}); 3 received "
        f"instance(s) kept for a curator (received study not filed #{failure.pk})"
    ) in log
    _assert_no_phi(log, patient)

    # The curator sees it from the review queue, with the reason, and downloads the files.
    c = _curator_client(curator)
    queue = c.get("/admin/archive/case/").content.decode()
    assert "<strong>1</strong> received studies not filed" in queue
    listing = c.get(ADMIN_LIST).content.decode()
    assert failure.reason in listing and CALLING_AET in listing and "127.0.0.1" in listing
    detail = c.get(f"{ADMIN_LIST}{failure.pk}/change/").content.decode()
    assert failure.reason in detail and "IntegrityError" in detail
    download = c.get(f"{ADMIN_LIST}{failure.pk}/download/")
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as zf:
        assert zf.namelist() == ["instance-0001.dcm", "instance-0002.dcm", "instance-0003.dcm"]
        assert [zf.read(n) for n in zf.namelist()] == [p.read_bytes() for p in kept]
    # Nobody else does.
    teacher_client = Client()
    teacher_client.force_login(teacher)
    assert teacher_client.get(ADMIN_LIST).status_code == 302
    assert teacher_client.get(f"{ADMIN_LIST}{failure.pk}/download/").status_code == 302

    # A retry while the cause remains changes nothing but the count.
    again = _action(c, "retry_filing", [failure])
    assert any("Filing failed after receipt" in m for m in _messages(again))
    failure.refresh_from_db()
    assert failure.status == ReceivedStudyFailure.Status.KEPT and failure.attempts == 2
    assert len(_kept_files(storage_dirs)) == 3 and not holding_files(storage_dirs)
    assert not Upload.objects.exists()

    # Once the database takes uploads again, the retry files the study.
    database_refusal.allow("archive_upload")
    done = _action(c, "retry_filing", [failure])
    assert any("filed into the case “Received study" in m for m in _messages(done))
    failure.refresh_from_db()
    upload = Upload.objects.get()
    assert failure.status == ReceivedStudyFailure.Status.FILED
    assert failure.upload == upload and failure.attempts == 3
    assert queued == [upload.pk]
    assert upload.source == "dicom" and upload.uploaded_by == teacher
    assert upload.case.title.startswith(RECEIVED_TITLE_PREFIX) and upload.case.modality == "CT"
    items = list(upload.items.all())
    assert [i.status for i in items] == [UploadItem.Status.PENDING] * 3
    held = sorted(holding_files(storage_dirs))
    assert len(held) == 3
    assert {str(pydicom.dcmread(p).SOPInstanceUID) for p in held} == {
        str(pydicom.dcmread(p).SOPInstanceUID) for p in sent
    }
    assert not _kept_files(storage_dirs)
    assert "<strong>1</strong> received studies not filed" not in (
        c.get("/admin/archive/case/").content.decode()
    )


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="waits on a PostgreSQL row lock to time it"
)
def test_target_case_deleted_while_filing_keeps_the_study_and_retry_makes_a_new_draft(
    listener, node, teacher, tmp_path, patient, storage_dirs, queued
):
    import psycopg

    from tests.conftest import _database_url

    target = Case.objects.create(owner=teacher, title="Target", modality="CT", body_region="chest")
    node.target_case = target
    node.save()
    paths = write_series(tmp_path / "in", "CT_small.dcm", patient, count=2)
    ae = AE(ae_title=CALLING_AET)
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", listener.port, ae_title=CALLED_AET)
    assert assoc.is_established
    for path in paths:
        assert assoc.send_c_store(path).Status == 0x0000

    # The teacher deletes the target case in another session; it is not committed yet when
    # the listener files into it, so the listener's foreign key check waits for it.
    deleter = psycopg.connect(_database_url())
    try:
        deleter.execute(
            "UPDATE archive_remotenode SET target_case_id = NULL WHERE id = %s", [node.pk]
        )
        deleter.execute("DELETE FROM archive_case WHERE id = %s", [target.pk])
        released = threading.Thread(target=assoc.release)
        released.start()

        def listener_waits() -> bool:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
                return cursor.fetchone()[0] > 0

        wait_for(listener_waits, timeout=15, message="the filing to wait for the deleted case")
        deleter.commit()
    finally:
        deleter.close()
    released.join(timeout=15)

    wait_for(ReceivedStudyFailure.objects.exists, timeout=15, message="the failure record")
    failure = ReceivedStudyFailure.objects.get()
    assert failure.error_type == "IntegrityError"
    assert "the target case was deleted while the study arrived" in failure.reason
    assert not Upload.objects.exists() and not Case.objects.exists()
    assert len(_kept_files(storage_dirs)) == 2

    from archive.dimse.filing import retry_filing

    upload = retry_filing(failure.pk)
    assert upload.case.title.startswith(RECEIVED_TITLE_PREFIX)
    # (The failed attempt had asked too, inside its rolled-back transaction.)
    assert upload.items.count() == 2 and queued[-1] == upload.pk
    assert not _kept_files(storage_dirs)


def test_when_the_database_refuses_the_failure_record_too_a_manifest_keeps_it_until_restart(
    listener, node, tmp_path, patient, storage_dirs, database_refusal, caplog, queued
):
    caplog.set_level(logging.INFO)
    database_refusal.refuse("archive_upload")
    database_refusal.refuse("archive_receivedstudyfailure")
    result = storescu(listener.port, write_series(tmp_path / "in", "CT_small.dcm", patient, 2))
    assert result.returncode == 0, result.stderr

    manifests = lambda: list((storage_dirs["quarantine"] / "dimse").glob("*/manifest.json"))  # noqa: E731
    wait_for(lambda: manifests(), timeout=15, message="the manifest next to the kept files")
    (manifest,) = manifests()
    assert manifest.stat().st_mode & 0o777 == 0o600
    _assert_no_phi(manifest.read_text(), patient)
    record = json.loads(manifest.read_text())
    assert record["calling_ae_title"] == CALLING_AET and record["instance_count"] == 2
    assert len(_kept_files(storage_dirs)) == 2
    assert not ReceivedStudyFailure.objects.exists()
    assert "registered when the listener next starts" in _our_log(caplog)
    _assert_no_phi(_our_log(caplog), patient)

    database_refusal.allow("archive_receivedstudyfailure")
    database_refusal.allow("archive_upload")
    listener.stop()
    restarted = DicomListener(ae_title=CALLED_AET, host="127.0.0.1", port=0, network_timeout=5)
    restarted.start()
    restarted.stop()
    failure = ReceivedStudyFailure.objects.get()
    assert str(failure.public_id) == manifest.parent.name
    assert failure.reason.startswith("Filing failed after receipt:")
    assert failure.node == node and failure.instance_count == 2
    assert not manifests()
    assert len(_kept_files(storage_dirs)) == 2


def test_unwritable_quarantine_keeps_the_files_in_holding_safe_from_the_sweep(
    listener, node, curator, tmp_path, patient, storage_dirs, database_refusal, queued
):
    from pynetdicom import _config

    from archive.dimse.session import sweep_orphaned_holding

    # A file where the quarantine's folder should be: it cannot be created (even by root).
    blocker = storage_dirs["quarantine"] / "dimse"
    blocker.write_bytes(b"")
    database_refusal.refuse("archive_upload")

    good, bad = write_series(tmp_path / "in", "CT_small.dcm", patient, count=2)
    data = bad.read_bytes()
    bad.write_bytes(data[: data.index(patient.family.encode()) + 3])  # cut inside the name
    ae = AE(ae_title=CALLING_AET)
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    _config.STORE_SEND_CHUNKED_DATASET = True  # send the cut file byte for byte
    try:
        assoc = ae.associate("127.0.0.1", listener.port, ae_title=CALLED_AET)
        assert assoc.send_c_store(good).Status == 0x0000
        assert assoc.send_c_store(bad).Status == STATUS_CANNOT_UNDERSTAND
        assoc.release()
    finally:
        _config.STORE_SEND_CHUNKED_DATASET = False

    wait_for(ReceivedStudyFailure.objects.exists, timeout=15, message="the failure record")
    failure = ReceivedStudyFailure.objects.get()
    assert failure.instance_count == 1
    assert [e.get("storage") for e in failure.entries] == ["holding", None]
    assert "malformed" in failure.entries[1]["rejected"]
    assert len(holding_files(storage_dirs)) == 1
    assert sweep_orphaned_holding(older_than=0) == 0
    assert len(holding_files(storage_dirs)) == 1

    blocker.unlink()
    database_refusal.allow("archive_upload")
    done = _action(_curator_client(curator), "retry_filing", [failure])
    assert any("filed into the case" in m for m in _messages(done)), _messages(done)
    upload = Upload.objects.get()
    assert [(i.status, i.label) for i in upload.items.all()] == [
        (UploadItem.Status.PENDING, "Received instance 1"),
        (UploadItem.Status.REJECTED, "Received instance 2"),
    ]
    (held,) = holding_files(storage_dirs)
    assert held.parent.name == str(upload.public_id)  # only the upload's copy is left


def test_curator_discards_a_kept_study_after_confirming(
    listener, node, curator, tmp_path, patient, storage_dirs, database_refusal, queued
):
    database_refusal.refuse("archive_upload")
    sent = write_series(tmp_path / "in", "CT_small.dcm", patient)
    assert storescu(listener.port, sent).returncode == 0
    wait_for(ReceivedStudyFailure.objects.exists, timeout=15, message="the failure record")
    failure = ReceivedStudyFailure.objects.get()
    c = _curator_client(curator)

    confirm = _action(c, "discard_kept_files", [failure])
    assert "will be deleted for good" in confirm.content.decode()
    assert len(_kept_files(storage_dirs)) == 1  # nothing happens before the confirmation

    done = _action(c, "discard_kept_files", [failure], apply="1")
    assert "Discarded the files of 1 received study." in _messages(done)
    failure.refresh_from_db()
    assert failure.status == ReceivedStudyFailure.Status.DISCARDED
    assert failure.resolved_at is not None
    assert not _kept_files(storage_dirs)
    assert c.get(f"{ADMIN_LIST}{failure.pk}/download/").status_code == 404
    again = _action(c, "retry_filing", [failure])
    assert any("no longer waiting" in m for m in _messages(again))
    assert not Upload.objects.exists()


@pytest.fixture
def broker(monkeypatch, settings):
    """Point this process's Celery producer at a port where no Redis listens, and back."""
    from teaching_archive.celery import app

    def reconnect(url: str) -> None:
        from kombu import pools

        # Celery reads CELERY_BROKER_URL from the environment before its configuration; the
        # pooled connections to the previous URL are dropped: kombu's registry (closed and
        # cleared) and the app's references to its pools (recreated on next use).
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    working = settings.CELERY_BROKER_URL
    reconnect("redis://127.0.0.1:1/0")
    yield lambda: reconnect(working)
    reconnect(working)


def test_queue_down_after_filing_keeps_the_upload_and_a_retry_queues_it(
    listener, node, curator, tmp_path, patient, storage_dirs, broker
):
    from teaching_archive.celery import app

    sent = write_series(tmp_path / "in", "CT_small.dcm", patient, count=2)
    assert storescu(listener.port, sent).returncode == 0

    wait_for(ReceivedStudyFailure.objects.exists, timeout=30, message="the failure record")
    failure = ReceivedStudyFailure.objects.get()
    upload = Upload.objects.get()
    assert failure.upload == upload and failure.status == ReceivedStudyFailure.Status.KEPT
    assert failure.error_type == "OperationalError"
    assert failure.reason == (
        f"The study was filed as upload {upload.public_id}, but the worker could not be asked "
        "to process it: The task queue (Redis) could not be reached. Its files wait with the "
        "upload; retry the filing to queue it again."
    )
    # The files stay with the upload (not deleted, not moved): the worker will read them there.
    assert [i.status for i in upload.items.all()] == [UploadItem.Status.PENDING] * 2
    assert all(i.raw_file.storage.exists(i.raw_file.name) for i in upload.items.all())
    assert not _kept_files(storage_dirs)

    broker()  # Redis is back
    with app.connection_for_write() as conn:  # nothing queued before
        conn.default_channel.queue_purge("deidentify")
    done = _action(_curator_client(curator), "retry_filing", [failure])
    assert any("filed into the case" in m for m in _messages(done)), _messages(done)
    failure.refresh_from_db()
    assert failure.status == ReceivedStudyFailure.Status.FILED
    with app.connection_for_write() as conn:
        name, waiting, _consumers = conn.default_channel.queue_declare("deidentify", passive=True)
        assert waiting == 1  # the de-identification of this upload
        conn.default_channel.queue_purge("deidentify")
