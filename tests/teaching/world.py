"""The teaching objects the permission matrix and the privacy walk fill their URLs with."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from archive.models import Case
from teaching.models import (
    Assignment,
    Attempt,
    Collection,
    CollectionEntry,
    Membership,
    TeachingClass,
)


def teaching_world(
    *,
    teacher,
    student,
    cases: list[Case],
    visibility: str = Collection.Visibility.PRIVATE,
    unknown: bool = False,
    answered_by=None,
) -> dict:
    """A collection of ``cases`` by ``teacher``, a class of ``student`` taught by ``teacher``
    with the collection assigned (open), and an answered attempt by ``answered_by`` on the
    first case (written directly: no quiz answer is recorded). Returns the URL values."""
    collection = Collection.objects.create(
        owner=teacher, title="Chest emergencies", visibility=visibility
    )
    entries = [
        CollectionEntry.objects.create(
            collection=collection, case=case, position=n, show_as_unknown=unknown
        )
        for n, case in enumerate(cases)
    ]
    klass = TeachingClass.objects.create(name="Year 4 radiology", created_by=teacher)
    klass.teachers.add(teacher)
    Membership.objects.create(klass=klass, student=student)
    now = timezone.now()
    assignment = Assignment.objects.create(
        klass=klass,
        collection=collection,
        title="Week 1",
        opens_at=now - dt.timedelta(hours=1),
        due_at=now + dt.timedelta(days=7),
        created_by=teacher,
    )
    answerer = answered_by or student
    if answered_by is not None and answered_by != student:
        Membership.objects.create(klass=klass, student=answered_by)
    attempt = Attempt.objects.create(
        user=answerer,
        case=cases[0],
        kind=Attempt.Kind.ASSIGNMENT,
        assignment=assignment,
        started_at=now - dt.timedelta(minutes=1),
        answered_at=now,
        answer_text="pneumothorax",
        correct=True,
        score=1.0,
    )
    return {
        "collection": collection.pk,
        "entry": entries[0].pk,
        "klass": klass.pk,
        "assignment": assignment.pk,
        "attempt": attempt.pk,
        "student_id": student.pk,
    }
