"""Fill again, as one value, the redaction boxes of stored images written before 2026-12-01
that still hold their letters' outline one level off the fill (see
``archive.services.refill``).  Run it once after upgrading; harmless to repeat::

    python manage.py refill_boxes --dry-run   # how many images would change
    python manage.py refill_boxes
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from archive.services.refill import refill_all


class Command(BaseCommand):
    help = (
        "Fill again as one value the redaction boxes of stored images that still show the "
        "outline of the text they covered (files written before 2026-12-01)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="count the images that would change"
        )

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        counts = refill_all(dry_run=dry_run)
        verb = "would be filled again" if dry_run else "filled again"
        self.stdout.write(
            f"{counts['refilled']} image(s) {verb}, {counts['clean']} already one value per "
            f"box, {counts['failed']} could not be read or written (left as they were)."
        )
        if counts["failed"]:
            self.stderr.write("See the log for the instances that failed (by id).")
