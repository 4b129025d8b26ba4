"""Teacher review of the pixel redaction: automatic boxes removed, boxes added, applied from the
kept original.

A browser upload's raw originals stay in the holding storage (never served) after processing, so
that a teacher who checks the anonymized images at full size can correct the redaction: blank a
box the detector missed (on one frame, on every frame of an image or of the whole series) and
take back an automatic box that is not text (the area is then restored from the original).
``redact_series_again`` de-identifies each affected instance of the series again *from its
original* and swaps the stored file: same pseudonymous UIDs (references still resolve), a new
file name (rendered-frame caches and ETags follow the name).  The header is de-identified again
as at upload; the pixels are *replayed*: the automatic boxes found at upload (kept in
``pixel_report["automatic"]``) are filled as they were, minus the ones a person took back, plus
the drawn ones, without running the detector again (a 2140x1760 radiograph in well under the
2 s the review may take).  Every change a person made is written into the instance's audit with
who and when.

Originals are deleted when the teacher submits the case or clicks "Finish review"
(``discard_originals``), and by ``purge_originals`` after ``TA_RAW_RETENTION_HOURS``. From then on
the series can no longer be changed; the editor says so.

Idempotent: each instance remembers (in ``pixel_report``) a digest of the boxes it was redacted
with; an instance already redacted with the boxes that apply to it now is skipped, so a
repeated or retried task does nothing twice.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from archive import scheduling
from archive.deid import RejectedInput, deidentify_bytes
from archive.deid.engine import METHOD_ACTION
from archive.models import Case, Instance, RedactionBox, Series, Upload, UploadItem
from archive.selectors import case_series
from archive.services.policy import archive_policy
from archive.storage import instance_file_name, open_local, release_files

log = logging.getLogger(__name__)

#: The reason the pixel cleaner records for a drawn box (``archive.deid.pixels.DRAWN``; not
#: imported: the admin imports this module, and a platform without OpenCV must reach the app's
#: start-up check, which says why the archive will not start).
DRAWN_REASON = "drawn by teacher/curator"

#: Keys this module adds to ``Instance.pixel_report`` next to the cleaner's own.
DIGEST_KEY = "review_digest"
REVISION_KEY = "review_revision"
FAILED_KEY = "review_failed"
#: The boxes the detector found at upload (``[frame, x0, y0, x1, y1, reason]``), kept through
#: every review so that a box taken back can be given back.
AUTOMATIC_KEY = "automatic"

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
    """A digest of a set of boxes (what, where, for which image and frame); the empty set has
    one too."""
    coords = sorted(
        (
            str(getattr(b, "action", RedactionBox.Action.BLANK)),
            getattr(b, "instance_id", None) or 0,
            -1 if getattr(b, "frame", None) is None else b.frame,
            round(b.x0, 6),
            round(b.y0, 6),
            round(b.x1, 6),
            round(b.y1, 6),
        )
        for b in boxes
    )
    # A set of plain blank boxes for every frame keeps the digest it had before boxes could be
    # scoped or kept, so instances redacted then are not redone.
    if all(c[0] == RedactionBox.Action.BLANK and c[1] == 0 and c[2] == -1 for c in coords):
        coords = [c[3:] for c in coords]
    return hashlib.sha256(json.dumps(coords).encode()).hexdigest()[:16]


EMPTY_DIGEST = boxes_digest([])


def instance_digest(instance: Instance) -> str:
    return (instance.pixel_report or {}).get(DIGEST_KEY) or EMPTY_DIGEST


def boxes_for(instance: Instance, boxes) -> list[RedactionBox]:
    """The boxes of a series that apply to one of its images."""
    return [b for b in boxes if b.applies_to(instance.pk)]


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
    instances = [i for i in series.instances.all() if i.has_pixels]
    kept = set(kept_originals(series=series).values_list("instance_id", flat=True))
    editable = [i for i in instances if i.pk in kept]
    done = failed = 0
    for i in editable:
        digest = boxes_digest(boxes_for(i, boxes))
        if instance_digest(i) == digest:
            done += 1
        elif (i.pixel_report or {}).get(FAILED_KEY) == digest:
            failed += 1
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


# --- Selectors: series previews and the full-size review --------------------------------------


@dataclass
class RedactedBox:
    x: float
    y: float
    width: float
    height: float
    reason: str
    pk: int | None = None  # a teacher's RedactionBox, which the editor can remove


@dataclass
class SeriesPreview:
    series: Series
    images: int
    thumbnail: Instance | None
    boxes: list[RedactedBox] = field(default_factory=list)
    redacted_areas: int = 0
    redacted_images: int = 0
    # In the editor only: the teacher's boxes and whether they can still be applied.
    review: SeriesReview | None = None
    teacher_boxes: list[RedactedBox] = field(default_factory=list)

    @property
    def revision(self) -> int:
        """Changes whenever the thumbnail's file is replaced: busts the browser's image cache."""
        report = self.thumbnail.pixel_report if self.thumbnail else None
        return int((report or {}).get(REVISION_KEY) or 0)


def redacted_boxes(instance: Instance, frame: int | None = None) -> list[RedactedBox]:
    """The burned-in-text boxes the pixel cleaner blanked (``pixel_report["boxes"]``, each
    ``[frame, x0, y0, x1, y1, reason]`` in pixel coordinates), optionally of one frame only."""
    out = []
    for box in (instance.pixel_report or {}).get("boxes") or []:
        try:
            f, x0, y0, x1, y1 = (float(v) for v in box[:5])
        except (TypeError, ValueError):
            continue
        if frame is not None and int(f) != frame:
            continue
        reason = str(box[5]) if len(box) > 5 and box[5] else _("burned-in text")
        out.append(RedactedBox(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0), reason))
    return out


@dataclass
class InstanceAudit:
    """What de-identification did to one image: the header actions (sorted, and counted by
    action for the summary line), the profile and options applied (CID 7050, listed apart),
    and the areas of pixels blanked because they held text."""

    instance: Instance
    entries: list[dict]
    summary: list[tuple[str, int]]
    methods: list[dict]
    boxes: list[RedactedBox]


@dataclass
class SeriesAudit:
    series: Series
    images: list[InstanceAudit]
    #: The series' place in the viewer's series list; None when it has no pixels to show.
    viewer_index: int | None = None


def instance_audit(instance: Instance) -> InstanceAudit:
    audit = instance.audit or []
    methods = [e for e in audit if e.get("action") == METHOD_ACTION]
    entries = sorted(
        (e for e in audit if e.get("action") != METHOD_ACTION),
        key=lambda e: (str(e.get("action", "")), str(e.get("tag", ""))),
    )
    by_action: dict[str, int] = {}
    for entry in entries:
        action = str(entry.get("action", "?"))
        by_action[action] = by_action.get(action, 0) + int(entry.get("count", 1) or 1)
    return InstanceAudit(instance, entries, sorted(by_action.items()), methods,
                         redacted_boxes(instance))  # fmt: skip


def deid_audit(series: Iterable[Series], *, limit: int = 500) -> list[SeriesAudit]:
    """The de-identification audit of a case, series by series in viewing order and image by
    image in the viewer's order, so that it can stand beside the viewer showing the same
    series. ``series`` as :func:`case_series` gives them (instances prefetched); at most
    ``limit`` images in all (a page of 500 audit tables is already long)."""
    out, left = [], limit
    for s in series:
        instances = sorted(
            s.instances.all(),
            key=lambda i: (i.instance_number is None, i.instance_number or 0, i.pk),
        )[: max(left, 0)]
        left -= len(instances)
        out.append(SeriesAudit(s, [instance_audit(i) for i in instances]))
    return out


def series_previews(
    case: Case, *, review: bool = False, series: Iterable[Series] | None = None
) -> list[SeriesPreview]:
    """One thumbnail per series, preferring an image with redacted areas so the teacher sees
    what was blanked before submitting. ``review`` adds the teacher's boxes (editor);
    ``series``: the case's series as :func:`case_series` gave them, when already read."""
    chosen = case_series(case=case) if series is None else series
    return [series_preview(s, review=review) for s in chosen]


