"""``python manage.py import_package package.zip --owner USERNAME``

The package's cases become the owner's drafts; their images go through the de-identification
pipeline as an upload (the worker processes them; with ``CELERY_TASK_ALWAYS_EAGER=1`` this
command does it itself).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from archive.models import PackageImport
from archive.packages import PackageError
from archive.packages.importing import import_package


class Command(BaseCommand):
    help = "Import a case package as drafts of a teacher (images anonymized and verified again)."

    def add_arguments(self, parser):
        parser.add_argument("package", help="the .zip of a case package")
        parser.add_argument("--owner", required=True, help="the teacher whose drafts they become")

    def handle(self, *args, package: str, owner: str, **options):
        try:
            user = get_user_model().objects.get(username=owner)
        except get_user_model().DoesNotExist as e:
            raise CommandError(f"There is no user {owner!r}.") from e
        if not user.has_perm("archive.add_case"):
            raise CommandError(f"{owner} is not a teacher: only teachers import cases.")
        try:
            with open(package, "rb") as fh:
                imported = import_package(fh.read(), user)
        except OSError as e:
            raise CommandError(f"Cannot read {package}: {e.strerror}.") from e
        except PackageError as e:
            raise CommandError(str(e)) from e
        for p in imported:
            if p.status == PackageImport.Status.QUARANTINED:
                raise CommandError(p.reason)
            p.refresh_from_db()
            self.stdout.write(f"case {p.case_id}: imported as a draft of {owner} ({p.status})")
