"""Trigram indexes for the curators' search of the review queue (admin ``?q=``).

The admin finds a word anywhere in a case's title or findings (``UPPER(col) LIKE '%WORD%'``,
Django's ``icontains``); with 10,000 cases reading every findings text took ~100 ms twice a
page (the count and the page). On PostgreSQL a GIN trigram index on each expression answers
it from the index (pg_trgm is installed by 0010). The expressions are the ones Django's
``icontains`` writes, so the planner matches them. Other databases keep scanning: SQLite has
no trigram index, and the embedded archive is small.
"""

from django.db import migrations

INDEXES = {
    "archive_case_title_upper_trgm": "UPPER(title::text)",
    "archive_case_findings_upper_trgm": "UPPER(findings::text)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON archive_case "
            f"USING gin (({expression}) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("archive", "0019_revconflict_czech_names"),
    ]

    operations = [migrations.RunPython(create, drop)]
