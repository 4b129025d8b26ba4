"""One association → one ``Upload``: raw files held while the association lasts, de-identified
in batches while it is open, filed into a case on release, discarded on abort, kept for a
curator if filing fails (``archive.dimse.filing``).

The files are written to the raw holding storage (atomically, under ``dimse/<upload id>/``) as
they arrive. The listener's sessions (``file_while_receiving``) also file them in batches of
``TA_DICOM_BATCH_FILES`` instances or every ``TA_DICOM_BATCH_SECONDS``: the first batch creates
the ``Upload`` with the status *receiving* and no case, each batch adds its ``UploadItem`` rows
and queues their chunks, so the workers de-identify while the peer is still sending; their
outputs wait, seen by nobody, until the release (``archive.dimse.receiving``). On release one
transaction files the rest, creates the draft case if needed, attaches the upload to it and
queues what is left: the waiting outputs become instances and the finalizer runs once after the
last one. On abort, a lost connection or a network timeout everything of the association is
deleted — raw files, items, waiting outputs, quarantined copies — and none of it was ever
visible: a partial study never reaches a case. If the filing on release fails, the peer has
already been told every instance was stored, so the raw files (kept until the release) are left
in place for ``filing.keep_for_curator``. Identifying values collected for the Key Object text
stay in memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pydicom import Dataset

from archive import storage as storages
from archive.deid import PhiHints, RejectedInput, collect_phi_hints, pseudonymize_uid
from archive.deid.reading import read_dataset
from archive.dimse.key_objects import (
    KEY_OBJECT_SELECTION_SOP_CLASS,
    KeyObjectContent,
    deidentify_fields,
    read_key_object,
    teaching_file_fields,
)
from archive.models import (
    BodyRegion,
    Case,
    KeyObjectImport,
    Modality,
    ReceivedStudyFailure,
    RemoteNode,
    Upload,
    UploadItem,
)
from archive.services.policy import input_limits

log = logging.getLogger(__name__)

__all__ = [
    "RECEIVED_TITLE_PREFIX",
    "STATUS_CANNOT_UNDERSTAND",
    "STATUS_OUT_OF_RESOURCES",
    "STATUS_SUCCESS",
    "ReceivingSession",
]

STATUS_SUCCESS = 0x0000
STATUS_OUT_OF_RESOURCES = 0xA700  # PS3.4 B.2.3 "Refused: Out of Resources"
STATUS_CANNOT_UNDERSTAND = 0xC210  # PS3.4 B.2.3 "Error: Cannot understand" (C000-CFFF)
RECEIVED_TITLE_PREFIX = "Received study"
HOLDING_PREFIX = "dimse"
#: Written next to kept files when the database could not record their failure either.
MANIFEST_NAME = "manifest.json"

_BODY_PARTS = {
    "HEAD": BodyRegion.HEAD, "BRAIN": BodyRegion.HEAD, "SKULL": BodyRegion.HEAD,
    "NECK": BodyRegion.NECK, "CHEST": BodyRegion.CHEST, "THORAX": BodyRegion.CHEST,
    "LUNG": BodyRegion.CHEST, "HEART": BodyRegion.CARDIAC, "ABDOMEN": BodyRegion.ABDOMEN,
    "LIVER": BodyRegion.ABDOMEN, "PELVIS": BodyRegion.PELVIS, "SPINE": BodyRegion.SPINE,
    "CSPINE": BodyRegion.SPINE, "TSPINE": BodyRegion.SPINE, "LSPINE": BodyRegion.SPINE,
    "BREAST": BodyRegion.BREAST, "WHOLEBODY": BodyRegion.WHOLE_BODY,
    "ARM": BodyRegion.UPPER_LIMB, "HAND": BodyRegion.UPPER_LIMB, "SHOULDER": BodyRegion.UPPER_LIMB,
    "LEG": BodyRegion.LOWER_LIMB, "KNEE": BodyRegion.LOWER_LIMB, "FOOT": BodyRegion.LOWER_LIMB,
    "HIP": BodyRegion.LOWER_LIMB, "ANKLE": BodyRegion.LOWER_LIMB,
}  # fmt: skip


def _raw_storage():
    return UploadItem._meta.get_field("raw_file").storage


def _sha256(data: bytes | BinaryIO) -> str:
    if isinstance(data, bytes):
        return hashlib.sha256(data).hexdigest()
    data.seek(0)
    return hashlib.file_digest(data, "sha256").hexdigest()


def write_atomically(storage, name: str, data: bytes | BinaryIO) -> str:
    """Write ``data`` under ``name`` so no reader sees a partial file; returns the stored name.
    Through the storage's API only (a folder or a bucket, ``archive.storage.replace``); the
    holding and quarantine storages keep the files private (0600 in 0700 folders, or private
    objects)."""
    return storages.replace(storage, name, data)


@dataclass
class _Held:
    name: str
    size: int
    sha256: str


@dataclass
class _Rejected:
    reason: str


@dataclass
class ReceivingSession:
    """What one association has delivered so far.

    ``store`` is called from the association's thread for each C-STORE; ``commit`` on release
    and ``discard`` on abort are mutually exclusive (whichever comes first wins).
    """

    node_id: int
    calling_ae_title: str
    peer_address: str = ""
    public_id: uuid.UUID = field(default_factory=uuid.uuid4)
    received: list[_Held | _Rejected] = field(default_factory=list)
    modality: str = ""
    body_part: str = ""
    key_objects: list[KeyObjectContent] = field(default_factory=list)
    #: File batches while receiving (the listener); a curator's retry files all at once.
    file_while_receiving: bool = False
    # Identifying by construction: never logged, never stored.
    _hints: list[PhiHints] = field(default_factory=list, repr=False)
    _series_seen: set[str] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _state: str = "open"
    # Filing while receiving: the upload (once the first batch is filed), how many entries of
    # ``received`` are in the database, the items already queued, when the last batch was filed.
    _upload_id: int | None = None
    _filed: int = 0
    _sent: set[int] = field(default_factory=set, repr=False)
    _batch_at: float = field(default_factory=time.monotonic, repr=False)

    @property
    def held(self) -> list[_Held]:
        return [r for r in self.received if isinstance(r, _Held)]

    # --- receiving ---------------------------------------------------------------------------

    def store(self, data: bytes | BinaryIO) -> int:
        """Validate and hold one received instance (its bytes, or its file open for reading,
        which is read in pieces); returns the C-STORE status."""
        if isinstance(data, bytes):
            size = len(data)
        else:
            size = data.seek(0, os.SEEK_END)
            data.seek(0)
        if size > settings.TA_MAX_UPLOAD_BYTES:
            log.warning(
                "C-STORE from %s refused: instance larger than the upload limit",
                self.calling_ae_title,
            )
            return STATUS_OUT_OF_RESOURCES
        try:
            ds = read_dataset(data, input_limits())
            sop_class = str(ds.SOPClassUID)
            ds.SOPInstanceUID  # noqa: B018 - a storable instance must have one
        except (RejectedInput, AttributeError) as exc:
            # The reason sentence is generic (no header values); the type is for operators.
            log.warning(
                "C-STORE from %s rejected: malformed dataset (%s)",
                self.calling_ae_title,
                type(exc).__name__,
            )
            self.received.append(
                _Rejected(
                    "A dataset sent by the PACS or modality could not be read (malformed); "
                    "it was refused and not stored."
                )
            )
            return STATUS_CANNOT_UNDERSTAND
        self._observe(ds, sop_class)
        number = len(self.received) + 1
        name = f"{HOLDING_PREFIX}/{self.public_id}/{number:08d}.raw"
        with self._lock:
            if self._state != "open":
                return STATUS_OUT_OF_RESOURCES
            try:
                if not isinstance(data, bytes):
                    data.seek(0)
                write_atomically(_raw_storage(), name, data)
            except OSError as exc:
                log.error(
                    "C-STORE from %s failed: holding area not writable (%s)",
                    self.calling_ae_title,
                    type(exc).__name__,
                )
                return STATUS_OUT_OF_RESOURCES
            self.received.append(_Held(name, size, _sha256(data)))
            self._maybe_file_batch()
        return STATUS_SUCCESS

    def _maybe_file_batch(self) -> None:
        """File what arrived since the last batch if it is a batch's worth, or old enough.

        Called with the lock held, so an abort waits for a batch being filed. A failure (the
        database or the queue unreachable) is logged and retried with the next batch or on
        release; the C-STORE still succeeds, since the file is held.
        """
        if not self.file_while_receiving:
            return
        waiting = len(self.received) - self._filed
        if waiting < 1:
            return
        due = time.monotonic() - self._batch_at >= settings.TA_DICOM_BATCH_SECONDS
        if waiting < settings.TA_DICOM_BATCH_FILES and not due:
            return
        try:
            self._file_batch()
        except Exception as exc:  # noqa: BLE001 - retried later; the files are held
            log.error(
                "Association from %s: filing received instances while receiving failed (%s); "
                "retried with the next batch or on release",
                self.calling_ae_title,
                type(exc).__name__,
            )

    def _file_batch(self) -> None:
        from archive import scheduling

        entries = self.received[self._filed :]
        now = timezone.now()
        with transaction.atomic():
            if self._upload_id is None:
                node = RemoteNode.objects.select_related("teacher").get(pk=self.node_id)
                upload = Upload.objects.create(
                    public_id=self.public_id,
                    case=None,
                    uploaded_by=node.teacher,
                    source="dicom",
                    status=Upload.Status.RECEIVING,
                    last_received_at=now,
                )
            else:
                upload = Upload.objects.select_for_update().get(
                    pk=self._upload_id, status=Upload.Status.RECEIVING
                )
                upload.last_received_at = now
                upload.save(update_fields=["last_received_at"])
            items = self._items(upload, entries, first=self._filed + 1)
            UploadItem.objects.bulk_create(items)
        self._upload_id = upload.pk
        self._filed += len(entries)
        self._batch_at = time.monotonic()
        pending = [(i.pk, i.size) for i in items if i.status == UploadItem.Status.PENDING]
        scheduling.schedule_received(upload.pk, pending)
        self._sent.update(pk for pk, _size in pending)

    def _items(self, upload: Upload, entries, *, first: int) -> list[UploadItem]:
        items = []
        for number, entry in enumerate(entries, start=first):
            item = UploadItem(upload=upload, label=f"Received instance {number}")
            if isinstance(entry, _Held):
                item.size, item.sha256, item.raw_file = entry.size, entry.sha256, entry.name
            else:
                item.mark(UploadItem.Status.REJECTED, entry.reason)
            items.append(item)
        return items

    def note_rejected(self, reason: str) -> None:
        """Remember a dataset refused at receipt (replaying a kept study, see ``filing``)."""
        self.received.append(_Rejected(reason))

    def _observe(self, ds: Dataset, sop_class: str) -> None:
        series = str(ds.get("SeriesInstanceUID", ""))
        if series not in self._series_seen:
            # Headers repeat within a series; one instance's hints stand for its series.
            self._series_seen.add(series)
            self._hints.append(collect_phi_hints(ds))
        if sop_class == KEY_OBJECT_SELECTION_SOP_CLASS:
            self._hints.append(collect_phi_hints(ds))
            self.key_objects.append(read_key_object(ds))
            return
        if not self.modality:
            self.modality = str(ds.get("Modality", "")).upper()
        if not self.body_part:
            self.body_part = str(ds.get("BodyPartExamined", "")).upper().replace(" ", "")

    # --- ending ------------------------------------------------------------------------------

    def commit(self) -> Upload | None:
        """Turn what was received into an Upload and queue it (on release).

        If that fails the exception propagates and the held files stay where they are (state
        ``failed``): the peer was told they were stored, so they must not be discarded.
        """
        with self._lock:
            if self._state != "open":
                return None
            self._state = "committing"
        if not self.held:
            self._state = "committed"
            self._discard_filed(keep_raw=False)
            return None
        try:
            upload = self.file()
        except Exception:
            self._state = "failed"
            raise
        self._state = "committed"
        log.info(
            "Association from %s filed as upload %s: %d instance(s)",
            self.calling_ae_title,
            upload.public_id,
            len(self.held),
        )
        return upload

    @transaction.atomic
    def file(self) -> Upload:
        """Create the draft case if needed, the Upload and its items; queue it on commit."""
        from archive import scheduling

        node = RemoteNode.objects.select_related("teacher", "target_case").get(pk=self.node_id)
        if self._upload_id is not None:
            return self._file_released(node)
        case = self._case_for(node)
        upload = Upload.objects.create(
            public_id=self.public_id, case=case, uploaded_by=node.teacher, source="dicom"
        )
        UploadItem.objects.bulk_create(self._items(upload, self.received, first=1))
        # The upload's finalizer applies the key objects, if any (archive.services.processing).
        self._file_key_objects(upload)
        scheduling.schedule_upload(upload.pk)
        return upload

    def _file_released(self, node: RemoteNode) -> Upload:
        """On release of an association whose batches were filed while receiving: the rest of
        its items, its case, its key objects, and the work left (inside ``file``'s transaction).
        """
        from archive import scheduling

        # Locked: a worker settling an item now waits, then files it into the case itself.
        upload = Upload.objects.select_for_update().get(
            pk=self._upload_id, status=Upload.Status.RECEIVING
        )
        UploadItem.objects.bulk_create(
            self._items(upload, self.received[self._filed :], first=self._filed + 1)
        )
        upload.case = self._case_for(node)
        upload.status = Upload.Status.PROCESSING
        upload.last_received_at = timezone.now()
        upload.save(update_fields=["case", "status", "last_received_at"])
        # Raw files of items settled while receiving (rejected, quarantined) were kept in case
        # the filing failed; it did not.
        settled = upload.items.exclude(status=UploadItem.Status.PENDING).exclude(raw_file="")
        done_with = list(settled.values_list("raw_file", flat=True))
        settled.update(raw_file="")
        storage = _raw_storage()
        transaction.on_commit(lambda: [storage.delete(n) for n in done_with])
        self._file_key_objects(upload)
        # Items queued while receiving and not yet taken are still in the queue, and those a
        # worker holds now are filed by it; the rest is queued again.
        free = upload.items.filter(
            status=UploadItem.Status.PENDING, claimed_at__isnull=True
        ).order_by("pk")
        unsent = free.filter(deidentified_file="").exclude(pk__in=self._sent)
        waiting = free.exclude(deidentified_file="")
        scheduling.schedule_released(
            upload.pk,
            list(unsent.values_list("pk", "size")),
            list(waiting.values_list("pk", "size")),
        )
        return upload

    def _file_key_objects(self, upload: Upload) -> bool:
        if not self.key_objects:
            return False
        from archive.services.policy import archive_policy

        fields = teaching_file_fields(d for k in self.key_objects for d in k.descriptions)
        clean = deidentify_fields(fields, self._hints)
        policy = archive_policy()
        uids = [
            pseudonymize_uid(uid, policy)
            for k in self.key_objects
            for uid in k.referenced_sop_instance_uids
        ]
        KeyObjectImport.objects.create(
            upload=upload,
            title=clean.title[:200],
            history=clean.history,
            findings=clean.findings,
            diagnosis=clean.diagnosis[:200],
            key_image_uids=list(dict.fromkeys(uids)),
        )
        return True

    def _case_for(self, node: RemoteNode) -> Case:
        target = node.target_case
        if (
            target is not None
            and target.owner_id == node.teacher_id
            and target.status in {Case.Status.DRAFT, Case.Status.RETURNED}
        ):
            return target
        # Neutral title: the date of receipt, never a header value (names, dates are PHI).
        return Case.objects.create(
            owner=node.teacher,
            title=received_title(),
            modality=self.modality if self.modality in Modality.values else Modality.OT,
            body_region=_BODY_PARTS.get(self.body_part, ""),
        )

    def discard(self) -> int:
        """Delete every raw file of this association (on abort); returns how many."""
        with self._lock:
            if self._state != "open":
                return 0
            self._state = "discarded"
        self._discard_filed(keep_raw=False)
        removed = self._delete_held()
        if removed:
            log.info(
                "Association from %s ended without release: %d received instance(s) discarded",
                self.calling_ae_title,
                removed,
            )
        return removed

    def _discard_filed(self, *, keep_raw: bool) -> None:
        """Delete what was filed while receiving (see ``receiving.discard_upload``)."""
        if self._upload_id is None:
            return
        from archive.dimse.receiving import discard_upload

        try:
            discard_upload(self._upload_id, keep_raw=keep_raw)
        except Exception as exc:  # noqa: BLE001 - swept when a listener next starts
            log.error(
                "Association from %s: its partly filed upload could not be deleted (%s); it is "
                "removed when the listener next starts",
                self.calling_ae_title,
                type(exc).__name__,
            )

    def discard_filed_for_curator(self) -> None:
        """Filing on release failed: delete what was filed while receiving, but not the raw
        files, which ``filing.keep_for_curator`` keeps."""
        self._discard_filed(keep_raw=True)

    def discard_copies(self) -> int:
        """Delete the held copies of a kept study whose retried filing failed (the kept files
        themselves stay, see ``filing.retry_filing``); returns how many."""
        with self._lock:
            self._state = "discarded"
        return self._delete_held()

    def _delete_held(self) -> int:
        storage = _raw_storage()
        removed = 0
        for entry in self.held:
            try:
                storage.delete(entry.name)
                removed += 1
            except OSError:
                pass
        storages.delete_folder(storage, f"{HOLDING_PREFIX}/{self.public_id}")
        self._hints.clear()
        self.key_objects.clear()
        return removed

    @property
    def state(self) -> str:
        return self._state


def sweep_orphaned_holding(*, older_than: float = 3600.0) -> int:
    """Delete raw files a killed listener left behind (no Upload was ever filed for them).

    Only folders whose newest file is older than ``older_than`` seconds are considered, so
    another listener's association in progress (a new file at least every network timeout) is
    never touched. Returns the number of folders removed. Through the storage's API: the
    listeners of several machines may share one holding bucket.
    """
    storage = _raw_storage()
    newest: dict[str, dt.datetime] = {}
    names: dict[str, list[str]] = {}
    for entry in storages.walk(storage, HOLDING_PREFIX):
        parts = entry.name.split("/")
        if len(parts) < 3:
            continue
        folder = parts[1]
        names.setdefault(folder, []).append(entry.name)
        newest[folder] = max(newest.get(folder, entry.modified), entry.modified)
    cutoff = timezone.now() - dt.timedelta(seconds=older_than)
    removed = 0
    for folder, files in names.items():
        try:
            public_id = uuid.UUID(folder)
        except ValueError:
            continue
        if newest[folder] >= cutoff:
            continue
        if Upload.objects.filter(public_id=public_id).exists():
            continue
        # Kept for a curator because filing failed (the quarantine was not writable either).
        if any(name.endswith(f"/{MANIFEST_NAME}") for name in files):
            continue
        if ReceivedStudyFailure.objects.filter(public_id=public_id).exists():
            continue
        for name in files:
            storage.delete(name)
        storages.delete_folder(storage, f"{HOLDING_PREFIX}/{folder}")
        removed += 1
    if removed:
        log.warning("Removed %d folder(s) of raw files left by an interrupted listener", removed)
    return removed


def received_title(on: dt.date | None = None) -> str:
    return f"{RECEIVED_TITLE_PREFIX} — {(on or timezone.localdate()).isoformat()}"
