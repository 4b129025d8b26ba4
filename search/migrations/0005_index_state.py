"""The token that every index write changes; cached search pages are keyed by it."""

import uuid

from django.db import migrations, models


def first_token(apps, schema_editor):
    # Entries indexed before this migration are searchable at once, so cache under a token now.
    state = apps.get_model("search", "SearchIndexState")
    state.objects.using(schema_editor.connection.alias).get_or_create(
        pk=1, defaults={"token": uuid.uuid4().hex}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0004_search_doc"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchIndexState",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token", models.CharField(blank=True, default="", max_length=32)),
            ],
        ),
        migrations.RunPython(first_token, migrations.RunPython.noop),
    ]
