"""Authoring and curation in Chromium: a teacher reorders the series, picks the lead image,
deletes a series and submits; a curator comments, the teacher answers, the curator publishes
from the case page; a student's viewer opens on the lead image. The Czech pages of the journey
hold no English word of the interface."""

from __future__ import annotations

import pytest
from pydicom.uid import generate_uid

from archive.models import Case, Instance
from archive.selectors import case_series
from tests.browser.conftest import login, logout
from tests.editor.builders import case_with_images
from tests.i18n.english import english_words  # the page walk's rule too

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _new_series(ds):
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()


def _order(case) -> list[int]:
    """The series as the editor and the viewer list them."""
    return [s.pk for s in case_series(case=case)]


def _czech_words_only(page, where: str) -> None:
    left = english_words(page.locator(where).inner_text())
    assert left == [], f"English on the Czech page: {left}"


def test_teacher_controls_series_curator_comments_and_publishes_from_the_case_page(
    live_server, page, screenshot, teacher, curator, student, phi_file
):
    base = live_server.url
    case = case_with_images(
        teacher,
        [phi_file(), phi_file("MR_small.dcm", dataset_hook=_new_series),
         phi_file("CT_small.dcm", dataset_hook=_new_series)],
        title="Pneumotorax vpravo",
        history="Náhlá dušnost po dlouhém letu.",
    )  # fmt: skip
    one, two, three = _order(case)

    login(page, base, teacher.username)
    page.goto(f"{base}/cases/{case.pk}/edit/")
    page.get_by_role("button", name="Move series 2 up").click()
    page.wait_for_url("**/edit/#series-list")
    assert _order(case) == [two, one, three]
    # The series moved up goes again: deleted with its files.
    first = page.locator(".series-item").first
    first.locator("summary", has_text="Delete…").click()
    first.get_by_role("button", name="Delete this series").click()
    page.get_by_text("The series and its files were deleted.").wait_for()
    assert _order(case) == [one, three]
    # The image of the (now) second series leads.
    page.locator(".series-item").nth(1).get_by_role("link", name="Images and captions").click()
    page.get_by_label("Caption of image 1").fill("Hluboký sulcus vlevo.")
    page.get_by_role("button", name="Save caption").click()
    page.get_by_text("The caption was saved.").wait_for()
    page.get_by_role("button", name="Start with this image").click()
    page.get_by_text("Students now start with this image.").wait_for()
    lead = Instance.objects.get(pk=Case.objects.get(pk=case.pk).lead_instance_id)
    screenshot(page, "authoring-1-images-and-captions")
    page.goto(f"{base}/cases/{case.pk}/edit/")
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_url(f"{base}/my/cases/")
    logout(page)

    # The curator, in Czech: comments, and publishes once the teacher has answered.
    login(page, base, curator.username)
    page.goto(f"{base}/cases/{case.pk}/")
    with page.expect_navigation():
        page.locator("#lang-select").select_option("cs")
    page.get_by_label("Přidat komentář").fill("Chybí šipka na klíčovém snímku.")
    page.get_by_role("button", name="Komentovat").click()
    page.get_by_text("Váš komentář byl přidán.").wait_for()
    screenshot(page, "authoring-2-curator-czech")
    _czech_words_only(page, "main")  # the viewer's controls and series strip too
    _czech_words_only(page, "header")
    with page.expect_navigation():  # the teacher reads English (the choice is a cookie)
        page.locator("#lang-select").select_option("en")
    logout(page)

    login(page, base, teacher.username)
    badge = page.locator(".site-header .count-badge")
    assert badge.inner_text() == "1"
    page.goto(f"{base}/cases/{case.pk}/")
    assert page.get_by_text("Chybí šipka na klíčovém snímku.").is_visible()
    page.get_by_label("Add a comment").fill("Doplním po publikaci.")
    page.get_by_role("button", name="Comment", exact=True).click()
    page.get_by_text("Your comment was added.").wait_for()
    assert page.locator(".site-header .count-badge").count() == 0
    logout(page)

    login(page, base, curator.username)
    page.goto(f"{base}/cases/{case.pk}/")
    with page.expect_navigation():
        page.locator("#lang-select").select_option("cs")
    page.get_by_role("button", name="Publikovat").click()
    page.get_by_text("Publikováno: studenti nyní případ najdou.").wait_for()
    _czech_words_only(page, "main .case-text")
    with page.expect_navigation():
        page.locator("#lang-select").select_option("en")
    assert Case.objects.get(pk=case.pk).status == "published"
    logout(page)

    # The student's viewer opens on the lead image, the caption under it.
    login(page, base, student.username)
    page.goto(f"{base}/cases/{case.pk}/")
    data = page.evaluate("JSON.parse(document.getElementById('viewer-data').textContent)")
    assert data["series"][data["lead"]["series"]]["images"][0]["id"] == lead.pk
    assert page.get_by_text("Hluboký sulcus vlevo.").is_visible()
    assert page.locator("#comments").count() == 0
    screenshot(page, "authoring-3-student")
    logout(page)

    # The teacher edits the published case: a revision; students keep the published title.
    login(page, base, teacher.username)
    page.goto(f"{base}/cases/{case.pk}/")
    page.locator("#revise-link").click()
    page.wait_for_url(f"{base}/cases/{case.pk}/revision/")
    banner = page.locator("#revision-banner").inner_text()
    assert "Students see the published version until a curator publishes" in banner
    page.get_by_label("Title", exact=True).fill("Tenzní pneumotorax vpravo")
    page.get_by_role("button", name="Save revision").click()
    page.get_by_text("Revision saved.").wait_for()
    page.get_by_role("button", name="Submit revision for review").click()
    page.get_by_text("Revision submitted.").wait_for()
    screenshot(page, "authoring-4-revision-submitted")
    logout(page)

    login(page, base, student.username)
    page.goto(f"{base}/cases/{case.pk}/")
    assert page.locator("h1").inner_text().startswith("Pneumotorax vpravo")
    assert page.get_by_text("Tenzní").count() == 0
    logout(page)

    # The curator sees the difference on the case page and publishes the revision.
    login(page, base, curator.username)
    page.goto(f"{base}/cases/{case.pk}/")
    diff = page.locator(".revision-diff").inner_text()
    assert "- Pneumotorax vpravo" in diff and "+ Tenzní pneumotorax vpravo" in diff
    screenshot(page, "authoring-5-revision-diff")
    page.get_by_role("button", name="Publish revision").click()
    page.get_by_text("Revision published: students now see the new version.").wait_for()
    logout(page)

    login(page, base, student.username)
    page.goto(f"{base}/cases/{case.pk}/")
    assert page.locator("h1").inner_text().startswith("Tenzní pneumotorax vpravo")
