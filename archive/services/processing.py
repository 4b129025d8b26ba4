"""De-identifying the files of an upload and filing them under the case.

An upload is spread over every free worker (``archive.scheduling``): ``start_upload`` splits
its pending files into chunks, ``process_items`` is what one chunk's task runs, and
``finish_upload`` — the finalizer — runs once when every item is settled. ``process_upload``
does all three in this process (demo data, tests, and the commands).

All of it is safe to run twice, concurrently, or after a worker was killed half-way: each item
is claimed, de-identified outside any transaction, and settled in a short transaction that
checks nobody settled it first; a processed item is never processed again, and an instance that
already exists in the case is recognised by its (pseudonymous) SOP Instance UID instead of
being stored twice. The finalizer's guard is in the database: the one transaction that moves
the upload to "done" runs it, whichever worker settled the last item. Raw bytes are deleted
once their item is settled, except a browser upload's anonymized originals, kept for the
teacher's review. Every quarantined item has its quarantine file (curators only).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import signal
import socket
import time
from dataclasses import dataclass

import pydicom
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from pydicom import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue

from archive import scheduling
from archive.deid import DeidResult, RejectedInput, deidentify_bytes
from archive.deid.limits import codec_failure
from archive.models import Instance, KeyObjectImport, Series, Study, Upload, UploadItem
from archive.services.incoming import IncomingFile, spool
from archive.services.policy import archive_policy
from archive.storage import instance_file_name, open_local, received_output_name, transfer

log = logging.getLogger(__name__)

#: Upload sources whose raw originals are kept for the teacher's review (see ``_keeps_original``);
#: files sent by a PACS or STOW-RS are deleted as soon as they are processed.
KEEP_ORIGINAL_SOURCES = frozenset({"browser"})

#: An item whose worker died (out of memory, a crash, the hard time limit) more often than
#: ``TA_ITEM_MAX_ATTEMPTS``: it is not tried again, so one file cannot hold a worker in a loop.
POISONED = (
    "The file could not be processed safely: the worker processing it stopped {attempts} times "
    "(out of memory, out of time, or a crash). It was set aside for a curator and the rest of "
    "the upload went on. The quarantined copy is the original as received (not de-identified)."
)
#: The task's soft time limit was reached while this item was processed.
TIMED_OUT = (
    "The file could not be processed safely within the time limit of one task "
    "({seconds} s). It was set aside for a curator and the rest of the upload went on. The "
    "quarantined copy is the original as received (not de-identified)."
)


class ChunkTimedOut(Exception):
    """The task's soft time limit was reached; the item in work was settled as timed out, the
    chunk's later items are for another task."""


def this_process() -> str:
    """Who is working, for ``processed_by``/``finished_by`` when no worker name is given."""
    return f"pid {os.getpid()}@{socket.gethostname()}"[:100]


def _text(ds, keyword: str, limit: int = 200) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value)[:limit]


def _number(ds, keyword: str) -> int | None:
    try:
        value = ds.get(keyword)
        return None if value in (None, "") else int(value)
    except (TypeError, ValueError):
        return None


def _first_float(ds, keyword: str) -> float | None:
    value = ds.get(keyword)
    if isinstance(value, MultiValue):
        value = value[0] if value else None
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


def _date(ds, keyword: str) -> dt.date | None:
    value = _text(ds, keyword)
    try:
        return dt.datetime.strptime(value[:8], "%Y%m%d").date()
    except ValueError:
        return None


@dataclass
class _Outcome:
    """What de-identifying an item produced, before anything is written to the database.

    ``staged`` is the file to store (anonymized output, or what goes to the quarantine),
    already on disk in the incoming area so that storing it inside the short finishing
    transaction is a rename.
    """

    status: str
    reason: str = ""
    result: DeidResult | _Received | None = None
    staged: IncomingFile | None = None
    #: The quarantined copy is the raw original (the file could not be de-identified at all).
    original: bool = False
    #: The task's soft time limit ended the work on this item.
    timed_out: bool = False


