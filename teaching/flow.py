"""The quiz flow around a case page: where "Next case" leads after an answer (the search results
the student came from, else the review queue), what the home page shows (assignments, the
review queue, the case of the day, bookmarks), and what the case page offers (bookmark, add to
a collection, mark the lesion, answer in the assignment)."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from archive import privacy
from archive.models import Case
from search.facets import parse_filters
from search.services import search_cases
from teaching import selectors
from teaching.models import Collection
from teaching.services.review import review_queue, streak

SESSION_SEARCH = "teaching.last_search"


def remember_search(request) -> None:
    """A case opened from the search page: keep that search, so "Next case" follows it."""
    referer = request.headers.get("Referer", "")
    if not referer:
        return
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc != request.get_host():
        return
    if parts.path == reverse("search"):
        request.session[SESSION_SEARCH] = parts.query[:2000]


def _next_in_search(request, case: Case) -> str:
    query = request.session.get(SESSION_SEARCH)
    if query is None:
        return ""
    data = QueryDict(query)
    page = search_cases(
        text=data.get("q", ""),
        filters=parse_filters(data),
        page=1,
        page_size=100,
        user=request.user,
    )
    ids = [r["id"] for r in page.results]
    if case.pk not in ids:
        return ""
    rest = ids[ids.index(case.pk) + 1 :]
    return reverse("case-detail", args=[rest[0]]) if rest else ""


def next_case_url(request, case: Case) -> str:
    """After answering ``case`` on its page: the next search result, else the review queue."""
    url = _next_in_search(request, case)
    if url:
        return url
    if len(review_queue(user=request.user)):
        return reverse("teaching:review-next")
    return ""


def case_of_the_day(*, user, now=None) -> tuple[privacy.CaseView, selectors.LeadImage | None]:
    """One published case a day, the same for everyone, as ``user`` may see it."""
    now = now or timezone.now()
    ids = list(Case.objects.published().order_by("pk").values_list("pk", flat=True))
    if not ids:
        return None, None
    day = timezone.localtime(now).date().isoformat()
    pick = ids[int(hashlib.sha256(day.encode()).hexdigest(), 16) % len(ids)]
    case = Case.objects.select_related("diagnosis").get(pk=pick)
    return privacy.policy_for(user).view(case), selectors.case_lead_image(case=case)


def home_panels(user) -> dict:
    """The home page's teaching panels for a signed-in user."""
    if not user.is_authenticated:
        return {}
    now = timezone.now()
    assignments = []
    for a in selectors.open_assignments(student=user, now=now):
        answered, total = selectors.assignment_progress(assignment=a, student=user)
        assignments.append(
            {"assignment": a, "answered": answered, "total": total, "open": a.is_open(now)}
        )
    view, lead = case_of_the_day(user=user, now=now)
    return {
        "assignments": assignments,
        "review_count": len(review_queue(user=user, now=now)),
        "streak": streak(user=user, now=now),
        "case_of_the_day": view,
        "case_of_the_day_image": lead.url(256) if lead else "",
        "bookmark_count": selectors.bookmarked_cases(user=user).count(),
        "is_teacher": privacy.is_teacher(user),
        "taught_classes": user.taught_classes.all()[:10] if privacy.is_teacher(user) else [],
        "my_collections": (
            privacy.visible_collections(user).filter(owner=user)[:10]
            if privacy.is_teacher(user)
            else []
        ),
    }


def case_page_extras(request, case: Case) -> dict:
    """What the case page adds for the teaching loop."""
    user = request.user
    pending = selectors.pending_assignment_position(student=user, case=case)
    return {
        "bookmarked": selectors.is_bookmarked(user=user, case=case),
        "my_collections": (
            Collection.objects.filter(owner=user).order_by("title")
            if privacy.is_teacher(user) and case.is_published
            else []
        ),
        "pending_assignment": pending[0] if pending else None,
        "pending_url": (
            reverse("teaching:assignment-case", args=[pending[0].pk, pending[1]]) if pending else ""
        ),
    }
