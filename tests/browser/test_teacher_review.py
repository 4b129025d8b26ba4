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
