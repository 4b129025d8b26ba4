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
left as it is.  One instance per
transaction; a file that cannot be read or written is counted and left, never half-written.
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


def _unchecked() -> Iterator[int]:
    rows = (
        Instance.objects.filter(has_pixels=True, pixel_report__has_key="boxes")
        .order_by("pk")
        .values_list("pk", "pixel_report")
    )
    for pk, report in rows.iterator():
        if (report or {}).get("boxes") and (report or {}).get("fill") != FILL:
            yield pk


def instances_to_check() -> list[int]:
    """Primary keys of the instances whose pixel report lists boxes filled by an earlier
    version (the report does not say ``"fill": FILL``)."""
    return list(_unchecked())


def any_to_check() -> bool:
    """Whether any instance is left to check (stops at the first)."""
    return next(_unchecked(), None) is not None


def refill_all(*, dry_run: bool = False) -> dict[str, int]:
    """Every instance with boxes checked; counts ``{"refilled", "clean", "failed"}`` (with
    ``dry_run``, "refilled" counts those that would be)."""
    counts = {"refilled": 0, "clean": 0, "failed": 0}
    for pk in instances_to_check():
        counts[refill_instance(pk, dry_run=dry_run)] += 1
    return counts


def refill_instance(instance_id: int, *, dry_run: bool = False) -> str:
    """``"refilled"``, ``"clean"`` (nothing to do) or ``"failed"`` (left as it was)."""
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
                    Instance.objects.filter(pk=instance.pk).update(pixel_report=report)
                return "clean"
            if dry_run:
                return "refilled"
            result = clean_pixels(ds, automatic=records)
            if not result.changed:
                return "failed"
            spool = Spool()
            with rewound(ds):
                dcmwrite(spool, ds, enforce_file_format=True)
            spool.seek(0)
            if outlined_boxes(dcmread(spool), records):
                spool.close()
                return "failed"
            spool.seek(0)
        except Exception as exc:  # noqa: BLE001 - one unreadable file never stops the others
            log.error(
                "Refilling the boxes of instance %s failed (%s)", instance.pk, type(exc).__name__
            )
            return "failed"
        report = dict(instance.pixel_report or {})
        revision = int(report.get(REVISION_KEY) or 0) + 1
        with spool:
            saved = store_revision(instance, spool, revision)
        report[REVISION_KEY] = revision
        report["fill"] = FILL
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


__all__ = ["AUDIT_ACTION", "any_to_check", "instances_to_check", "refill_all", "refill_instance"]
