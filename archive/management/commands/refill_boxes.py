"""Fill again, as one value, the redaction boxes of stored images written before 2026-12-01
that still hold their letters' outline one level off the fill (see
``archive.services.refill``).  Run it once after upgrading; harmless to repeat::

    python manage.py refill_boxes --dry-run   # how many images would change
    python manage.py refill_boxes
    python manage.py refill_boxes --retry     # also the images held after a failure

An image that cannot be filled (its file unreadable, or its boxes still two values) is held:
its case leaves publication and cannot be published again until the image is deleted or a
``--retry`` fills it.
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
        parser.add_argument(
            "--retry",
            action="store_true",
            help="try again the images held after a failure (e.g. once their storage is fixed)",
        )

    def handle(self, *args, dry_run: bool = False, retry: bool = False, **options) -> None:
        counts = refill_all(dry_run=dry_run, retry=retry)
        verb = "would be filled again" if dry_run else "filled again"
        self.stdout.write(
            f"{counts['refilled']} image(s) {verb}, {counts['clean']} already one value per "
            f"box, {counts['failed']} could not be read or written (held: their cases are "
            "withdrawn from students until they are deleted or filled with --retry)."
        )
        if counts["failed"]:
            self.stderr.write("See the log for the instances that failed (by id).")
