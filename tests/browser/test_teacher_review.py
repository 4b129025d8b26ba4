"""The teacher draws a box over faint text the detector left, in a real browser (Debian Chromium)
against a live server and a real Celery worker, applies it to the series, watches the progress,
and sees the thumbnail come back with the area blanked; submitting deletes the originals.
Screenshots: var/screenshots/review-*.png. (Here, not in tests/review/, to share this folder's
one Playwright session: a second sync Playwright in the same process cannot start.)"""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from archive.models import Instance, RedactionBox
from tests.browser.conftest import login
from tests.deid.pixels.synthetic import alpha_mask
from tests.editor.builders import case_with_images
from tests.review.faint_text import TEACHER_BOX, burn_faint_text

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_teacher_draws_a_box_applies_it_and_sees_the_series_redacted(
    live_server, page, screenshot, celery_worker_process, teacher, phi_file, storage_dirs
):
    case = case_with_images(
        teacher, [phi_file("CT_small.dcm", dataset_hook=burn_faint_text)], title="Faint text"
    )
    instance = Instance.objects.get(series__study__case=case)
    base = live_server.url
    login(page, base, teacher.username)
    page.goto(f"{base}/cases/{case.pk}/edit/")
    figure = page.locator(f"#series-{instance.series_id}")
    img = figure.locator("img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    svg = figure.locator("svg.redactions[data-drawable]")
    svg.wait_for()
    # Mouse events land only inside the viewport: the header's links may push the figure below it.
    svg.scroll_into_view_if_needed()

    # Drag across the faint text: screen → image pixels through the SVG's own transform.
    x, y, w, h = TEACHER_BOX
    frame = svg.bounding_box()
    scale = frame["width"] / instance.columns
    start = (frame["x"] + (x + 0.5) * scale, frame["y"] + (y + 0.5) * scale)
    end = (frame["x"] + (x + w - 0.5) * scale, frame["y"] + (y + h - 0.5) * scale)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=4)
    page.mouse.move(*end, steps=4)
    page.mouse.up()
    assert figure.locator("rect.pending").count() == 1
    drawn = [
        int(figure.get_by_label(k, exact=True).input_value()) for k in ("x", "y", "width", "height")
    ]
    assert drawn == [x, y, w, h], drawn
    screenshot(page, "review-1-box-drawn")

    figure.get_by_role("button", name="Apply to this series").click()
    fresh = page.locator(f"#series-{instance.series_id}")
    page.wait_for_function(
        "id => /Done/.test(document.querySelector(id)?.textContent || '')",
        arg=f"#series-{instance.series_id}",
        timeout=120_000,
    )
    fresh_img = fresh.locator("img")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=fresh_img.element_handle()
    )
    assert "v=1" in fresh_img.get_attribute("src")
    titles = fresh.locator("svg.redactions rect title").all_text_contents()
    assert any("drawn by teacher/curator" in t for t in titles), titles
    assert "Your box at 14, 92 (96 × 18 px)" in fresh.inner_text()
    screenshot(page, "review-2-applied")

    # The stored image: the box is one fill value, the rest as before.
    instance.refresh_from_db()
    with instance.file.open("rb") as fh:
        pixels = pydicom.dcmread(fh).pixel_array
    assert len(np.unique(pixels[y : y + h, x : x + w])) == 1
    assert RedactionBox.objects.filter(series=instance.series, created_by=teacher).count() == 1

    # Submitting ends the review: the originals are deleted.
    assert [p for p in storage_dirs["holding"].rglob("*") if p.is_file()]
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_selector("text=Submitted for review. A curator will publish it.")
    assert not [p for p in storage_dirs["holding"].rglob("*") if p.is_file()]


def test_keyboard_users_type_the_box(
    live_server, page, screenshot, celery_worker_process, teacher, phi_file
):
    case = case_with_images(teacher, [phi_file("CT_small.dcm")], title="Typed box")
    instance = Instance.objects.get(series__study__case=case)
    base = live_server.url
    login(page, base, teacher.username)
    page.goto(f"{base}/cases/{case.pk}/edit/")
    figure = page.locator(f"#series-{instance.series_id}")
    for label, value in zip(("x", "y", "width", "height"), (0, 0, 40, 12), strict=True):
        figure.get_by_label(label, exact=True).fill(str(value))
    assert figure.locator("rect.pending").count() == 1  # the typed box is outlined too
    figure.get_by_label("height", exact=True).press("Enter")
    page.wait_for_function(
        "id => /Done/.test(document.querySelector(id)?.textContent || '')",
        arg=f"#series-{instance.series_id}",
        timeout=120_000,
    )
    fresh_img = page.locator(f"#series-{instance.series_id} img")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=fresh_img.element_handle()
    )
    screenshot(page, "review-3-typed-box")
    instance.refresh_from_db()
    with instance.file.open("rb") as fh:
        pixels = pydicom.dcmread(fh).pixel_array
    assert len(np.unique(pixels[0:12, 0:40])) == 1


