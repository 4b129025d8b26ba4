"""The upload page refuses, before sending a byte, what the server would refuse as a whole
(issue 10, finding 6): too many files or too many bytes for one request, with the server's own
sentences; files within the limits still go through."""

from __future__ import annotations

import pytest

from archive.models import Case, Upload
from tests.browser.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_upload_page_refuses_too_many_or_too_large_before_sending(
    live_server, page, teacher, settings, tmp_path
):
    settings.TA_MAX_FILES_PER_REQUEST = 2
    settings.TA_MAX_REQUEST_BYTES = 64 * 1024
    case = Case.objects.create(owner=teacher, title="Limits", modality="CT", body_region="chest")
    files = []
    for n, size in enumerate((10, 10, 10, 80 * 1024)):
        path = tmp_path / f"IM{n}"
        path.write_bytes(b"x" * size)
        files.append(str(path))
    base = live_server.url
    login(page, base, teacher.username)
    page.goto(f"{base}/cases/{case.pk}/edit/")

    page.set_input_files("#id_files", files[:3])
    page.get_by_role("button", name="Upload", exact=True).click()
    summary = page.locator("#upload-summary")
    summary.wait_for()
    assert "more than 2 files, the most one request may carry" in summary.inner_text()

    page.set_input_files("#id_files", files[3:])
    page.get_by_role("button", name="Upload", exact=True).click()
    # Locator waits, not wait_for_function: the CSP forbids evaluating strings in the page.
    page.locator("#upload-summary", has_text="per request").wait_for()
    assert "larger than the limit of 64 kB per request" in summary.inner_text()
    assert not Upload.objects.exists()

    # Within the limits, the upload is sent (and its file reported by the server).
    page.set_input_files("#id_files", files[:2])
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_selector("#upload-files li.upload-file >> nth=1")
    page.locator("#upload-summary", has_text="/").wait_for()
    assert Upload.objects.count() == 1
