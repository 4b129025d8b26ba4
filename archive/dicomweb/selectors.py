"""What a DICOMweb user may see: the cases ``archive.privacy.case_filter`` lets through (published
cases for everyone signed in, their own cases, everything for curators), as querysets."""

from __future__ import annotations

from django.db.models import QuerySet

from archive.models import Instance, Series, Study
from archive.privacy import case_filter

__all__ = ["visible_instances", "visible_series", "visible_studies"]


def visible_studies(*, user) -> QuerySet[Study]:
    return Study.objects.filter(case_filter(user, "case__")).select_related("case__diagnosis")


def visible_series(*, user, study_uid: str | None = None) -> QuerySet[Series]:
    qs = Series.objects.filter(case_filter(user, "study__case__")).select_related(
        "study__case__diagnosis"
    )
    if study_uid is not None:
        qs = qs.filter(study__study_uid=study_uid)
    return qs


def visible_instances(
    *,
    user,
    study_uid: str | None = None,
    series_uid: str | None = None,
    sop_uid: str | None = None,
) -> QuerySet[Instance]:
    qs = Instance.objects.filter(case_filter(user, "series__study__case__")).select_related(
        "series__study__case__diagnosis"
    )
    if study_uid is not None:
        qs = qs.filter(series__study__study_uid=study_uid)
    if series_uid is not None:
        qs = qs.filter(series__series_uid=series_uid)
    if sop_uid is not None:
        qs = qs.filter(sop_uid=sop_uid)
    return qs
