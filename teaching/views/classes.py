"""Classes and assignments: the teacher's class page (join code, invitations, assignments), a
student's join form, and an assignment's page (a student sees only their own answers)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from archive import privacy
from teaching import selectors
from teaching.forms import AssignmentForm
from teaching.models import Assignment, Attempt, TeachingClass
from teaching.services import classes as services


def class_or_404(request, pk: int) -> TeachingClass:
    klass = get_object_or_404(TeachingClass, pk=pk)
    if not privacy.can_view_class(request.user, klass):
        raise Http404
    return klass


def taught_class(request, pk: int) -> TeachingClass:
    klass = class_or_404(request, pk)
    if not privacy.is_class_teacher(request.user, klass):
        raise PermissionDenied
    return klass


@login_required
def class_list(request):
    user = request.user
    return render(
        request,
        "teaching/class_list.html",
        {
            "taught": user.taught_classes.all(),
            "joined": TeachingClass.objects.filter(memberships__student=user),
            "can_create": privacy.is_teacher(user),
        },
    )


@login_required
@require_POST
def class_create(request):
    if not privacy.is_teacher(request.user):
        raise PermissionDenied
    try:
        klass = services.create_class(teacher=request.user, name=request.POST.get("name", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("teaching:class-list")
    messages.success(request, _("Class created. Invite students or give them the join code."))
    return redirect(klass)


@login_required
def class_detail(request, pk: int):
    klass = class_or_404(request, pk)
    user = request.user
    teacher = privacy.is_class_teacher(user, klass)
    now = timezone.now()
    assignments = list(klass.assignments.select_related("collection"))
    rows = []
    for a in assignments:
        row = {"assignment": a, "open": a.is_open(now), "past": a.is_past_due(now)}
        if not teacher:
            row["answered"], row["total"] = selectors.assignment_progress(
                assignment=a, student=user
            )
        rows.append(row)
    return render(
        request,
        "teaching/class_detail.html",
        {
            "klass": klass,
            "teacher": teacher,
            "rows": rows,
            "teachers": klass.teachers.all(),
            "memberships": klass.memberships.select_related("student") if teacher else [],
            "form": AssignmentForm(user=user) if teacher else None,
        },
    )


@login_required
@require_POST
def class_invite(request, pk: int):
    klass = taught_class(request, pk)
    try:
        added, missing = services.invite_students(
            klass=klass, user=request.user, usernames=request.POST.get("usernames", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(klass)
    if added:
        messages.success(request, _("Added to the class: %(names)s.") % {"names": ", ".join(added)})
    if missing:
        messages.error(
            request,
            _("No account has these user names: %(names)s. Check the spelling.")
            % {"names": ", ".join(missing)},
        )
    return redirect(klass)


@login_required
@require_POST
def class_remove_student(request, pk: int, user_pk: int):
    klass = taught_class(request, pk)
    services.remove_student(klass=klass, user=request.user, student_id=user_pk)
    messages.success(request, _("Student removed from the class."))
    return redirect(klass)


@login_required
@require_POST
def assignment_create(request, pk: int):
    klass = taught_class(request, pk)
    form = AssignmentForm(request.POST, user=request.user)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(klass)
    try:
        assignment = services.create_assignment(
            klass=klass,
            user=request.user,
            collection=form.cleaned_data["collection"],
            title=form.cleaned_data["title"],
            opens_at=form.cleaned_data["opens_at"],
            due_at=form.cleaned_data["due_at"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(klass)
    messages.success(request, _("Assigned. The students see it on their home page."))
    return redirect(assignment)


@login_required
def class_join(request):
    if request.method == "POST":
        try:
            klass = services.join_class(user=request.user, code=request.POST.get("code", ""))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("You joined the class “%(name)s”.") % {"name": klass.name})
            return redirect(klass)
    return render(request, "teaching/class_join.html")


@login_required
def assignment_detail(request, pk: int):
    assignment = get_object_or_404(Assignment.objects.select_related("klass", "collection"), pk=pk)
    if not privacy.can_view_assignment(request.user, assignment):
        raise Http404
    user = request.user
    teacher = privacy.is_class_teacher(user, assignment.klass)
    entries = selectors.assignment_entries(assignment=assignment, user=user)
    policy = privacy.policy_for(user)
    mine = {}
    if not teacher:
        mine = {
            a.case_id: a
            for a in Attempt.objects.filter(assignment=assignment, user=user).filter(
                privacy.attempt_filter(user)
            )
        }
    rows = []
    for n, entry in enumerate(entries, 1):
        attempt = mine.get(entry.case_id)
        view = policy.view(entry.case)
        rows.append(
            {
                "n": n,
                "entry": entry,
                # A student sees only "Case n" until answered; teachers see the title.
                "title": view.title if (teacher or not view.hidden) else "",
                "attempt": attempt if attempt and attempt.answered else None,
            }
        )
    now = timezone.now()
    return render(
        request,
        "teaching/assignment_detail.html",
        {
            "assignment": assignment,
            "teacher": teacher,
            "rows": rows,
            "open": assignment.is_open(now),
            "not_yet": now < assignment.opens_at,
            "past": assignment.is_past_due(now),
            "answered": sum(1 for r in rows if r["attempt"]),
        },
    )
