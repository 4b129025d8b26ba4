"""Poison files end in quarantine, not in a crash loop; pixel bombs never reach a decoder
(issue #18), with a real Celery worker on Redis."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from archive.models import UploadItem
from archive.services.processing import POISONED
from tests.conftest import wait_for
from tests.hostile import uploads
from tests.hostile.files import j2k_bomb
from tests.hostile.test_pixel_limits import PER_FRAME

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _memory(pid: int) -> dict[str, float]:
    """Current and peak resident memory of a process, in MiB (Linux /proc)."""
    values = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values


def test_a_file_that_kills_its_worker_is_quarantined_and_the_rest_goes_on(
    hooked_worker, teacher, phi_file
):
    poison = uploads.instance(phi_file, "CT_small.dcm", 1)
    good = {f"ct{i}.dcm": uploads.instance(phi_file, "CT_small.dcm", i + 2) for i in range(3)}
    worker = hooked_worker(
        "poison",
        TA_TEST_KILL_WORKER_ON_SHA256=hashlib.sha256(poison).hexdigest(),
        TA_ITEM_CLAIM_SECONDS="3",
        TA_ITEM_MAX_ATTEMPTS="2",
    )
    client = Client()
    client.force_login(teacher)
    case = uploads.new_case(teacher)
    # The poison file first in its chunk, the good ones with it and after it.
    upload = uploads.upload(client, case, {"a.dcm": poison, **good, "bomb.dcm": j2k_bomb()})
    wait_for(lambda: uploads.done(upload), timeout=180, message="the upload to finish")

    items = {item.label: item for item in upload.items.all()}
    statuses = sorted(item.status for item in items.values())
    assert statuses == ["anonymized"] * 3 + ["quarantined", "rejected"]
    (poisoned,) = [i for i in items.values() if i.status == UploadItem.Status.QUARANTINED]
    assert poisoned.sha256 == hashlib.sha256(poison).hexdigest()
    assert poisoned.reason == POISONED.format(attempts=2)
    assert poisoned.attempts == 3  # two runs died, the third set it aside
    assert poisoned.quarantined_file.name.endswith(".original.dcm")
    with poisoned.quarantined_file.open("rb") as fh:
        assert fh.read() == poison
    (bomb,) = [i for i in items.values() if i.status == UploadItem.Status.REJECTED]
    assert bomb.reason == PER_FRAME and bomb.attempts == 1
    assert case.studies.count() == 1
    log = worker.log_text()
    assert log.count("WorkerLostError") >= 2 or log.count("exited with 'signal 9") >= 2, log

    # The worker's main process is still serving: a later upload is processed.
    assert worker.proc.poll() is None
    mr = uploads.instance(phi_file, "MR_small.dcm", 1)
    later = uploads.upload(client, case, {"later.dcm": mr})
    wait_for(lambda: uploads.done(later), timeout=120, message="a later upload to finish")
    assert [i.status for i in later.items.all()] == [UploadItem.Status.ANONYMIZED]


def test_the_workers_memory_stays_bounded_on_the_pixel_bomb(celery_worker_process, teacher):
    """The issue's 10.7 GB-declaring file through an upload: rejected with its reason; the
    worker's peak resident memory (VmHWM) grows by less than 200 MiB."""
    worker = celery_worker_process.wait_ready()
    before = _memory(worker.proc.pid)
    client = Client()
    client.force_login(teacher)
    upload = uploads.upload(client, uploads.new_case(teacher), {"bomb.dcm": j2k_bomb()})
    wait_for(lambda: uploads.done(upload), timeout=60, message="the upload to finish")
    (item,) = upload.items.all()
    assert (item.status, item.reason) == (UploadItem.Status.REJECTED, PER_FRAME)
    after = _memory(worker.proc.pid)
    assert after["VmHWM"] - before["VmRSS"] < 200, (before, after)