def test_full_size_review_zoom_remove_a_wrong_box_add_a_missed_one_and_see_the_result(
    live_server, page, screenshot, celery_worker_process, teacher, phi_file, storage_dirs
):
    """The teacher opens the series at full size, zooms in, takes back the automatic box over a
    harmless label (restored from the original), draws a box over faint text the detector left,
    applies both, and sees the new image with the outlines and lists updated."""
    from archive.models import UploadItem
    from archive.services import review
    from tests.review.test_full_review import LABEL, burn_label

    def both(ds):
        burn_label(ds)
        burn_faint_text(ds)

    case = case_with_images(teacher, [phi_file("CT_small.dcm", dataset_hook=both)], title="Two")
    instance = Instance.objects.get(series__study__case=case)
    label = alpha_mask((128, 128), [LABEL]) > 0
    (wrong,) = [
        b for b in review.automatic_boxes(instance) if label[b[2] : b[4], b[1] : b[3]].any()
    ]
    _frame, lx0, ly0, lx1, ly1, _reason = wrong
    base = live_server.url
    login(page, base, teacher.username)
    page.goto(f"{base}/cases/{case.pk}/edit/")
    page.get_by_role("link", name="Review at full size").click()
    page.wait_for_url(f"{base}/series/{instance.series_id}/review/")
    img = page.locator("#review-image")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 128", arg=img.element_handle()
    )
    assert page.locator("#review-overlay rect.auto").count() >= 1
    titles = page.locator("#review-overlay rect.auto title").all_text_contents()
    assert all(t.startswith("Automatic: ") and len(t) > 11 for t in titles), titles

    # Zoom in: the canvas grows, the outlines with it.
    before = page.locator("#review-overlay").bounding_box()["width"]
    page.get_by_role("button", name="Zoom in").click()
    after = page.locator("#review-overlay").bounding_box()["width"]
    assert after == pytest.approx(before * 1.5, rel=0.02)
    screenshot(page, "review-4-full-size-zoomed")

    # Remove the wrong automatic box (the label is not identifying).
    item = page.locator("#auto-list li", has_text=f"{lx0},{ly0} {lx1 - lx0}×{ly1 - ly0}")
    item.get_by_role("button", name="Remove (not text)").click()
    page.wait_for_selector("#review-status:has-text('Done')", timeout=120_000)
    assert "removed" in page.locator("#auto-list li", has_text=f"{lx0},{ly0}").inner_text()
    assert page.locator("#teacher-list li").count() == 1

    # Draw the missed faint text and apply it to this frame.
    x, y, w, h = TEACHER_BOX
    frame = page.locator("#review-overlay").bounding_box()
    scale = frame["width"] / instance.columns
    start = (frame["x"] + (x + 0.5) * scale, frame["y"] + (y + 0.5) * scale)
    end = (frame["x"] + (x + w - 0.5) * scale, frame["y"] + (y + h - 0.5) * scale)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=6)
    page.mouse.up()
    form = page.locator("#review-form")
    drawn = [
        int(form.get_by_label(k, exact=True).input_value()) for k in ("x", "y", "width", "height")
    ]
    assert drawn == [x, y, w, h], drawn
    form.get_by_label("this frame").check()
    form.get_by_role("button", name="Apply").click()
    page.wait_for_function(
        "() => /Done/.test(document.getElementById('review-status').textContent)"
        " && document.querySelectorAll('#teacher-list li').length === 2",
        timeout=120_000,
    )
    page.wait_for_function(
        "img => img.complete && /v=2$/.test(img.src)", arg=img.element_handle(), timeout=30_000
    )
    assert page.locator("#review-overlay rect.teacher-box").count() == 1
    screenshot(page, "review-5-full-size-applied")

    # The stored image: the label as in the original, the faint text blanked.
    instance.refresh_from_db()
    with instance.file.open("rb") as fh:
        pixels = pydicom.dcmread(fh).pixel_array
    raw = UploadItem.objects.get(instance=instance).raw_file
    with raw.open("rb") as fh:
        original = pydicom.dcmread(fh).pixel_array
    assert np.array_equal(pixels[ly0:ly1, lx0:lx1], original[ly0:ly1, lx0:lx1])
    assert len(np.unique(pixels[y : y + h, x : x + w])) == 1
