"""The Content-Security-Policy breaks nothing: a student, a teacher and a curator go through the
pages that run scripts (viewer, search, editor, language switcher, progress bars, admin) in
Chromium, and the browser reports no violation of the policy."""

from __future__ import annotations

import pytest

from archive.models import QuizAnswer
from tests.browser.conftest import login, logout, viewer_ready
from tests.viewer.factories import ct_stack, make_case, pneumothorax

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_pages_work_under_the_policy(
    live_server, page, violations, screenshot, teacher, student, curator, settings
):
    base = live_server.url
    # Someone guessing a password through the form is told, on the login page, to wait.
    for n in range(settings.AXES_FAILURE_LIMIT):
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Username").fill("intruder")
        page.get_by_label("Password").fill(f"guess-{n}")
        page.get_by_role("button", name="Log in").click()
    alert = page.get_by_role("alert")
    assert "Try again in 15 minutes" in alert.inner_text()
    assert page.get_by_label("Password").is_visible()
    screenshot(page, "security-login-locked")
    case = make_case(teacher, ct_stack(3), diagnosis=pneumothorax(), title="Chest pain")
    draft = make_case(teacher, ct_stack(1), publish=False, title="Draft with images")
    QuizAnswer.objects.create(user=student, case=case, answer_text="pneumothorax", correct=True)

    login(page, base, student.username)
    page.goto(f"{base}/search/?q=pneumo")
    # The search page has one box, its own (the header's is left out there).
    page.locator("#search-q").press_sequentially("pneu", delay=30)  # autocomplete.js fetches
    page.wait_for_load_state("networkidle")
    page.goto(f"{base}/cases/{case.pk}/")
    viewer_ready(page)
    page.locator("#viewer").focus()
    page.keyboard.press("ArrowDown")
    page.goto(f"{base}/my/progress/")
    bar = page.locator("table.progress-table meter.bar").first
    assert bar.get_attribute("value") == "100" and bar.bounding_box()["width"] > 50
    # The language switcher submits from static/js/site.js (it was an inline onchange).
    page.locator("#lang-select").select_option("cs")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "cs"
    page.locator("#lang-select").select_option("en")
    page.wait_for_load_state()
    logout(page)

    login(page, base, teacher.username)
    page.goto(f"{base}/cases/{draft.pk}/edit/")
    page.get_by_label("Title").fill("Draft with images, edited")
    page.locator("img").first.wait_for()
    logout(page)

    login(page, base, curator.username)
    for path in (
        "/admin/",
        "/admin/archive/case/",
        f"/admin/archive/case/{case.pk}/change/",
        "/admin/archive/uploaditem/",
    ):
        page.goto(base + path)
        assert page.locator("#content").is_visible(), path
    assert violations == []
