"""``python manage.py import_cases FILE.jsonl [--owner USERNAME] [--no-index]``"""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from search import services
from search.importing import import_lines, importer_user


class Command(BaseCommand):
    help = "Import case metadata from a JSON Lines file; bad lines are reported and skipped."

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON Lines file, one case per line ('-' for stdin)")
        parser.add_argument("--owner", help="username owning the cases (default: 'importer')")
        parser.add_argument("--no-index", action="store_true", help="do not index at the end")

    def handle(self, *args, file: str, owner: str | None, no_index: bool, **options):
        try:
            user = importer_user(owner)
        except get_user_model().DoesNotExist as e:
            raise CommandError(
                f"There is no user {owner!r}; create it or leave out --owner."
            ) from e

        def on_error(number: int, reason: str) -> None:
            self.stderr.write(f"line {number}: {reason} (skipped)")

        def on_warning(number: int, warning: str) -> None:
            self.stderr.write(f"line {number}: {warning}")

        started = time.monotonic()
        try:
            if file == "-":
                import sys

                report = import_lines(sys.stdin, user, on_error, on_warning)
            else:
                with open(file, encoding="utf-8") as fh:
                    report = import_lines(fh, user, on_error, on_warning)
        except OSError as e:
            raise CommandError(f"Cannot read {file}: {e.strerror}.") from e
        imported = time.monotonic() - started
        self.stdout.write(
            f"Imported {len(report.created)} cases in {imported:.1f} s "
            f"({len(report.created) / max(imported, 1e-9):.0f}/s); "
            f"{len(report.errors)} bad lines skipped."
        )
        for (name, written, value), n in sorted(report.mapped.items()):
            self.stdout.write(f"Mapped {name} {written!r} → {value!r} in {n} case(s).")
        if report.warnings:
            self.stdout.write(
                f"{len(report.warnings)} value(s) imported as 'other' or the default: see the "
                "warnings above."
            )
        if report.created and not no_index:
            started = time.monotonic()
            n = services.index_cases(report.created)
            took = time.monotonic() - started
            self.stdout.write(f"Indexed {n} published cases in {took:.1f} s.")
