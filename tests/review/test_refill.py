"""``manage.py refill_boxes``: an image stored before boxes were one value, whose box still
holds its letters' outline one level off the fill (invisible in a viewer, read by thresholding
the downloaded pixels), is filled again as one value under a new file name; nothing outside
its boxes changes, the audit says so, and a second run does nothing."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.management import call_command

from archive.deid.pixels import FILL
from archive.deid.pixels.refill import outlined_boxes
from archive.models import Case, Instance
from archive.services import review
from archive.services.cases import publish_case, submit_case
from archive.services.refill import (
    AUDIT_ACTION,
    FAILED_KEY,
    HELD_ACTION,
    WITHDRAWN,
    any_to_check,
    refill_all,
)

from .test_review import _add_box, _client

pytestmark = pytest.mark.django_db(transaction=True)


def _stored(instance: Instance) -> pydicom.Dataset:
    instance.refresh_from_db()
    with instance.file.open("rb") as fh:
        return pydicom.dcmread(io.BytesIO(fh.read()))


def _outline_in_first_box(instance: Instance) -> tuple[int, int, int, int]:
    """Write, inside the instance's first box, the outline of a letter-sized block one level
    off the fill: what the old fill left around every letter over a flat margin."""
    ds = _stored(instance)
    _f, x0, y0, x1, y1, *_ = instance.pixel_report["boxes"][0]
    pixels = ds.pixel_array.copy()
    fill = pixels[y0, x0]
    assert len(np.unique(pixels[y0:y1, x0:x1])) == 1
    ring = np.zeros(pixels.shape, bool)
    ring[y0 + 2 : y1 - 2, x0 + 2 : x0 + 8] = True
    ring[y0 + 3 : y1 - 3, x0 + 3 : x0 + 7] = False
    pixels[ring] = fill + 1
    ds.PixelData = pixels.astype(ds.pixel_array.dtype).tobytes()
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    storage, name = instance.file.storage, instance.file.name
    storage.delete(name)
    assert storage.save(name, ContentFile(buf.getvalue())) == name
    _as_written_before(instance)
    return x0, y0, x1, y1


def _as_written_before(instance: Instance) -> None:
    """The report as an earlier version wrote it: no ``fill``."""
    report = {k: v for k, v in instance.pixel_report.items() if k != "fill"}
    Instance.objects.filter(pk=instance.pk).update(pixel_report=report)
    instance.refresh_from_db()


def test_a_box_holding_its_letters_outline_is_filled_again_as_one_value(
    teacher, ct_instance, queued, storage_dirs
):
    assert _add_box(_client(teacher), ct_instance).status_code == 202
    assert review.redact_series_again(ct_instance.series_id)["redacted"] == 1
    ct_instance.refresh_from_db()
    assert ct_instance.pixel_report["boxes"], "the review stored no box"
    assert ct_instance.pixel_report["fill"] == FILL, "this version's report says how it fills"
    assert refill_all() == {"refilled": 0, "clean": 0, "failed": 0}, "written now: not read"
    x0, y0, x1, y1 = _outline_in_first_box(ct_instance)
    before = _stored(ct_instance)
    assert outlined_boxes(before, ct_instance.pixel_report["boxes"])
    old_name = ct_instance.file.name

    assert refill_all(dry_run=True) == {"refilled": 1, "clean": 0, "failed": 0}
    assert _stored(ct_instance).PixelData == before.PixelData, "a dry run changed the file"

    out = io.StringIO()
    call_command("refill_boxes", stdout=out)
    assert "1 image(s) filled again" in out.getvalue()

    after = _stored(ct_instance)
    assert not outlined_boxes(after, ct_instance.pixel_report["boxes"])
    a, b = after.pixel_array, before.pixel_array
    assert len(np.unique(a[y0:y1, x0:x1])) == 1
    inside = np.zeros(a.shape, bool)
    for _f, bx0, by0, bx1, by1, *_ in ct_instance.pixel_report["boxes"]:
        inside[by0:by1, bx0:bx1] = True
    assert np.array_equal(a[~inside], b[~inside]), "pixels outside the boxes changed"
    assert after.SOPInstanceUID == before.SOPInstanceUID
    assert ct_instance.file.name != old_name
    assert not (storage_dirs["media"] / old_name).exists()
    assert ct_instance.audit[-1]["action"] == AUDIT_ACTION

    # Once one value, the image is left alone (and not read again).
    assert ct_instance.pixel_report["fill"] == FILL
    _as_written_before(ct_instance)
    name = ct_instance.file.name
    assert refill_all() == {"refilled": 0, "clean": 1, "failed": 0}
    assert refill_all() == {"refilled": 0, "clean": 0, "failed": 0}
    ct_instance.refresh_from_db()
    assert ct_instance.file.name == name


def test_a_worker_starting_queues_the_check_only_while_images_are_left_to_check(
    teacher, ct_instance, queued, monkeypatch
):
    from archive import scheduling
    from archive.signals import refill_outlined_boxes

    sent: list[str] = []
    monkeypatch.setattr(scheduling, "send", lambda name, *args, **kw: sent.append(name))
    assert _add_box(_client(teacher), ct_instance).status_code == 202
    review.redact_series_again(ct_instance.series_id)
    ct_instance.refresh_from_db()
    sent.clear()  # the review's own task
    refill_outlined_boxes()
    assert sent == []
    _as_written_before(ct_instance)
    refill_outlined_boxes()
    assert sent == ["archive.refill_boxes"]
    from archive.tasks import refill_boxes

    refill_boxes.run()
    ct_instance.refresh_from_db()
    assert ct_instance.pixel_report["fill"] == FILL
    refill_outlined_boxes()
    assert sent == ["archive.refill_boxes"]


def test_an_image_that_cannot_be_filled_is_held_and_its_case_withdrawn_from_students(
    teacher, student, curator, ct_instance, queued
):
    """Not confirmed clean, not on show: a published case whose old image cannot be read
    leaves publication (students get 404, search drops it), cannot be published again while
    the image is held, and is not read again at every start; ``--retry`` once the file is
    readable clears it."""
    assert _add_box(_client(teacher), ct_instance).status_code == 202
    review.redact_series_again(ct_instance.series_id)
    ct_instance.refresh_from_db()
    case = ct_instance.series.study.case
    publish_case(case=case, user=curator)
    page = case.get_absolute_url()
    assert _client(student).get(page).status_code == 200
    storage, name = ct_instance.file.storage, ct_instance.file.name
    with storage.open(name, "rb") as fh:
        good = fh.read()
    storage.delete(name)
    storage.save(name, ContentFile(b"not a DICOM file"))
    _as_written_before(ct_instance)

    out, err = io.StringIO(), io.StringIO()
    call_command("refill_boxes", stdout=out, stderr=err)
    assert "1 could not be read or written (held" in out.getvalue()
    ct_instance.refresh_from_db()
    assert ct_instance.file.name == name, "the file was replaced"
    assert ct_instance.pixel_report[FAILED_KEY] is True
    assert ct_instance.audit[-1]["action"] == HELD_ACTION
    case.refresh_from_db()
    assert case.status == Case.Status.RETURNED
    assert case.review_comment == WITHDRAWN
    assert _client(student).get(page).status_code == 404
    assert _client(student).get(f"/instances/{ct_instance.pk}/frames/0.png").status_code == 404
    with pytest.raises(ValidationError, match="could not be confirmed clean"):
        publish_case(case=case, user=curator)
    with pytest.raises(ValidationError, match="could not be confirmed clean"):
        submit_case(case=case, user=teacher)
    assert refill_all() == {"refilled": 0, "clean": 0, "failed": 0}, "held: not read again"
    assert not any_to_check(), "a worker start would queue the check forever"

    storage.delete(name)
    storage.save(name, ContentFile(good))
    assert refill_all(retry=True) == {"refilled": 0, "clean": 1, "failed": 0}
    ct_instance.refresh_from_db()
    assert FAILED_KEY not in ct_instance.pixel_report
    publish_case(case=case, user=curator)
    assert _client(student).get(page).status_code == 200
