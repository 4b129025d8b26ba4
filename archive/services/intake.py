"""Receiving files: browser uploads (single files or zip archives) into the raw holding area.

Everything received is written to the holding storage (no URL serves it) under a random name,
one ``UploadItem`` per file. Archives are unpacked here, entry by entry, with limits against zip
bombs and path tricks: a bad entry becomes a rejected item with a reason, the rest goes on.
Original file names are never stored: they may carry a patient's name.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files.base import File
from django.db import transaction

from archive.models import Case, Upload, UploadItem

CHUNK = 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class Received:
    """A file as it arrived: a readable binary stream and its size in bytes."""

    stream: IO[bytes]
    size: int


class _TooLarge(Exception):
    pass


def _hash_and_store(item: UploadItem, stream: IO[bytes], limit: int) -> None:
    """Stream into the holding storage while hashing; raise _TooLarge past ``limit`` bytes."""
    digest = hashlib.sha256()
    buffer = io.BytesIO()
    total = 0
    while chunk := stream.read(CHUNK):
        total += len(chunk)
        if total > limit:
            raise _TooLarge
        digest.update(chunk)
        buffer.write(chunk)
    item.size = total
    item.sha256 = digest.hexdigest()
    name = f"{item.upload.public_id}/{item.pk:08d}.raw"
    item.raw_file.save(name, File(buffer), save=False)


def _new_item(upload: Upload, label: str) -> UploadItem:
    return UploadItem.objects.create(upload=upload, label=label[:120])


def _reject(item: UploadItem, reason: str) -> None:
    item.mark(UploadItem.Status.REJECTED, reason)
    item.save()


def _is_unsafe_member(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":")


def _is_junk_member(info: zipfile.ZipInfo) -> bool:
    base = info.filename.rsplit("/", 1)[-1]
    return (
        info.is_dir()
        or info.filename.startswith("__MACOSX/")
        or base in {".DS_Store", "Thumbs.db", "DICOMDIR"}
        or base.startswith("._")
    )


def _unpack_zip(upload: Upload, archive_label: str, stream: IO[bytes]) -> None:
    max_total = settings.TA_MAX_UPLOAD_BYTES
    try:
        archive = zipfile.ZipFile(stream)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        _reject(
            _new_item(upload, archive_label),
            "This zip archive is damaged and could not be opened. Create it again and re-upload.",
        )
        return
    if len(members) > settings.TA_MAX_ZIP_ENTRIES:
        _reject(
            _new_item(upload, archive_label),
            f"This archive has {len(members)} entries; at most {settings.TA_MAX_ZIP_ENTRIES} are "
            "accepted in one upload. Split it into smaller archives.",
        )
        return
    unpacked = 0
    number = 0
    for info in members:
        if _is_junk_member(info):
            continue
        number += 1
        item = _new_item(upload, f"{archive_label} › entry {number}")
        if _is_unsafe_member(info.filename):
            _reject(item, "This archive entry points outside the archive (unsafe path); skipped.")
            continue
        if info.flag_bits & 0x1:
            _reject(item, "This archive entry is encrypted; upload it without a password.")
            continue
        if info.compress_size and info.file_size / info.compress_size > settings.TA_MAX_ZIP_RATIO:
            _reject(
                item,
                "This archive entry expands suspiciously (possible zip bomb); skipped. "
                "Re-create the archive with ordinary compression.",
            )
            continue
        try:
            with archive.open(info) as member:
                _hash_and_store(item, member, min(info.file_size, max_total - unpacked) + 1)
        except _TooLarge:
            _reject(
                item,
                "This archive entry is larger than its header says or than the upload "
                "limit allows (possible zip bomb); skipped.",
            )
            continue
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
            _reject(item, "This archive entry is damaged and could not be read; skipped.")
            continue
        if item.size > info.file_size:
            item.raw_file.delete(save=False)
            _reject(item, "This archive entry is larger than its header says; skipped.")
            continue
        unpacked += item.size
        item.save()


@transaction.atomic
def receive_files(
    *, case: Case, user, files: Iterable[Received], source: str = "browser"
) -> Upload:
    """Store received files in the holding area and queue their de-identification.

    Returns the new ``Upload``. The Celery task is queued only once this transaction commits, so
    the worker never sees a half-written upload.
    """
    from archive.services.processing import schedule_upload

    upload = Upload.objects.create(case=case, uploaded_by=user, source=source)
    limit = settings.TA_MAX_UPLOAD_BYTES
    for number, received in enumerate(files, start=1):
        head = received.stream.read(4)
        received.stream.seek(0)
        label = f"File {number}"
        if head == ZIP_MAGIC:
            _unpack_zip(upload, f"{label} (zip)", received.stream)
            continue
        item = _new_item(upload, label)
        if received.size == 0:
            _reject(item, "This file is empty (0 bytes).")
            continue
        try:
            _hash_and_store(item, received.stream, limit)
        except _TooLarge:
            _reject(item, f"This file is larger than the upload limit of {limit // 1024**2} MB.")
            continue
        item.save()
    schedule_upload(upload.pk)
    return upload


def received_from_bytes(data: bytes) -> Received:
    return Received(stream=io.BytesIO(data), size=len(data))


def received_from_django(uploaded) -> Received:
    return Received(stream=uploaded, size=uploaded.size)


__all__ = ["Received", "receive_files", "received_from_bytes", "received_from_django"]