def series_preview(series: Series, *, review: bool = False) -> SeriesPreview:
    instances = [i for i in series.instances.all() if i.has_pixels]
    with_boxes = [(i, redacted_boxes(i)) for i in instances]
    redacted = [(i, b) for i, b in with_boxes if b]
    thumbnail = next((i for i, b in redacted if redacted_boxes(i, 0)), None)
    thumbnail = thumbnail or (instances[0] if instances else None)
    preview = SeriesPreview(
        series=series,
        images=len(series.instances.all()),
        thumbnail=thumbnail,
        boxes=redacted_boxes(thumbnail, 0) if thumbnail else [],
        redacted_areas=sum(len(b) for _, b in redacted),
        redacted_images=len(redacted),
    )
    if review and thumbnail is not None:
        preview.review = series_review(series)
        # The thumbnail's panel lists the boxes blanked on every image; boxes kept or scoped
        # to one image or frame are shown (and undone) in the full-size review.
        preview.teacher_boxes = [
            _in_pixels(box, thumbnail, _("drawn by you"))
            for box in preview.review.boxes
            if box.action == RedactionBox.Action.BLANK and box.instance_id is None
        ]
    return preview


def _in_pixels(box: RedactionBox, instance: Instance, reason: str) -> RedactedBox:
    x0, y0, x1, y1 = box.pixels(instance.columns, instance.rows)
    return RedactedBox(x0, y0, x1 - x0, y1 - y0, reason, pk=box.pk)


