"""Print the effective de-identification profile, attribute by attribute, for sign-off.

    python manage.py deid_profile                    # CSV of the profile in force
    python manage.py deid_profile --format html -o profile.html
    python manage.py deid_profile --profile "retain-longitudinal-modified-dates"  # preview

The report is read from the same compiled tables the engine applies (archive/deid/report.py),
so what a privacy officer signs is what runs. ``docs/deid-profile-default.csv`` and ``.html``
are this command's output for the default profile (a test regenerates and compares them).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from archive.deid import Policy
from archive.deid.report import to_csv, to_html
from archive.services.policy import profile_from

# The report describes rules, not keys: any well-formed placeholder gives the same text.
_PLACEHOLDER_KEY = b"report-only-not-a-secret-0000000"


class Command(BaseCommand):
    help = (
        "Print the de-identification profile in force (TA_DEID_PROFILE), attribute by "
        "attribute, as CSV or HTML for a privacy officer to sign off."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", choices=["csv", "html"], default="csv")
        parser.add_argument("-o", "--output", help="write to this file instead of the screen")
        parser.add_argument(
            "--profile",
            help="report this comma-separated list of options instead of TA_DEID_PROFILE "
            "(checked the same way, with TA_DEID_ACCEPT_IDENTIFYING_OPTIONS)",
        )

    def handle(self, *args, **options) -> None:
        chosen = options["profile"]
        try:
            profile = profile_from(
                settings.DEID_PROFILE if chosen is None else chosen,
                settings.DEID_ACCEPT_IDENTIFYING_OPTIONS,
            )
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        policy = Policy.from_profile(
            profile, uid_key=_PLACEHOLDER_KEY, pseudonym_key=_PLACEHOLDER_KEY
        )
        text = to_html(policy) if options["format"] == "html" else to_csv(policy)
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote the profile report to {options['output']}.")
        else:
            self.stdout.write(text, ending="")
