"""Teacher and curator in a real browser (Debian Chromium) against a live server and a real
Celery worker: the editor with diagnosis autocomplete, per-file upload results, thumbnails with
blanked text outlined, submit → return with a comment → resubmit → publish, and the Czech UI.
Screenshots go to var/screenshots/teacher-curator-*.png."""

from __future__ import annotations

import pytest

from archive.models import Case, Instance
from tests.browser.conftest import login, logout
from tests.conftest import wait_for
from tests.editor.builders import hcc

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _admin_action(page, base: str, case: Case, action: str) -> None:
    page.goto(f"{base}/admin/archive/case/")
    page.locator(f"input[name=_selected_action][value='{case.pk}']").check()
    page.locator("select[name=action]").select_option(action)
    page.locator("button[name=index]").click()


def test_teacher_edits_uploads_submits_curator_returns_then_publishes(
    live_server, page, screenshot, celery_worker_process, teacher, curator, phi_file, tmp_path
):
    base = live_server.url
    hcc()
    good = tmp_path / "liver.dcm"
    good.write_bytes(phi_file("CT_small.dcm"))
    bad = tmp_path / "report.txt"
    bad.write_text("not an image")

    # Teacher: the editor, with the diagnosis found by its abbreviation.
    login(page, base, teacher.username)
    page.goto(f"{base}/cases/new/")
    page.get_by_label("Title").fill("Arterial enhancing liver lesion in cirrhosis")
    page.get_by_label("Clinical history").fill("Hepatitis C cirrhosis, rising AFP.")
    page.get_by_label("Findings").fill("Arterial hyperenhancement, washout, capsule.")
    combo = page.get_by_role("combobox", name="Diagnosis", exact=True)
    combo.press_sequentially("HCC", delay=60)
    option = page.get_by_role("option", name="Hepatocellular carcinoma (C22.0)")
    option.wait_for()
    screenshot(page, "teacher-curator-1-diagnosis-autocomplete")
    option.click()
    assert combo.input_value() == "Hepatocellular carcinoma"
    assert page.get_by_label("ICD-10 code").input_value() == "C22.0"
    page.get_by_label("Diagnostic certainty").select_option("pathology")
    page.get_by_label("Differential diagnosis").fill("Regenerative nodule\nCholangiocarcinoma")
    page.get_by_label("Discussion").fill("LI-RADS 5.")
    page.get_by_label("Teaching points").fill("Washout needs the portal venous phase.")
    page.get_by_label("References").fill("ACR LI-RADS v2018.")
    page.get_by_label("Modality").select_option("CT")
    page.get_by_label("Body region").select_option("abdomen")
    page.get_by_label("Organ system").select_option("gastrointestinal")
    page.get_by_label("Difficulty").select_option("resident")
    page.get_by_label("Tags").fill("liver, li-rads")
    page.get_by_role("button", name="Create case").click()
    page.wait_for_url("**/edit/")
    case = Case.objects.get(title__startswith="Arterial enhancing")
    assert case.diagnosis.icd10 == "C22.0" and case.certainty == "pathology"

    # Upload one good and one bad file: a progress bar and a result per file.
    page.set_input_files("#id_files", [str(good), str(bad)])
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_selector("#upload-files li.upload-file >> nth=1")
    assert page.locator("#upload-files progress").count() == 2
    page.wait_for_selector("#upload-files li.item-rejected", timeout=90_000)
    rejected = page.locator("#upload-files li.item-rejected").inner_text()
    assert "report.txt" in rejected and "not a DICOM file" in rejected
    screenshot(page, "teacher-curator-2-upload-results")
    page.wait_for_selector(".series-thumb img", timeout=90_000)

    # The pixel cleaner's boxes (as it stores them) are outlined on the thumbnail.
    instance = Instance.objects.get(series__study__case=case)
    instance.pixel_report = {
        "boxes": [[0, 8, 8, 120, 28, "burned-in text (OCR)"], [0, 8, 100, 60, 118, "text"]]
    }
    instance.save(update_fields=["pixel_report"])
    page.reload()
    thumb = page.locator(".series-thumb img").first
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    assert page.locator("svg.redactions rect").count() == 2
    assert "burned-in text (OCR)" in page.locator("svg.redactions rect title").first.text_content()
    assert "anonymized" in page.locator("details.upload").first.inner_text().lower()
    screenshot(page, "teacher-curator-3-thumbnails-with-boxes")
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_selector("text=Submitted for review. A curator will publish it.")
    logout(page)
    case.refresh_from_db()
    assert case.status == "submitted"

    # Curator: return with a comment written on the action's own page.
    login(page, base, curator.username)
    page.goto(f"{base}/admin/archive/case/")
    screenshot(page, "teacher-curator-4-review-queue")
    page.goto(f"{base}/admin/archive/case/{case.pk}/change/")
    page.locator("details summary").first.click()
    screenshot(page, "teacher-curator-5-case-review")
    _admin_action(page, base, case, "return_to_author")
    page.get_by_label("Comment for the author").fill("Please add the portal venous phase.")
    screenshot(page, "teacher-curator-6-return-comment")
    page.get_by_role("button", name="Return to the authors").click()
    page.wait_for_selector("text=Returned 1 case to its author.")
    logout(page)

    # Teacher: sees the comment, resubmits.
    login(page, base, teacher.username)
    page.goto(f"{base}/my/cases/")
    assert "Please add the portal venous phase." in page.content()
    page.get_by_role("link", name="Arterial enhancing liver lesion in cirrhosis").click()
    page.wait_for_selector(".review-comment >> text=Please add the portal venous phase.")
    screenshot(page, "teacher-curator-7-returned")
    page.get_by_role("button", name="Submit again for review").click()
    page.wait_for_selector("text=Submitted for review. A curator will publish it.")
    logout(page)
    case.refresh_from_db()
    assert case.status == "submitted"

    # Curator publishes.
    login(page, base, curator.username)
    _admin_action(page, base, case, "publish")
    page.wait_for_selector("text=Published 1 case(s).")
    case.refresh_from_db()
    assert case.status == "published"
    logout(page)

    # The Czech interface, chosen with the header's switcher.
    login(page, base, teacher.username)
    page.goto(f"{base}/cases/new/")
    with page.expect_navigation():
        page.get_by_label("Language").select_option("cs")
    page.wait_for_selector("text=Nový případ")
    page.get_by_role("combobox", name="Diagnóza", exact=True).press_sequentially("hepato", delay=60)
    page.get_by_role("option", name="Hepatocelulární karcinom (C22.0)").wait_for()
    screenshot(page, "teacher-curator-8-czech-editor")
    wait_for(lambda: True)


def test_the_editor_on_a_phone(live_server, browser, screenshot, teacher):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    try:
        login(page, live_server.url, teacher.username)
        page.goto(f"{live_server.url}/cases/new/")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the editor scrolls sideways on a phone ({width}px)"
        screenshot(page, "teacher-curator-9-phone-editor")
    finally:
        context.close()
