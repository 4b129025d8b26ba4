"""Stored images whose redaction boxes still hold the outline of the text they covered, filled
again as one value (``python manage.py refill_boxes``).

Files written before 2026-12-01 (``archive.deid.pixels.refill``) may have boxes that look
plain in a viewer but show the letters' outlines, one level off the fill, to anyone who
thresholds the downloaded pixels.  For each instance whose ``pixel_report`` lists boxes, the
stored file is read; if a box is not one value, every box of the instance is filled again on
the stored pixels (the cleaner's replay: a value none of the box's pixels has, so the outline
goes and nothing outside the boxes changes) and the file is stored under a new name, as a
teacher's review does (rendered-frame caches and ETags follow the name; the old file and its
renderings are deleted).  The kept original is not needed: the outline is inside the box.

Each image checked gets ``"fill": FILL`` in its report (as every image written since has), so it
is not read again: the check runs by itself when a worker starts (``archive.signals``), and the
command does the same by hand.  Harmless to repeat: an instance whose boxes are one value is
left as it is.  One instance per transaction; never half-written.

An image that cannot be confirmed clean (its file cannot be read or written, or its boxes still
hold two values after the fill) is held, not left on show: its report says so (``FAILED_KEY``,
and it is not read again at every start), its audit says when, and its case leaves publication
(returned to its author with ``WITHDRAWN``; a case under review goes back too), so students
no longer see it and search drops it.  The case cannot be submitted or published again
(``held_images``, asked by ``archive.services.cases``) until the image is deleted or
``refill_boxes --retry`` fills it (once its file is readable again).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.db import transaction
from django.utils import timezone
from pydicom import dcmread, dcmwrite

from archive.deid.pixels import FILL, clean_pixels
from archive.deid.pixels.refill import outlined_boxes
from archive.deid.spool import Spool, rewound
from archive.models import Instance
from archive.services.review import REVISION_KEY, locked_instance, store_revision
from archive.storage import open_local

log = logging.getLogger(__name__)

#: What the instance's audit says was done.
AUDIT_ACTION = "boxes filled again as one value (their letters' outline removed)"
#: ... and when the image could not be confirmed clean and was held.
HELD_ACTION = "held: its boxes could not be filled again as one value (case withdrawn)"
#: Key of ``Instance.pixel_report``: the refill failed; the image is held.
FAILED_KEY = "refill_failed"
#: The comment a withdrawn case gets (its author and curators read it).
WITHDRAWN = (
    "Withdrawn by the archive: an image of this case was stored by an earlier version whose "
    "redaction boxes may show the outline of the text they covered, and it could not be filled "
    "again. Delete the image, or ask an administrator to run `python manage.py refill_boxes "
    "--retry` once its file can be read; then submit the case again."
)
#: Why a case with a held image cannot be submitted or published.
HELD = (
    "Image(s) {images} of this case could not be confirmed clean of the text their redaction "
    "boxes covered (stored by an earlier version). Delete them, or ask an administrator to run "
    "`python manage.py refill_boxes --retry`."
)


def held_images(case) -> list[Instance]:
    """The case's images held after a failed refill (none once deleted or filled again)."""
    return list(case.instances().filter(**{f"pixel_report__{FAILED_KEY}": True}))


def held_message(case) -> str:
    """Why the case cannot be submitted or published, or "" when nothing of it is held."""
    held = held_images(case)
    if not held:
        return ""
    return HELD.format(images=", ".join(str(i.instance_number or i.pk) for i in held))


def _unchecked(*, retry: bool = False) -> Iterator[int]:
    rows = (
        Instance.objects.filter(has_pixels=True, pixel_report__has_key="boxes")
        .order_by("pk")
        .values_list("pk", "pixel_report")
    )
    for pk, report in rows.iterator():
        report = report or {}
        if report.get("boxes") and report.get("fill") != FILL:
            if retry or not report.get(FAILED_KEY):
                yield pk


def instances_to_check(*, retry: bool = False) -> list[int]:
    """Primary keys of the instances whose pixel report lists boxes filled by an earlier
    version (the report does not say ``"fill": FILL``); held ones only with ``retry``."""
    return list(_unchecked(retry=retry))


