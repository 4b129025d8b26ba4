"""Delete quarantined files older than ``TA_QUARANTINE_RETENTION_DAYS``.

Celery beat runs the same purge hourly (``archive.purge_quarantine``); without beat, schedule
this command (cron, systemd timer)::

    python manage.py purge_quarantine
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from archive.services.quarantine import purge_expired_quarantine, sweep_orphaned_quarantine


class Command(BaseCommand):
    help = (
        "Delete quarantined files (output that failed verification) older than "
        "TA_QUARANTINE_RETENTION_DAYS (default 30); their upload items keep status and reason."
    )

    def handle(self, *args, **options) -> None:
        removed = purge_expired_quarantine()
        orphaned = sweep_orphaned_quarantine()
        days = settings.TA_QUARANTINE_RETENTION_DAYS
        self.stdout.write(
            f"Deleted {removed} quarantined file(s) older than {days:g} days and {orphaned} "
            "orphaned file(s) of deleted uploads."
        )