def review_payload(series: Series) -> dict:
    """Everything the full-size review shows of a series, as JSON-ready data: each image with
    its frames and revision, the automatic boxes of each frame (with their reason, and whether
    a person took them back), and the people's boxes (what, where, who, when)."""
    from django.urls import reverse

    review = series_review(series)
    keeps = [b for b in review.boxes if b.action == RedactionBox.Action.KEEP]
    images = []
    for inst in series.instances.filter(has_pixels=True).order_by("instance_number", "pk"):
        report = inst.pixel_report or {}
        kept = [_frame_box(b, inst) for b in keeps if b.applies_to(inst.pk)]
        automatic = []
        for record in automatic_boxes(inst):
            try:
                frame, x0, y0, x1, y1 = (int(v) for v in record[:5])
            except (TypeError, ValueError):
                continue
            automatic.append(
                {
                    "frame": frame,
                    "box": [x0, y0, x1, y1],
                    "reason": str(record[5]) if len(record) > 5 else "",
                    "removed": any(_mostly_inside(record, area) for area in kept),
                }
            )
        frame_url = reverse("instance-frame", args=[inst.pk, 0])
        images.append(
            {
                "id": inst.pk,
                "number": inst.instance_number,
                "frames": max(int(inst.frames or 1), 1),
                "columns": inst.columns,
                "rows": inst.rows,
                "revision": int(report.get(REVISION_KEY) or 0),
                "frame_url": frame_url[: -len("0.png")],
                "automatic": automatic,
            }
        )
    boxes = [
        {
            "id": b.pk,
            "action": b.action,
            "instance": b.instance_id,
            "frame": b.frame,
            "box": [b.x0, b.y0, b.x1, b.y1],
            "by": b.created_by.get_username() if b.created_by else "",
            "at": b.created_at.isoformat(),
        }
        for b in review.boxes
    ]
    return {
        "series": series.pk,
        "state": review.state,
        "open": review.open,
        "editable": review.editable,
        "done": review.done,
        "failed": review.failed,
        "images": images,
        "boxes": boxes,
    }


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
def add_box(
    *,
    series: Series,
    user,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    action: str = RedactionBox.Action.BLANK,
    instance: Instance | None = None,
    frame: int | None = None,
) -> RedactionBox:
    """Record a teacher's box (normalised coordinates) and queue the series' redaction.

    ``action`` BLANK blanks the box, KEEP takes back the automatic boxes lying in it (the area
    is restored from the original).  ``instance`` limits the box to one image of the series,
    ``frame`` to one frame of it.  Raises ``ValueError`` for a box outside the image or too
    small (or a frame of another image), ``ReviewClosed`` when the originals are gone.
    Permission is the caller's job (``privacy.can_edit_case``).
    """
    if action not in RedactionBox.Action.values:
        raise ValueError("Choose whether to blank the box or to keep what is in it.")
    if instance is not None and instance.series_id != series.pk:
        raise ValueError("The image is not part of this series.")
    if frame is not None and (instance is None or not 0 <= int(frame) < max(instance.frames, 1)):
        raise ValueError("The frame is not part of this image.")
    if not all(math.isfinite(float(v)) for v in (x0, y0, x1, y1)):
        raise ValueError("Draw a larger box: drag across the area to blank.")
    x0, x1 = sorted((min(max(float(x0), 0.0), 1.0), min(max(float(x1), 0.0), 1.0)))
    y0, y1 = sorted((min(max(float(y0), 0.0), 1.0), min(max(float(y1), 0.0), 1.0)))
    if x1 - x0 < MIN_BOX_SIDE or y1 - y0 < MIN_BOX_SIDE:
        raise ValueError("Draw a larger box: drag across the area to blank.")
    if not kept_originals(series=series).exists():
        raise ReviewClosed
    box = RedactionBox.objects.create(
        series=series,
        action=action,
        instance=instance,
        frame=None if frame is None else int(frame),
        x0=x0,
        y0=y0,
        x1=x1,
        y1=y1,
        created_by=user,
    )
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


