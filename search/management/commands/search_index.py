"""``python manage.py search_index --rebuild [--backend ALIAS]`` and ``--case ID``."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from search import services


class Command(BaseCommand):
    help = "Rebuild the search index from the published cases, or reindex single cases."

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="rebuild the whole index")
        parser.add_argument("--backend", help="alias in SEARCH_BACKENDS (default: SEARCH_BACKEND)")
        parser.add_argument("--case", type=int, action="append", default=[], help="case id")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, rebuild: bool, backend: str | None, case: list[int], **options):
        if not rebuild and not case:
            raise CommandError("Say what to do: --rebuild, or --case ID (repeatable).")
        for case_id in case:
            self.stdout.write(f"case {case_id}: {services.index_case(case_id)}")
        if not rebuild:
            return
        started = time.monotonic()
        tty = not options["no_progress"]

        def progress(done: int, total: int) -> None:
            if not tty:
                return
            width = 30
            filled = int(width * done / max(total, 1))
            rate = done / max(time.monotonic() - started, 1e-9)
            self.stdout.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} ({rate:.0f}/s)",
                ending="",
            )
            self.stdout.flush()

        n = services.rebuild_index(alias=backend, progress=progress)
        if tty:
            self.stdout.write("")
        sys.stdout.flush()
        self.stdout.write(
            self.style.SUCCESS(
                f"Indexed {n} published cases in {time.monotonic() - started:.1f} s."
            )
        )
