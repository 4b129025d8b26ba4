"""``python manage.py load_icd10``: (re)load the ICD-10 catalogue the diagnosis field offers.

Reads the pinned packages' data (WHO ICD-10 2019 codes, titles, chapters and blocks; ICD-10-CM
inclusion terms) and the curated vocabulary (``search/data/synonyms.tsv``). Migration 0010 does
the same once; ``make setup`` runs this so an upgrade of either reaches an existing archive.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from archive.vocabulary.loading import load_catalogue


class Command(BaseCommand):
    help = "Load the ICD-10 catalogue (codes, titles, chapters, blocks, synonyms)."

    def handle(self, *args, **options):
        started = time.monotonic()
        try:
            codes, terms = load_catalogue()
        except RuntimeError as e:  # a package is missing: say which
            raise CommandError(str(e)) from e
        self.stdout.write(
            f"Loaded {codes} ICD-10 codes and {terms} terms in {time.monotonic() - started:.1f} s."
        )