def _policy_for_replay(automatic: list, drawn: list, kept: list):
    """The archive's policy with the pixel cleaner replaying a review: the automatic boxes
    found at upload, minus the kept ones, plus the drawn ones (see ``clean_pixels``)."""
    policy = archive_policy()
    if policy.pixel_cleaner is None:
        raise RuntimeError("The pixel cleaner is not installed in this build.")
    cleaner = functools.partial(
        policy.pixel_cleaner, extra_boxes=drawn, automatic=automatic, keep=kept
    )
    return replace(policy, pixel_cleaner=cleaner)


def automatic_boxes(instance: Instance) -> list[list]:
    """The boxes the detector found at upload: kept aside at the first review, before that the
    instance's boxes without the drawn ones."""
    report = instance.pixel_report or {}
    if AUTOMATIC_KEY in report:
        return [list(b) for b in report[AUTOMATIC_KEY] or []]
    return [
        list(b) for b in report.get("boxes") or [] if not (len(b) > 5 and str(b[5]) == DRAWN_REASON)
    ]


def _frame_box(box: RedactionBox, instance: Instance) -> tuple:
    x0, y0, x1, y1 = box.pixels(instance.columns, instance.rows)
    return (box.frame, x0, y0, x1, y1)


def _review_audit(instance: Instance, boxes: list[RedactionBox], automatic: list) -> list[dict]:
    """Audit records of what people changed in this image's redaction: who, when, where."""
    records = []
    for box in boxes:
        frame, x0, y0, x1, y1 = _frame_box(box, instance)
        if box.action == RedactionBox.Action.KEEP:
            taken = [b for b in automatic if _mostly_inside(b, (frame, x0, y0, x1, y1))]
            action = "automatic box removed (restored from the original)"
            count = len(taken)
        else:
            action = "box blanked"
            count = max(instance.frames, 1) if frame is None else 1
        user = box.created_by
        records.append(
            {
                "keyword": "PixelData",
                "tag": "(7FE0,0010)",
                "action": action,
                "count": count,
                "box": [x0, y0, x1, y1],
                "frame": "all" if frame is None else frame,
                "by": user.get_username() if user is not None else "",
                "user_id": box.created_by_id,
                "at": box.created_at.isoformat(),
            }
        )
    return records


def _mostly_inside(record, area) -> bool:
    frame, x0, y0, x1, y1 = (int(v) for v in record[:5])
    af, ax0, ay0, ax1, ay1 = area
    if af is not None and af != frame:
        return False
    iw = min(x1, ax1) - max(x0, ax0)
    ih = min(y1, ay1) - max(y0, ay0)
    return iw > 0 and ih > 0 and iw * ih >= 0.5 * max(1, (x1 - x0) * (y1 - y0))


