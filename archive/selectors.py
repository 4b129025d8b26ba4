"""Read-only queries shared by the views (keyword-only, returning querysets)."""

from __future__ import annotations

from django.db.models import QuerySet

from archive.models import Case, Series


def case_series(*, case: Case) -> QuerySet[Series]:
    """A case's series in viewing order, with their instances prefetched."""
    return (
        Series.objects.filter(study__case=case)
        .prefetch_related("instances")
        .order_by("position", "study_id", "number", "pk")
    )


def lead_images(*, case_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(instance id, frame) of the image each case leads with — the image the viewer opens on:
    the teacher's lead image, else the first image of the teacher's lead series, else the first
    key image, else the first image of the longest series. Four queries for any number of cases
    (a page of search results)."""
    from django.db.models import Count, F, Q

    from archive.models import Instance, KeyImage

    lead: dict[int, tuple[int, int]] = {}
    # The teacher's choice first: an image, else a series (its first image, below).
    chosen = Case.objects.filter(pk__in=case_ids).values_list(
        "pk", "lead_instance_id", "lead_instance__has_pixels", "lead_series_id"
    )
    chosen_series: dict[int, int] = {}
    for case_id, instance_id, has_pixels, series_id in chosen:
        if instance_id and has_pixels:
            lead[case_id] = (instance_id, 0)
        elif series_id:
            chosen_series[case_id] = series_id
    keys = KeyImage.objects.filter(
        case_id__in=[pk for pk in case_ids if pk not in lead and pk not in chosen_series],
        instance__has_pixels=True,
    )
    for case_id, instance_id, frame in keys.order_by("case_id", "order", "pk").values_list(
        "case_id", "instance_id", "frame"
    ):
        lead.setdefault(case_id, (instance_id, frame))
    rest = [pk for pk in case_ids if pk not in lead]
    if not rest:
        return lead
    longest: dict[int, int] = dict(chosen_series)
    series = (
        Series.objects.filter(study__case_id__in=rest)
        .annotate(images=Count("instances", filter=Q(instances__has_pixels=True)))
        .filter(images__gt=0)
        .order_by("study__case_id", "-images", "study_id", "number", "pk")
        .values_list("study__case_id", "pk")
    )
    for case_id, series_id in series:
        longest.setdefault(case_id, series_id)
    firsts = (
        Instance.objects.filter(series_id__in=longest.values(), has_pixels=True)
        .order_by("series_id", F("instance_number").asc(nulls_last=True), "pk")
        .values_list("series_id", "pk")
    )
    first_of: dict[int, int] = {}
    for series_id, instance_id in firsts:
        first_of.setdefault(series_id, instance_id)
    for case_id, series_id in longest.items():
        if series_id in first_of:
            lead[case_id] = (first_of[series_id], 0)
    return lead
