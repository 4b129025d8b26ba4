"""Quiz mode for students: answer a case (free text or multiple choice, the images beside the
choices), then see the reveal; and "My progress", the score per topic, the review streak and
due cards, and the answered cases, searchable."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from archive import privacy
from archive.selectors import case_series
from archive.services import quiz
from archive.views.case_page import viewer_data
from archive.views.cases import viewable_case_or_404
from teaching.selectors import pending_assignment_position
from teaching.services import review


@login_required
@require_POST
def quiz_answer(request, pk: int):
    case = viewable_case_or_404(request, pk)
    if not privacy.case_view(request.user, case).hidden:
        return redirect(case)
    raw_choice = request.POST.get("choice", "")
    choice = int(raw_choice) if raw_choice.isdigit() else None
    if "choice" in request.POST and choice is None:
        messages.error(request, _("Choose one of the offered answers."))
        return redirect("quiz-choices", pk=case.pk)
    pending = pending_assignment_position(student=request.user, case=case)
    if pending is not None:  # answered there, timed and scored
        return redirect("teaching:assignment-case", pk=pending[0].pk, position=pending[1])
    try:
        quiz.answer_case(
            user=request.user,
            case=case,
            text=request.POST.get("answer", ""),
            choice=choice,
            language=get_language(),
            seconds=quiz.seconds_since(request.POST.get("started", ""), request.user, case),
        )
    except ValueError as exc:
        messages.error(request, _(str(exc)))
        return redirect(case)
    return redirect(f"{case.get_absolute_url()}#quiz-result")


@login_required
def quiz_choices(request, pk: int):
    case = viewable_case_or_404(request, pk)
    view = privacy.case_view(request.user, case)
    if not view.hidden:
        return redirect(case)
    options = quiz.choices_for(request.user, case, get_language())
    if len(options) < 2:
        return redirect(case)
    # The images stay beside the choices: the same viewer as the case page.
    data = viewer_data(view, case_series(case=case))
    return render(
        request,
        "archive/quiz_choices.html",
        {
            "case": case,
            "title": view.title,
            "options": [o.text for o in options],
            "viewer_data": data,
            "has_images": any(s["images"] for s in data["series"]),
            "can_edit": False,
            "quiz_started": quiz.start_token(request.user, case),
        },
    )


@login_required
def my_progress(request):
    user = request.user
    context = quiz.progress(user=user, search=request.GET.get("q", ""))
    context["tables"] = [
        (_("By organ system"), context["by_organ_system"]),
        (_("By body region"), context["by_body_region"]),
    ]
    context["streak"] = review.streak(user=user)
    context["review_count"] = len(review.review_queue(user=user))
    context["next_due"] = review.next_due(user=user)
    return render(request, "archive/my_progress.html", context)