def locked_instance(instance_id: int) -> Instance | None:
    """The instance, its row locked until the current transaction ends (with its study, for
    its file's name), or None if it is gone."""
    return (
        Instance.objects.select_for_update()
        .select_related("series__study")
        .filter(pk=instance_id)
        .first()
    )


def _redact_instance(instance_id: int) -> str:
    with transaction.atomic():
        instance = locked_instance(instance_id)
        if instance is None:
            return "skipped"
        item = kept_originals().select_for_update().filter(instance=instance).order_by("pk").first()
        if item is None:
            return "closed"
        boxes = boxes_for(
            instance,
            RedactionBox.objects.filter(series_id=instance.series_id).select_related("created_by"),
        )
        digest = boxes_digest(boxes)
        report = dict(instance.pixel_report or {})
        if instance_digest(instance) == digest or report.get(FAILED_KEY) == digest:
            return "skipped"
        # The original opened, not read: a cine's Pixel Data is read from it a frame at a
        # time (issue #18), so it stays open until the new file is stored.
        try:
            received = open_local(item.raw_file.storage, item.raw_file.name)
        except (FileNotFoundError, IsADirectoryError, ValueError):
            return "closed"
        with received:
            automatic = automatic_boxes(instance)
            drawn = [
                _frame_box(b, instance) for b in boxes if b.action == RedactionBox.Action.BLANK
            ]
            kept = [_frame_box(b, instance) for b in boxes if b.action == RedactionBox.Action.KEEP]
            try:
                result = deidentify_bytes(received, _policy_for_replay(automatic, drawn, kept))
            except RejectedInput:
                result = None
            except Exception as exc:  # noqa: BLE001 - never stop the series for one file
                log.error(
                    "Re-redaction failed for instance %s (%s)", instance.pk, type(exc).__name__
                )
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
            _replace_file(
                instance, result, digest, automatic, _review_audit(instance, boxes, automatic)
            )
            return "redacted"


def store_revision(instance: Instance, content, revision: int) -> str:
    """Store ``content`` (a binary file) as revision ``revision`` of the instance's file, under
    a new name; the old file and its renderings are deleted once the transaction commits
    (until then it is still what the row names).  Returns the name saved (the caller points
    the instance at it)."""
    name = instance_file_name(instance.series.study.case_id, instance.sop_uid, revision)
    storage = instance.file.storage
    old_name = instance.file.name
    if name != old_name and storage.exists(name):  # left by a worker killed before commit
        storage.delete(name)
    saved = storage.save(name, File(content))
    frames, pk = instance.frames, instance.pk

    from archive.rendering import forget_rendered

    def forget_old() -> None:
        if old_name != saved:
            storage.delete(old_name)
            forget_rendered(pk, old_name, frames)

    transaction.on_commit(forget_old)
    return saved


def _replace_file(
    instance: Instance, result, digest: str, automatic: list, review_audit: list[dict]
) -> None:
    """Store the new file (``store_revision``) and point the instance at it."""
    revision = int((instance.pixel_report or {}).get(REVISION_KEY) or 0) + 1
    try:
        # Streamed from the verified file's spool: a cine's output is never in memory whole.
        saved = store_revision(instance, result.written(), revision)
    finally:
        result.close()
    report = dict(result.pixel_report or {})
    report[DIGEST_KEY] = digest
    report[REVISION_KEY] = revision
    report[AUTOMATIC_KEY] = automatic
    instance.file.name = saved
    instance.pixel_report = report
    instance.audit = list(result.audit) + review_audit
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
    return release_files(
        items.select_for_update(of=("self",)),
        "raw_file",
        _raw_storage(),
        "a kept original (upload item file)",
    )


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
    "locked_instance",
    "purge_expired_originals",
    "redact_series_again",
    "remove_box",
    "series_review",
    "store_revision",
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
