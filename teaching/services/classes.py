"""Classes and assignments: a teacher creates a class, invites students by user name or hands
out the class's join code, and assigns a collection with an opening and a due date."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from archive import privacy
from teaching.models import Assignment, Collection, Membership, TeachingClass, new_join_code


def _teaches(user, klass: TeachingClass) -> None:
    if not privacy.is_class_teacher(user, klass):
        raise PermissionDenied


@transaction.atomic
def create_class(*, teacher, name: str) -> TeachingClass:
    if not privacy.is_teacher(teacher):
        raise PermissionDenied
    name = " ".join((name or "").split())[:200]
    if not name:
        raise ValidationError(_("Give the class a name."))
    for _attempt in range(5):  # a join code collision is rare; draw again
        try:
            with transaction.atomic():
                klass = TeachingClass.objects.create(
                    name=name, created_by=teacher, join_code=new_join_code()
                )
            break
        except IntegrityError:
            continue
    else:
        raise ValidationError(_("The class could not be created. Try again."))
    klass.teachers.add(teacher)
    return klass


@transaction.atomic
def invite_students(*, klass: TeachingClass, user, usernames: str) -> tuple[list[str], list[str]]:
    """Add the named users as students; returns (added, not found)."""
    _teaches(user, klass)
    names = list(dict.fromkeys(n for n in re.split(r"[\s,;]+", usernames or "") if n))
    if not names:
        raise ValidationError(_("Type the user names of the students to add."))
    users = {
        u.username: u for u in get_user_model().objects.filter(username__in=names, is_active=True)
    }
    teachers = set(klass.teachers.values_list("pk", flat=True))
    added = []
    for name in names:
        student = users.get(name)
        if student is None or student.pk in teachers:
            continue
        _membership, created = Membership.objects.get_or_create(klass=klass, student=student)
        if created:
            added.append(name)
    missing = [n for n in names if n not in users]
    return added, missing


def join_class(*, user, code: str) -> TeachingClass:
    code = "".join((code or "").split()).upper()
    klass = TeachingClass.objects.filter(join_code=code).first() if code else None
    if klass is None:
        raise ValidationError(_("No class has this code. Check it with your teacher."))
    if not privacy.is_class_teacher(user, klass):
        Membership.objects.get_or_create(klass=klass, student=user)
    return klass


@transaction.atomic
def remove_student(*, klass: TeachingClass, user, student_id: int) -> None:
    _teaches(user, klass)
    Membership.objects.filter(klass=klass, student_id=student_id).delete()


@transaction.atomic
def create_assignment(
    *, klass: TeachingClass, user, collection: Collection, title: str, opens_at, due_at
) -> Assignment:
    _teaches(user, klass)
    if not privacy.can_present_collection(user, collection):
        raise ValidationError(_("Choose a collection you may see."))
    if not privacy.shown_entries(user, collection).exists():
        raise ValidationError(_("This collection has no published case to assign."))
    if due_at <= opens_at:
        raise ValidationError(_("The due date must come after the opening."))
    title = " ".join((title or "").split())[:200] or collection.title
    return Assignment.objects.create(
        klass=klass,
        collection=collection,
        title=title,
        opens_at=opens_at,
        due_at=due_at,
        created_by=user,
    )
