"""``python manage.py export_cases --case ID [--case ID ...] --as USERNAME -o package.zip``"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from archive.models import Case
from archive.packages.export import export_package


class Command(BaseCommand):
    help = "Export published cases as a case package (anonymized DICOM + manifest.json)."

    def add_arguments(self, parser):
        parser.add_argument("--case", type=int, action="append", required=True, help="case id")
        parser.add_argument(
            "--as", dest="username", required=True, help="the teacher or curator exporting"
        )
        parser.add_argument("-o", "--output", required=True, help="the .zip to write")

    def handle(self, *args, case: list[int], username: str, output: str, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as e:
            raise CommandError(f"There is no user {username!r}.") from e
        cases = list(Case.objects.filter(pk__in=case).select_related("diagnosis", "owner"))
        missing = sorted(set(case) - {c.pk for c in cases})
        if missing:
            raise CommandError(f"There is no case {missing[0]}.")
        try:
            data = export_package(sorted(cases, key=lambda c: case.index(c.pk)), user)
        except PermissionDenied as e:
            raise CommandError(
                f"{username} may not export these cases: only published cases, by a teacher "
                "or curator who may see their diagnosis."
            ) from e
        with open(output, "wb") as fh:
            fh.write(data)
        self.stdout.write(f"Wrote {len(cases)} case(s) to {output} ({len(data)} bytes).")
