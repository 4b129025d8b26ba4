"""Curation in one click on the case page: publish, return with a comment, unpublish.

Thin: who may do it is the privacy policy's (``can_curate_case``), what it does is the case
workflow's (``archive.services.cases``) — the same services as the admin's actions.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from archive import privacy
from archive.services import cases as case_services
from archive.views.cases import viewable_case_or_404

NO_IMAGES = gettext_noop(
    "This case has no anonymized image yet, so it cannot be published. Return it to the author."
)


@login_required
@require_POST
def case_curate(request, pk: int):
    case = viewable_case_or_404(request, pk)  # 404 for whoever may not see it
    if not privacy.can_curate_case(request.user, case):
        raise PermissionDenied
    action = request.POST.get("action", "")
    if action not in case_services.curation_actions(case):
        messages.error(request, _("This case cannot be changed that way in its present state."))
        return redirect(case.get_absolute_url())
    try:
        if action == "publish":
            if not case.instances().exists():
                raise ValidationError(NO_IMAGES)
            case_services.publish_case(case=case, user=request.user)
            messages.success(request, _("Published: students can now find this case."))
        elif action == "return":
            case_services.return_case(
                case=case, user=request.user, comment=request.POST.get("comment", "").strip()
            )
            messages.success(request, _("Returned to the author with your comment."))
        else:
            case_services.unpublish_case(case=case, user=request.user)
            messages.success(request, _("Unpublished: students no longer see this case."))
    except ValidationError as exc:
        messages.error(request, " ".join(_(m) for m in exc.messages))
    return redirect(case.get_absolute_url())