def _stage(data: bytes | io.BufferedIOBase) -> IncomingFile:
    """The bytes, or the file (a de-identified output's spool, copied a piece at a time), as an
    incoming file ready to be stored."""
    if isinstance(data, bytes):
        return spool(io.BytesIO(data), len(data))
    size = data.seek(0, io.SEEK_END)
    data.seek(0)
    return spool(data, size)


@dataclass
class _Received:
    """A de-identified output that waited for its association's release (``_settle`` files it
    as it would a fresh ``DeidResult``): the dataset is read back, audit and pixel report were
    kept with the item."""

    dataset: Dataset
    audit: list
    pixel_report: dict


def _received_output(item: UploadItem) -> _Outcome | None:
    """The outcome of an item de-identified while its association was open, or None if there
    is none (or it was lost: then the raw file is de-identified again). The file is staged a
    piece at a time and only its header is read (its rows need nothing more): a cine that
    waited for the release is not read back into memory."""
    if not item.deidentified_file:
        return None
    try:
        fh = open_local(item.deidentified_file.storage, item.deidentified_file.name)
    except (OSError, ValueError):
        return None
    with fh:
        try:
            # Long values stay in the file (never read: the rows need the header only).
            dataset = pydicom.dcmread(fh, defer_size=1 << 20)
        except (OSError, ValueError, InvalidDicomError):
            return None
        staged = _stage(fh)
    return _Outcome(
        UploadItem.Status.ANONYMIZED,
        result=_Received(dataset, item.audit, item.pixel_report),
        staged=staged,
    )


def filing_header(ds: Dataset) -> dict:
    """The values of an anonymized dataset that its Study/Series/Instance rows hold, as JSON.

    Kept on the item by the pass that de-identifies an instance while its association is open,
    so that filing it after the release (``file_received``) needs neither the file nor a parse.
    Only de-identified values (pseudonymous UIDs, shifted dates), the same the rows show.
    """
    has_pixels = "PixelData" in ds
    date = _date(ds, "StudyDate")
    return {
        "study_uid": str(ds.StudyInstanceUID),
        "study_description": _text(ds, "StudyDescription"),
        "study_date": date.isoformat() if date else None,
        "patient_id": _text(ds, "PatientID", 64),
        "series_uid": str(ds.SeriesInstanceUID),
        "modality": _text(ds, "Modality", 16),
        "body_part": _text(ds, "BodyPartExamined", 64),
        "series_description": _text(ds, "SeriesDescription"),
        "series_number": _number(ds, "SeriesNumber"),
        "sop_uid": str(ds.SOPInstanceUID),
        "sop_class_uid": _text(ds, "SOPClassUID", 64),
        "instance_number": _number(ds, "InstanceNumber"),
        "rows": _number(ds, "Rows") or 0,
        "columns": _number(ds, "Columns") or 0,
        "frames": _number(ds, "NumberOfFrames") or (1 if has_pixels else 0),
        "photometric": _text(ds, "PhotometricInterpretation", 16),
        "window_center": _first_float(ds, "WindowCenter"),
        "window_width": _first_float(ds, "WindowWidth"),
        "has_pixels": has_pixels,
    }


def _study_defaults(header: dict) -> dict:
    date = header["study_date"]
    return {
        "description": header["study_description"],
        "study_date": dt.date.fromisoformat(date) if date else None,
        "pseudonymous_patient_id": header["patient_id"],
    }


def _series_defaults(header: dict) -> dict:
    return {
        "modality": header["modality"],
        "body_part": header["body_part"],
        "description": header["series_description"],
        "number": header["series_number"],
    }


def _new_instance(series: Series, header: dict, *, audit: list, pixel_report: dict) -> Instance:
    return Instance(
        series=series,
        sop_uid=header["sop_uid"],
        sop_class_uid=header["sop_class_uid"],
        instance_number=header["instance_number"],
        rows=header["rows"],
        columns=header["columns"],
        frames=header["frames"],
        photometric=header["photometric"],
        window_center=header["window_center"],
        window_width=header["window_width"],
        has_pixels=header["has_pixels"],
        audit=audit,
        pixel_report=pixel_report,
    )


