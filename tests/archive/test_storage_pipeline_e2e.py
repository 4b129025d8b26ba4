"""The whole pipeline on each kind of storage (issue 15): upload → de-identify (a real worker
process) → view → download → re-redact with a teacher's box → purge the originals, with the
default folders and with every storage in a private bucket of a real S3 server (S3Proxy,
archive/s3_node). The raw holding area is never reachable over HTTP: not through the site, and
not anonymously from the object store; once purged, its bytes are gone from the server's disk."""

from __future__ import annotations

import io
import urllib.error
import urllib.request

import numpy as np
import pydicom
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from archive import storage as storages
from archive.models import Case, Instance, Upload, UploadItem
from archive.rendering import cache_name
from tests.conftest import WorkerProcess, purge_broker, wait_for
from tests.review.faint_text import TEACHER_BOX, burn_faint_text, text_mask

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=["filesystem", "s3"])
def area(request, storage_dirs):
    """Where the files live: None for the default folders, or the S3 bucket."""
    if request.param == "s3":
        return request.getfixturevalue("s3_storages")
    return None


@pytest.fixture
def worker(area, storage_dirs, tmp_path, transactional_db):
    purge_broker()
    process = WorkerProcess(
        storage_dirs, tmp_path / "worker.log", extra_env=area.env if area else {}
    ).start()
    yield process.wait_ready()
    process.stop()


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _held(area, storage_dirs) -> list[str]:
    """What the raw holding storage holds (the local incoming spool is not part of it)."""
    if area is not None:
        return area.keys("holding/")
    root = storage_dirs["holding"]
    return [str(p) for p in root.rglob("*") if p.is_file() and "incoming" not in p.parts]


def _pixels(instance: Instance) -> np.ndarray:
    with instance.file.open("rb") as fh:
        return pydicom.dcmread(fh).pixel_array.copy()


def test_upload_view_download_re_redact_and_purge_on_each_storage(
    area, worker, teacher, curator, student, phi_file, patient, storage_dirs
):
    teacher_client = _client(teacher)
    case = Case.objects.create(
        owner=teacher, title="Pneumothorax", modality="CT", body_region="chest"
    )
    files = [
        SimpleUploadedFile(
            f"{patient.family}_ct.dcm", phi_file("CT_small.dcm", dataset_hook=burn_faint_text)
        ),
        SimpleUploadedFile(f"{patient.family}_mr.dcm", phi_file("MR_small.dcm")),
    ]
    response = teacher_client.post(
        f"/cases/{case.pk}/upload/", {"files": files}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 201, response.content
    upload = Upload.objects.get(public_id=response.json()["id"])
    wait_for(
        lambda: Upload.objects.get(pk=upload.pk).status == Upload.Status.DONE,
        timeout=120,
        message="the worker to de-identify the upload",
    )
    assert list(upload.items.values_list("status", flat=True)) == ["anonymized"] * 2
    if area is not None:  # nothing of the pipeline landed in the local folders
        for name in ("media", "holding", "quarantine", "render"):
            local = [p for p in storage_dirs[name].rglob("*") if p.is_file()]
            assert local == [], (name, local)
        assert len(area.keys("media/instances/")) == 2

    # The originals are kept (for the teacher's review) and reachable by no URL.
    raw_names = list(upload.items.values_list("raw_file", flat=True))
    assert all(raw_names) and len(_held(area, storage_dirs)) == 2
    for user in (teacher, curator, student):
        c = _client(user)
        for name in raw_names:
            for url in (f"/media/{name}", f"/holding/{name}", f"/{name}", f"/media/../{name}"):
                assert c.get(url).status_code == 404, url
    if area is not None:
        for name in raw_names:
            url = f"{area.node['endpoint']}/{area.bucket}/holding/{name}"
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(url, timeout=10)
            assert refused.value.code == 403
            grants = area.client.get_object_acl(Bucket=area.bucket, Key=f"holding/{name}")
            assert [g["Permission"] for g in grants["Grants"]] == ["FULL_CONTROL"]
            assert all(g["Grantee"]["Type"] == "CanonicalUser" for g in grants["Grants"])

    # View: a rendered frame, cached in the render cache storage.
    ct = Instance.objects.select_related("series").get(
        series__study__case=case, series__modality="CT"
    )
    png = teacher_client.get(f"/instances/{ct.pk}/frames/0.png?preset=lung")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert len(set(Image.open(io.BytesIO(png.content)).getdata())) > 4
    rendered = cache_name(ct, 0, "lung", None)
    assert storages.render_cache.exists(rendered)

    # Download: the anonymized file, free of the synthetic patient.
    download = teacher_client.get(f"/instances/{ct.pk}/download")
    assert download.status_code == 200
    data = b"".join(download.streaming_content) if download.streaming else download.content
    for secret in patient.secrets():
        assert secret.encode() not in data
    assert pydicom.dcmread(io.BytesIO(data)).SOPInstanceUID == ct.sop_uid

    # Re-redact: the teacher's box is applied from the kept original by the worker.
    old_name = ct.file.name
    x, y, w, h = TEACHER_BOX
    boxed = teacher_client.post(
        f"/series/{ct.series_id}/redaction-boxes/",
        {"instance": ct.pk, "x": x, "y": y, "width": w, "height": h},
        HTTP_ACCEPT="application/json",
    )
    assert boxed.status_code == 202, boxed.content
    wait_for(
        lambda: Instance.objects.get(pk=ct.pk).file.name != old_name,
        timeout=120,
        message="the worker to redact the series again",
    )
    ct.refresh_from_db()
    assert ct.file.name.endswith(".r1.dcm")
    pixels = _pixels(ct)
    assert len(np.unique(pixels[text_mask()])) == 1, "the boxed text is still there"
    # Once the new file is committed, the worker deletes the old one, then its cached PNGs.
    wait_for(
        lambda: not default_storage.exists(old_name) and not storages.render_cache.exists(rendered),
        timeout=30,
        message="the old file and the PNGs of its pixels to go",
    )
    assert teacher_client.get(f"/instances/{ct.pk}/frames/0.png?preset=lung").status_code == 200

    # Purge the originals: the review is over; deleting them really deletes them.
    assert teacher_client.post(f"/cases/{case.pk}/finish-review").status_code == 302
    assert _held(area, storage_dirs) == []
    assert not UploadItem.objects.filter(upload=upload).exclude(raw_file="").exists()
    if area is not None:
        assert area.files_on_disk("holding") == []
        if area.node["data_dir"] is not None:  # the server's disk holds the instances only
            assert len(area.files_on_disk("media")) == 2
    again = teacher_client.get(f"/instances/{ct.pk}/download")
    assert again.status_code == 200
