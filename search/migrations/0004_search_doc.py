"""PostgreSQL: move what is searched out of the wide ``search_searchentry`` rows.

``search_doc`` holds, per case, only what matching, ranking and facet counting read: the weighted
``tsvector`` (GIN), the diagnosis part of it on its own (so "diagnosis matches first" needs no
``ts_filter`` per row), the publication time and each facet value as a small integer code from
``search_facet_code``. Counting facets over tens of thousands of matches then reads ~100-byte
rows instead of ~1.5 kB ones. Existing entries are copied over; the old columns are dropped.
SQLite keeps its FTS5 table; nothing here runs there.
"""

from django.db import migrations

VECTOR = (
    "setweight(to_tsvector('english', coalesce(e.diagnosis, '') || ' ' || "
    "coalesce(e.diagnosis_terms, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(e.title, '') || ' ' || coalesce(e.tags_text, '')),"
    " 'B') || "
    "setweight(to_tsvector('english', coalesce(e.findings, '') || ' ' || coalesce(e.anatomy, '')"
    " || ' ' || coalesce(e.history, '')), 'C') || "
    "setweight(to_tsvector('english', coalesce(e.discussion, '')), 'D')"
)
FACET_COLUMNS = (
    "modality",
    "body_region",
    "organ_system",
    "diagnosis",
    "level",
    "age_group",
    "sex",
)

POSTGRES_FORWARD = [
    "CREATE TABLE search_facet_code ("
    " code serial PRIMARY KEY,"
    " facet varchar(16) NOT NULL,"
    " value varchar(200) NOT NULL,"
    " CONSTRAINT search_facet_code_unique UNIQUE (facet, value))",
    "CREATE TABLE search_doc ("
    " case_id bigint PRIMARY KEY"
    "  REFERENCES search_searchentry (case_id) ON DELETE CASCADE,"
    " published_at timestamptz,"
    + "".join(f" {c} integer," for c in FACET_COLUMNS)
    + " tags integer[] NOT NULL DEFAULT '{}',"
    " dx_vector tsvector NOT NULL,"
    " search_vector tsvector NOT NULL)",
    "INSERT INTO search_facet_code (facet, value) "
    "SELECT x.facet, x.value FROM search_searchentry e CROSS JOIN LATERAL (VALUES "
    + ", ".join(f"('{c}', e.{c}::text)" for c in FACET_COLUMNS)
    + ") AS x (facet, value) WHERE x.value <> '' "
    "UNION SELECT 'tags', t.name FROM search_searchentrytag t "
    "ON CONFLICT DO NOTHING",
    "INSERT INTO search_doc SELECT e.case_id, e.published_at, "
    + "".join(
        f"(SELECT c.code FROM search_facet_code c WHERE c.facet = '{c}' AND c.value = e.{c}), "
        for c in FACET_COLUMNS
    )
    + "ARRAY(SELECT c.code FROM search_searchentrytag t JOIN search_facet_code c "
    "ON c.facet = 'tags' AND c.value = t.name WHERE t.entry_id = e.case_id ORDER BY c.code), "
    "setweight(to_tsvector('english', coalesce(e.diagnosis, '') || ' ' || "
    "coalesce(e.diagnosis_terms, '')), 'A'), "
    f"{VECTOR} FROM search_searchentry e",
    "CREATE INDEX search_doc_vector_gin ON search_doc USING gin (search_vector)",
    "ANALYZE search_doc",
]
POSTGRES_BACKWARD = [
    "DROP TABLE IF EXISTS search_doc",
    "DROP TABLE IF EXISTS search_facet_code",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0003_tag_list")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD}), _run({"postgresql": POSTGRES_BACKWARD})
        ),
        migrations.RemoveField(model_name="searchentry", name="search_vector"),
        migrations.RemoveField(model_name="searchentry", name="tag_list"),
    ]
