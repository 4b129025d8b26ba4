"""The listener with its holding storage in a private S3 bucket (issue 15): received instances
are written to the bucket, not to a local folder, through the storage API only; an aborted
association leaves no object behind, and the sweep of a killed listener's files lists the
bucket."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.base import ContentFile
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage

from archive import storage as storages
from archive.dimse.session import sweep_orphaned_holding
from archive.models import Upload
from tests.conftest import wait_for
from tests.dimse.conftest import CALLED_AET, CALLING_AET, holding_files, storescu, write_series

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    """What the listener files is looked at here; the worker path has its own tests."""
    monkeypatch.setattr("archive.scheduling.schedule_upload", lambda upload_id: None)


def test_received_instances_are_held_in_the_bucket_and_an_abort_leaves_nothing(
    s3_storages, listener, node, tmp_path, patient, storage_dirs
):
    files = write_series(tmp_path / "in", "CT_small.dcm", patient, count=3)
    assert storescu(listener.port, files).returncode == 0
    wait_for(Upload.objects.exists, timeout=10, message="the upload to be filed")
    upload = Upload.objects.get()
    names = sorted(upload.items.values_list("raw_file", flat=True))
    assert s3_storages.keys("holding/") == [f"holding/{name}" for name in names]
    assert not holding_files(storage_dirs)  # nothing in a local folder
    for item in upload.items.all():
        with item.raw_file.open("rb") as fh:
            assert fh.read()[128:132] == b"DICM"

    ae = AE(ae_title=CALLING_AET)
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    assoc = ae.associate("127.0.0.1", listener.port, ae_title=CALLED_AET)
    for path in files[:2]:
        assert assoc.send_c_store(path).Status == 0x0000
    assert len(s3_storages.keys("holding/")) == 5  # held while the association lasts
    assoc.abort()
    wait_for(
        lambda: len(s3_storages.keys("holding/")) == 3,
        timeout=10,
        message="the objects of the aborted association to be deleted",
    )
    assert Upload.objects.count() == 1
    if s3_storages.node["data_dir"] is not None:  # on the server's disk too: only the filed 3
        assert len(s3_storages.files_on_disk("holding")) == 3


def test_an_abort_after_a_batch_was_filed_while_receiving_leaves_no_object_and_no_upload(
    s3_storages, listener, node, tmp_path, patient, settings
):
    settings.TA_DICOM_BATCH_FILES = 2  # the first two instances are filed while receiving
    files = write_series(tmp_path / "in", "CT_small.dcm", patient, count=3)
    ae = AE(ae_title=CALLING_AET)
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    assoc = ae.associate("127.0.0.1", listener.port, ae_title=CALLED_AET)
    for path in files:
        assert assoc.send_c_store(path).Status == 0x0000
    upload = Upload.objects.get()
    assert upload.status == Upload.Status.RECEIVING and upload.items.count() == 2
    assert len(s3_storages.keys("holding/")) == 3
    assoc.abort()
    wait_for(
        lambda: not s3_storages.keys("holding/") and not Upload.objects.exists(),
        timeout=10,
        message="the objects and the upload of the aborted association to be deleted",
    )
    if s3_storages.node["data_dir"] is not None:
        assert not s3_storages.files_on_disk("holding")


def test_the_sweep_of_a_killed_listeners_files_lists_the_bucket(s3_storages, teacher):
    holding = storages.raw_holding
    orphan = f"dimse/{uuid.uuid4()}/00000001.raw"
    holding.save(orphan, ContentFile(b"raw"))
    assert sweep_orphaned_holding() == 0  # too recent: perhaps an association in progress
    assert sweep_orphaned_holding(older_than=0) == 1
    assert s3_storages.keys("holding/") == []
