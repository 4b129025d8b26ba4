"""A file that takes longer than a task may is quarantined at the soft time limit, and the rest
of its chunk and upload goes on (issue #18), with a real prefork worker on Redis: Celery
enforces time limits only in a pool's child processes, as in production."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from archive.models import UploadItem
from archive.services.processing import TIMED_OUT
from tests.conftest import wait_for
from tests.hostile import uploads

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SOFT_LIMIT = 3


def test_a_file_over_the_soft_time_limit_is_quarantined_and_the_rest_goes_on(
    hooked_worker, teacher, phi_file
):
    slow = uploads.instance(phi_file, "CT_small.dcm", 1)
    # In one chunk with the slow file (four files a chunk), and one more after it.
    good = {f"ct{i}.dcm": uploads.instance(phi_file, "CT_small.dcm", i + 2) for i in range(4)}
    worker = hooked_worker(
        "slow",
        TA_TEST_SLOW_ON_SHA256=hashlib.sha256(slow).hexdigest(),
        TA_TASK_SOFT_TIME_LIMIT=str(SOFT_LIMIT),
        TA_TASK_TIME_LIMIT="120",
    )
    client = Client()
    client.force_login(teacher)
    case = uploads.new_case(teacher)
    upload = uploads.upload(client, case, {"a.dcm": slow, **good})
    wait_for(lambda: uploads.done(upload), timeout=180, message="the upload to finish")

    items = list(upload.items.all())
    statuses = sorted(item.status for item in items)
    assert statuses == ["anonymized"] * 4 + ["quarantined"], statuses
    (timed_out,) = [i for i in items if i.status == UploadItem.Status.QUARANTINED]
    assert timed_out.sha256 == hashlib.sha256(slow).hexdigest()
    assert timed_out.reason == TIMED_OUT.format(seconds=SOFT_LIMIT)
    assert timed_out.attempts == 1  # the soft limit ended its one run; nothing died
    with timed_out.quarantined_file.open("rb") as fh:
        assert fh.read() == slow
    assert case.studies.get().series.get().instances.count() == 4
    # The child was not killed by the hard limit: the worker's log says the soft one.
    log = worker.log_text()
    assert "SoftTimeLimitExceeded" in log or "Soft time limit" in log, log[-3000:]
    assert "WorkerLostError" not in log and "Hard time limit" not in log, log[-3000:]
    assert worker.proc.poll() is None
