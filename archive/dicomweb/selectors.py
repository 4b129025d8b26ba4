"""What a DICOMweb user may see: published cases for everyone signed in, plus their own cases,
plus everything for curators (the rule of ``archive.services.cases.can_view``)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from archive.models import Case, Instance, Series, Study

__all__ = ["visible_instances", "visible_series", "visible_studies"]


def _case_filter(user, prefix: str) -> Q:
    if user.has_perm("archive.publish_case"):
        return Q()
    return Q(**{f"{prefix}status": Case.Status.PUBLISHED}) | Q(**{f"{prefix}owner": user})


def visible_studies(*, user) -> QuerySet[Study]:
    return Study.objects.filter(_case_filter(user, "case__"))


def visible_series(*, user, study_uid: str) -> QuerySet[Series]:
    return Series.objects.filter(_case_filter(user, "study__case__"), study__study_uid=study_uid)


def visible_instances(
    *, user, study_uid: str, series_uid: str | None = None, sop_uid: str | None = None
) -> QuerySet[Instance]:
    qs = Instance.objects.filter(
        _case_filter(user, "series__study__case__"), series__study__study_uid=study_uid
    ).select_related("series__study")
    if series_uid is not None:
        qs = qs.filter(series__series_uid=series_uid)
    if sop_uid is not None:
        qs = qs.filter(sop_uid=sop_uid)
    return qs
