"""Retention of quarantined files.

A quarantined file is de-identification output that failed verification: it may still identify
a patient. Curators download it from the admin to see what went wrong; after
``TA_QUARANTINE_RETENTION_DAYS`` it is deleted (``purge_expired_quarantine``, run hourly by the
``archive.purge_quarantine`` task and by ``manage.py purge_quarantine``). The upload item stays,
with its status and reason, so the admin still says what happened to the file.

Files whose upload item is gone (its case was deleted) are swept once older than the same limit.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from archive.models import UploadItem
from archive.storage import release_files

log = logging.getLogger(__name__)

__all__ = ["purge_expired_quarantine", "quarantine_cutoff", "sweep_orphaned_quarantine"]


def _storage():
    return UploadItem._meta.get_field("quarantined_file").storage


def quarantine_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(days=settings.TA_QUARANTINE_RETENTION_DAYS)


@transaction.atomic
def purge_expired_quarantine(*, now: dt.datetime | None = None) -> int:
    """Delete quarantined files older than the retention limit. Returns how many.

    The rows are cleared in the transaction and the files deleted on commit, so a rollback
    leaves both; a file that cannot be deleted is left to ``sweep_orphaned_quarantine``.
    """
    storage = _storage()
    expired = (
        UploadItem.objects.exclude(quarantined_file="")
        .filter(processed_at__lt=quarantine_cutoff(now))
        .select_for_update(skip_locked=True)
    )
    return release_files(expired, "quarantined_file", storage, "an expired quarantined file")


def sweep_orphaned_quarantine(*, now: dt.datetime | None = None) -> int:
    """Delete quarantined files no upload item refers to, once older than the retention limit
    (a younger one may belong to an item whose transaction has not committed yet)."""
    storage = _storage()
    cutoff = quarantine_cutoff(now)
    try:
        folders, _files = storage.listdir("")
    except (FileNotFoundError, NotImplementedError):
        return 0
    removed = 0
    for folder in folders:
        _subfolders, files = storage.listdir(folder)
        names = [f"{folder}/{name}" for name in files]
        known = set(
            UploadItem.objects.filter(quarantined_file__in=names).values_list(
                "quarantined_file", flat=True
            )
        )
        for name in names:
            if name in known:
                continue
            try:
                if storage.get_modified_time(name) >= cutoff:
                    continue
            except NotImplementedError:
                continue
            storage.delete(name)
            removed += 1
    return removed
