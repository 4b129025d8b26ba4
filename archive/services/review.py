"""Teacher review of the pixel redaction: boxes drawn on a series, applied from the kept original.

A browser upload's raw originals stay in the holding storage (never served) after processing,
so that a teacher who sees text the detector missed can draw a box over it. ``redact_series_again``
then de-identifies each instance of the series again *from its original*, with the series' boxes
applied to every frame, and swaps the stored file: same pseudonymous UIDs (references still
resolve), a new file name (rendered-frame caches and ETags follow the name). Redacting the already
anonymized file instead would work too, but re-running from the original keeps one code path
(and one verifier pass) for everything a student will see.

Originals are deleted when the teacher submits the case or clicks "Finish review"
(``discard_originals``), and by ``purge_originals`` after ``TA_RAW_RETENTION_HOURS``. From then on
the series can no longer be changed; the editor says so.

Idempotent: each instance remembers (in ``pixel_report``) a digest of the boxes it was redacted
with; an instance already redacted with the series' current boxes is skipped, so a repeated or
retried task does nothing twice.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import math
from dataclasses import dataclass, replace

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from archive import scheduling
from archive.deid import RejectedInput, deidentify_bytes
from archive.models import Case, Instance, RedactionBox, Series, Upload, UploadItem
from archive.services.policy import archive_policy
from archive.storage import instance_file_name

log = logging.getLogger(__name__)

#: Keys this module adds to ``Instance.pixel_report`` next to the cleaner's own.
DIGEST_KEY = "review_digest"
REVISION_KEY = "review_revision"
FAILED_KEY = "review_failed"

#: Items whose kept original is the source of their instance (a duplicate is a re-upload).
USABLE = (UploadItem.Status.ANONYMIZED, UploadItem.Status.DUPLICATE)

#: The smallest box a teacher may draw, as a fraction of the image side (a click, not a drag).
MIN_BOX_SIDE = 0.002


class ReviewClosed(Exception):
    """The originals of the series are gone: boxes can no longer be applied."""


def _raw_storage():
    return UploadItem._meta.get_field("raw_file").storage


# --- Selectors ---------------------------------------------------------------------------------


def kept_originals(*, case: Case | None = None, series: Series | None = None) -> QuerySet:
    """Upload items whose raw original is still in the holding storage after processing (an
    anonymized file, or a re-upload of one whose original was gone; see ``processing``)."""
    items = UploadItem.objects.exclude(raw_file="").filter(
        status__in=USABLE, instance__isnull=False
    )
    if case is not None:
        items = items.filter(upload__case=case)
    if series is not None:
        items = items.filter(instance__series=series)
    return items


def boxes_digest(boxes) -> str:
    """A digest of a set of boxes (normalised coordinates); the empty set has one too."""
    coords = sorted((round(b.x0, 6), round(b.y0, 6), round(b.x1, 6), round(b.y1, 6)) for b in boxes)
    return hashlib.sha256(json.dumps(coords).encode()).hexdigest()[:16]


EMPTY_DIGEST = boxes_digest([])


def instance_digest(instance: Instance) -> str:
    return (instance.pixel_report or {}).get(DIGEST_KEY) or EMPTY_DIGEST


@dataclass
class SeriesReview:
    """Where the redaction of one series stands, for the editor and its progress poll."""

    series_id: int
    boxes: list[RedactionBox]
    images: int  # instances with pixels
    editable: int  # of which the original is still kept
    done: int  # of the editable ones, redacted with the current boxes
    failed: int  # of the editable ones, whose redaction with the current boxes failed

    @property
    def open(self) -> bool:
        return self.editable > 0

    @property
    def pending(self) -> int:
        return self.editable - self.done - self.failed

    @property
    def state(self) -> str:
        if not self.open:
            return "closed"
        if self.pending:
            return "running"
        return "failed" if self.failed else "done"


def series_review(series: Series) -> SeriesReview:
    boxes = list(series.redaction_boxes.all())
    digest = boxes_digest(boxes)
    instances = [i for i in series.instances.all() if i.has_pixels]
    kept = set(kept_originals(series=series).values_list("instance_id", flat=True))
    editable = [i for i in instances if i.pk in kept]
    done = sum(1 for i in editable if instance_digest(i) == digest)
    failed = sum(
        1
        for i in editable
        if instance_digest(i) != digest and (i.pixel_report or {}).get(FAILED_KEY) == digest
    )
    return SeriesReview(series.pk, boxes, len(instances), len(editable), done, failed)


def unfinished_series_ids() -> list[int]:
    """Series whose kept originals are not yet redacted with their current boxes (a worker
    died, or the embedded broker lost the task)."""
    candidates = set(kept_originals().values_list("instance__series_id", flat=True))
    out = []
    for series in Series.objects.filter(pk__in=candidates).prefetch_related("instances"):
        if series_review(series).pending:
            out.append(series.pk)
    return out


# --- Services ----------------------------------------------------------------------------------


def schedule_new_images(case_id: int) -> None:
    """After an upload: images added to a series the teacher already drew boxes on get them
    too (from their originals, kept like the others)."""
    series_ids = (
        RedactionBox.objects.filter(series__study__case_id=case_id)
        .values_list("series_id", flat=True)
        .distinct()
    )
    for series in Series.objects.filter(pk__in=list(series_ids)).prefetch_related("instances"):
        if series_review(series).pending:
            _schedule(series.pk)


def _schedule(series_id: int) -> None:
    scheduling.schedule_redaction(series_id)


@transaction.atomic
def add_box(*, series: Series, user, x0: float, y0: float, x1: float, y1: float) -> RedactionBox:
    """Record a teacher's box (normalised coordinates) and queue the series' redaction.

    Raises ``ValueError`` for a box outside the image or too small, ``ReviewClosed`` when the
    originals are gone. Permission is the caller's job (``privacy.can_edit_case``).
    """
    if not all(math.isfinite(float(v)) for v in (x0, y0, x1, y1)):
        raise ValueError("Draw a larger box: drag across the area to blank.")
    x0, x1 = sorted((min(max(float(x0), 0.0), 1.0), min(max(float(x1), 0.0), 1.0)))
    y0, y1 = sorted((min(max(float(y0), 0.0), 1.0), min(max(float(y1), 0.0), 1.0)))
    if x1 - x0 < MIN_BOX_SIDE or y1 - y0 < MIN_BOX_SIDE:
        raise ValueError("Draw a larger box: drag across the area to blank.")
    if not kept_originals(series=series).exists():
        raise ReviewClosed
    box = RedactionBox.objects.create(series=series, x0=x0, y0=y0, x1=x1, y1=y1, created_by=user)
    _schedule(series.pk)
    return box


@transaction.atomic
def remove_box(*, box: RedactionBox) -> None:
    """Delete a teacher's box and redact the series again without it."""
    if not kept_originals(series=box.series).exists():
        raise ReviewClosed
    series_id = box.series_id
    box.delete()
    _schedule(series_id)


