"""The student's daily review queue (spaced repetition) and bookmarks ("save for later")."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from archive import privacy
from archive.views.cases import viewable_case_or_404
from teaching import selectors
from teaching.models import Bookmark
from teaching.services import review as services


@login_required
def review_queue(request):
    user = request.user
    queue = services.review_queue(user=user)
    return render(
        request,
        "teaching/review_queue.html",
        {
            "queue": queue,
            "streak": services.streak(user=user),
            "next_due": services.next_due(user=user) if not len(queue) else None,
            "cards": user.review_cards.count(),
        },
    )


@login_required
def review_next(request):
    item = services.review_queue(user=request.user).first()
    if item is None:
        messages.success(request, _("Nothing more to review today. Well done!"))
        return redirect("teaching:review-queue")
    return redirect("teaching:review-case", pk=item.case.pk)


@login_required
def bookmarks(request):
    policy = privacy.policy_for(request.user)
    saved = [(b, policy.view(b.case)) for b in selectors.bookmarked_cases(user=request.user)]
    return render(request, "teaching/bookmarks.html", {"saved": saved})


@login_required
@require_POST
def bookmark_toggle(request, pk: int):
    case = viewable_case_or_404(request, pk)
    mark, created = Bookmark.objects.get_or_create(user=request.user, case=case)
    if created:
        messages.success(request, _("Saved for later: find it under Bookmarks."))
    else:
        mark.delete()
        messages.success(request, _("Removed from your bookmarks."))
    nxt = request.POST.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//"):
        return redirect(nxt)
    return redirect(case)
