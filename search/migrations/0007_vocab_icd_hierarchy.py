"""The ICD-10 chapter and block of each case's diagnosis, as facet columns (issue 14).

On PostgreSQL the narrow ``search_doc`` rows get them as integer facet codes too. Existing
entries have neither until they are indexed again: ``manage.py search_index --rebuild`` after
upgrading (Elasticsearch needs the rebuild anyway: its mapping is strict).
"""

from django.db import migrations, models

POSTGRES_FORWARD = [
    "ALTER TABLE search_doc ADD COLUMN IF NOT EXISTS icd_chapter integer",
    "ALTER TABLE search_doc ADD COLUMN IF NOT EXISTS icd_block integer",
]
POSTGRES_BACKWARD = [
    "ALTER TABLE search_doc DROP COLUMN IF EXISTS icd_block",
    "ALTER TABLE search_doc DROP COLUMN IF EXISTS icd_chapter",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0006_searchdoc_state"),
    ]

    operations = [
        migrations.AddField(
            model_name="searchentry",
            name="icd_block",
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.AddField(
            model_name="searchentry",
            name="icd_chapter",
            field=models.CharField(blank=True, max_length=8),
        ),
        migrations.RunPython(_run(POSTGRES_FORWARD), _run(POSTGRES_BACKWARD)),
    ]