def _file_instance(
    item: UploadItem, result: DeidResult | _Received, staged: IncomingFile
) -> Instance:
    """Create Study/Series/Instance rows for an anonymized dataset (or find the existing one)."""
    header = filing_header(result.dataset)
    case = item.upload.case
    study, _ = Study.objects.get_or_create(
        case=case, study_uid=header["study_uid"], defaults=_study_defaults(header)
    )
    series, _ = Series.objects.get_or_create(
        study=study, series_uid=header["series_uid"], defaults=_series_defaults(header)
    )
    sop_uid = header["sop_uid"]
    existing = Instance.objects.filter(series=series, sop_uid=sop_uid).first()
    if existing is not None:
        return existing
    instance = _new_instance(series, header, audit=result.audit, pixel_report=result.pixel_report)
    name = instance_file_name(case.pk, sop_uid)
    storage = instance.file.storage
    if storage.exists(name):  # left by a worker killed before its transaction committed
        storage.delete(name)
    instance.file.save(name, staged, save=False)
    instance.save()
    return instance


def _quarantine(item: UploadItem, staged: IncomingFile, *, original: bool) -> None:
    # The raw original of a file that could not be de-identified is named as such, so that
    # nobody mistakes it for a de-identified file that failed verification.
    suffix = "original.dcm" if original else "dcm"
    name = f"{item.upload.public_id}/{item.pk:08d}.{suffix}"
    storage = item.quarantined_file.storage
    if storage.exists(name):
        storage.delete(name)
    item.quarantined_file.save(name, staged, save=False)


def _claim(item_id: int) -> UploadItem | None:
    """Take a pending item for this run (one short statement), or None if it is settled or a
    live run holds it. A claim older than ``TA_ITEM_CLAIM_SECONDS`` belongs to a killed worker
    and is taken over."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.TA_ITEM_CLAIM_SECONDS)
    taken = (
        UploadItem.objects.filter(pk=item_id, status=UploadItem.Status.PENDING)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        # De-identified ahead while its association is open: nothing to do before the release.
        .exclude(Q(upload__status=Upload.Status.RECEIVING) & ~Q(deidentified_file=""))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not taken:
        return None
    return UploadItem.objects.select_related("upload__case").get(pk=item_id)


def _release(item_id: int) -> None:
    UploadItem.objects.filter(pk=item_id, status=UploadItem.Status.PENDING).update(claimed_at=None)


def _open_raw(item: UploadItem) -> io.BufferedIOBase | None:
    """The received file, open for reading (the caller closes it), or None if it is lost.

    Never its bytes: a native cine may be 4 GiB. A folder storage's file is opened where it
    lies; an object store's is streamed into an unnamed temporary file (``open_local``)."""
    if not item.raw_file:
        return None
    try:
        return open_local(item.raw_file.storage, item.raw_file.name)
    except (FileNotFoundError, IsADirectoryError, ValueError):
        return None


LOST = "The received file was lost before processing; please upload it again."


def _poisoned(item: UploadItem) -> _Outcome:
    """The outcome of an item whose earlier runs all died: quarantined as received."""
    received = _open_raw(item)
    if received is None:
        return _Outcome(UploadItem.Status.REJECTED, LOST)
    log.error("Upload item %s quarantined after %s lost runs", item.pk, item.attempts - 1)
    with received:
        staged = _stage(received)
    return _Outcome(
        UploadItem.Status.QUARANTINED,
        POISONED.format(attempts=item.attempts - 1),
        staged=staged,
        original=True,
    )


class TestHookError(Exception):
    """Raised inside de-identification by a test hook (``TA_TEST_FAIL_ON_SHA256``)."""


