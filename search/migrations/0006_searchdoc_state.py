"""Tell Django's model state about ``search_doc`` (created in SQL by 0004) without touching the
database, so flushes truncate it along with the entries it references."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("search", "0005_index_state")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SearchDoc",
                    fields=[
                        (
                            "entry",
                            models.OneToOneField(
                                db_column="case_id",
                                db_constraint=False,
                                on_delete=models.DO_NOTHING,
                                primary_key=True,
                                related_name="+",
                                serialize=False,
                                to="search.searchentry",
                            ),
                        ),
                    ],
                    options={"db_table": "search_doc"},
                ),
            ],
            database_operations=[],
        )
    ]
