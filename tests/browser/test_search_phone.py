"""The search page on a 390×844 phone: the first result is on the first screen, with its
thumbnail; the filters are one folded line that opens on a tap."""

from __future__ import annotations

import pytest

from archive.services.cases import publish_case
from search.services import index_case
from tests.browser.conftest import login
from tests.editor.builders import case_with_images

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_on_a_phone_results_come_first_and_filters_fold(
    live_server, browser, screenshot, teacher, curator, student, phi_file
):
    for n in range(2):
        case = case_with_images(teacher, [phi_file()], title=f"Apical lucency {n}")
        publish_case(case=case, user=curator)
        index_case(case.pk)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = context.new_page()
    try:
        login(page, live_server.url, student.username)
        page.goto(f"{live_server.url}/search/?q=apical")
        first = page.locator(".result").first
        box = first.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844  # on the first screen
        thumb = first.locator(".result-thumb img")
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
        )
        panel = page.locator("details.facets-panel")
        assert panel.get_attribute("open") is None
        assert not page.locator(".facet").first.is_visible()
        screenshot(page, "search-phone-1-results-first")
        page.locator("details.facets-panel > summary").click()
        assert page.locator(".facet").first.is_visible()
        screenshot(page, "search-phone-2-filters-open")
    finally:
        context.close()