def _test_hooks(item: UploadItem, stage: str) -> None:
    """Test-only: the worker kills itself (``TA_TEST_KILL_WORKER_ON_SHA256``, as the kernel's
    OOM killer would), the engine fails (``TA_TEST_FAIL_ON_SHA256``, a bug no real file is
    known to trigger any more) or takes longer than a task may (``TA_TEST_SLOW_ON_SHA256``, as
    a huge cine on a slow machine would) while processing the file with this SHA-256. Honoured
    only with ``TA_TEST_HOOKS`` on, which the settings refuse on an HTTPS (production) setup."""
    if not settings.TA_TEST_HOOKS or not item.sha256:
        return
    if stage == "claimed" and item.sha256 == settings.TA_TEST_KILL_WORKER_ON_SHA256:
        os.kill(os.getpid(), signal.SIGKILL)
    if stage == "engine" and item.sha256 == settings.TA_TEST_FAIL_ON_SHA256:
        raise TestHookError
    if stage == "engine" and item.sha256 == settings.TA_TEST_SLOW_ON_SHA256:
        time.sleep(settings.CELERY_TASK_TIME_LIMIT)  # the soft limit interrupts it


def _deidentify(item: UploadItem) -> _Outcome:
    """Read and de-identify the raw file, outside any transaction (it may take minutes); an
    item de-identified while its association was open is filed from that output."""
    received = _received_output(item)
    if received is not None:
        return received
    received = _open_raw(item)
    if received is None:
        return _Outcome(UploadItem.Status.REJECTED, LOST)
    # The engine is given the file, not its bytes: a cine's Pixel Data is read from it a
    # frame at a time (``FileView``), so the file stays open until the result is closed.
    with received:
        return _deidentify_file(item, received)


def _deidentify_file(item: UploadItem, received: io.BufferedIOBase) -> _Outcome:
    try:
        _test_hooks(item, "engine")
        result = deidentify_bytes(received, archive_policy())
        output = result.written()  # the verified file, streamed into storage below
    except RejectedInput as exc:
        return _Outcome(UploadItem.Status.REJECTED, str(exc))
    except SoftTimeLimitExceeded:
        log.error("Upload item %s reached the task's soft time limit", item.pk)
        return _Outcome(
            UploadItem.Status.QUARANTINED,
            TIMED_OUT.format(seconds=settings.CELERY_TASK_SOFT_TIME_LIMIT),
            staged=_stage(received),
            original=True,
            timed_out=True,
        )
    except BaseException as exc:  # a broken file must never stop the upload (nor a codec's panic)
        if not codec_failure(exc):
            raise
        # The exception text may quote header values, so only its type is logged.
        log.error("De-identification failed for upload item %s (%s)", item.pk, type(exc).__name__)
        return _Outcome(
            UploadItem.Status.QUARANTINED,
            "The file could not be de-identified safely and was set aside for a curator. "
            "The quarantined copy is the original as received (not de-identified).",
            staged=_stage(received),
            original=True,
        )
    try:
        staged = _stage(output)
    finally:
        # Its temporary files, and its views of the received file (an unredacted Pixel Data
        # is read from it until now): the staged copy is what is stored.
        result.close()
    if result.status == "anonymized":
        return _Outcome(UploadItem.Status.ANONYMIZED, result=result, staged=staged)
    return _Outcome(
        UploadItem.Status.QUARANTINED, " ".join(result.reasons), result=result, staged=staged
    )


def _settle(
    item_id: int, outcome: _Outcome, worker: str = "", *, upload_id: int | None = None
) -> str | None:
    """Write the outcome in one short transaction, unless another run settled the item first
    (then this run's result is discarded)."""
    with transaction.atomic():
        # The upload's row is locked first: the release of a DICOM association (which ends
        # "receiving") and its abort (which deletes everything) wait for this settle, and this
        # settle sees what they committed, so no output is staged after the release took stock
        # or written after the abort cleaned up.
        if upload_id is None:
            upload_id = (
                UploadItem.objects.filter(pk=item_id).values_list("upload_id", flat=True).first()
            )
        upload = Upload.objects.select_for_update().filter(pk=upload_id).first()
        if upload_id is None or upload is None:
            return None
        item = (
            UploadItem.objects.select_for_update(of=("self",))
            .select_related("upload__case")
            .filter(pk=item_id, upload_id=upload_id, status=UploadItem.Status.PENDING)
            .first()
        )
        if item is None:
            return None
        raw_name = item.raw_file.name
        received_name = item.deidentified_file.name
        result = outcome.result
        if result is not None:
            item.audit = result.audit
        if upload.status == Upload.Status.RECEIVING:
            return _settle_while_receiving(item, outcome, worker)
        if received_name:
            item.deidentified_file = ""
            item.header = {}
            storage = UploadItem._meta.get_field("deidentified_file").storage
            transaction.on_commit(lambda: storage.delete(received_name))
        if outcome.status == UploadItem.Status.ANONYMIZED:
            instance = _file_instance(item, result, outcome.staged)
            item.instance = instance
            duplicate = instance.upload_items.exclude(pk=item.pk).exists()
            item.mark(
                UploadItem.Status.DUPLICATE if duplicate else UploadItem.Status.ANONYMIZED,
                "The same image is already in this case." if duplicate else "",
            )
        else:
            if outcome.status == UploadItem.Status.QUARANTINED:
                _quarantine(item, outcome.staged, original=outcome.original)
            item.mark(outcome.status, outcome.reason)
        item.claimed_at = None
        item.processed_by = (worker or this_process())[:100]
        if raw_name and not _keeps_original(item):
            item.raw_file = ""
            storage = UploadItem._meta.get_field("raw_file").storage
            transaction.on_commit(lambda: storage.delete(raw_name))
        item.save()
        return item.status


