"""Receiving files: browser uploads (single files or zip archives) into the raw holding area.

Everything received is written to the holding storage (no URL serves it) under a random name,
one ``UploadItem`` per file. Archives are unpacked here, entry by entry, with limits against zip
bombs and path tricks: a bad entry becomes a rejected item with a reason, the rest goes on.
Original file names are never stored: they may carry a patient's name.

Files arrive as temporary files of the incoming area (``archive.services.incoming``), already
hashed; storing one is a rename, and nothing is held in memory. The files are stored before the
database is touched, and the upload and its items are then written in one short transaction:
on the embedded SQLite setup a long upload must not hold the database's write lock while it
copies or unpacks (every login needs that lock). Files stored by a request that died before its
transaction committed belong to no upload and are swept with the orphaned originals.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from django.db import transaction
from django.utils.translation import gettext

from archive import scheduling
from archive.models import Case, Upload, UploadItem
from archive.services.incoming import ZIP_MAGIC, IncomingFile, UploadLimits, format_size, spool


@dataclass
class Received:
    """A file as it arrived: a readable binary stream and its size in bytes.

    ``refusal`` is set when the file was refused on arrival (too large): it is then only
    reported, never read.
    """

    stream: IO[bytes] | None
    size: int
    refusal: str | None = None


class _TooLarge(Exception):
    pass


@dataclass
class _Planned:
    """One future ``UploadItem``: stored under ``raw_name``, or rejected with ``reason``."""

    label: str
    size: int = 0
    sha256: str = ""
    raw_name: str = ""
    reason: str = ""


class _Intake:
    """The files of one upload, stored in the holding storage before any row is written."""

    def __init__(self, public_id: uuid.UUID, limits: UploadLimits) -> None:
        self.public_id = public_id
        self.limits = limits
        self.planned: list[_Planned] = []
        self.stored_bytes = 0
        self.storage = UploadItem._meta.get_field("raw_file").storage

    def reject(self, label: str, reason: str) -> None:
        self.planned.append(_Planned(label=label[:120], reason=reason))

    def room(self) -> int:
        return self.limits.upload_bytes - self.stored_bytes

    def store(self, label: str, incoming: IncomingFile) -> _Planned:
        """Move an incoming file into the holding storage as the next item."""
        plan = _Planned(label=label[:120], size=incoming.size, sha256=incoming.sha256)
        name = f"{self.public_id}/{len(self.planned) + 1:08d}.raw"
        plan.raw_name = self.storage.save(name, incoming)
        self.stored_bytes += plan.size
        self.planned.append(plan)
        return plan

    def discard_stored(self) -> None:
        for plan in self.planned:
            if plan.raw_name:
                self.storage.delete(plan.raw_name)


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


def _unpack_zip(intake: _Intake, archive_label: str, stream: IO[bytes]) -> None:
    from django.conf import settings

    limits = intake.limits
    try:
        archive = zipfile.ZipFile(stream)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        intake.reject(
            archive_label,
            "This zip archive is damaged and could not be opened. Create it again and re-upload.",
        )
        return
    if len(members) > settings.TA_MAX_ZIP_ENTRIES:
        intake.reject(
            archive_label,
            f"This archive has {len(members)} entries; at most {settings.TA_MAX_ZIP_ENTRIES} are "
            "accepted in one upload. Split it into smaller archives.",
        )
        return
    number = 0
    for info in members:
        if _is_junk_member(info):
            continue
        number += 1
        label = f"{archive_label} › entry {number}"
        if _is_unsafe_member(info.filename):
            intake.reject(
                label, "This archive entry points outside the archive (unsafe path); skipped."
            )
            continue
        if info.flag_bits & 0x1:
            intake.reject(label, "This archive entry is encrypted; upload it without a password.")
            continue
        if info.compress_size and info.file_size / info.compress_size > settings.TA_MAX_ZIP_RATIO:
            intake.reject(
                label,
                "This archive entry expands suspiciously (possible zip bomb); skipped. "
                "Re-create the archive with ordinary compression.",
            )
            continue
        if info.file_size > limits.file_bytes:
            intake.reject(
                label,
                f"This archive entry is larger than the limit of {format_size(limits.file_bytes)} "
                "per file; skipped.",
            )
            continue
        if info.file_size > intake.room():
            intake.reject(label, limits.upload_full())
            continue
        try:
            with archive.open(info) as member:
                # One byte more than the header promises is enough to catch a lying header.
                incoming = spool(member, info.file_size, refusal="larger than its header says")
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
            intake.reject(label, "This archive entry is damaged and could not be read; skipped.")
            continue
        with incoming:
            if incoming.refusal is not None:
                intake.reject(
                    label,
                    "This archive entry is larger than its header says (possible zip bomb); "
                    "skipped.",
                )
                continue
            intake.store(label, incoming)


def _receive_one(intake: _Intake, number: int, received: Received) -> None:
    label = f"File {number}"
    limits = intake.limits
    if received.refusal is not None:
        intake.reject(label, received.refusal)
        return
    if received.size == 0:
        intake.reject(label, "This file is empty (0 bytes).")
        return
    stream = received.stream
    head = stream.read(4)
    stream.seek(0)
    if head == ZIP_MAGIC:  # its entries are held to the limits, not the archive itself
        _unpack_zip(intake, f"{label} (zip)", stream)
        return
    if received.size > limits.file_bytes:
        intake.reject(label, limits.file_too_large())
        return
    if received.size > intake.room():
        intake.reject(label, limits.upload_full())
        return
    if isinstance(stream, IncomingFile) and stream.sha256:
        intake.store(label, stream)
        return
    with spool(stream, limits.file_bytes, limits.file_too_large()) as incoming:
        if incoming.refusal is not None:
            intake.reject(label, incoming.refusal)
        else:
            intake.store(label, incoming)


def receive_files(
    *, case: Case, user, files: Iterable[Received], source: str = "browser"
) -> Upload:
    """Store received files in the holding area and queue their de-identification.

    Returns the new ``Upload``. The Celery task is queued only once its transaction commits, so
    the worker never sees a half-written upload.
    """
    intake = _Intake(uuid.uuid4(), UploadLimits.from_settings())
    try:
        for number, received in enumerate(files, start=1):
            _receive_one(intake, number, received)
        with transaction.atomic():
            upload = Upload.objects.create(
                public_id=intake.public_id, case=case, uploaded_by=user, source=source
            )
            items = [
                UploadItem(
                    upload=upload,
                    label=plan.label,
                    size=plan.size,
                    sha256=plan.sha256,
                    raw_file=plan.raw_name,
                )
                for plan in intake.planned
            ]
            for item, plan in zip(items, intake.planned, strict=True):
                if plan.reason:
                    item.mark(UploadItem.Status.REJECTED, plan.reason)
            UploadItem.objects.bulk_create(items)
            scheduling.schedule_upload(upload.pk)
    except BaseException:
        intake.discard_stored()
        raise
    return upload


_LABEL = re.compile(r"^File (\d+)(?: \(zip\)(?: › entry (\d+))?)?$")


def label_position(label: str) -> tuple[int, int] | None:
    """Where an item's file was in the teacher's upload: (file number, zip entry number or 0).

    The browser matches these numbers to the names of the files it sent (names the server never
    receives); labels of other sources (a PACS, STOW-RS, a package) have no position.
    """
    match = _LABEL.match(label)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def display_label(label: str) -> str:
    """An item's label in the active language ("File 3 (zip) › entry 12" → "Soubor 3 (zip) ›
    položka 12"); labels of other sources as they are."""
    position = label_position(label)
    if position is None:
        return label
    file, entry = position
    shown = gettext("File %(n)d") % {"n": file}
    if "(zip)" in label:
        shown += " (zip)"
    if entry:
        shown += " › " + gettext("entry %(n)d") % {"n": entry}
    return shown


def received_from_bytes(data: bytes) -> Received:
    return Received(stream=io.BytesIO(data), size=len(data))


def received_from_django(uploaded) -> Received:
    """A file of ``request.FILES`` (an ``IncomingFile`` with the browser upload handler)."""
    return Received(stream=uploaded, size=uploaded.size, refusal=getattr(uploaded, "refusal", None))


__all__ = [
    "Received",
    "display_label",
    "label_position",
    "receive_files",
    "received_from_bytes",
    "received_from_django",
]
