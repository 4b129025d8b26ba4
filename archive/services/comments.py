"""Peer review comments on a case: its teacher, other teachers and curators write them (the
privacy policy's ``can_comment_case``); the case's teacher sees how many are unread on "My
cases" until they open the case."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from archive import privacy
from archive.models import Case, CaseComment, CaseCommentsSeen

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
    """Comments by others on the user's own cases, newer than the user's last look."""
    if not user.is_authenticated:
        return CaseComment.objects.none()
    seen = CaseCommentsSeen.objects.filter(
        user=user, case=OuterRef("case"), seen_at__gte=OuterRef("created_at")
    )
    return CaseComment.objects.filter(case__owner=user).exclude(author=user).exclude(Exists(seen))


__all__ = ["add_comment", "mark_seen", "unread_comments"]
