"""Results for a class's teachers: an assignment per case and per student (and as CSV), one
student's progress over time. Everyone else gets a 404: results are not theirs to know of."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.text import slugify

from archive import privacy
from teaching.models import Assignment, TeachingClass
from teaching.services import results as services


def _results_assignment(request, pk: int) -> Assignment:
    assignment = get_object_or_404(Assignment.objects.select_related("klass", "collection"), pk=pk)
    if not privacy.can_view_results(request.user, assignment):
        raise Http404
    return assignment


@login_required
def assignment_results(request, pk: int):
    assignment = _results_assignment(request, pk)
    results = services.assignment_results(assignment=assignment, user=request.user)
    return render(
        request,
        "teaching/results.html",
        {"assignment": assignment, "results": results},
    )


@login_required
def assignment_results_csv(request, pk: int):
    assignment = _results_assignment(request, pk)
    body = services.assignment_csv(assignment=assignment, user=request.user)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    name = slugify(assignment.title)[:60] or "assignment"
    response["Content-Disposition"] = f'attachment; filename="{name}-results.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def student_progress(request, pk: int, user_pk: int):
    klass = get_object_or_404(TeachingClass, pk=pk)
    if not privacy.is_class_teacher(request.user, klass):
        raise Http404
    student = get_object_or_404(get_user_model(), pk=user_pk)
    if not klass.memberships.filter(student=student).exists():
        raise Http404
    context = services.student_progress(klass=klass, user=request.user, student=student)
    return render(
        request, "teaching/student_progress.html", {"klass": klass, "student": student, **context}
    )