def _settle_while_receiving(item: UploadItem, outcome: _Outcome, worker: str) -> str:
    """Settle an item of an association still open, inside ``_settle``'s transaction.

    An anonymized output is not filed into a case yet: it waits in the holding storage and
    the item stays pending, with the header values its rows need, to be filed after the
    release (``file_received``, or ``_received_output`` for an item without them). A rejected
    or quarantined item is settled as usual (no case shows it). The raw file stays in every
    case until the release: if filing then fails, the whole study is kept for a curator
    (``archive.dimse.filing``); if the association is aborted, the abort deletes it all.
    """
    if outcome.status == UploadItem.Status.ANONYMIZED:
        name = received_output_name(item.upload.public_id, item.pk)
        storage = item.deidentified_file.storage
        if storage.exists(name):  # left by a run killed before its transaction committed
            storage.delete(name)
        item.deidentified_file.save(name, outcome.staged, save=False)
        item.pixel_report = outcome.result.pixel_report
        try:
            item.header = filing_header(outcome.result.dataset)
        except AttributeError:  # a UID missing: filed the slow way, which says what is wrong
            item.header = {}
        # This run finished: the filing after the release counts its own runs afresh (a file
        # that killed workers is counted from here on, one that did not is not poisoned).
        item.attempts = 0
    else:
        if outcome.status == UploadItem.Status.QUARANTINED:
            _quarantine(item, outcome.staged, original=outcome.original)
        item.mark(outcome.status, outcome.reason)
        item.processed_by = (worker or this_process())[:100]
    item.claimed_at = None
    item.save()
    return item.status


def process_item(item_id: int, *, worker: str = "") -> str | None:
    """De-identify one pending item. Returns its new status, or None if it was already settled
    or another live run holds it.

    Only the claim and the result are written, each in a short transaction; the work between
    them holds no lock, so the embedded SQLite site keeps answering while a long cine is
    de-identified. Safe under redelivery: a killed run's claim expires, and the finishing
    transaction settles the item only if no other run did.
    """
    item = _claim(item_id)
    if item is None:
        return None
    outcome = None
    try:
        if item.attempts > settings.TA_ITEM_MAX_ATTEMPTS:
            # Every earlier run of this item died before settling it (the claim counted each).
            outcome = _poisoned(item)
            return _settle(item_id, outcome, worker)
        _test_hooks(item, "claimed")
        outcome = _deidentify(item)
        status = _settle(item_id, outcome, worker, upload_id=item.upload_id)
        if outcome.timed_out:
            raise ChunkTimedOut
        return status
    except ChunkTimedOut:
        raise
    except BaseException:
        _release(item_id)
        raise
    finally:
        if outcome is not None and outcome.staged is not None:
            outcome.staged.close()  # moved into storage, or discarded


