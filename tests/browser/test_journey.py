"""The teacher → curator → student journey in a real browser against a live server and a real
Celery worker. Screenshots of each page are saved under var/screenshots/."""

from __future__ import annotations

import pytest

from archive.models import Case, Instance
from tests.browser.conftest import login, logout, viewer_ready, wait_window_readout, watch
from tests.conftest import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_teacher_uploads_curator_publishes_student_finds_and_views(
    live_server,
    page,
    screenshot,
    celery_worker_process,
    teacher,
    curator,
    student,
    phi_file,
    patient,
    tmp_path,
):
    base = live_server.url
    # Hospital exports often name files after the patient; the name must not leak anywhere.
    ct = tmp_path / f"{patient.family}_{patient.given}_CT.dcm"
    ct.write_bytes(phi_file("CT_small.dcm"))
    junk = tmp_path / "notes.txt"
    junk.write_text("not an image")

    errors = watch(page)  # the page's script errors, reported if the viewer stalls

    # Teacher: create the case, upload, watch progress, see thumbnails, submit.
    login(page, base, teacher.username)
    page.get_by_role("link", name="My cases").click()
    page.get_by_role("link", name="New case").click()
    page.get_by_label("Title").fill("Spontaneous pneumothorax in a tall young adult")
    page.get_by_label("Clinical history").fill("Sudden pleuritic chest pain and dyspnoea.")
    page.get_by_label("Findings").fill("Visceral pleural line with absent lung markings.")
    page.get_by_label("Diagnosis", exact=True).fill("Pneumothorax")
    page.get_by_label("ICD-10 code").fill("J93.1")
    page.get_by_label("Modality").select_option("CT")
    page.get_by_label("Body region").select_option("chest")
    page.get_by_label("Tags").fill("emergency, pleura")
    page.get_by_role("button", name="Create case").click()
    page.wait_for_url("**/edit/")
    page.set_input_files("#id_files", [str(ct), str(junk)])
    page.get_by_role("button", name="Upload").click()
    page.wait_for_selector("#upload-progress:not([hidden])")
    screenshot(page, "1-teacher-upload-progress")
    page.wait_for_selector(".series-thumb img", timeout=90_000)
    thumb = page.locator(".series-thumb img").first
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    body = page.content()
    assert "rejected" in body.lower() and "not a DICOM file" in body
    # The page names the files from the browser's own memory; what the server sends does not.
    served = page.request.get(page.url).text()
    assert "not a DICOM file" in served
    assert patient.family not in served and patient.given not in served
    screenshot(page, "2-teacher-thumbnails")
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_selector("text=Submitted for review")
    logout(page)

    case = Case.objects.get(title__startswith="Spontaneous pneumothorax")
    assert case.status == "submitted"

    # Curator: publish from the admin review queue.
    login(page, base, curator.username)
    page.goto(f"{base}/admin/archive/case/?status__exact=submitted")
    page.locator(f"input[name=_selected_action][value='{case.pk}']").check()
    page.locator("select[name=action]").select_option("publish")
    page.locator("button[name=index]").click()
    page.wait_for_selector("text=Published 1 case(s).")
    screenshot(page, "3-curator-published")
    logout(page)

    # Student: search with a facet, open the case, scroll, change the window.
    login(page, base, student.username)
    wait_for(
        lambda: "Spontaneous" in page.request.get(f"{base}/api/search?q=pneumothorax").text(),
        timeout=60,
        message="the case to be indexed",
    )
    box = page.get_by_label("Search by diagnosis", exact=True)
    box.fill("pnuemothorax")  # a typo students make
    box.press("Enter")
    page.wait_for_selector(".result >> text=Spontaneous")
    with page.expect_navigation():
        page.locator("fieldset[data-facet=modality] input[value=CT]").check()
    assert "modality=CT" in page.url
    page.wait_for_selector(".result >> text=Spontaneous")
    screenshot(page, "4-student-search")
    page.get_by_role("link", name="Spontaneous pneumothorax in a tall young adult").click()
    viewer_ready(page)
    page.locator("#viewer").focus()
    page.keyboard.press("ArrowDown")
    page.get_by_label("Window").select_option("lung")
    wait_window_readout(page, "W 1500 L -600", errors)
    assert Instance.objects.filter(series__study__case=case).count() == 1
    html = page.content()
    assert patient.family not in html
    screenshot(page, "5-student-viewer")
    assert errors == [], errors
