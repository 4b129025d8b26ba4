"""The incoming area: request bodies streamed to temporary files, and the upload limits.

A web worker never holds an uploaded file in memory. Django's multipart parser hands each chunk
of a browser upload to ``HoldingUploadHandler`` (``FILE_UPLOAD_HANDLERS``), and STOW-RS parts are
streamed the same way (``archive.dicomweb.multipart``): every file is written, while it is hashed,
to a temporary file in the incoming folder — ``TA_INCOMING_ROOT``, by default
``<TA_RAW_HOLDING_ROOT>/incoming`` (created 0700, no URL maps to it) — so that storing it in the
holding storage is a rename (or, with the holding area in an object store, one upload). The
incoming folder is each receiving machine's own: a spool, never shared, never a source of work.

The limits are enforced as the bytes arrive, so a body over a limit is never written in full:

* per file (``TA_MAX_FILE_BYTES``): writing stops; the file becomes a rejected item with a reason
  and the rest of the upload goes on (a zip archive is held to the request limit instead: its
  entries meet the per-file limit when it is unpacked);
* per request (``TA_MAX_REQUEST_BYTES``, from Content-Length, before any byte is read) and
  files per request (``TA_MAX_FILES_PER_REQUEST``): the whole request is refused with a sentence
  the teacher can act on (``upload_refusal``; the upload page checks both before sending);
* per upload (``TA_MAX_UPLOAD_TOTAL_BYTES``, everything stored for one upload, zip entries
  unpacked): checked by ``archive.services.intake``; files past it are rejected with a reason.

Temporary files are deleted when the request ends; those a killed web worker leaves behind are
swept by the hourly housekeeping task (``sweep_incoming``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict

log = logging.getLogger(__name__)

INCOMING_FOLDER = "incoming"
ZIP_MAGIC = b"PK\x03\x04"
#: A temporary file untouched this long belongs to no running request: a file being received
#: is written continuously, and a request ends (deleting or moving its files) long before this
#: (gunicorn's timeout in scripts/run.sh is 300 s).
STALE_AFTER_SECONDS = 6 * 3600.0


def format_size(n: int) -> str:
    """A limit as people read it: "2 GB", "500 MB", "64 kB"."""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if n >= factor:
            value = n / factor
            return (
                f"{value:.0f} {unit}"
                if value >= 10 or value.is_integer()
                else f"{value:.1f} {unit}"
            )
    return f"{n} bytes"


@dataclass(frozen=True)
class UploadLimits:
    """The upload limits of settings, and the sentences that refuse what exceeds them."""

    file_bytes: int
    request_bytes: int
    upload_bytes: int
    files: int

    @classmethod
    def from_settings(cls) -> UploadLimits:
        return cls(
            file_bytes=settings.TA_MAX_FILE_BYTES,
            request_bytes=settings.TA_MAX_REQUEST_BYTES,
            upload_bytes=settings.TA_MAX_UPLOAD_TOTAL_BYTES,
            files=settings.TA_MAX_FILES_PER_REQUEST,
        )

    def file_too_large(self) -> str:
        return (
            f"This file is larger than the limit of {format_size(self.file_bytes)} per file; "
            "it was not stored."
        )

    def request_too_large(self) -> str:
        return (
            f"This upload is larger than the limit of {format_size(self.request_bytes)} per "
            "request; nothing was stored. Send the files in several smaller uploads."
        )

    def too_many_files(self) -> str:
        return (
            f"This upload has more than {self.files} files, the most one request may carry; "
            "nothing was stored. Send them in several uploads, or as a zip archive."
        )

    def upload_full(self) -> str:
        return (
            f"The files of this upload add up to more than {format_size(self.upload_bytes)}, "
            "the total one upload may hold; this file was not stored. Upload it separately."
        )


def incoming_root() -> Path:
    if settings.INCOMING_ROOT:
        return Path(settings.INCOMING_ROOT)
    return Path(settings.RAW_HOLDING_ROOT) / INCOMING_FOLDER


def incoming_dir() -> Path:
    """The folder of temporary files, created owner-only (raw patient data lands here)."""
    path = incoming_root()
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    return path


class IncomingFile(UploadedFile):
    """A received file in the incoming area, hashed as it is written.

    Its name is neutral ("file"): an original file name may carry the patient's name. Storing it
    in a ``FileSystemStorage`` moves the temporary file (``temporary_file_path``).
    """

    def __init__(self, content_type: str | None = None, charset: str | None = None) -> None:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed (deleted) with the file
            prefix="", suffix=".part", dir=incoming_dir()
        )
        super().__init__(handle, "file", content_type, 0, charset)
        self._digest = hashlib.sha256()
        self.sha256 = ""
        #: Why the file was refused on arrival (per-file limit), or None.
        self.refusal: str | None = None

    def temporary_file_path(self) -> str:
        return self.file.name

    def append(self, chunk: bytes, limit: int, refusal: str) -> None:
        """Write a chunk unless that takes the file past ``limit`` bytes: then the file is
        refused, what was written is dropped, and later chunks are only counted."""
        if self.refusal is None and self.size + len(chunk) > limit:
            self.refusal = refusal
            self.file.truncate(0)
        if self.refusal is None:
            self._digest.update(chunk)
            self.file.write(chunk)
        self.size += len(chunk)

    def finish(self) -> IncomingFile:
        self.file.flush()
        self.file.seek(0)
        self.sha256 = self._digest.hexdigest()
        return self

    def close(self) -> None:
        try:
            self.file.close()
        except FileNotFoundError:
            pass  # moved into the holding storage: nothing left to delete


def spool(stream, limit: int, refusal: str = "") -> IncomingFile:
    """Copy a readable binary stream into an incoming file (for zip entries, bytes, parts)."""
    incoming = IncomingFile()
    try:
        while chunk := stream.read(HoldingUploadHandler.chunk_size):
            incoming.append(chunk, limit, refusal)
            if incoming.refusal is not None:
                break
    except BaseException:
        incoming.close()
        raise
    return incoming.finish()


# --- Browser uploads (multipart/form-data) -----------------------------------------------------

_REFUSAL_ATTRIBUTE = "upload_refusal"


def upload_rate_refusal(user) -> str | None:
    """Why this teacher may not upload now (``TA_UPLOADS_PER_HOUR`` browser and STOW-RS uploads
    in the last hour), or None. A flood of uploads from one account would hold back every
    other teacher's files in the workers' queue."""
    import datetime as dt

    from django.utils import timezone

    from archive.models import Upload

    limit = settings.TA_UPLOADS_PER_HOUR
    if not limit or user is None or not user.is_authenticated:
        return None
    since = timezone.now() - dt.timedelta(hours=1)
    recent = Upload.objects.filter(uploaded_by=user, created_at__gte=since).exclude(source="dimse")
    if recent.count() < limit:
        return None
    oldest = recent.order_by("created_at").values_list("created_at", flat=True)[
        recent.count() - limit
    ]
    minutes = max(
        1, int((oldest + dt.timedelta(hours=1) - timezone.now()).total_seconds() // 60) + 1
    )
    return (
        f"You have sent {limit} uploads in the last hour, the most the archive takes from one "
        f"teacher; nothing was stored. Try again in {minutes} minutes, or put more files in "
        "one upload (a folder or a zip)."
    )


def upload_refusal(request: HttpRequest) -> str | None:
    """Why ``HoldingUploadHandler`` refused this request's files as a whole, or None.

    A view that accepts files must check this first: the files parsed before the refusal are
    still in ``request.FILES``.
    """
    request.FILES  # noqa: B018 - the body is parsed lazily (CSRF checks usually parse it first)
    return getattr(request, _REFUSAL_ATTRIBUTE, None)


class HoldingUploadHandler(FileUploadHandler):
    """Streams each file of a multipart/form-data request into an ``IncomingFile``.

    Only signed-in users' files are written: for anyone else parsing stops at the first file
    (the fields before it, such as a login form's, are parsed as usual). A body whose
    Content-Length is over the request limit is refused before a byte of it is read (the upload
    form sends its CSRF token in a header, so the view can still answer with the reason); too
    many files are noticed while parsing, and the rest of the body is then read, not written.
    """

    chunk_size = 256 * 1024

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.limits = UploadLimits.from_settings()
        self.count = 0
        user = getattr(self.request, "user", None)
        self.anonymous = user is None or not user.is_authenticated
        if content_length > self.limits.request_bytes:
            setattr(self.request, _REFUSAL_ATTRIBUTE, self.limits.request_too_large())
            return QueryDict(encoding=encoding), MultiValueDict()
        rate = None if self.anonymous else upload_rate_refusal(user)
        if rate:  # refused before a byte of the files is written
            setattr(self.request, _REFUSAL_ATTRIBUTE, rate)
            return QueryDict(encoding=encoding), MultiValueDict()
        return None

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, *args):
        super().new_file(field_name, file_name, content_type, content_length, charset, *args)
        if self.anonymous:
            # The fields before it (a login form has no file) are parsed; no file of anyone
            # signed out is written, nor the rest of the body read.
            raise StopUpload(connection_reset=True)
        self.count += 1
        if self.count > self.limits.files:
            setattr(self.request, _REFUSAL_ATTRIBUTE, self.limits.too_many_files())
            # The body is within the request limit: reading (not writing) the rest lets the
            # client receive the answer instead of a reset connection.
            raise StopUpload(connection_reset=False)
        self.file = IncomingFile(content_type, charset)

    def receive_data_chunk(self, raw_data, start):
        if start == 0:
            # A zip archive is held to the request limit: its entries are checked one by one
            # against the per-file limit when it is unpacked.
            zipped = raw_data[:4] == ZIP_MAGIC
            self.limit = self.limits.request_bytes if zipped else self.limits.file_bytes
        self.file.append(raw_data, self.limit, self.limits.file_too_large())
        return None

    def file_complete(self, file_size):
        return self.file.finish()

    def upload_interrupted(self):
        if hasattr(self, "file"):
            self.file.close()


# --- Housekeeping ------------------------------------------------------------------------------


def sweep_incoming(*, older_than: float = STALE_AFTER_SECONDS) -> int:
    """Delete temporary files a killed web worker left in the incoming area. Returns how many."""
    path = incoming_root()
    if not path.is_dir():
        return 0
    removed = 0
    cutoff = time.time() - older_than
    for entry in os.scandir(path):
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:
            continue  # finished by its request meanwhile
    if removed:
        log.warning("Removed %d temporary upload file(s) left by an interrupted request", removed)
    return removed


__all__ = [
    "HoldingUploadHandler",
    "IncomingFile",
    "UploadLimits",
    "format_size",
    "incoming_dir",
    "spool",
    "sweep_incoming",
    "upload_refusal",
]
