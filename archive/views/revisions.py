"""Revisions of a published case: the author's editor, submit and withdraw; the curator's
publish and return on the case page. Thin: who may is the privacy policy's, what happens is
``archive.services.revisions``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from archive import privacy
from archive.forms import RevisionForm
from archive.models import Case, CaseRevision
from archive.services import revisions as revision_services
from archive.views.cases import viewable_case_or_404


def _error(request, exc: ValidationError) -> None:
    params = {k: _(v) for k, v in (exc.params or {}).items()}
    messages.error(request, " ".join(_(m) % params if params else _(m) for m in exc.messages))


@login_required
def case_revise(request, pk: int):
    """The editor of a published case for its author: changes go into a revision; students
    see the published case until a curator publishes it."""
    case = viewable_case_or_404(request, pk)
    if not privacy.can_revise_case(request.user, case):
        raise PermissionDenied
    revision = revision_services.pending_revision(case)
    editable = revision is None or privacy.can_edit_revision(request.user, revision)
    if request.method == "POST" and not editable:
        messages.error(
            request,
            _("A curator is reviewing this revision, so it cannot be changed now. Withdraw it "
              "to drop it."),
        )  # fmt: skip
        return redirect("case-revise", pk=case.pk)
    fields = revision.fields if revision else revision_services.case_fields(case)
    series = revision.series if revision else revision_services.series_snapshot(case)
    # The form writes what it validates onto its instance: never the case object shown.
    form = RevisionForm(
        request.POST if request.method == "POST" and editable else None,
        instance=Case.objects.get(pk=case.pk),
        initial=fields,
        series=series,
    )
    if form.is_bound and form.is_valid():
        with transaction.atomic():
            revision = revision_services.open_revision(
                case=case,
                user=request.user,
                base=revision_services.base_from_token(request.POST.get("base", "")),
            )
            try:
                revision_services.save_revision(
                    revision=revision,
                    user=request.user,
                    fields=form.revision_fields(),
                    series=form.revision_series(),
                )
            except ValidationError as exc:
                _error(request, exc)
                transaction.set_rollback(True)
                return redirect("case-revise", pk=case.pk)
        messages.success(
            request,
            _("Revision saved. Students see the published version until a curator publishes it."),
        )
        return redirect("case-revise", pk=case.pk)
    history = case.revisions.select_related("author", "decided_by")
    direct, conflicts = _changed_directly(revision)
    return render(
        request,
        "archive/case_revise.html",
        {
            "case": case,
            "form": form,
            "revision": revision,
            "editable": editable,
            "history": history,
            # What the editor shows now is the base of the revision its first save starts
            # (a form sent back with errors keeps the base it was opened with).
            "base_token": _base_token(request, case) if revision is None else "",
            "changed_directly": direct,
            "changed_by_both": conflicts,
        },
    )


def _changed_directly(revision: CaseRevision | None) -> tuple[list[str], list[str]]:
    """Labels of what a curator changed on the published case since the revision was started:
    those the author left alone (publishing keeps the curator's version, which the editor's
    form does not show), and those both changed differently (a curator has to choose)."""
    if revision is None:
        return [], []
    merge = revision_services.merge_revision(revision)
    conflicts = merge.conflict_labels()
    direct = [merge.labels[n] for n in merge.direct if n not in merge.conflicts]
    return direct, conflicts


def _base_token(request, case: Case) -> str:
    sent = request.POST.get("base", "") if request.method == "POST" else ""
    if sent and revision_services.base_from_token(sent) is not None:
        return sent
    return revision_services.base_token(case)


@login_required
@require_POST
def revision_submit(request, pk: int):
    """The author submits the revision for review, or withdraws it."""
    case = viewable_case_or_404(request, pk)
    if not privacy.can_revise_case(request.user, case):
        raise PermissionDenied
    revision = revision_services.pending_revision(case)
    if revision is None:
        messages.error(request, _("Save your changes first: there is no revision to submit."))
        return redirect("case-revise", pk=case.pk)
    action = request.POST.get("action", "")
    try:
        if action == "submit":
            revision_services.submit_revision(revision=revision, user=request.user)
            messages.success(
                request,
                _("Revision submitted. A curator will publish it; until then students see "
                  "the published version."),
            )  # fmt: skip
        elif action == "withdraw":
            revision_services.withdraw_revision(revision=revision, user=request.user)
            messages.success(request, _("Revision withdrawn. The published case is unchanged."))
        else:
            messages.error(request, _("Choose whether to submit or withdraw the revision."))
    except ValidationError as exc:
        _error(request, exc)
    return redirect("case-revise", pk=case.pk)


@login_required
@require_POST
def revision_curate(request, pk: int):
    """A curator publishes the submitted revision or returns it with a comment."""
    case = viewable_case_or_404(request, pk)
    if not privacy.can_curate_case(request.user, case):
        raise PermissionDenied
    revision = revision_services.pending_revision(case)
    if revision is None or not privacy.can_view_revision(request.user, revision):
        raise Http404
    action = request.POST.get("action", "")
    try:
        if action in {"publish", "publish_override"}:
            # Overriding the direct changes is a separate, explicit button (shown with them).
            revision_services.publish_revision(
                revision=revision, user=request.user, override=action == "publish_override"
            )
            messages.success(request, _("Revision published: students now see the new version."))
        elif action == "return":
            revision_services.return_revision(
                revision=revision, user=request.user, comment=request.POST.get("comment", "")
            )
            messages.success(request, _("Revision returned to the author with your comment."))
        else:
            messages.error(request, _("Choose whether to publish or return the revision."))
    except revision_services.RevisionConflict as exc:
        messages.error(request, revision_services.conflict_message(exc.labels))
    except ValidationError as exc:
        _error(request, exc)
    return redirect(case.get_absolute_url())


def pending_for(user, case: Case) -> CaseRevision | None:
    """The case's revision in progress if this user may see it (case page, admin)."""
    revision = revision_services.pending_revision(case)
    if revision is None or not privacy.can_view_revision(user, revision):
        return None
    return revision
