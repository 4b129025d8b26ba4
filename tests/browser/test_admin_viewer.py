"""A curator reviews a submitted case on the admin's case page: the images at full size in the
case page's viewer (scrolling, window/level, series), and beside it the de-identification audit
of the series and image on screen, under the Content-Security-Policy. Screenshot:
var/screenshots/admin-viewer-audit.png."""

from __future__ import annotations

import pytest

from archive.models import Case, Instance
from tests.browser.conftest import login, viewer_ready, wait_frame_counter
from tests.viewer.factories import ct_stack, make_case, rgb_multiframe

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def current_audit(page) -> str | None:
    """The image the audit marks as the one on screen (its instance id)."""
    return page.locator("#ta-audit details[aria-current=true]").get_attribute("data-instance")


def test_curator_reads_images_beside_the_audit(
    live_server, page, violations, screenshot, teacher, curator
):
    case = make_case(teacher, ct_stack(5) + [rgb_multiframe()], publish=False, title="Ankle CT")
    Case.objects.filter(pk=case.pk).update(status=Case.Status.SUBMITTED)
    ct = list(
        Instance.objects.filter(series__study__case=case, series__modality="CT").order_by(
            "instance_number"
        )
    )
    assert len(ct) == 5
    login(page, live_server.url, curator.username)
    page.goto(f"{live_server.url}/admin/archive/case/{case.pk}/change/")

    # The unpublished case's images are drawn: the longest series opens first.
    viewer_ready(page)
    wait_frame_counter(page, "1 / 5")
    audit = page.locator("#ta-audit")
    ct_audit = audit.locator(".ta-audit-series[data-series='0']")
    sc_audit = audit.locator(".ta-audit-series[data-series='1']")
    assert ct_audit.is_visible() and not sc_audit.is_visible()
    assert "5 images" in ct_audit.locator("h3").inner_text()
    page.wait_for_function(
        "id => document.querySelector('#ta-audit details[aria-current=true]')"
        "?.dataset.instance === id",
        arg=str(ct[0].pk),
    )
    # What was removed from that image is one click away.
    first = audit.locator(f"details[data-instance='{ct[0].pk}']")
    first.locator("summary").click()
    assert "PatientName" in first.locator("table").inner_text()

    # Beside the viewer, not under it: side by side, overlapping in height.
    stage = page.locator("#viewer-stage").bounding_box()
    panel = audit.bounding_box()
    assert panel["x"] >= stage["x"] + stage["width"]
    assert panel["y"] < stage["y"] + stage["height"] and stage["y"] < panel["y"] + panel["height"]

    # Scrolling moves to the next image, and the audit follows it.
    box = page.locator("#viewport").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.wheel(0, 120)
    wait_frame_counter(page, "2 / 5")
    page.wait_for_function(
        "id => document.querySelector('#ta-audit details[aria-current=true]')"
        "?.dataset.instance === id",
        arg=str(ct[1].pk),
    )
    page.locator("#viewer").focus()
    page.keyboard.press("End")
    wait_frame_counter(page, "5 / 5")
    page.wait_for_function(
        "id => document.querySelector('#ta-audit details[aria-current=true]')"
        "?.dataset.instance === id",
        arg=str(ct[4].pk),
    )

    # Window/level: a drag on the image changes the window it is shown with.
    before = page.locator("#wl-readout").inner_text()
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 80, y + 40, steps=8)
    page.mouse.up()
    page.wait_for_function(
        "s => document.getElementById('wl-readout').textContent !== s", arg=before
    )
    screenshot(page, "admin-viewer-audit")

    # The other series from the strip: the audit beside it is that series' own.
    page.locator("#series-strip button[data-series='1']").click()
    wait_frame_counter(page, "1 / 2")
    sc_audit.wait_for(state="visible")
    assert not ct_audit.is_visible()
    assert "1 image" in sc_audit.locator("h3").inner_text()

    # The page is still the case's form, which nothing here submitted.
    assert page.url.endswith(f"/admin/archive/case/{case.pk}/change/")
    assert violations == []
