"""Queues by kind of work (issue 15): a long upload does not hold up a curator's publish from
reaching the search index. Its chunks wait in the ``deidentify`` queue while the index task
has its own, so even one worker consuming every queue (as ``make run``'s does) indexes the
published case between two chunks, long before the upload is done."""

from __future__ import annotations

import pydicom
import pytest
from django.test import Client
from pydicom.data import get_testdata_file

from archive.models import Case, Upload, UploadItem
from archive.services.cases import publish_case
from archive.services.intake import receive_files, received_from_bytes
from tests.conftest import dicom_bytes, wait_for
from tests.phi import SyntheticPatient, inject_phi, unique_copy

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_publish_reaches_the_index_while_a_long_upload_is_processed(
    celery_worker_process, teacher, curator, student
):
    base = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    inject_phi(base, SyntheticPatient())
    long_case = Case.objects.create(owner=teacher, title="Long", modality="CT", body_region="chest")
    upload = receive_files(
        case=long_case,
        user=teacher,
        files=[received_from_bytes(dicom_bytes(unique_copy(base, n))) for n in range(1, 121)],
    )
    wait_for(
        lambda: upload.items.exclude(status=UploadItem.Status.PENDING).count() >= 4,
        timeout=120,
        message="the worker to start on the upload",
    )
    other = Case.objects.create(
        owner=teacher,
        title="Spontaneous pneumomediastinum",
        modality="CT",
        body_region="chest",
        status=Case.Status.SUBMITTED,
    )
    publish_case(case=other, user=curator)

    searcher = Client()
    searcher.force_login(student)

    def found() -> bool:
        return searcher.get("/api/search", {"q": "pneumomediastinum"}).json()["total"] == 1

    wait_for(found, timeout=120, message="the published case to be indexed")
    left = upload.items.filter(status=UploadItem.Status.PENDING).count()
    assert left > 0, "the index waited for the whole upload"
    wait_for(
        lambda: Upload.objects.get(pk=upload.pk).status == Upload.Status.DONE,
        timeout=300,
        message="the upload to finish",
    )
