"""Peer review comments on a case: its teacher, other teachers and curators write them (the
privacy policy's ``can_comment_case``); the case's teacher, and whoever commented on it, see
how many are unread on "My cases" until they open the case."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from archive import privacy
from archive.models import UNCONFIRMED_CERTAINTIES, Case, CaseComment, CaseCommentsSeen

MAX_LENGTH = 4000


def add_comment(*, case: Case, user, text: str) -> CaseComment:
    if not privacy.can_comment_case(user, case):
        raise PermissionDenied
    text = text.strip()
    if not text:
        raise ValidationError("Write the comment first.")
    comment = CaseComment.objects.create(case=case, author=user, text=text[:MAX_LENGTH])
    mark_seen(case=case, user=user)  # one's own comment is not news to oneself
    return comment


def mark_seen(*, case: Case, user) -> None:
    if user.is_authenticated:
        CaseCommentsSeen.objects.update_or_create(
            user=user, case=case, defaults={"seen_at": timezone.now()}
        )


def unread_comments(*, user) -> QuerySet[CaseComment]:
    """Comments by others, newer than the user's last look, on the user's own cases and on the
    cases the user commented on (a curator who asked for changes hears the answer), of the
    cases the privacy policy still lets the user comment on."""
    if not user.is_authenticated:
        return CaseComment.objects.none()
    seen = CaseCommentsSeen.objects.filter(
        user=user, case=OuterRef("case"), seen_at__gte=OuterRef("created_at")
    )
    took_part = CaseComment.objects.filter(case=OuterRef("case"), author=user)
    return (
        CaseComment.objects.filter(Q(case__owner=user) | Exists(took_part))
        .filter(privacy.case_filter(user, "case__"))
        .exclude(author=user)
        .exclude(Exists(seen))
    )


def cases_with_unread_comments(*, user) -> QuerySet[Case]:
    """The cases of ``unread_comments`` that are not the user's own (those are on "My cases"
    anyway), newest comment first."""
    unread = unread_comments(user=user).exclude(case__owner=user)
    return (
        Case.objects.filter(pk__in=unread.values("case"))
        .annotate(latest=Max("comments__created_at"))
        .order_by("-latest")
    )


#: The reminder's text, stored untranslated and shown in the reader's language.
PROOF_REMINDER = gettext_noop(
    "Reminder: the diagnosis of this case is still unconfirmed. Attach the proof (pathology, "
    "follow-up) to the discussion and change the diagnostic certainty, or say why it cannot be "
    "confirmed."
)


def remind_unconfirmed(*, now=None) -> int:
    """Remind the authors of published cases whose diagnosis is still unconfirmed (probable,
    possible) to attach proof: a comment without an author on the case, which counts as unread
    for its teacher; again every ``TA_PROOF_REMINDER_DAYS``. Returns how many were reminded.
    Harmless to repeat: a case reminded within the interval is skipped."""
    now = now or timezone.now()
    due = now - timedelta(days=settings.TA_PROOF_REMINDER_DAYS)
    cases = (
        Case.objects.published()
        .filter(certainty__in=UNCONFIRMED_CERTAINTIES, published_at__lte=due)
        .filter(Q(proof_reminded_at__isnull=True) | Q(proof_reminded_at__lte=due))
    )
    reminded = 0
    for case in cases:
        with transaction.atomic():
            updated = Case.objects.filter(
                pk=case.pk, proof_reminded_at=case.proof_reminded_at
            ).update(proof_reminded_at=now)
            if updated:  # not reminded by a concurrent run
                CaseComment.objects.create(case=case, author=None, text=PROOF_REMINDER)
                reminded += 1
    return reminded


REREVIEW_REMINDER = gettext_noop(
    "Reminder: this case is due for re-review. Check that its findings, diagnosis and teaching "
    "points still follow current guidelines, and update it where they do not."
)


def remind_rereview(*, now=None) -> int:
    """Remind the authors of published cases due for re-review (``rereview_years`` after
    publishing, or after the last reminder): a comment without an author on the case. Returns
    how many were reminded; a case reminded within its interval is skipped."""
    now = now or timezone.now()
    cases = Case.objects.published().filter(rereview_years__gt=0)
    reminded = 0
    for case in cases:
        since = case.rereview_reminded_at or case.published_at
        if since is None or _years_later(since, case.rereview_years) > now:
            continue
        with transaction.atomic():
            updated = Case.objects.filter(
                pk=case.pk, rereview_reminded_at=case.rereview_reminded_at
            ).update(rereview_reminded_at=now)
            if updated:
                CaseComment.objects.create(case=case, author=None, text=REREVIEW_REMINDER)
                reminded += 1
    return reminded


def _years_later(moment, years: int):
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


__all__ = [
    "PROOF_REMINDER",
    "REREVIEW_REMINDER",
    "remind_rereview",
    "add_comment",
    "mark_seen",
    "remind_unconfirmed",
    "cases_with_unread_comments",
    "unread_comments",
]
