"""Read-only questions the teaching pages ask: which image a case leads with, which key image
carries the lesion's region, what a student has waiting. Keyword-only, no side effects."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone

from archive import privacy
from archive.models import Case, Instance, KeyImage, Series
from teaching.localisation import REGION_TYPES
from teaching.models import Assignment, Attempt, Bookmark, CollectionEntry, TeachingClass


@dataclass(frozen=True)
class LeadImage:
    instance: Instance
    frame: int
    key_image: KeyImage | None = None

    def url(self, size: int | None = None) -> str:
        url = reverse("instance-frame", args=[self.instance.pk, self.frame]) + "?preset=default"
        return url + (f"&size={size}" if size else "")


def _middle_of(series: Series) -> LeadImage | None:
    instances = [i for i in series.instances.all() if i.has_pixels]
    if not instances:
        return None
    instances.sort(key=lambda i: (i.instance_number is None, i.instance_number or 0, i.pk))
    return LeadImage(instance=instances[len(instances) // 2], frame=0)


def case_lead_image(*, case: Case) -> LeadImage | None:
    """The case's first key image, else the middle of its longest series."""
    key = case.key_images.select_related("instance").first()
    if key is not None and key.instance.has_pixels:
        return LeadImage(instance=key.instance, frame=key.frame, key_image=key)
    series = (
        Series.objects.filter(study__case=case)
        .annotate(n=Count("instances"))
        .order_by("-n", "number", "pk")
        .first()
    )
    return _middle_of(series) if series is not None else None


def entry_lead_image(*, entry: CollectionEntry) -> LeadImage | None:
    """What the teacher chose to lead with, else the case's own lead."""
    key = entry.lead_key_image
    if key is not None and key.case_id == entry.case_id and key.instance.has_pixels:
        return LeadImage(instance=key.instance, frame=key.frame, key_image=key)
    if entry.lead_series is not None and entry.lead_series.study.case_id == entry.case_id:
        lead = _middle_of(entry.lead_series)
        if lead is not None:
            return lead
    return case_lead_image(case=entry.case)


def region_of(key_image: KeyImage | None) -> dict | None:
    """The lesion's region drawn on a key image (the first ellipse or polygon), if any."""
    if key_image is None:
        return None
    return next((a for a in key_image.annotations or [] if a.get("type") in REGION_TYPES), None)


def target_key_image(*, case: Case) -> KeyImage | None:
    """The key image a student clicks the lesion on: the first with a region."""
    for key in case.key_images.select_related("instance").all():
        if region_of(key) is not None and key.instance.has_pixels:
            return key
    return None


def open_assignments(*, student, now=None) -> QuerySet[Assignment]:
    """Assignments of the student's classes that are open now or not yet past due."""
    now = now or timezone.now()
    return (
        Assignment.objects.filter(klass__memberships__student=student, due_at__gt=now)
        .select_related("klass", "collection")
        .order_by("due_at", "pk")
        .distinct()
    )


def assignment_entries(*, assignment: Assignment, user) -> list[CollectionEntry]:
    return list(privacy.shown_entries(user, assignment.collection))


def assignment_progress(*, assignment: Assignment, student) -> tuple[int, int]:
    """(answered, total) cases of the assignment for one student."""
    total = len(assignment_entries(assignment=assignment, user=student))
    answered = Attempt.objects.filter(
        assignment=assignment, user=student, answered_at__isnull=False
    ).count()
    return answered, total


def pending_assignment_position(*, student, case: Case) -> tuple[Assignment, int] | None:
    """The assignment (and the 1-based position in it) where ``case`` waits for this student's
    answer, if it does: such a case is answered there, timed and scored."""
    if case.pk not in privacy.assignment_pending_cases(student):
        return None
    for assignment in open_assignments(student=student):
        entries = assignment_entries(assignment=assignment, user=student)
        for n, entry in enumerate(entries, 1):
            if (
                entry.case_id == case.pk
                and not Attempt.objects.filter(
                    assignment=assignment, user=student, case=case, answered_at__isnull=False
                ).exists()
            ):
                return assignment, n
    return None


def classes_of(*, user) -> QuerySet[TeachingClass]:
    return TeachingClass.objects.filter(privacy.class_filter(user)).distinct()


def bookmarked_cases(*, user) -> QuerySet[Bookmark]:
    return (
        Bookmark.objects.filter(user=user)
        .filter(privacy.case_filter(user, "case__"))
        .select_related("case", "case__diagnosis")
    )


def is_bookmarked(*, user, case: Case) -> bool:
    return user.is_authenticated and Bookmark.objects.filter(user=user, case=case).exists()
