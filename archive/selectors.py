"""Read-only queries shared by the views (keyword-only, returning querysets)."""

from __future__ import annotations

from django.db.models import QuerySet

from archive.models import Case, Series


def case_series(*, case: Case) -> QuerySet[Series]:
    """A case's series in viewing order, with their instances prefetched."""
    return (
        Series.objects.filter(study__case=case)
        .prefetch_related("instances")
        .order_by("study_id", "number", "pk")
    )
