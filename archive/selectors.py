"""Read-only queries shared by the views (keyword-only, returning querysets)."""

from __future__ import annotations

from django.db.models import F, Func, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from archive.models import Case, Instance, Series, UploadItem


def case_series(*, case: Case) -> QuerySet[Series]:
    """A case's series in viewing order, with their study and instances (the viewer names a
    series by its study's UID: one query per series otherwise)."""
    return (
        Series.objects.filter(study__case=case)
        .select_related("study")
        .prefetch_related("instances")
        .order_by("position", "study_id", "number", "pk")
    )


def lead_images(*, case_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(instance id, frame) of the image each case leads with — the image the viewer opens on:
    the teacher's lead image, else the first image of the teacher's lead series, else the first
    key image, else the first image of the longest series. Images without pixels never lead.

    One query for any number of cases (a page of search results), each rule a correlated
    subquery per case. Written as SQL: the same statement built with the ORM (four nested
    subqueries) took 5-7 ms to build and compile against well under 1 ms to run, on every
    search page."""
    from django.db import connections, router

    from archive.models import Instance, KeyImage, Study

    ids = [int(pk) for pk in case_ids]
    if not ids:
        return {}
    case, instance = Case._meta.db_table, Instance._meta.db_table
    series, study, key = Series._meta.db_table, Study._meta.db_table, KeyImage._meta.db_table
    connection = connections[router.db_for_read(Case)]
    order = connection.ops.quote_name("order")

    def first_image(series_id: str) -> str:
        # Instance number first (images without one last), then as stored.
        return (
            f"(SELECT i.id FROM {instance} i WHERE i.series_id = {series_id} AND i.has_pixels "
            "ORDER BY i.instance_number IS NULL, i.instance_number, i.id LIMIT 1)"
        )

    def first_key(column: str) -> str:
        return (
            f"(SELECT k.{column} FROM {key} k JOIN {instance} ki ON ki.id = k.instance_id "
            f"WHERE k.case_id = c.id AND ki.has_pixels ORDER BY k.{order}, k.id LIMIT 1)"
        )

    longest = (
        f"(SELECT s.id FROM {series} s JOIN {study} st ON st.id = s.study_id "
        f"JOIN {instance} si ON si.series_id = s.id AND si.has_pixels WHERE st.case_id = c.id "
        "GROUP BY s.id, s.study_id, s.number "
        "ORDER BY COUNT(*) DESC, s.study_id, s.number, s.id LIMIT 1)"
    )
    sql = (
        "SELECT c.id, c.lead_instance_id, li.has_pixels, c.lead_series_id, "
        f"{first_image('c.lead_series_id')}, "
        f"{first_key('instance_id')}, {first_key('frame')}, "
        # Counting a case's images per series is the dear part: only where nothing the teacher
        # chose leads (the database evaluates a CASE branch only when it is taken).
        "CASE WHEN c.lead_series_id IS NULL AND (li.id IS NULL OR NOT li.has_pixels) "
        f"THEN {first_image(longest)} END "
        f"FROM {case} c LEFT JOIN {instance} li ON li.id = c.lead_instance_id "
        f"WHERE c.id IN ({', '.join(['%s'] * len(ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        rows = cursor.fetchall()
    lead: dict[int, tuple[int, int]] = {}
    for case_id, instance_id, has_pixels, series_id, chosen, key_id, frame, longest_id in rows:
        if instance_id and has_pixels:  # the teacher's choice first: an image, else a series
            lead[case_id] = (instance_id, 0)
        elif series_id:
            if chosen:
                lead[case_id] = (chosen, 0)
        elif key_id:
            lead[case_id] = (key_id, frame)
        elif longest_id:
            lead[case_id] = (longest_id, 0)
    return lead


def _per_case(rows: QuerySet):
    """How many of ``rows`` (filtered on ``OuterRef("pk")``) each case has: a correlated
    subquery that the database runs only for the cases it is asked for."""
    # COUNT as a plain function: the ORM adds no GROUP BY, and the subquery has one row.
    counted = rows.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def image_count():
    """A case's number of anonymized images, as an expression over ``Case`` rows."""
    return _per_case(Instance.objects.filter(series__study__case=OuterRef("pk")))


def _items_of_case(status: str):
    return _per_case(UploadItem.objects.filter(upload__case=OuterRef("pk"), status=status))


def with_file_counts(cases: QuerySet[Case]) -> QuerySet[Case]:
    """``cases`` with their number of images (``n_images``), rejected (``n_rejected``) and
    quarantined (``n_quarantined``) files: for the rows of a page already chosen, so that the
    database never counts for rows it skips or sorts."""
    return cases.annotate(
        n_images=image_count(),
        n_rejected=_items_of_case(UploadItem.Status.REJECTED),
        n_quarantined=_items_of_case(UploadItem.Status.QUARANTINED),
    )
