"""Delete raw originals kept for the teacher's review longer than ``TA_RAW_RETENTION_HOURS``,
and temporary files of uploads whose request was interrupted.

Schedule it (cron, systemd timer or Celery beat), e.g. hourly::

    python manage.py purge_originals
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from archive.services.incoming import sweep_incoming
from archive.services.review import purge_expired_originals, sweep_orphaned_originals


class Command(BaseCommand):
    help = (
        "Delete the raw originals of browser uploads kept for redaction review longer than "
        "TA_RAW_RETENTION_HOURS (default 72)."
    )

    def handle(self, *args, **options) -> None:
        removed = purge_expired_originals()
        orphaned = sweep_orphaned_originals()
        interrupted = sweep_incoming()
        self.stdout.write(
            f"Deleted {removed} kept original(s), {orphaned} orphaned file(s) of deleted cases "
            f"and {interrupted} temporary file(s) of interrupted uploads."
        )
