"""A file's own name can carry the patient's name ("Novakova_Jana_1957.dcm"): the server never
stores, logs or links it. The upload page sends files under neutral names and shows the
teacher's own names from the browser (tests/browser/test_upload_names.py); here a client that
sends the real names anyway (a plain form post without the script) is checked end to end:
every text column of every table, the log of the web request and of a real worker, every URL
the server answers with, and the names of the stored files."""

from __future__ import annotations

import io
import logging
import re
import zipfile

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client

from archive.models import Case, Upload, UploadItem
from tests.conftest import wait_for
from tests.phi import SyntheticPatient

pytestmark = pytest.mark.django_db(transaction=True)

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def _rows_holding(needle: str) -> list[str]:
    """Every (model.field) of the database whose value holds ``needle``, any case."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        if not model._meta.managed or model._meta.proxy:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, TEXT_FIELDS):
                lookup = {f"{field.attname}__icontains": needle}
                if model._default_manager.filter(**lookup).exists():
                    found.append(f"{model._meta.label}.{field.attname}")
    return found


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def test_a_file_name_with_a_patients_name_reaches_no_table_log_url_or_stored_name(
    teacher, phi_file, storage_dirs, caplog, celery_worker_process
):
    # A second synthetic person, only in the file names (the headers carry another one).
    named = SyntheticPatient()
    needles = [named.family, named.given, named.patient_id]
    stem = f"{named.family}_{named.given}_{named.patient_id}"
    case = Case.objects.create(owner=teacher, title="t", modality="CT", body_region="chest")
    client = Client()
    client.force_login(teacher)
    caplog.set_level(logging.DEBUG)
    response = client.post(
        f"/cases/{case.pk}/upload/",
        {
            "files": [
                SimpleUploadedFile(f"{stem}.dcm", phi_file()),
                SimpleUploadedFile(f"{stem} report.txt", b"not an image"),
                SimpleUploadedFile(
                    f"{stem}.zip",
                    _zip({f"{stem}/IMG0001.dcm": phi_file("MR_small.dcm"), f"{stem}.pdf": b"%PDF"}),
                ),
            ]
        },
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    upload = Upload.objects.get(public_id=body["id"])
    wait_for(
        lambda: not upload.items.filter(status=UploadItem.Status.PENDING).exists(),
        timeout=120,
        message="the worker to process the upload",
    )
    status = client.get(body["status_url"])
    # The teacher still learns which file was which: by position, for the browser to name.
    items = status.json()["items"]
    assert [(i["label"], i["file"], i["entry"], i["status"]) for i in items] == [
        ("File 1", 1, 0, "anonymized"),
        ("File 2", 2, 0, "rejected"),
        ("File 3 (zip) › entry 1", 3, 1, "anonymized"),
        ("File 3 (zip) › entry 2", 3, 2, "rejected"),
    ]
    edit = client.get(f"/cases/{case.pk}/edit/")
    page = client.get(f"/cases/{case.pk}/")
    worker_log = celery_worker_process.log_text()
    assert "ready." in worker_log  # the log read is the worker's
    stored = [str(p) for d in storage_dirs.values() for p in d.rglob("*")]
    urls = [response["Location"] if response.has_header("Location") else ""]
    urls += [body["status_url"]] + re.findall(
        r'(?:href|src|action)="([^"]+)"', edit.text + page.text
    )
    for needle in needles:
        assert _rows_holding(needle) == [], needle
        assert needle not in caplog.text
        assert needle not in worker_log
        assert not [u for u in urls if needle in u]
        assert not [p for p in stored if needle in p]
        assert needle not in edit.text and needle not in status.text and needle not in page.text
    # The scan can find what it looks for: the labels are among the text columns it reads.
    assert _rows_holding("File 3 (zip) › entry 2") == ["archive.UploadItem.label"]
