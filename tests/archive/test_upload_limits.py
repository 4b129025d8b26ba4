"""Upload limits (issue 10, finding 6): per file, per request, files per request and per upload,
each refused with a sentence the teacher can act on, through the real request parsing (browser
multipart and STOW-RS); bodies stream to temporary files of the holding area, which nothing
outlives."""

from __future__ import annotations

import base64
import io
import os
import random
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from archive.dicomweb.multipart import MalformedBody, stream_parts
from archive.models import Case, Upload
from archive.services.incoming import sweep_incoming
from archive.services.processing import process_upload

pytestmark = pytest.mark.django_db(transaction=True)

KB = 1024


@pytest.fixture
def limits(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TA_MAX_FILE_BYTES = 100 * KB
    settings.TA_MAX_REQUEST_BYTES = 400 * KB
    settings.TA_MAX_UPLOAD_TOTAL_BYTES = 250 * KB
    settings.TA_MAX_FILES_PER_REQUEST = 5
    return settings


@pytest.fixture
def case(teacher):
    return Case.objects.create(owner=teacher, title="Case", modality="CT", body_region="chest")


@pytest.fixture
def client_of(teacher):
    client = Client()
    client.force_login(teacher)
    return client


def _noise(n: int) -> bytes:
    return random.Random(n).randbytes(n)


def _post(client, case, blobs: list[bytes]):
    files = [SimpleUploadedFile(f"f{i}.dcm", b) for i, b in enumerate(blobs)]
    return client.post(
        f"/cases/{case.pk}/upload/", {"files": files}, HTTP_ACCEPT="application/json"
    )


def _incoming(storage_dirs) -> list:
    folder = storage_dirs["holding"] / "incoming"
    return list(folder.iterdir()) if folder.exists() else []


def _held(storage_dirs) -> list:
    return [p for p in storage_dirs["holding"].rglob("*.raw") if p.is_file()]


def test_a_file_over_the_per_file_limit_is_rejected_with_a_reason_and_the_rest_goes_on(
    limits, case, client_of, phi_file, storage_dirs
):
    response = _post(client_of, case, [phi_file(), _noise(150 * KB), phi_file("MR_small.dcm")])
    assert response.status_code == 201, response.content
    items = response.json()["items"]
    assert [i["status"] for i in items] == ["pending", "rejected", "pending"]
    assert items[1]["reason"] == (
        "This file is larger than the limit of 100 kB per file; it was not stored."
    )
    # Only the two accepted files reached the holding storage; no temporary file is left.
    assert len(_held(storage_dirs)) == 2
    assert not _incoming(storage_dirs)
    upload = Upload.objects.get()
    process_upload(upload.pk)
    assert [i.status for i in upload.items.all()] == ["anonymized", "rejected", "anonymized"]


def test_a_request_over_the_per_request_limit_is_refused_before_its_files_are_read(
    limits, case, client_of, storage_dirs
):
    response = _post(client_of, case, [_noise(90 * KB) for _ in range(5)])
    assert response.status_code == 413
    assert response.json()["error"] == (
        "This upload is larger than the limit of 400 kB per request; nothing was stored. "
        "Send the files in several smaller uploads."
    )
    assert not Upload.objects.exists()
    assert not _held(storage_dirs) and not _incoming(storage_dirs)


def test_the_refusal_passes_the_csrf_check_with_the_token_in_a_header(limits, case, teacher):
    # The upload page sends its CSRF token in a header: a body refused unread still gets the
    # reason, not "CSRF verification failed".
    client = Client(enforce_csrf_checks=True)
    client.force_login(teacher)
    token = "t" * 32
    client.cookies["csrftoken"] = token
    files = [SimpleUploadedFile(f"f{i}.dcm", _noise(90 * KB)) for i in range(5)]
    response = client.post(
        f"/cases/{case.pk}/upload/",
        {"files": files},
        HTTP_ACCEPT="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 413
    assert "larger than the limit of 400 kB per request" in response.json()["error"]
    assert not Upload.objects.exists()


def test_too_many_files_in_one_request_are_refused_with_a_sentence(
    limits, case, client_of, storage_dirs
):
    response = _post(client_of, case, [b"x" * 10 for _ in range(6)])
    assert response.status_code == 413
    assert response.json()["error"] == (
        "This upload has more than 5 files, the most one request may carry; nothing was "
        "stored. Send them in several uploads, or as a zip archive."
    )
    assert not Upload.objects.exists()
    assert not _held(storage_dirs) and not _incoming(storage_dirs)


def test_the_form_page_shows_the_refusal_without_javascript(limits, case, client_of):
    files = [SimpleUploadedFile(f"f{i}", b"x") for i in range(6)]
    response = client_of.post(f"/cases/{case.pk}/upload/", {"files": files}, follow=True)
    assert b"the most one request may carry" in response.content
    assert not Upload.objects.exists()


def test_files_past_the_per_upload_total_are_rejected_with_a_reason(
    limits, case, client_of, storage_dirs
):
    response = _post(client_of, case, [_noise(90 * KB), _noise(90 * KB + 1), _noise(90 * KB + 2)])
    assert response.status_code == 201, response.content
    items = response.json()["items"]
    assert [i["status"] for i in items] == ["pending", "pending", "rejected"]
    assert items[2]["reason"] == (
        "The files of this upload add up to more than 250 kB, the total one upload may hold; "
        "this file was not stored. Upload it separately."
    )
    assert len(_held(storage_dirs)) == 2


def test_a_zip_is_held_to_the_request_limit_and_its_entries_to_the_file_and_upload_limits(
    limits, case, client_of, storage_dirs
):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        for n in range(3):
            zf.writestr(f"IM{n}", _noise(80 * KB + n))  # 240 kB in all: bigger than a file may be
        zf.writestr("IM9", _noise(120 * KB))
    response = _post(client_of, case, [out.getvalue()])
    assert response.status_code == 201, response.content
    items = response.json()["items"]
    assert [i["status"] for i in items] == ["pending", "pending", "pending", "rejected"]
    assert "larger than the limit of 100 kB per file" in items[3]["reason"]
    # One more entry would take the upload past its total.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        for n in range(4):
            zf.writestr(f"IM{n}", _noise(70 * KB + n))
    items = _post(client_of, case, [out.getvalue()]).json()["items"]
    assert [i["status"] for i in items] == ["pending", "pending", "pending", "rejected"]
    assert "add up to more than 250 kB" in items[3]["reason"]
    assert not _incoming(storage_dirs)


def test_files_of_anonymous_requests_are_never_written(limits, case, storage_dirs):
    response = Client().post(
        f"/cases/{case.pk}/upload/", {"files": [SimpleUploadedFile("f", b"x")]}
    )
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Upload.objects.exists() and not _incoming(storage_dirs)


# --- STOW-RS -----------------------------------------------------------------------------------


def _basic(user) -> dict[str, str]:
    token = base64.b64encode(f"{user.username}:pw-{user.username}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def _related(parts: list[tuple[str, bytes]], boundary: str = "b0und4ry") -> tuple[bytes, str]:
    body = b"".join(
        f"--{boundary}\r\nContent-Type: {ctype}\r\n\r\n".encode() + data + b"\r\n"
        for ctype, data in parts
    )
    body += f"--{boundary}--\r\n".encode()
    return body, f'multipart/related; type="application/dicom"; boundary={boundary}'


def test_stow_part_over_the_per_file_limit_is_rejected_and_the_rest_queued(
    limits, teacher, phi_file, storage_dirs
):
    body, content_type = _related(
        [("application/dicom", phi_file()), ("application/dicom", _noise(150 * KB))]
    )
    response = Client().post(
        "/dicomweb/studies", body, content_type=content_type, **_basic(teacher)
    )
    assert response.status_code == 202, response.content
    upload = Upload.objects.get()
    process_upload(upload.pk)
    first, second = upload.items.all()
    assert first.status == "anonymized"
    assert second.status == "rejected"
    assert (
        second.reason == "This file is larger than the limit of 100 kB per file; it was not stored."
    )
    assert not _incoming(storage_dirs)


def test_stow_over_the_request_limit_or_with_too_many_parts_is_refused(
    limits, teacher, storage_dirs
):
    body, content_type = _related([("application/dicom", _noise(90 * KB)) for _ in range(5)])
    response = Client().post(
        "/dicomweb/studies", body, content_type=content_type, **_basic(teacher)
    )
    assert response.status_code == 413
    assert "larger than the limit of 400 kB per request" in response.content.decode()
    body, content_type = _related([("application/dicom", b"x") for _ in range(6)])
    response = Client().post(
        "/dicomweb/studies", body, content_type=content_type, **_basic(teacher)
    )
    assert response.status_code == 413
    assert "more than 5 files" in response.content.decode()
    assert not Upload.objects.exists() and not Case.objects.exists()
    assert not _held(storage_dirs) and not _incoming(storage_dirs)


class _Trickle:
    """A stream that hands out a body in small chunks of varying size (as a socket does)."""

    def __init__(self, data: bytes, seed: int) -> None:
        self.data, self.pos, self.rng = data, 0, random.Random(seed)

    def read(self, size: int) -> bytes:
        n = min(size, self.rng.randint(1, 97))
        chunk = self.data[self.pos : self.pos + n]
        self.pos += len(chunk)
        return chunk


@pytest.mark.parametrize("seed", range(5))
def test_stow_parser_finds_every_part_whatever_the_chunking(seed):
    payloads = [_noise(3000 + seed), b"", b"\r\n--b0und4r", _noise(17)]
    body, content_type = _related([("application/dicom", p) for p in payloads])
    body = b"preamble\r\n" + body + b"epilogue"
    received: list[tuple[str, bytearray]] = []

    def open_part(ctype: str):
        received.append((ctype, bytearray()))
        return received[-1][1].extend

    streamed = stream_parts(_Trickle(body, seed), "b0und4ry", open_part)
    assert not streamed.truncated and streamed.parts == 4
    assert [bytes(data) for _, data in received] == payloads
    assert {ctype for ctype, _ in received} == {"application/dicom"}


def test_stow_parser_reports_a_truncated_body_and_refuses_one_without_delimiter():
    body, _ = _related([("application/dicom", b"a" * 100), ("application/dicom", b"b" * 100)])
    parts: list[bytearray] = []

    def open_part(_ctype):
        parts.append(bytearray())
        return parts[-1].extend

    streamed = stream_parts(io.BytesIO(body[:-60]), "b0und4ry", open_part)
    assert streamed.truncated and streamed.parts == 2
    assert bytes(parts[0]) == b"a" * 100
    with pytest.raises(MalformedBody):
        stream_parts(io.BytesIO(b"no delimiter here"), "b0und4ry", open_part)


# --- Housekeeping ------------------------------------------------------------------------------


def test_temporary_files_of_an_interrupted_request_are_swept(storage_dirs, settings):
    folder = storage_dirs["holding"] / "incoming"
    folder.mkdir()
    stale, fresh = folder / "stale.part", folder / "fresh.part"
    stale.write_bytes(b"raw bytes of a request killed mid-way")
    fresh.write_bytes(b"an upload still streaming")
    hours_ago = time.time() - 7 * 3600
    os.utime(stale, (hours_ago, hours_ago))
    assert sweep_incoming() == 1
    assert not stale.exists() and fresh.exists()