def redact_series_again(series_id: int) -> dict[str, int]:
    """Re-run de-identification from the kept originals of a series with its teacher boxes.

    Each instance is handled in its own transaction; one whose original is gone is left as it
    is. Returns counts ``{"redacted", "skipped", "failed", "closed"}``. Harmless to repeat.
    """
    counts = {"redacted": 0, "skipped": 0, "failed": 0, "closed": 0}
    series = Series.objects.filter(pk=series_id).first()
    if series is None:
        return counts
    for instance_id in series.instances.filter(has_pixels=True).values_list("pk", flat=True):
        counts[_redact_instance(instance_id)] += 1
    return counts


def _policy_with_boxes(boxes_px: list[tuple[int, int, int, int]]):
    policy = archive_policy()
    if policy.pixel_cleaner is None:
        raise RuntimeError("The pixel cleaner is not installed in this build.")
    return replace(
        policy, pixel_cleaner=functools.partial(policy.pixel_cleaner, extra_boxes=boxes_px)
    )


def _redact_instance(instance_id: int) -> str:
    with transaction.atomic():
        instance = (
            Instance.objects.select_for_update()
            .select_related("series__study")
            .filter(pk=instance_id)
            .first()
        )
        if instance is None:
            return "skipped"
        item = kept_originals().select_for_update().filter(instance=instance).order_by("pk").first()
        if item is None:
            return "closed"
        boxes = list(RedactionBox.objects.filter(series_id=instance.series_id))
        digest = boxes_digest(boxes)
        report = dict(instance.pixel_report or {})
        if instance_digest(instance) == digest or report.get(FAILED_KEY) == digest:
            return "skipped"
        try:
            with item.raw_file.open("rb") as fh:
                data = fh.read()
        except (FileNotFoundError, ValueError):
            return "closed"
        boxes_px = [b.pixels(instance.columns, instance.rows) for b in boxes]
        try:
            result = deidentify_bytes(data, _policy_with_boxes(boxes_px))
        except RejectedInput:
            result = None
        except Exception as exc:  # noqa: BLE001 - never stop the series for one file
            log.error("Re-redaction failed for instance %s (%s)", instance.pk, type(exc).__name__)
            result = None
        if (
            result is None
            or result.status != "anonymized"
            or str(result.dataset.SOPInstanceUID) != instance.sop_uid
        ):
            # The stored file stays as it was (it passed the verifier); the editor says so.
            report[FAILED_KEY] = digest
            Instance.objects.filter(pk=instance.pk).update(pixel_report=report)
            return "failed"
        _replace_file(instance, result, digest)
        return "redacted"