def _keeps_original(item: UploadItem) -> bool:
    """Whether the raw original stays in the holding storage for the teacher's review.

    Only a browser upload's anonymized files (or a re-upload of one whose original is gone): the
    teacher may draw boxes over text the detector missed, and redaction is re-run from the
    original (``archive.services.review``) until the case is submitted, the teacher finishes the
    review, or ``TA_RAW_RETENTION_HOURS`` pass.
    """
    if item.upload.source not in KEEP_ORIGINAL_SOURCES:
        return False
    if item.status == UploadItem.Status.ANONYMIZED:
        return True
    # The same file uploaded again after its original was discarded reopens the review.
    return (
        item.status == UploadItem.Status.DUPLICATE
        and item.instance_id is not None
        and not UploadItem.objects.filter(instance_id=item.instance_id)
        .exclude(pk=item.pk)
        .exclude(raw_file="")
        .exclude(status=UploadItem.Status.PENDING)
        .exists()
    )


class ItemsInProgress(Exception):
    """Items are claimed by another run; try again after ``retry_after`` s."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"items claimed by another run; retry in {retry_after:.0f} s")
        self.retry_after = retry_after


def _busy(items) -> None:
    """Raise ``ItemsInProgress`` if any of these items is still pending (held by another run,
    which may be a killed worker's: its claim expires after ``TA_ITEM_CLAIM_SECONDS``)."""
    claimed = list(
        items.filter(status=UploadItem.Status.PENDING).values_list("claimed_at", flat=True)
    )
    if not claimed:
        return
    if None in claimed:  # released by a run that failed: take it again soon
        raise ItemsInProgress(1)
    expires = min(claimed) + dt.timedelta(seconds=settings.TA_ITEM_CLAIM_SECONDS)
    raise ItemsInProgress(max((expires - timezone.now()).total_seconds(), 0) + 1)


def _pending(upload_id: int) -> list[tuple[int, int]]:
    return list(
        UploadItem.objects.filter(upload_id=upload_id, status=UploadItem.Status.PENDING)
        .order_by("pk")
        .values_list("pk", "size")
    )


def start_upload(upload_id: int) -> int:
    """Mark the upload as processing and queue its pending items in chunks, one task each
    (or the finalizer when nothing is pending). Returns how many chunk tasks were queued.

    Harmless to repeat (a redelivered fan-out, a worker's restart): chunks queued twice find
    their items claimed or settled.
    """
    if not Upload.objects.filter(pk=upload_id).exists():
        return 0
    Upload.objects.filter(pk=upload_id, status=Upload.Status.PENDING).update(
        status=Upload.Status.PROCESSING
    )
    return scheduling.fan_out(upload_id, _pending(upload_id))


def process_items(upload_id: int, item_ids: list[int], *, worker: str = "") -> bool:
    """De-identify one chunk of an upload's items, then finish the upload if this chunk settled
    its last item. Returns whether this call ran the finalizer.

    Raises ``ItemsInProgress`` when items of the chunk are held by another run.
    """
    filed = file_received(upload_id, item_ids, worker=worker)
    for position, item_id in enumerate(item_ids):
        if item_id in filed:
            continue
        try:
            process_item(item_id, worker=worker)
        except ChunkTimedOut:
            # This task's time is up: its later items go to a task of their own.
            rest = UploadItem.objects.filter(
                pk__in=item_ids[position + 1 :], status=UploadItem.Status.PENDING
            ).order_by("pk")
            scheduling.fan_out(upload_id, rest.values_list("pk", "size"))
            return False
    if Upload.objects.filter(pk=upload_id, status=Upload.Status.RECEIVING).exists():
        return False  # the release queues what is left, and the finalizer follows it
    _busy(UploadItem.objects.filter(pk__in=item_ids, upload_id=upload_id))
    return finish_upload(upload_id, worker=worker)


def file_received(upload_id: int, item_ids: list[int], *, worker: str = "") -> set[int]:
    """File the items of a released association that were de-identified while it was open:
    the whole chunk in one transaction, without reading their outputs back. Returns the ids
    settled here; the others (none waiting, no header kept, output lost) are left pending for
    ``process_item``.

    Safe under redelivery and concurrent runs, as ``_settle``: the upload's row is locked
    first (so the release and every other settle of the upload wait), then only items still
    pending are filed, and an instance already in the case is found instead of stored again.
    """
    waiting = (
        UploadItem.objects.filter(
            pk__in=item_ids, upload_id=upload_id, status=UploadItem.Status.PENDING
        )
        .exclude(deidentified_file="")
        .exclude(upload__status=Upload.Status.RECEIVING)
    )
    if not waiting.exists():
        return set()
    try:
        return _file_received(upload_id, item_ids, worker)
    except IntegrityError:
        # Another upload filed one of these instances into the same case meanwhile; it is
        # committed now, so this run finds it and files the item as a duplicate.
        return _file_received(upload_id, item_ids, worker)


def _file_received(upload_id: int, item_ids: list[int], worker: str) -> set[int]:
    source = UploadItem._meta.get_field("deidentified_file").storage
    target = Instance._meta.get_field("file").storage
    with transaction.atomic():
        upload = (
            Upload.objects.select_for_update()
            .filter(pk=upload_id)
            .exclude(status=Upload.Status.RECEIVING)
            .first()
        )
        if upload is None or upload.case_id is None:
            return set()
        items = [
            item
            for item in UploadItem.objects.select_for_update()
            .filter(pk__in=item_ids, upload_id=upload_id, status=UploadItem.Status.PENDING)
            .exclude(deidentified_file="")
            .order_by("pk")
            if item.header
        ]
        if not items:
            return set()
        for item in items:
            item.upload = upload  # for ``_keeps_original``, without a query per item
        case_id = upload.case_id
        studies = _studies(case_id, [item.header for item in items])
        series = _series(studies, [item.header for item in items])
        existing = {
            (instance.series_id, instance.sop_uid): instance
            for instance in Instance.objects.filter(
                series__in=series.values(), sop_uid__in={item.header["sop_uid"] for item in items}
            )
        }
        new: dict[tuple[int, str], Instance] = {}
        filed: list[tuple[UploadItem, tuple[int, str]]] = []
        for item in items:
            header = item.header
            one = series[(header["study_uid"], header["series_uid"])]
            key = (one.pk, header["sop_uid"])
            if key not in existing and key not in new:
                name = instance_file_name(case_id, header["sop_uid"])
                try:
                    transfer(source, item.deidentified_file.name, target, name)
                except FileNotFoundError:
                    continue  # output lost: ``process_item`` de-identifies the raw file again
                instance = _new_instance(
                    one, header, audit=item.audit, pixel_report=item.pixel_report
                )
                instance.file.name = name
                new[key] = instance
            filed.append((item, key))
        _create_instances(list(new.values()))
        instances = {**existing, **new}
        # An instance already in the case is a duplicate if another item filed it (an earlier
        # upload, or an earlier item of this chunk).
        taken = set(
            UploadItem.objects.filter(instance__in=[i.pk for i in existing.values()]).values_list(
                "instance_id", flat=True
            )
        )
        done_with: list[str] = []
        worker = (worker or this_process())[:100]
        for item, key in filed:
            instance = instances[key]
            duplicate = instance.pk in taken
            taken.add(instance.pk)
            item.instance = instance
            item.mark(
                UploadItem.Status.DUPLICATE if duplicate else UploadItem.Status.ANONYMIZED,
                "The same image is already in this case." if duplicate else "",
            )
            item.claimed_at = None
            item.processed_by = worker
            item.header = {}
            done_with.append(item.deidentified_file.name)
            item.deidentified_file = ""
            if item.raw_file and not _keeps_original(item):
                done_with.append(item.raw_file.name)
                item.raw_file = ""
        UploadItem.objects.bulk_update([item for item, _key in filed], _FILED_FIELDS)
        holding = UploadItem._meta.get_field("raw_file").storage
        transaction.on_commit(lambda: _delete_all(holding, done_with))
    return {item.pk for item, _key in filed}


#: What filing changes on an item (``_file_received``).
_FILED_FIELDS = [
    "instance",
    "status",
    "reason",
    "processed_at",
    "claimed_at",
    "processed_by",
    "header",
    "deidentified_file",
    "raw_file",
]


def _studies(case_id: int, headers: list[dict]) -> dict[str, Study]:
    """The case's studies of these headers by Study Instance UID, created where missing."""
    wanted = {h["study_uid"]: h for h in headers}
    found = {s.study_uid: s for s in Study.objects.filter(case_id=case_id, study_uid__in=wanted)}
    for uid, header in wanted.items():
        if uid not in found:
            found[uid], _ = Study.objects.get_or_create(
                case_id=case_id, study_uid=uid, defaults=_study_defaults(header)
            )
    return found


def _series(studies: dict[str, Study], headers: list[dict]) -> dict[tuple[str, str], Series]:
    """The series of these headers by (study, series) UID, created where missing."""
    wanted = {(h["study_uid"], h["series_uid"]): h for h in headers}
    found = {
        (s.study.study_uid, s.series_uid): s
        for s in Series.objects.select_related("study").filter(
            study__in=studies.values(), series_uid__in={uid for _, uid in wanted}
        )
    }
    for (study_uid, uid), header in wanted.items():
        if (study_uid, uid) not in found:
            found[(study_uid, uid)], _ = Series.objects.get_or_create(
                study=studies[study_uid], series_uid=uid, defaults=_series_defaults(header)
            )
    return found


def _create_instances(instances: list[Instance]) -> None:
    if not instances:
        return
    if connection.features.can_return_rows_from_bulk_insert:
        Instance.objects.bulk_create(instances)
    else:  # a database that cannot say which ids it gave: one insert each
        for instance in instances:
            instance.save()


def _delete_all(storage, names: list[str]) -> None:
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            pass  # the holding area's sweep removes what is left


def finish_upload(upload_id: int, *, worker: str = "") -> bool:
    """The finalizer: once every item is settled, mark the upload done and run what follows an
    upload (``_after_upload``), exactly once. Returns whether this call ran it.

    Whoever settles the last item calls this (two chunks finishing together both may): the
    guard is the database's, a conditional update of the upload's status in the transaction
    that also schedules the follow-up work, so only one caller's update matches.
    """
    if UploadItem.objects.filter(upload_id=upload_id, status=UploadItem.Status.PENDING).exists():
        return False
    worker = (worker or this_process())[:100]
    with transaction.atomic():
        finished = Upload.objects.filter(
            pk=upload_id, status__in=(Upload.Status.PENDING, Upload.Status.PROCESSING)
        ).update(status=Upload.Status.DONE, finished_at=timezone.now(), finished_by=worker)
        if not finished:
            return False
        _after_upload(Upload.objects.get(pk=upload_id))
    log.info("Upload %s finished by %s", upload_id, worker)
    return True


def process_upload(upload_id: int) -> Upload | None:
    """Process every pending item of an upload in this process, then finish it; harmless to
    call again.

    Raises ``ItemsInProgress`` when items are still held by another run (a worker that may
    have been killed): call again once their claims can expire.
    """
    upload = Upload.objects.filter(pk=upload_id).first()
    if upload is None:
        return None
    Upload.objects.filter(pk=upload.pk, status=Upload.Status.PENDING).update(
        status=Upload.Status.PROCESSING
    )
    for item_id, _size in _pending(upload_id):
        process_item(item_id)
    _busy(upload.items.all())
    finish_upload(upload_id)
    upload.refresh_from_db()
    return upload


def _after_upload(upload: Upload) -> None:
    """What follows an upload, inside the finalizer's transaction (tasks go on commit): age
    group and sex from the headers, re-indexing a published case, the teacher's boxes on new
    images of a boxed series, and the Key Object Selection's text."""
    from archive.services.cases import refresh_case_from_images
    from archive.services.review import schedule_new_images

    refresh_case_from_images(upload.case_id)
    schedule_new_images(upload.case_id)
    if KeyObjectImport.objects.filter(upload=upload, applied_at__isnull=True).exists():
        scheduling.schedule_key_objects(upload.pk)


def unfinished_upload_ids() -> list[int]:
    """Uploads to queue again when a worker starts (an association still receiving is queued
    by its listener, on release)."""
    return list(
        Upload.objects.exclude(
            status__in=(Upload.Status.DONE, Upload.Status.RECEIVING)
        ).values_list("pk", flat=True)
    )
