"""The ICD-10 catalogue as the diagnosis vocabulary (issue 14), and Czech synonyms.

The two catalogue tables are unmanaged (``managed = False``) so that a test database flush
keeps their 60,000 rows of reference data; they are created here, with the indexes the
editor's autocomplete needs (on PostgreSQL a trigram index, so ``LIKE '% pneu%'`` is an index
scan), and filled from the pinned packages by ``archive.vocabulary.loading``.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

POSTGRES_INDEXES = [
    "CREATE INDEX archive_icd10_term_folded_trgm ON archive_icd10_term "
    "USING gin (folded gin_trgm_ops)",
    "CREATE INDEX archive_icd10_term_code ON archive_icd10_term (code)",
    "CREATE INDEX archive_icd10_code_block ON archive_icd10_code (block)",
]
OTHER_INDEXES = [
    "CREATE INDEX archive_icd10_term_code ON archive_icd10_term (code)",
    "CREATE INDEX archive_icd10_code_block ON archive_icd10_code (block)",
]


def create_tables(apps, schema_editor):
    for name in ("Icd10Code", "Icd10Term"):
        schema_editor.create_model(apps.get_model("archive", name))
    postgres = schema_editor.connection.vendor == "postgresql"
    for sql in POSTGRES_INDEXES if postgres else OTHER_INDEXES:
        schema_editor.execute(sql)


def drop_tables(apps, schema_editor):
    for name in ("Icd10Term", "Icd10Code"):
        schema_editor.delete_model(apps.get_model("archive", name))


def fold_names(apps, schema_editor):
    from archive.privacy import normalise
    from search.variants import strip_possessives

    Diagnosis = apps.get_model("archive", "Diagnosis")
    for d in Diagnosis.objects.using(schema_editor.connection.alias).iterator():
        names = [d.name, *d.synonyms.splitlines(), d.name_cs, *d.synonyms_cs.splitlines()]
        folded = [normalise(strip_possessives(n or "")) for n in [*names, d.icd10]]
        d.folded_names = " | ".join(" " + f for f in folded if f)
        d.save(update_fields=["folded_names"])


def load(apps, schema_editor):
    from archive.vocabulary.loading import load_catalogue

    load_catalogue(
        using=schema_editor.connection.alias,
        code_model=apps.get_model("archive", "Icd10Code"),
        term_model=apps.get_model("archive", "Icd10Term"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("archive", "0009_scaleout_fanout"),
    ]

    operations = [
        TrigramExtension(),  # a no-op on other vendors
        migrations.CreateModel(
            name="Icd10Code",
            fields=[
                (
                    "code",
                    models.CharField(
                        max_length=16, primary_key=True, serialize=False, verbose_name="code"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("chapter", "Chapter"),
                            ("block", "Block"),
                            ("category", "Category"),
                            ("subcategory", "Subcategory"),
                        ],
                        max_length=12,
                    ),
                ),
                ("title", models.CharField(max_length=300, verbose_name="title")),
                (
                    "title_cs",
                    models.CharField(blank=True, max_length=300, verbose_name="Czech title"),
                ),
                ("parent", models.CharField(blank=True, max_length=16)),
                ("chapter", models.CharField(blank=True, max_length=8)),
                ("block", models.CharField(blank=True, max_length=16)),
                ("position", models.IntegerField(default=0)),
            ],
            options={
                "verbose_name": "ICD-10 code",
                "db_table": "archive_icd10_code",
                "ordering": ["position"],
                "managed": False,
            },
        ),
        migrations.CreateModel(
            name="Icd10Term",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.CharField(max_length=16)),
                ("term", models.CharField(max_length=300)),
                ("folded", models.CharField(max_length=320)),
                ("kind", models.CharField(max_length=12)),
                ("language", models.CharField(default="en", max_length=2)),
                ("concept", models.CharField(blank=True, max_length=200)),
            ],
            options={
                "db_table": "archive_icd10_term",
                "managed": False,
            },
        ),
        migrations.AddField(
            model_name="diagnosis",
            name="synonyms_cs",
            field=models.TextField(
                blank=True,
                help_text="One per line, as Czech doctors write them, e.g. PNO.",
                verbose_name="Czech synonyms",
            ),
        ),
        migrations.AlterField(
            model_name="case",
            name="body_region",
            field=models.CharField(
                choices=[
                    ("head", "Head"),
                    ("neck", "Neck"),
                    ("chest", "Chest"),
                    ("cardiac", "Heart"),
                    ("abdomen", "Abdomen"),
                    ("pelvis", "Pelvis"),
                    ("spine", "Spine"),
                    ("upper_limb", "Upper limb"),
                    ("lower_limb", "Lower limb"),
                    ("breast", "Breast"),
                    ("whole_body", "Whole body"),
                    ("other", "Other"),
                ],
                max_length=16,
                verbose_name="body region",
            ),
        ),
        migrations.AddField(
            model_name="diagnosis",
            name="folded_names",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(fold_names, migrations.RunPython.noop),
        migrations.RunPython(create_tables, drop_tables),
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
