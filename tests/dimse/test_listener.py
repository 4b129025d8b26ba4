"""The listener against real peers (dcmtk, pynetdicom), without a worker: who may associate,
what an association leaves behind when released, aborted or dropped, malformed datasets."""

from __future__ import annotations

import logging
import time

import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage

from archive.dimse.session import RECEIVED_TITLE_PREFIX, STATUS_CANNOT_UNDERSTAND
from archive.models import Case, RemoteNode, Upload, UploadItem
from tests.conftest import wait_for
from tests.dimse.conftest import (
    CALLED_AET,
    CALLING_AET,
    echoscu,
    holding_files,
    storescu,
    write_series,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    """These tests look at what the listener files; the worker path has its own tests."""
    queued: list[int] = []
    monkeypatch.setattr(
        "archive.scheduling.schedule_upload", lambda upload_id: queued.append(upload_id)
    )
    return queued


@pytest.fixture
def raw_sending(monkeypatch):
    """Send files byte for byte (pynetdicom would otherwise decode and re-encode them)."""
    from pynetdicom import _config

    monkeypatch.setattr(_config, "STORE_SEND_CHUNKED_DATASET", True)


def _scu(calling: str = CALLING_AET) -> AE:
    ae = AE(ae_title=calling)
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    return ae


def test_echo_from_registered_node_succeeds_and_unknown_ae_title_is_refused(listener, node):
    ok = echoscu(listener.port)
    assert ok.returncode == 0, ok.stderr
    refused = echoscu(listener.port, calling="STRANGER")
    assert refused.returncode != 0
    assert "reject" in (refused.stderr + refused.stdout).lower()


def test_inactive_node_and_empty_registry_refuse_everyone(listener, node):
    RemoteNode.objects.filter(pk=node.pk).update(is_active=False)
    assert echoscu(listener.port).returncode != 0
    RemoteNode.objects.all().delete()
    assert echoscu(listener.port).returncode != 0


def test_unknown_ae_title_cannot_store(listener, node, tmp_path, patient):
    files = write_series(tmp_path / "in", "CT_small.dcm", patient, count=2)
    result = storescu(listener.port, files, calling="STRANGER")
    assert result.returncode != 0
    assert not Upload.objects.exists()
    assert not holding_files({"holding": tmp_path / "holding"})


def test_released_association_becomes_one_upload_in_a_neutral_new_draft(
    listener, node, tmp_path, patient, storage_dirs, _no_queue
):
    files = write_series(tmp_path / "in", "CT_small.dcm", patient, count=3)
    result = storescu(listener.port, files)
    assert result.returncode == 0, result.stderr

    wait_for(lambda: Upload.objects.exists(), timeout=10, message="the upload to be filed")
    upload = Upload.objects.get()
    assert upload.source == "dicom"
    assert upload.uploaded_by == node.teacher
    assert _no_queue == [upload.pk]
    items = list(upload.items.all())
    assert [i.status for i in items] == [UploadItem.Status.PENDING] * 3
    assert {i.label for i in items} == {f"Received instance {n}" for n in (1, 2, 3)}
    for item in items:
        assert item.raw_file.name.startswith(f"dimse/{upload.public_id}/")
        assert not any(s.upper() in item.raw_file.name.upper() for s in patient.secrets())
        with item.raw_file.open("rb") as fh:
            data = fh.read()
        assert data[128:132] == b"DICM" and len(data) == item.size
    assert len(holding_files(storage_dirs)) == 3
    assert not [p for p in holding_files(storage_dirs) if p.suffix == ".part"]

    case = upload.case
    assert case.owner == node.teacher and case.status == Case.Status.DRAFT
    assert case.title.startswith(RECEIVED_TITLE_PREFIX)
    assert not any(s.upper() in case.title.upper() for s in patient.secrets())
    assert case.modality == "CT"


def test_node_target_draft_case_receives_the_study(listener, node, tmp_path, patient, teacher):
    target = Case.objects.create(
        owner=teacher, title="My draft", modality="CT", body_region="chest"
    )
    node.target_case = target
    node.save()
    assert (
        storescu(listener.port, write_series(tmp_path / "in", "CT_small.dcm", patient)).returncode
        == 0
    )
    wait_for(lambda: Upload.objects.exists(), timeout=10)
    assert Upload.objects.get().case == target
    assert Case.objects.count() == 1


def test_published_target_case_is_not_touched(listener, node, tmp_path, patient, teacher):
    published = Case.objects.create(
        owner=teacher,
        title="Done",
        modality="CT",
        body_region="chest",
        status=Case.Status.PUBLISHED,
    )
    node.target_case = published
    node.save()
    assert (
        storescu(listener.port, write_series(tmp_path / "in", "CT_small.dcm", patient)).returncode
        == 0
    )
    wait_for(lambda: Upload.objects.exists(), timeout=10)
    assert Upload.objects.get().case != published


def test_aborted_association_leaves_nothing(listener, node, tmp_path, patient, storage_dirs):
    files = write_series(tmp_path / "in", "CT_small.dcm", patient, count=3)
    assoc = _scu().associate("127.0.0.1", listener.port, ae_title=CALLED_AET)
    assert assoc.is_established
    for path in files[:2]:
        assert assoc.send_c_store(path).Status == 0x0000
    assert len(holding_files(storage_dirs)) == 2  # held while the association lasts
    assoc.abort()

    wait_for(
        lambda: not holding_files(storage_dirs),
        timeout=10,
        message="the raw files of the aborted association to be deleted",
    )
    time.sleep(0.3)
    assert not Upload.objects.exists()
    assert not UploadItem.objects.exists()
    assert not Case.objects.exists()


def test_dropped_connection_leaves_nothing_and_listener_keeps_serving(
    listener, node, tmp_path, patient, storage_dirs
):
    files = write_series(tmp_path / "in", "CT_small.dcm", patient, count=2)
    assoc = _scu().associate("127.0.0.1", listener.port, ae_title=CALLED_AET)
    assert assoc.send_c_store(files[0]).Status == 0x0000
    # The peer vanishes mid-study: no A-RELEASE, no A-ABORT, just a closed socket.
    assoc.dul.socket.socket.close()
    assoc.kill()

    wait_for(
        lambda: not holding_files(storage_dirs),
        timeout=15,
        message="the raw files of the dropped association to be deleted",
    )
    assert not Upload.objects.exists()
    assert echoscu(listener.port).returncode == 0


def test_malformed_dataset_is_refused_with_failure_status_and_logged_without_phi(
    listener, node, tmp_path, patient, caplog, raw_sending
):
    good, bad = write_series(tmp_path / "in", "CT_small.dcm", patient, count=2)
    data = bad.read_bytes()
    # Keep the file meta and the patient's name, cut the dataset in the middle of an element:
    # 4 bytes into the 8-byte value of Patient's Birth Date (0010,0030), which follows the name
    # (explicit VR little endian: 4 bytes tag, 2 VR, 2 length, then the value).
    assert data.index(patient.family.encode()) < data.index(b"\x10\x00\x30\x00DA")
    bad.write_bytes(data[: data.index(b"\x10\x00\x30\x00DA") + 8 + 4])

    caplog.set_level(logging.INFO)
    assoc = _scu().associate("127.0.0.1", listener.port, ae_title=CALLED_AET)
    assert assoc.send_c_store(good).Status == 0x0000
    status = assoc.send_c_store(bad)
    assert status.Status == STATUS_CANNOT_UNDERSTAND
    assoc.release()

    wait_for(lambda: Upload.objects.exists(), timeout=10)
    items = list(Upload.objects.get().items.order_by("pk"))
    # The good file waits for the worker (or was already processed by one); the bad one never
    # reaches it.
    assert items[0].status in {"pending", "anonymized"}
    assert items[1].status == "rejected" and "malformed" in items[1].reason
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("archive"))
    assert "malformed dataset" in ours
    for secret in patient.secrets():
        assert secret not in ours
        assert secret not in items[1].reason


