"""Receiving files: zip archives (bombs, path tricks, damage), empty and odd files, each item
reported with a reason while the rest of the upload goes on; nothing half-written."""

from __future__ import annotations

import io
import zipfile

import pytest

from archive.models import Instance, UploadItem
from archive.services.intake import receive_files, received_from_bytes
from archive.services.processing import process_upload
from archive.services.review import discard_originals

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def case(teacher):
    from archive.models import Case

    return Case.objects.create(owner=teacher, title="Case", modality="CT", body_region="chest")


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()


def _receive_and_process(case, teacher, *blobs: bytes):
    upload = receive_files(case=case, user=teacher, files=[received_from_bytes(b) for b in blobs])
    process_upload(upload.pk)
    upload.refresh_from_db()
    return upload, list(upload.items.order_by("pk"))


def test_zip_of_a_study_is_unpacked_and_each_entry_processed(
    case, teacher, phi_file, patient, storage_dirs
):
    archive = _zip(
        {
            f"{patient.family}/IM0001": phi_file("CT_small.dcm"),
            f"{patient.family}/IM0002": phi_file("MR_small.dcm"),
            "__MACOSX/._IM0001": b"junk",
            "readme.txt": b"not dicom",
        }
    )
    upload, items = _receive_and_process(case, teacher, archive)
    assert upload.status == "done"
    assert [i.status for i in items] == ["anonymized", "anonymized", "rejected"]
    assert all(patient.family not in i.label for i in items)
    assert Instance.objects.filter(series__study__case=case).count() == 2
    # The two anonymized originals are kept for the teacher's review (nothing else is), and
    # deleted when it is finished.
    held = [p for p in storage_dirs["holding"].rglob("*") if p.is_file()]
    assert sorted(p.name for p in held) == sorted(
        i.raw_file.name.rsplit("/", 1)[-1] for i in items[:2]
    )
    discard_originals(case=case)
    assert not [p for p in storage_dirs["holding"].rglob("*") if p.is_file()]


def test_path_traversal_entries_are_rejected_and_nothing_is_written_outside(
    case, teacher, phi_file, tmp_path
):
    archive = _zip(
        {"../../evil.dcm": phi_file(), "/etc/passwd.dcm": phi_file(), "ok/IM1": phi_file()}
    )
    upload, items = _receive_and_process(case, teacher, archive)
    assert [i.status for i in items] == ["rejected", "rejected", "anonymized"]
    assert "unsafe path" in items[0].reason
    assert not (tmp_path.parent / "evil.dcm").exists()


def test_zip_bomb_is_rejected_without_unpacking_it(case, teacher, phi_file):
    bomb = _zip({"bomb.dcm": b"\0" * (50 * 1024 * 1024)})
    assert len(bomb) < 200_000
    upload, items = _receive_and_process(case, teacher, bomb, phi_file())
    assert [i.status for i in items] == ["rejected", "anonymized"]
    assert "zip bomb" in items[0].reason
    assert items[0].size == 0


def test_damaged_zip_and_empty_file_get_readable_reasons(case, teacher, phi_file):
    damaged = _zip({"a.dcm": phi_file()})[:-40]
    upload, items = _receive_and_process(case, teacher, damaged, b"", phi_file("MR_small.dcm"))
    statuses = [i.status for i in items]
    assert statuses[-1] == "anonymized"
    assert items[0].status == "rejected" and "damaged" in items[0].reason
    assert any(i.status == "rejected" and "empty" in i.reason for i in items)


def test_reprocessing_an_upload_creates_no_duplicates(case, teacher, phi_file):
    upload, items = _receive_and_process(case, teacher, phi_file(), phi_file("MR_small.dcm"))
    assert process_upload(upload.pk).status == "done"
    assert Instance.objects.filter(series__study__case=case).count() == 2


def test_the_same_file_uploaded_twice_is_stored_once(case, teacher, phi_file):
    data = phi_file()
    _receive_and_process(case, teacher, data)
    _, items = _receive_and_process(case, teacher, data)
    assert items[0].status == UploadItem.Status.DUPLICATE
    assert Instance.objects.filter(series__study__case=case).count() == 1
