"""Peer review comments on the case page. Thin: ``services.comments`` and the policy decide."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from archive import privacy
from archive.services import comments as comment_services
from archive.views.cases import viewable_case_or_404


@login_required
@require_POST
def case_comment(request, pk: int):
    case = viewable_case_or_404(request, pk)  # 404 for whoever may not see the case
    if not privacy.can_comment_case(request.user, case):
        raise PermissionDenied
    try:
        comment_services.add_comment(
            case=case, user=request.user, text=request.POST.get("text", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(_(m) for m in exc.messages))
    else:
        messages.success(request, _("Your comment was added."))
    return redirect(case.get_absolute_url() + "#comments")