def test_only_malformed_datasets_create_no_case(listener, node, tmp_path, patient, raw_sending):
    (bad,) = write_series(tmp_path / "in", "CT_small.dcm", patient)
    data = bad.read_bytes()
    bad.write_bytes(data[: data.index(patient.family.encode()) + 3])  # inside Patient's Name
    assoc = _scu().associate("127.0.0.1", listener.port, ae_title=CALLED_AET)
    assert assoc.send_c_store(bad).Status == STATUS_CANNOT_UNDERSTAND
    assoc.release()
    time.sleep(0.5)
    assert not Upload.objects.exists() and not Case.objects.exists()


def test_management_command_serves_until_terminated(node, storage_dirs, tmp_path):
    import os
    import signal
    import socket
    import subprocess
    import sys

    from tests.conftest import REPO, _database_url

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "TA_DICOM_PORT": str(port),
        "TA_DICOM_AE_TITLE": CALLED_AET,
        "TA_RAW_HOLDING_ROOT": str(storage_dirs["holding"]),
    }
    log = tmp_path / "listener.log"
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "dicom_listener"],
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(
            lambda: "DICOM listener" in log.read_text(), timeout=30, message="the listener to start"
        )
        assert f"127.0.0.1:{port}" in log.read_text()
        assert echoscu(port).returncode == 0
        assert echoscu(port, calling="STRANGER").returncode != 0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(60)  # generous: CI runs this on a loaded 2-core machine
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("the listener ignored SIGTERM:\n" + log.read_text()) from None
        assert code == 0
    assert "stopped" in log.read_text()