def _replace_file(instance: Instance, result, digest: str) -> None:
    """Store the new file under a new name and point the instance at it; the old file is
    deleted once the transaction commits (until then it is still what the row names)."""
    revision = int((instance.pixel_report or {}).get(REVISION_KEY) or 0) + 1
    name = instance_file_name(instance.series.study.case_id, instance.sop_uid, revision)
    storage = instance.file.storage
    old_name = instance.file.name
    if name != old_name and storage.exists(name):  # left by a worker killed before commit
        storage.delete(name)
    saved = storage.save(name, ContentFile(result.to_bytes()))
    frames, pk = instance.frames, instance.pk

    from archive.rendering import forget_rendered

    def forget_old() -> None:
        if old_name != saved:
            storage.delete(old_name)
            forget_rendered(pk, old_name, frames)

    transaction.on_commit(forget_old)
    report = dict(result.pixel_report or {})
    report[DIGEST_KEY] = digest
    report[REVISION_KEY] = revision
    instance.file.name = saved
    instance.pixel_report = report
    instance.audit = result.audit
    # Re-encoding (a lossy source stored losslessly) may change how the pixels are described.
    instance.photometric = str(result.dataset.get("PhotometricInterpretation", ""))[:16]
    instance.save(update_fields=["file", "pixel_report", "audit", "photometric"])


@transaction.atomic
def discard_originals(*, case: Case) -> int:
    """Delete the kept raw originals of a case (on commit): its review is finished.

    Returns how many originals were discarded. Harmless to call again.
    """
    return _discard(kept_originals(case=case))


def _discard(items: QuerySet) -> int:
    storage = _raw_storage()
    names = []
    for item in items.select_for_update(of=("self",)):
        names.append(item.raw_file.name)
        item.raw_file = ""
        item.save(update_fields=["raw_file"])

    def delete() -> None:
        for name in names:
            try:
                storage.delete(name)
            except OSError:
                log.warning("Could not delete a kept original (upload item file); purge will retry")

    if names:
        transaction.on_commit(delete)
    return len(names)


def retention_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(hours=settings.TA_RAW_RETENTION_HOURS)


@transaction.atomic
def purge_expired_originals(*, now: dt.datetime | None = None) -> int:
    """Delete originals kept longer than ``TA_RAW_RETENTION_HOURS`` after processing."""
    return _discard(kept_originals().filter(processed_at__lt=retention_cutoff(now)))


def review_closes_at(case: Case) -> dt.datetime | None:
    """When the first of the case's kept originals expires (None: none is kept)."""
    first = (
        kept_originals(case=case)
        .order_by("processed_at")
        .values_list("processed_at", flat=True)
        .first()
    )
    if first is None:
        return None
    return first + dt.timedelta(hours=settings.TA_RAW_RETENTION_HOURS)


__all__ = [
    "ReviewClosed",
    "SeriesReview",
    "add_box",
    "boxes_digest",
    "discard_originals",
    "kept_originals",
    "purge_expired_originals",
    "redact_series_again",
    "remove_box",
    "series_review",
    "sweep_orphaned_originals",
    "unfinished_series_ids",
]


def sweep_orphaned_originals(*, now: dt.datetime | None = None) -> int:
    """Delete holding folders of browser uploads that no longer exist (their case was deleted),
    once older than the retention limit (a folder younger than that may belong to an upload
    whose transaction has not committed yet). Returns the number of files deleted."""
    import uuid

    storage = _raw_storage()
    cutoff = retention_cutoff(now)
    try:
        folders, _files = storage.listdir("")
    except (FileNotFoundError, NotImplementedError):
        return 0
    removed = 0
    for folder in folders:
        try:
            public_id = uuid.UUID(folder)
        except ValueError:
            continue  # e.g. dimse/, swept by the DICOM listener
        if Upload.objects.filter(public_id=public_id).exists():
            continue
        _subfolders, files = storage.listdir(folder)
        for name in files:
            path = f"{folder}/{name}"
            try:
                if storage.get_modified_time(path) >= cutoff:
                    continue
            except NotImplementedError:
                continue
            storage.delete(path)
            removed += 1
    return removed