def any_to_check() -> bool:
    """Whether any instance is left to check (stops at the first)."""
    return next(_unchecked(), None) is not None


def refill_all(*, dry_run: bool = False, retry: bool = False) -> dict[str, int]:
    """Every instance with boxes checked; counts ``{"refilled", "clean", "failed"}`` (with
    ``dry_run``, "refilled" counts those that would be).  Held images are tried again only
    with ``retry``."""
    counts = {"refilled": 0, "clean": 0, "failed": 0}
    for pk in instances_to_check(retry=retry):
        counts[refill_instance(pk, dry_run=dry_run)] += 1
    return counts


def _hold(instance: Instance) -> str:
    """Not confirmed clean: mark and audit the image, withdraw its case from students."""
    from archive.models import Case
    from archive.services.cases import unpublish_case

    report = {**(instance.pixel_report or {}), FAILED_KEY: True}
    audit = list(instance.audit or []) + [
        {
            "keyword": "PixelData",
            "tag": "(7FE0,0010)",
            "action": HELD_ACTION,
            "by": "refill_boxes",
            "at": timezone.now().isoformat(),
        }
    ]
    Instance.objects.filter(pk=instance.pk).update(pixel_report=report, audit=audit)
    case = Case.objects.select_for_update().get(pk=instance.series.study.case_id)
    if case.status in {Case.Status.PUBLISHED, Case.Status.SUBMITTED}:
        unpublish_case(case=case, comment=WITHDRAWN)
    log.error(
        "Instance %s held: its boxes could not be filled again (case %s)", instance.pk, case.pk
    )
    return "failed"


def refill_instance(instance_id: int, *, dry_run: bool = False) -> str:
    """``"refilled"``, ``"clean"`` (nothing to do) or ``"failed"`` (the file left as it was,
    the image held and its case withdrawn; with ``dry_run`` only counted)."""
    with transaction.atomic():
        instance = locked_instance(instance_id)
        if instance is None:
            return "clean"
        records = [list(b) for b in (instance.pixel_report or {}).get("boxes") or []]
        if not records:
            return "clean"
        storage = instance.file.storage
        try:
            with open_local(storage, instance.file.name) as fh:
                ds = dcmread(fh)  # read whole (Pixel Data too) before the file closes
            outlined = outlined_boxes(ds, records)
            if not outlined:
                if not dry_run:  # checked: not read again
                    report = {**(instance.pixel_report or {}), "fill": FILL}
                    report.pop(FAILED_KEY, None)
                    Instance.objects.filter(pk=instance.pk).update(pixel_report=report)
                return "clean"
            if dry_run:
                return "refilled"
            result = clean_pixels(ds, automatic=records)
            if not result.changed:
                return _hold(instance)
            spool = Spool()
            with rewound(ds):
                dcmwrite(spool, ds, enforce_file_format=True)
            spool.seek(0)
            if outlined_boxes(dcmread(spool), records):
                spool.close()
                return _hold(instance)
            spool.seek(0)
        except Exception as exc:  # noqa: BLE001 - one unreadable file never stops the others
            log.error(
                "Refilling the boxes of instance %s failed (%s)", instance.pk, type(exc).__name__
            )
            return "failed" if dry_run else _hold(instance)
        report = dict(instance.pixel_report or {})
        revision = int(report.get(REVISION_KEY) or 0) + 1
        with spool:
            saved = store_revision(instance, spool, revision)
        report[REVISION_KEY] = revision
        report["fill"] = FILL
        report.pop(FAILED_KEY, None)
        instance.file.name = saved
        instance.pixel_report = report
        instance.audit = list(instance.audit or []) + [
            {
                "keyword": "PixelData",
                "tag": "(7FE0,0010)",
                "action": AUDIT_ACTION,
                "count": len(outlined),
                "by": "refill_boxes",
                "at": timezone.now().isoformat(),
            }
        ]
        instance.save(update_fields=["file", "pixel_report", "audit"])
        return "refilled"


__all__ = [
    "AUDIT_ACTION",
    "FAILED_KEY",
    "HELD_ACTION",
    "WITHDRAWN",
    "any_to_check",
    "held_images",
    "held_message",
    "instances_to_check",
    "refill_all",
    "refill_instance",
]
