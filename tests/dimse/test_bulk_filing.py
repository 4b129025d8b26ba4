"""Filing a released association in bulk (issue 15): the outputs de-identified while it was
open become instances one chunk per transaction, moved rather than read back.

In-process on the real database and storages, the tasks run here in the order the broker
would hand them over (``archive.scheduling.send`` is recorded instead of sent): the listener's
session files its batches, the first pass de-identifies them while the upload is *receiving*,
the release queues the filing chunks. A chunk run again (a redelivery under late acks), a
transaction the database refuses and an output lost before filing each still give one instance
per received file, no file left behind and one finalizer.
"""

from __future__ import annotations

import os
import threading

import pytest
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection

from archive import scheduling
from archive import storage as storages
from archive.dimse.session import ReceivingSession
from archive.models import Case, Instance, Series, Study, Upload, UploadItem
from archive.services import processing
from tests.conftest import dicom_bytes
from tests.dimse.conftest import CALLING_AET, phi_dataset
from tests.dimse.test_filing_failures import DatabaseRefusal
from tests.phi import unique_copy

pytestmark = pytest.mark.django_db(transaction=True)

SENT = 20


@pytest.fixture
def sent(monkeypatch) -> list[tuple]:
    """Tasks sent through archive.scheduling (name, args), instead of the broker."""
    calls: list[tuple] = []
    monkeypatch.setattr(scheduling, "send", lambda name, *args, **kw: calls.append((name, args)))
    return calls


@pytest.fixture(autouse=True)
def _batches(settings):
    settings.TA_DICOM_BATCH_FILES = 4
    settings.TA_DICOM_BATCH_SECONDS = 600
    settings.TA_DEID_CHUNK_FILES = 4


def _files(folder) -> list:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _chunks(sent: list[tuple]) -> list[list[int]]:
    chunks = [args[1] for name, args in sent if name == "archive.deidentify_items"]
    sent.clear()
    return chunks


def _received_and_processed(node, patient, sent) -> tuple[ReceivingSession, Upload]:
    """An association's instances received and de-identified while it is open (first pass)."""
    session = ReceivingSession(
        node_id=node.pk, calling_ae_title=CALLING_AET, file_while_receiving=True
    )
    base = phi_dataset("CT_small.dcm", patient)
    for number in range(1, SENT + 1):
        assert session.store(dicom_bytes(unique_copy(base, number))) == 0x0000
    upload = Upload.objects.get(public_id=session.public_id)
    for chunk in _chunks(sent):
        assert processing.process_items(upload.pk, chunk) is False  # still receiving
    upload.refresh_from_db()
    assert upload.status == Upload.Status.RECEIVING
    return session, upload


def _release(session: ReceivingSession, sent) -> list[list[int]]:
    assert session.commit() is not None
    return _chunks(sent)


def _assert_filed_once(upload: Upload, storage_dirs) -> Case:
    upload.refresh_from_db()
    assert upload.status == Upload.Status.DONE
    items = upload.items.order_by("pk")
    assert list(items.values_list("status", flat=True)) == ["anonymized"] * SENT
    case = upload.case
    instances = Instance.objects.filter(series__study__case=case)
    assert instances.count() == SENT
    assert sorted(items.values_list("instance_id", flat=True)) == sorted(
        instances.values_list("pk", flat=True)
    )
    assert Study.objects.filter(case=case).count() == 1
    assert Series.objects.filter(study__case=case).count() == 1
    # Every instance's file is in the public storage, once; nothing waits in the holding area.
    media = _files(storage_dirs["media"])
    assert len(media) == SENT
    assert {p.relative_to(storage_dirs["media"]).as_posix() for p in media} == set(
        instances.values_list("file", flat=True)
    )
    assert not _files(storage_dirs["holding"])
    assert not items.exclude(deidentified_file="").exists()
    assert not items.exclude(header={}).exists()
    return case


