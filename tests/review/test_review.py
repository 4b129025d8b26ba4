"""Teacher review of the redaction: a box drawn on a series is blanked on every frame from the
kept original (same UIDs, new file, new ETag); originals are kept until the case is submitted,
the review is finished or the retention limit passes, and are never served; only those who may
edit the case can add boxes; the task is idempotent."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pydicom
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from archive.models import Instance, RedactionBox, UploadItem
from archive.services import review
from archive.services.cases import publish_case, submit_case
from archive.services.intake import receive_files, received_from_bytes
from archive.services.processing import process_upload
from tests.review.faint_text import TEACHER_BOX, text_mask

pytestmark = pytest.mark.django_db(transaction=True)


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _pixels(instance: Instance) -> np.ndarray:
    instance.refresh_from_db()
    with instance.file.open("rb") as fh:
        return pydicom.dcmread(fh).pixel_array.copy()


def _holding(storage_dirs) -> list:
    return [p for p in storage_dirs["holding"].rglob("*") if p.is_file()]


def _add_box(client: Client, instance: Instance, box=TEACHER_BOX, **extra):
    x, y, w, h = box
    return client.post(
        f"/series/{instance.series_id}/redaction-boxes/",
        {"instance": instance.pk, "x": x, "y": y, "width": w, "height": h},
        HTTP_ACCEPT="application/json",
        **extra,
    )


def _etag(client: Client, instance: Instance) -> str:
    response = client.get(f"/instances/{instance.pk}/frames/0.png?size=160")
    assert response.status_code == 200
    return response["ETag"]


# --- The box is blanked from the original --------------------------------------------------------


def test_a_teacher_box_is_blanked_from_the_original_and_nothing_else_changes(
    teacher, ct_instance, queued, storage_dirs
):
    client = _client(teacher)
    before = _pixels(ct_instance)
    sop_uid, old_name = ct_instance.sop_uid, ct_instance.file.name
    etag_before = _etag(client, ct_instance)

    response = _add_box(client, ct_instance)
    assert response.status_code == 202, response.content
    assert response.json()["state"] == "running"
    assert queued == [ct_instance.series_id], "the task is queued once the box is committed"
    assert review.redact_series_again(ct_instance.series_id)["redacted"] == 1

    after = _pixels(ct_instance)
    x, y, w, h = TEACHER_BOX
    inside = np.zeros(after.shape, bool)
    inside[y : y + h, x : x + w] = True
    # Inside: one fill value everywhere, so the faint text is gone.
    assert len(np.unique(after[inside])) == 1
    mask = text_mask()
    assert (after[mask] != before[mask]).mean() >= 0.99, "the faint text was not blanked"
    # Outside: as the automatic redaction left it.
    assert (after[~inside] == before[~inside]).mean() >= 0.99
    # Same pseudonymous UIDs (references resolve), a new file, the old one gone.
    ct_instance.refresh_from_db()
    assert ct_instance.sop_uid == sop_uid
    with ct_instance.file.open("rb") as fh:
        ds = pydicom.dcmread(fh)
    assert ds.SOPInstanceUID == sop_uid and ds.BurnedInAnnotation == "NO"
    assert ct_instance.file.name != old_name
    assert not (storage_dirs["media"] / old_name).exists()
    reasons = [b[5] for b in ct_instance.pixel_report["boxes"]]
    assert "drawn by teacher/curator" in reasons
    # The rendered frame follows the new file; the old file's PNGs are gone from the cache.
    assert _etag(client, ct_instance) != etag_before
    cached = [p.name for p in storage_dirs["render"].rglob("*.png")]
    assert etag_before.strip('"') not in " ".join(cached)
    assert len(cached) == 1
    status = client.get(f"/series/{ct_instance.series_id}/redaction.json").json()
    assert status["state"] == "done" and status["done"] == 1 and status["boxes"] == 1
    # The editor outlines the blanked area and cache-busts the thumbnail.
    html = client.get(f"/cases/{ct_instance.series.study.case_id}/edit/").content.decode()
    assert "drawn by teacher/curator" in html
    assert f"/instances/{ct_instance.pk}/frames/0.png?size=160&amp;v=1" in html


def test_the_task_is_idempotent(teacher, ct_instance, queued):
    assert _add_box(_client(teacher), ct_instance).status_code == 202
    from archive.tasks import redact_series

    redact_series.run(ct_instance.series_id)
    ct_instance.refresh_from_db()
    name, report = ct_instance.file.name, ct_instance.pixel_report
    data = ct_instance.file.read()
    ct_instance.file.close()

    again = review.redact_series_again(ct_instance.series_id)
    assert again == {"redacted": 0, "skipped": 1, "failed": 0, "closed": 0}
    ct_instance.refresh_from_db()
    assert ct_instance.file.name == name and ct_instance.pixel_report == report
    assert ct_instance.file.read() == data
    ct_instance.file.close()
    assert Instance.objects.count() == 1


def test_removing_the_box_restores_the_automatic_redaction(teacher, ct_instance, queued):
    client = _client(teacher)
    automatic = _pixels(ct_instance)
    _add_box(client, ct_instance)
    review.redact_series_again(ct_instance.series_id)
    box = RedactionBox.objects.get()
    response = client.post(
        f"/series/{ct_instance.series_id}/redaction-boxes/{box.pk}/delete",
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 202
    assert review.redact_series_again(ct_instance.series_id)["redacted"] == 1
    assert np.array_equal(_pixels(ct_instance), automatic)
    assert ct_instance.pixel_report["review_revision"] == 2


def test_a_box_that_cannot_be_applied_leaves_the_stored_image_and_says_so(
    teacher, ct_instance, queued, monkeypatch
):
    from archive.deid import DeidResult

    def quarantined(data, policy):
        result = real(data, policy)
        return DeidResult(
            dataset=result.dataset,
            status="quarantined",
            reasons=["text remained"],
            audit=[],
            phi_hints=result.phi_hints,
        )

    real = review.deidentify_bytes
    monkeypatch.setattr(review, "deidentify_bytes", quarantined)
    name = ct_instance.file.name
    _add_box(_client(teacher), ct_instance)
    assert review.redact_series_again(ct_instance.series_id)["failed"] == 1
    ct_instance.refresh_from_db()
    assert ct_instance.file.name == name
    status = _client(teacher).get(f"/series/{ct_instance.series_id}/redaction.json").json()
    assert status["state"] == "failed"
    assert review.redact_series_again(ct_instance.series_id)["skipped"] == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"x": "a", "y": 1, "width": 2, "height": 3},
        {"x": 1, "y": 1, "width": 0, "height": 0},
        {"x": "nan", "y": 1, "width": 5, "height": 5},
    ],
)
def test_bad_boxes_are_refused_with_a_reason(teacher, ct_instance, queued, fields):
    response = _client(teacher).post(
        f"/series/{ct_instance.series_id}/redaction-boxes/", fields, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400 and response.json()["error"]
    assert not RedactionBox.objects.exists() and not queued


def test_a_box_is_clipped_to_the_image(teacher, ct_instance, queued):
    assert _add_box(_client(teacher), ct_instance, box=(100, 100, 500, 500)).status_code == 202
    box = RedactionBox.objects.get()
    assert box.pixels(128, 128) == (100, 100, 128, 128)


# --- Who may add boxes ----------------------------------------------------------------------


def test_only_the_author_and_curators_can_add_boxes(
    teacher, other_teacher, student, curator, ct_instance, queued
):
    case = ct_instance.series.study.case
    series = ct_instance.series_id
    for user in (other_teacher, student):
        c = _client(user)
        assert _add_box(c, ct_instance).status_code == 404
        assert c.get(f"/series/{series}/redaction.json").status_code == 404
        assert c.get(f"/series/{series}/preview").status_code == 404
        assert c.post(f"/cases/{case.pk}/finish-review").status_code == 404
    assert Client().post(f"/series/{series}/redaction-boxes/").status_code == 302  # to login
    assert _add_box(_client(curator), ct_instance).status_code == 202
    # Published: everyone sees the case, only curators change it.
    publish_case(case=case, user=curator)
    for user in (teacher, other_teacher, student):
        assert _add_box(_client(user), ct_instance).status_code == 403
    assert RedactionBox.objects.count() == 1


# --- Originals: kept for the review, then deleted, never served -------------------------------


def test_originals_are_kept_until_submit_then_deleted(teacher, review_case, storage_dirs):
    item = UploadItem.objects.get(upload__case=review_case)
    assert item.status == "anonymized" and item.raw_file.name
    assert len(_holding(storage_dirs)) == 1
    html = _client(teacher).get(f"/cases/{review_case.pk}/edit/").content.decode()
    assert "Apply to this series" in html and "Finish review" in html

    submit_case(case=review_case, user=teacher)
    assert not _holding(storage_dirs)
    item.refresh_from_db()
    assert not item.raw_file
    assert review.discard_originals(case=review_case) == 0  # harmless again


def test_finish_review_deletes_the_originals_and_the_editor_says_boxes_are_over(
    teacher, ct_instance, storage_dirs, queued
):
    client = _client(teacher)
    case_id = ct_instance.series.study.case_id
    response = client.post(f"/cases/{case_id}/finish-review")
    assert response.status_code == 302
    assert not _holding(storage_dirs)
    html = client.get(f"/cases/{case_id}/edit/").content.decode()
    assert "boxes can no longer be added" in html
    assert "Apply to this series" not in html and "Finish review" not in html
    response = _add_box(client, ct_instance)
    assert response.status_code == 409 and "no longer" in response.json()["error"]
    assert review.redact_series_again(ct_instance.series_id)["closed"] == 1


def test_uploading_the_same_file_again_reopens_the_review(teacher, review_case, phi_file, queued):
    from tests.review.faint_text import burn_faint_text

    review.discard_originals(case=review_case)
    again = receive_files(
        case=review_case,
        user=teacher,
        files=[received_from_bytes(phi_file("CT_small.dcm", dataset_hook=burn_faint_text))],
    )
    process_upload(again.pk)
    item = again.items.get()
    assert item.status == "duplicate" and item.raw_file.name
    assert review.series_review(item.instance.series).open


def test_originals_past_the_retention_limit_are_purged(
    teacher, review_case, storage_dirs, settings, capsys
):
    settings.TA_RAW_RETENTION_HOURS = 72
    item = UploadItem.objects.get(upload__case=review_case)
    call_command("purge_originals")
    assert len(_holding(storage_dirs)) == 1, "a fresh original is kept"
    UploadItem.objects.filter(pk=item.pk).update(
        processed_at=timezone.now() - dt.timedelta(hours=73)
    )
    call_command("purge_originals")
    assert "Deleted 1 kept original" in capsys.readouterr().out
    assert not _holding(storage_dirs)
    item.refresh_from_db()
    assert not item.raw_file


def test_originals_of_a_deleted_case_are_swept_once_old(teacher, review_case, storage_dirs):
    import os

    review_case.delete()
    (path,) = _holding(storage_dirs)
    call_command("purge_originals")
    assert path.exists(), "too young: its upload may not have committed yet"
    old = (timezone.now() - dt.timedelta(hours=100)).timestamp()
    os.utime(path, (old, old))
    call_command("purge_originals")
    assert not path.exists()


def test_files_from_a_pacs_are_not_kept(teacher, phi_file, storage_dirs):
    from archive.models import Case

    case = Case.objects.create(owner=teacher, title="From PACS", modality="CT", body_region="chest")
    upload = receive_files(
        case=case, user=teacher, files=[received_from_bytes(phi_file())], source="dicom"
    )
    process_upload(upload.pk)
    assert upload.items.get().status == "anonymized"
    assert not _holding(storage_dirs)


def test_rejected_and_quarantined_files_are_not_kept(teacher, review_case, storage_dirs):
    upload = receive_files(
        case=review_case, user=teacher, files=[received_from_bytes(b"not a dicom file at all")]
    )
    process_upload(upload.pk)
    assert upload.items.get().status == "rejected"
    assert len(_holding(storage_dirs)) == 1  # only the CT's original


def test_no_url_serves_a_kept_original(teacher, curator, review_case, storage_dirs, settings):
    item = UploadItem.objects.get(upload__case=review_case)
    raw = item.raw_file.read()
    item.raw_file.close()
    name = item.raw_file.name
    paths = [
        f"/media/{name}",
        f"{settings.MEDIA_URL}{name}",
        f"/holding/{name}",
        f"/{name}",
        f"/static/{name}",
        f"/admin/archive/uploaditem/{item.pk}/change/",
    ]
    for user in (teacher, curator):
        c = _client(user)
        for path in paths:
            response = c.get(path)
            body = b"".join(response) if response.streaming else response.content
            assert raw[-4096:] not in body, path
            if not path.startswith("/admin/"):
                assert response.status_code == 404, path
            assert name not in body.decode(errors="replace"), path
        # Nor any page of the review.
        for path in (
            f"/cases/{review_case.pk}/edit/",
            f"/series/{item.instance.series_id}/preview",
            f"/series/{item.instance.series_id}/redaction.json",
        ):
            assert name not in c.get(path).content.decode()


def test_the_review_panel_is_not_in_the_admin_preview(curator, review_case):
    html = _client(curator).get(f"/admin/archive/case/{review_case.pk}/change/").content.decode()
    assert "series-thumb" in html and "Apply to this series" not in html


def test_a_png_of_the_new_frame_shows_the_box(teacher, ct_instance, queued):
    from PIL import Image

    client = _client(teacher)
    _add_box(client, ct_instance)
    review.redact_series_again(ct_instance.series_id)
    png = client.get(f"/instances/{ct_instance.pk}/frames/0.png")
    image = np.asarray(Image.open(io.BytesIO(png.content)))
    x, y, w, h = TEACHER_BOX
    assert len(np.unique(image[y : y + h, x : x + w])) == 1


# --- Every image and every frame of the series ------------------------------------------------


def test_the_box_reaches_every_image_of_the_series(teacher, patient, queued):
    from pydicom.data import get_testdata_file

    from tests.conftest import dicom_bytes
    from tests.editor.builders import case_with_images
    from tests.phi import inject_phi, unique_copy

    base = inject_phi(pydicom.dcmread(get_testdata_file("CT_small.dcm")), patient)
    case = case_with_images(teacher, [dicom_bytes(unique_copy(base, n)) for n in (1, 2, 3)])
    instances = list(case.instances())
    assert len(instances) == 3 and len({i.series_id for i in instances}) == 1
    client = _client(teacher)
    assert _add_box(client, instances[1], box=(60, 0, 68, 20)).status_code == 202
    assert review.redact_series_again(instances[0].series_id)["redacted"] == 3
    for instance in instances:
        assert len(np.unique(_pixels(instance)[0:20, 60:128])) == 1
    status = client.get(f"/series/{instances[0].series_id}/redaction.json").json()
    assert (status["state"], status["done"], status["editable"]) == ("done", 3, 3)


def test_the_box_reaches_every_frame_of_a_colour_cine(teacher, phi_file, queued):
    from tests.editor.builders import case_with_images

    case = case_with_images(teacher, [phi_file("examples_ybr_color.dcm")], modality="US")
    instance = case.instances().get()
    assert instance.frames == 30
    _add_box(_client(teacher), instance, box=(0, 200, 320, 40))
    assert review.redact_series_again(instance.series_id)["redacted"] == 1
    instance.refresh_from_db()
    with instance.file.open("rb") as fh:
        ds = pydicom.dcmread(fh)
    assert ds.SOPInstanceUID == instance.sop_uid
    frames = ds.pixel_array
    assert frames.shape[0] == 30
    for frame in frames:
        band = frame[200:240, :, :].reshape(-1, 3)
        assert len(np.unique(band, axis=0)) == 1
    teacher_boxes = [b for b in instance.pixel_report["boxes"] if "teacher" in b[5]]
    assert sorted({b[0] for b in teacher_boxes}) == list(range(30))


def test_a_worker_starting_requeues_series_left_half_done(teacher, ct_instance, queued):
    from archive.signals import requeue_unfinished_redactions

    assert review.unfinished_series_ids() == []
    _add_box(_client(teacher), ct_instance)  # queued, but the broker "lost" it
    queued.clear()
    requeue_unfinished_redactions()
    assert queued == [ct_instance.series_id]
    review.redact_series_again(ct_instance.series_id)
    assert review.unfinished_series_ids() == []


def test_images_uploaded_later_into_a_boxed_series_get_the_box(teacher, patient, queued):
    from pydicom.data import get_testdata_file

    from tests.conftest import dicom_bytes
    from tests.editor.builders import case_with_images
    from tests.phi import inject_phi, unique_copy

    base = inject_phi(pydicom.dcmread(get_testdata_file("CT_small.dcm")), patient)
    case = case_with_images(teacher, [dicom_bytes(unique_copy(base, 1))])
    first = case.instances().get()
    _add_box(_client(teacher), first, box=(0, 0, 30, 10))
    review.redact_series_again(first.series_id)
    queued.clear()

    later = receive_files(
        case=case, user=teacher, files=[received_from_bytes(dicom_bytes(unique_copy(base, 2)))]
    )
    process_upload(later.pk)
    assert queued == [first.series_id]
    assert review.redact_series_again(first.series_id) == {
        "redacted": 1, "skipped": 1, "failed": 0, "closed": 0,
    }  # fmt: skip
    for instance in case.instances():
        assert len(np.unique(_pixels(instance)[0:10, 0:30])) == 1
