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
    key image, else the first image of the longest series. One query for any number of cases
    (a page of search results): each rule is a correlated subquery per case."""
    from django.db.models import Case as Choose
    from django.db.models import Count, F, OuterRef, Q, Subquery, When

    from archive.models import Instance, KeyImage

    if not case_ids:
        return {}

    def first_image(series):
        return Subquery(
            Instance.objects.filter(series_id=series, has_pixels=True)
            .order_by(F("instance_number").asc(nulls_last=True), "pk")
            .values("pk")[:1]
        )

    key = KeyImage.objects.filter(case_id=OuterRef("pk"), instance__has_pixels=True).order_by(
        "order", "pk"
    )
    longest = (
        Series.objects.filter(study__case_id=OuterRef(OuterRef("pk")))
        .annotate(images=Count("instances", filter=Q(instances__has_pixels=True)))
        .filter(images__gt=0)
        .order_by("-images", "study_id", "number", "pk")
        .values("pk")[:1]
    )
    rows = (
        Case.objects.filter(pk__in=case_ids)
        .order_by()
        .annotate(
            first_of_chosen=first_image(OuterRef("lead_series_id")),
            key_instance=Subquery(key.values("instance_id")[:1]),
            key_frame=Subquery(key.values("frame")[:1]),
            # Counting a case's images per series is the dear part: only where nothing the
            # teacher chose leads (the database evaluates a CASE branch only when taken).
            first_of_longest=Choose(
                When(
                    Q(lead_series__isnull=True)
                    & (Q(lead_instance__isnull=True) | Q(lead_instance__has_pixels=False)),
                    then=first_image(Subquery(longest)),
                )
            ),
        )
        .values_list(
            "pk",
            "lead_instance_id",
            "lead_instance__has_pixels",
            "lead_series_id",
            "first_of_chosen",
            "key_instance",
            "key_frame",
            "first_of_longest",
        )
    )
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