def test_the_first_pass_keeps_what_filing_needs_and_the_release_files_a_chunk_in_one_go(
    node, patient, sent, storage_dirs, django_assert_max_num_queries
):
    session, upload = _received_and_processed(node, patient, sent)
    waiting = list(upload.items.order_by("pk"))
    assert all(item.deidentified_file and item.status == "pending" for item in waiting)
    header = waiting[0].header
    # De-identified values only: a pseudonymous UID, no name, the CT's own geometry.
    assert header["sop_uid"].startswith("2.25.") and header["rows"] == 128
    assert header["modality"] == "CT" and header["has_pixels"] is True
    assert patient.family not in str([item.header for item in waiting])
    inodes = {
        item.pk: os.stat(storage_dirs["holding"] / item.deidentified_file.name).st_ino
        for item in waiting
    }

    chunks = _release(session, sent)
    assert [len(c) for c in chunks] == [16, 4]  # FILING_CHUNK_FACTOR × the usual 4 files
    # A chunk of 16 is filed in a few statements (21, creating the study and the series
    # included), where filing each instance on its own took about ten.
    with django_assert_max_num_queries(24):
        assert processing.process_items(upload.pk, chunks[0]) is False
    assert processing.process_items(upload.pk, chunks[1]) is True  # the finalizer, once

    case = _assert_filed_once(upload, storage_dirs)
    assert case.owner == node.teacher
    # No item was claimed again to be read back: filing is not a run of its own.
    assert set(upload.items.values_list("attempts", flat=True)) == {0}
    for item in upload.items.select_related("instance"):
        # The very file the first pass wrote: moved into the public storage, not copied.
        path = storage_dirs["media"] / item.instance.file.name
        assert os.stat(path).st_ino == inodes[item.pk]
        assert os.stat(path).st_mode & 0o777 == 0o644
        assert item.instance.audit and item.instance.audit == item.audit
        with item.instance.file.open("rb") as fh:
            assert patient.family.encode() not in fh.read()


def test_a_filing_chunk_delivered_again_or_twice_at_once_files_each_instance_once(
    node, patient, sent, storage_dirs
):
    session, upload = _received_and_processed(node, patient, sent)
    chunks = _release(session, sent)
    finalized: list[bool] = []

    def run(chunk: list[int]) -> None:
        try:
            finalized.append(processing.process_items(upload.pk, chunk))
        finally:
            connection.close()

    # The first chunk twice at once (two workers), then every chunk again (redelivered).
    twins = [threading.Thread(target=run, args=(chunks[0],)) for _ in range(2)]
    for thread in twins:
        thread.start()
    for thread in twins:
        thread.join()
    for chunk in chunks + chunks:
        run(chunk)

    assert finalized.count(True) == 1
    _assert_filed_once(upload, storage_dirs)


def test_a_refused_filing_transaction_leaves_the_chunk_waiting_and_a_rerun_files_it(
    node, patient, sent, storage_dirs
):
    session, upload = _received_and_processed(node, patient, sent)
    chunks = _release(session, sent)
    refusal = DatabaseRefusal(patient.family)
    refusal.refuse("archive_instance")
    try:
        with pytest.raises(IntegrityError):
            processing.file_received(upload.pk, chunks[0])
    finally:
        refusal.allow("archive_instance")
    # Nothing of the chunk was recorded, and its outputs still wait for the next run.
    assert not Instance.objects.exists()
    assert upload.items.filter(status="pending").count() == SENT
    assert len(_files(storage_dirs["holding"] / "dimse")) == 2 * SENT  # raw + output each

    for chunk in chunks:
        processing.process_items(upload.pk, chunk)
    _assert_filed_once(upload, storage_dirs)


def test_an_output_lost_before_filing_is_de_identified_again_from_the_received_file(
    node, patient, sent, storage_dirs
):
    session, upload = _received_and_processed(node, patient, sent)
    lost = upload.items.order_by("pk")[3]
    storages.raw_holding.delete(lost.deidentified_file.name)
    for chunk in _release(session, sent):
        processing.process_items(upload.pk, chunk)
    _assert_filed_once(upload, storage_dirs)
    lost.refresh_from_db()
    assert lost.attempts == 1  # this one alone went through de-identification again
    assert set(upload.items.exclude(pk=lost.pk).values_list("attempts", flat=True)) == {0}


