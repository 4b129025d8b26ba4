"""The upload results carry the teacher's own file names, which never leave the browser: a
teacher uploads a DICOM file, a text file and a zip holding a PDF, and sees "notes.txt" and
"study.zip › scan-notes.pdf" next to "Rejected"; the request carries none of the names; after
the page reloads the results still show them (kept in this tab's sessionStorage)."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadhandler import FileUploadHandler

from archive.models import Case, Upload
from tests.browser.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

#: The file names of the multipart parts the server received (Playwright does not expose a
#: request body that holds files, so the server side records what the browser sent).
RECEIVED_NAMES: list[str] = []


class RecordingHandler(FileUploadHandler):
    """Notes each part's file name and passes every chunk on to the archive's own handler."""

    def new_file(self, field_name, file_name, *args, **kwargs):
        RECEIVED_NAMES.append(file_name)

    def receive_data_chunk(self, raw_data, start):
        return raw_data

    def file_complete(self, file_size):
        return None


def test_rejected_files_show_their_own_names_which_are_never_sent(
    live_server,
    page,
    screenshot,
    celery_worker_process,
    teacher,
    phi_file,
    patient,
    tmp_path,
    settings,
):
    base = live_server.url
    settings.FILE_UPLOAD_HANDLERS = [
        f"{__name__}.RecordingHandler",
        *settings.FILE_UPLOAD_HANDLERS,
    ]
    RECEIVED_NAMES.clear()
    case = Case.objects.create(
        owner=teacher, title="Upload names", modality="CT", body_region="chest"
    )
    good = tmp_path / f"{patient.family}_CT.dcm"  # a synthetic patient's name in the file name
    good.write_bytes(phi_file())
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    archive = tmp_path / "study.zip"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("__MACOSX/._IMG1.dcm", b"resource fork")  # skipped by both sides
        z.writestr("series/IMG1.dcm", phi_file("MR_small.dcm"))
        z.writestr("series/scan-notes.pdf", b"%PDF-1.4 not an image")
    archive.write_bytes(out.getvalue())

    login(page, base, teacher.username)
    page.goto(f"{base}/cases/{case.pk}/edit/")
    page.set_input_files("#id_files", [str(good), str(notes), str(archive)])
    page.get_by_role("button", name="Upload", exact=True).click()

    rows = page.locator("#upload-files li.upload-file")
    rows.nth(2).wait_for()
    assert rows.nth(0).locator(".item-label").inner_text() == good.name
    rejected = page.locator("#upload-files li.upload-file.item-rejected").first
    rejected.wait_for(timeout=90_000)
    assert rejected.locator(".item-label").inner_text() == "notes.txt"
    assert "Rejected" in rejected.inner_text() and "not a DICOM file" in rejected.inner_text()
    entry = page.locator("#upload-files .zip-entries li.item-rejected")
    entry.wait_for(timeout=90_000)
    assert entry.inner_text().startswith("study.zip › series/scan-notes.pdf — Rejected")
    screenshot(page, "upload-names-1-results")

    # The names were never sent: the files went as file-1, file-2, file-3.
    assert RECEIVED_NAMES == ["file-1", "file-2", "file-3"]

    # After processing the page reloads: the server's list, named again by the browser.
    page.wait_for_selector("details.upload .item-label[data-file='2']")
    page.wait_for_function(
        "document.querySelector(\"details.upload .item-label[data-file='2']\").textContent"
        " === 'notes.txt'"
    )
    labels = page.locator("details.upload .item-label").all_inner_texts()
    assert labels == [good.name, "notes.txt", "study.zip › series/IMG1.dcm",
                      "study.zip › series/scan-notes.pdf"]  # fmt: skip
    upload = Upload.objects.get(case=case)
    assert [i.label for i in upload.items.order_by("pk")] == [
        "File 1",
        "File 2",
        "File 3 (zip) › entry 1",
        "File 3 (zip) › entry 2",
    ]
    screenshot(page, "upload-names-2-after-reload")
