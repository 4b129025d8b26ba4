"""Tables of the database search backend.

``SearchEntry`` holds each published case's search document (one row per case) with its facet
values as columns: what a result shows and what highlights are cut from. What is searched lives
in a vendor-specific table made by migrations: on SQLite the FTS5 table ``search_fts`` (rowid =
case id); on PostgreSQL the narrow ``search_doc`` (weighted ``tsvector`` with a GIN index, facet
values as small integer codes from ``search_facet_code``), so matching, ranking and facet counts
never read the wide text rows. ``SearchTerm`` is the vocabulary that typos are corrected towards.
"""

from __future__ import annotations

from django.db import models


class SearchEntry(models.Model):
    case = models.OneToOneField(
        "archive.Case", on_delete=models.CASCADE, primary_key=True, related_name="search_entry"
    )
    title = models.CharField(max_length=200)
    diagnosis = models.CharField(max_length=200, blank=True, db_index=True)
    diagnosis_ref = models.BigIntegerField(null=True, blank=True, db_index=True)
    diagnosis_terms = models.TextField(blank=True)
    tags_text = models.TextField(blank=True)
    anatomy = models.TextField(blank=True)
    findings = models.TextField(blank=True)
    history = models.TextField(blank=True)
    discussion = models.TextField(blank=True)
    modality = models.CharField(max_length=4, blank=True, db_index=True)
    body_region = models.CharField(max_length=16, blank=True, db_index=True)
    organ_system = models.CharField(max_length=20, blank=True)
    icd_chapter = models.CharField(max_length=8, blank=True)
    icd_block = models.CharField(max_length=16, blank=True)
    level = models.CharField(max_length=12, blank=True)
    age_group = models.CharField(max_length=8, blank=True)
    sex = models.CharField(max_length=1, blank=True)
    quiz_mode = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-case_id"]
        verbose_name_plural = "search entries"

    def __str__(self) -> str:
        return f"Search entry of case {self.case_id}"


class SearchEntryTag(models.Model):
    entry = models.ForeignKey(SearchEntry, on_delete=models.CASCADE, related_name="tag_rows")
    name = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entry", "name"], name="unique_search_entry_tag")
        ]
        indexes = [models.Index(fields=["name", "entry"], name="search_tag_name_entry")]


class SearchTerm(models.Model):
    term = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return self.term


class SearchIndexState(models.Model):
    """One row whose ``token`` changes (to a value never used before) with every index write.

    Cached search results are keyed by it, so a write makes every older cached page unreachable
    at once, in every process; a write that is rolled back leaves a token no cache holds.
    """

    token = models.CharField(max_length=32, blank=True, default="")

    def __str__(self) -> str:
        return f"Search index state {self.token}"


class SearchDoc(models.Model):
    """The narrow PostgreSQL row per case that matching, ranking and facet counts read.

    Its table is created by raw SQL in migration 0004 (PostgreSQL only: tsvector columns and
    integer facet codes the ORM never reads). It is declared here so Django knows the table
    exists: a test database flush must truncate it together with ``search_searchentry``, which it
    references. Only the key is described; the backend reads and writes the rest in SQL.
    """

    entry = models.OneToOneField(
        SearchEntry,
        on_delete=models.DO_NOTHING,
        primary_key=True,
        db_column="case_id",
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        db_table = "search_doc"