def test_transfer_between_folder_storages_links_and_replaces(storage_dirs):
    holding, media = storages.raw_holding, Instance._meta.get_field("file").storage
    holding.save("dimse/x/00000001.deid", ContentFile(b"first"))
    media.save("instances/1/a.dcm", ContentFile(b"stale, from a rolled-back run"))
    assert storages.transfer(holding, "dimse/x/00000001.deid", media, "instances/1/a.dcm")
    with media.open("instances/1/a.dcm", "rb") as fh:
        assert fh.read() == b"first"
    assert holding.exists("dimse/x/00000001.deid")  # the owner deletes it once recorded
    # Again onto the same file (a run after a rolled-back one): one file, no leftovers.
    storages.transfer(holding, "dimse/x/00000001.deid", media, "instances/1/a.dcm")
    assert [p.name for p in _files(storage_dirs["media"])] == ["a.dcm"]
    with pytest.raises(FileNotFoundError):
        storages.transfer(holding, "dimse/x/00000002.deid", media, "instances/1/b.dcm")
    assert not media.exists("instances/1/b.dcm")


def test_transfer_within_one_object_store_is_a_server_side_copy(s3_storages):
    holding, media = storages.raw_holding, Instance._meta.get_field("file").storage
    holding.save("dimse/x/00000001.deid", ContentFile(b"de-identified"))
    storages.transfer(holding, "dimse/x/00000001.deid", media, "instances/1/a.dcm")
    assert s3_storages.keys("media/") == ["media/instances/1/a.dcm"]
    with media.open("instances/1/a.dcm", "rb") as fh:
        assert fh.read() == b"de-identified"
    assert holding.exists("dimse/x/00000001.deid")
    with pytest.raises(FileNotFoundError):
        storages.transfer(holding, "dimse/x/00000002.deid", media, "instances/1/b.dcm")


@pytest.mark.e2e
def test_an_association_held_in_a_bucket_is_filed_by_server_side_copies(
    s3_storages, listener, node, tmp_path, patient, storage_dirs
):
    """Listener, worker and every storage on the S3 server: what was de-identified while the
    association was open is copied within the object store on release, and nothing waits in
    the holding bucket afterwards."""
    from pydicom.uid import ExplicitVRLittleEndian
    from pynetdicom import AE
    from pynetdicom.sop_class import CTImageStorage

    from tests.conftest import WorkerProcess, purge_broker, wait_for
    from tests.dimse.conftest import CALLED_AET, write_series

    purge_broker()
    worker = WorkerProcess(storage_dirs, tmp_path / "worker.log", extra_env=s3_storages.env)
    worker.start().wait_ready()
    try:
        ae = AE(ae_title=CALLING_AET)
        ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 30
        assoc = ae.associate("127.0.0.1", listener.port, ae_title=CALLED_AET)
        assert assoc.is_established
        for path in write_series(tmp_path / "in", "CT_small.dcm", patient, count=8):
            assert assoc.send_c_store(path).Status == 0x0000
        wait_for(
            lambda: UploadItem.objects.exclude(deidentified_file="").count() >= 4,
            timeout=120,
            message="the worker to de-identify instances while the association is open",
        )
        assoc.release()
        wait_for(
            lambda: Upload.objects.filter(status=Upload.Status.DONE).exists(),
            timeout=120,
            message="the released study to be filed",
        )
    finally:
        worker.stop()
    upload = Upload.objects.get()
    assert list(upload.items.values_list("status", flat=True)) == ["anonymized"] * 8
    # Those de-identified ahead were filed without another claim (no read-back run).
    assert upload.items.filter(attempts=0).count() >= 4
    instances = Instance.objects.filter(series__study__case=upload.case)
    assert s3_storages.keys("media/") == sorted(
        f"media/{name}" for name in instances.values_list("file", flat=True)
    )
    wait_for(lambda: not s3_storages.keys("holding/"), timeout=10, message="holding emptied")
    assert not _files(storage_dirs["media"]) and not _files(storage_dirs["holding"])
    for instance in instances:
        with instance.file.open("rb") as fh:
            data = fh.read()
        assert data[128:132] == b"DICM" and patient.family.encode() not in data