def test_orphaned_raw_files_of_a_killed_listener_are_swept(storage_dirs, teacher):
    import os
    import uuid

    from archive.dimse.session import sweep_orphaned_holding

    case = Case.objects.create(owner=teacher, title="t", modality="CT", body_region="chest")
    filed = Upload.objects.create(case=case, uploaded_by=teacher, source="dicom")
    folders = {}
    for name, public_id in [
        ("orphan", uuid.uuid4()),
        ("filed", filed.public_id),
        ("recent", uuid.uuid4()),
    ]:
        folder = storage_dirs["holding"] / "dimse" / str(public_id)
        folder.mkdir(parents=True)
        (folder / "00000001.raw").write_bytes(b"raw")
        if name != "recent":  # the newest file of the folder is what the storage shows
            os.utime(folder / "00000001.raw", (0, 0))
        folders[name] = folder
    assert sweep_orphaned_holding() == 1
    assert not folders["orphan"].exists()
    assert folders["filed"].exists() and folders["recent"].exists()


def test_a_large_instance_is_received_through_a_private_file_not_held_in_memory(
    listener, node, tmp_path, patient, storage_dirs, monkeypatch
):
    """A 48 MiB multi-frame instance: the listener's memory stays a few fragments, the bytes go
    to an owner-only file in the incoming area (not the system's /tmp), gone after the C-STORE,
    and the held copy is the instance as sent."""
    import hashlib
    import io
    import os
    import stat
    import tracemalloc
    from pathlib import Path

    from archive.dimse.session import ReceivingSession
    from archive.services.incoming import incoming_dir
    from tests.dimse.conftest import phi_dataset

    ds = phi_dataset("CT_small.dcm", patient)
    frames = 1536
    ds.NumberOfFrames = frames
    ds.PixelData = ds.PixelData * frames  # 32 KiB a frame
    sent = tmp_path / "cine.dcm"
    ds.save_as(sent, enforce_file_format=True)
    assert sent.stat().st_size > 48 << 20

    seen: list[tuple[Path, int]] = []
    store = ReceivingSession.store

    def watching(self, data):
        if not isinstance(data, bytes):
            path = Path(data.name)
            seen.append((path.parent, stat.S_IMODE(os.stat(path).st_mode)))
        return store(self, data)

    monkeypatch.setattr(ReceivingSession, "store", watching)
    tracemalloc.start()
    try:
        result = storescu(listener.port, [sent])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.returncode == 0, result.stderr
    assert peak < 16 << 20, f"the listener held {peak >> 20} MiB"
    assert seen == [(incoming_dir(), 0o600)]
    assert not list(incoming_dir().iterdir())  # pynetdicom removed it after the C-STORE

    wait_for(lambda: Upload.objects.exists(), timeout=10, message="the upload to be filed")
    [item] = Upload.objects.get().items.all()
    with item.raw_file.open("rb") as fh:
        received = fh.read()
    assert item.size == len(received) and item.sha256 == hashlib.sha256(received).hexdigest()
    # storescu may send it in another transfer syntax: the frames are what must arrive whole.
    held = pydicom.dcmread(io.BytesIO(received))
    assert held.NumberOfFrames == frames and held.PixelData == ds.PixelData
