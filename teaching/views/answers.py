"""Answering a case as an unknown, timed and scored: in an assignment, in the review queue, or
an entry of a collection shown as unknown. The page shows the images (the case viewer) beside
the answer, and the key image to click the lesion on when the teacher drew its region; the
answer fields stay out of the page (``archive.privacy.unknown_view``) until the student has
answered. Then the result: the reveal, the click with the region, and "Next case"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from archive import privacy
from archive.models import Case
from archive.selectors import case_series
from archive.services import quiz
from archive.views.case_page import viewer_data
from archive.views.cases import viewable_case_or_404
from teaching import selectors
from teaching.models import Assignment, Attempt
from teaching.services import answers as services
from teaching.services.review import review_queue
from teaching.views.collections import collection_or_404


def _lead_in(data: dict, lead: selectors.LeadImage | None) -> None:
    """Open the viewer at the entry's lead image (the viewer's own default otherwise)."""
    if lead is None:
        return
    for s_index, series in enumerate(data["series"]):
        position = 0
        for image in series["images"]:
            if image["id"] == lead.instance.pk:
                data["lead"] = {"series": s_index, "position": position + lead.frame}
                return
            position += image["frames"]


def _answer_page(
    request,
    *,
    case: Case,
    attempt: Attempt,
    heading: str,
    action: str,
    context_line: str = "",
    lead: selectors.LeadImage | None = None,
):
    view = privacy.unknown_view(privacy.policy_for(request.user).view(case))
    data = viewer_data(view, case_series(case=case))
    _lead_in(data, lead)
    target = selectors.target_key_image(case=case)
    return render(
        request,
        "teaching/answer.html",
        {
            "case": case,
            "heading": heading,
            "context_line": context_line,
            "history": view.text(case.history),
            "viewer_data": data,
            "has_images": any(s["images"] for s in data["series"]),
            "can_edit": False,
            "attempt": attempt,
            "action": action,
            "target": target,
            "click_text": {
                "none": _("No click yet."),
                "at": _("Your click is at %(x)s across and %(y)s down. Click again to move it."),
            },
            "target_url": (
                reverse("instance-frame", args=[target.instance_id, target.frame])
                + "?preset=default"
                if target
                else ""
            ),
        },
    )


def _answer(request, attempt: Attempt):
    """POST: score the answer; back to the form with the reason if it cannot be scored."""
    try:
        services.answer_attempt(
            attempt=attempt,
            text=request.POST.get("answer", ""),
            unsure=request.POST.get("unsure") == "on",
            click=services.parse_click(request.POST.get("click_x"), request.POST.get("click_y")),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return None
    return redirect("teaching:attempt-result", pk=attempt.pk)


# --- In an assignment ----------------------------------------------------------------------------


def _assignment_or_404(request, pk: int) -> Assignment:
    assignment = get_object_or_404(Assignment.objects.select_related("klass", "collection"), pk=pk)
    if not privacy.can_view_assignment(request.user, assignment):
        raise Http404
    return assignment


@login_required
def assignment_case(request, pk: int, position: int):
    assignment = _assignment_or_404(request, pk)
    entries = selectors.assignment_entries(assignment=assignment, user=request.user)
    if not 1 <= position <= len(entries):
        raise Http404
    case = entries[position - 1].case
    if not privacy.is_class_student(request.user, assignment.klass):
        return redirect(case)  # its teachers read the case itself
    now = timezone.now()
    answered = Attempt.objects.filter(
        assignment=assignment, user=request.user, case=case, answered_at__isnull=False
    ).first()
    if answered is not None:
        return redirect("teaching:attempt-result", pk=answered.pk)
    if now < assignment.opens_at:
        messages.error(request, _("This assignment is not open yet."))
        return redirect(assignment)
    if assignment.is_past_due(now):
        messages.error(request, _("This assignment is past its due date: answers are closed."))
        return redirect(assignment)
    attempt = services.open_attempt(
        user=request.user, case=case, kind=Attempt.Kind.ASSIGNMENT, assignment=assignment
    )
    if request.method == "POST":
        response = _answer(request, attempt)
        if response is not None:
            return response
    return _answer_page(
        request,
        case=case,
        attempt=attempt,
        heading=_("Case %(n)s of %(total)s") % {"n": position, "total": len(entries)},
        context_line=assignment.title,
        action=request.path,
        lead=selectors.entry_lead_image(entry=entries[position - 1]),
    )


# --- In the review queue -------------------------------------------------------------------------


@login_required
def review_case(request, pk: int):
    case = viewable_case_or_404(request, pk)
    if not case.is_published:
        raise Http404
    pending = selectors.pending_assignment_position(student=request.user, case=case)
    if pending is not None:
        return redirect("teaching:assignment-case", pk=pending[0].pk, position=pending[1])
    attempt = services.open_attempt(user=request.user, case=case, kind=Attempt.Kind.REVIEW)
    if request.method == "POST":
        response = _answer(request, attempt)
        if response is not None:
            return response
    queue = review_queue(user=request.user)
    return _answer_page(
        request,
        case=case,
        attempt=attempt,
        heading=pgettext("spaced repetition", "Review"),
        context_line=_("%(n)s cases left today") % {"n": len(queue)},
        action=request.path,
    )


# --- An entry of a collection shown as unknown ---------------------------------------------------


@login_required
def entry_study(request, pk: int, entry_pk: int):
    collection = collection_or_404(request, pk)
    entries = list(privacy.shown_entries(request.user, collection))
    entry = next((e for e in entries if e.pk == entry_pk), None)
    if entry is None:
        raise Http404
    view = privacy.entry_view(request.user, entry)
    if not (entry.show_as_unknown and view.hidden):
        return redirect(entry.case)  # nothing to answer: the case page shows it
    attempt = services.open_attempt(
        user=request.user, case=entry.case, kind=Attempt.Kind.COLLECTION, collection=collection
    )
    if request.method == "POST":
        response = _answer(request, attempt)
        if response is not None:
            return response
    n = entries.index(entry) + 1
    return _answer_page(
        request,
        case=entry.case,
        attempt=attempt,
        heading=_("Unknown case %(n)s") % {"n": n},
        context_line=collection.title,
        action=request.path,
        lead=selectors.entry_lead_image(entry=entry),
    )


# --- The result ----------------------------------------------------------------------------------


def _next_url(request, attempt: Attempt) -> str:
    user = request.user
    if attempt.assignment_id and attempt.user_id == user.pk:
        assignment = attempt.assignment
        entries = selectors.assignment_entries(assignment=assignment, user=user)
        done = set(
            Attempt.objects.filter(
                assignment=assignment, user=user, answered_at__isnull=False
            ).values_list("case_id", flat=True)
        )
        for n, entry in enumerate(entries, 1):
            if entry.case_id not in done and not assignment.is_past_due():
                return reverse("teaching:assignment-case", args=[assignment.pk, n])
        return assignment.get_absolute_url()
    if attempt.kind == Attempt.Kind.REVIEW:
        return reverse("teaching:review-next")
    if attempt.collection_id and privacy.can_view_collection(user, attempt.collection):
        entries = list(privacy.shown_entries(user, attempt.collection))
        ids = [e.case_id for e in entries]
        if attempt.case_id in ids:
            for entry in entries[ids.index(attempt.case_id) + 1 :]:
                if entry.show_as_unknown and privacy.entry_view(user, entry).hidden:
                    return reverse("teaching:entry-study", args=[entry.collection_id, entry.pk])
                return entry.case.get_absolute_url()
        return attempt.collection.get_absolute_url()
    return ""


@login_required
def attempt_result(request, pk: int):
    attempt = get_object_or_404(
        Attempt.objects.select_related("case", "case__diagnosis", "assignment__klass", "key_image"),
        pk=pk,
    )
    if not privacy.can_view_attempt(request.user, attempt) or not attempt.answered:
        raise Http404
    case = attempt.case
    if not privacy.can_view_case(request.user, case):
        raise Http404
    view = privacy.policy_for(request.user).view(case)
    key = attempt.key_image or selectors.target_key_image(case=case)
    return render(
        request,
        "teaching/result.html",
        {
            "attempt": attempt,
            "case": case,
            "view": view,
            "own": attempt.user_id == request.user.pk,
            "title": view.title,
            "history": view.text(case.history),
            "diagnosis_name": (
                quiz.display_name(case.diagnosis, get_language()) if case.diagnosis else ""
            ),
            "key": key,
            "key_url": (
                reverse("instance-frame", args=[key.instance_id, key.frame]) + "?preset=default"
                if key and not view.hidden
                else ""
            ),
            "region": selectors.region_of(key) if not view.hidden else None,
            "next_url": _next_url(request, attempt),
        },
    )
