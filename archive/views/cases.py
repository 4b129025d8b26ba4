"""Case pages for teachers (editor, upload, submit) and students (case page). Thin: the work is
in ``archive.services``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from archive.forms import CaseForm, UploadForm
from archive.models import Case, Diagnosis, Upload
from archive.services import cases as case_services
from archive.services.intake import receive_files, received_from_django


def home(request):
    recent = []
    if request.user.is_authenticated:
        recent = Case.objects.published().select_related("diagnosis").prefetch_related("tags")[:12]
    return render(request, "archive/home.html", {"recent": recent})


def _case_for(request, pk: int) -> Case:
    case = get_object_or_404(Case.objects.select_related("diagnosis", "owner"), pk=pk)
    if not case_services.can_view(request.user, case):
        raise Http404  # do not reveal that an unpublished case exists
    return case


@login_required
@permission_required("archive.add_case", raise_exception=True)
def my_cases(request):
    cases = Case.objects.filter(owner=request.user).select_related("diagnosis")
    return render(request, "archive/my_cases.html", {"cases": cases})


@login_required
@permission_required("archive.add_case", raise_exception=True)
def case_create(request):
    form = CaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        case = form.save(commit=False)
        case.owner = request.user
        case.save()
        form.save_tags(case)
        messages.success(request, _("Case created. Now add its images."))
        return redirect("case-edit", pk=case.pk)
    return render(request, "archive/case_form.html", {"form": form, "diagnoses": _diagnoses()})


def _diagnoses():
    return Diagnosis.objects.only("name", "icd10")[:2000]


@login_required
def case_edit(request, pk: int):
    case = _case_for(request, pk)
    if not case_services.can_edit(request.user, case):
        raise PermissionDenied
    form = CaseForm(request.POST or None, instance=case)
    if request.method == "POST" and form.is_valid():
        form.save()
        case_services.case_changed(case)
        messages.success(request, _("Case saved."))
        return redirect("case-edit", pk=case.pk)
    uploads = case.uploads.prefetch_related("items")[:20]
    return render(
        request,
        "archive/case_edit.html",
        {
            "case": case,
            "form": form,
            "upload_form": UploadForm(),
            "uploads": uploads,
            "series": _series_of(case),
            "diagnoses": _diagnoses(),
        },
    )


def _series_of(case: Case):
    from archive.models import Series

    return (
        Series.objects.filter(study__case=case)
        .prefetch_related("instances")
        .order_by("study_id", "number", "pk")
    )


@login_required
@require_POST
def case_upload(request, pk: int):
    case = _case_for(request, pk)
    if not case_services.can_edit(request.user, case):
        raise PermissionDenied
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        if request.headers.get("Accept") == "application/json":
            return JsonResponse({"error": _("Choose at least one file.")}, status=400)
        messages.error(request, _("Choose at least one file."))
        return redirect("case-edit", pk=case.pk)
    upload = receive_files(
        case=case,
        user=request.user,
        files=[received_from_django(f) for f in form.cleaned_data["files"]],
    )
    if request.headers.get("Accept") == "application/json":
        return JsonResponse(_upload_status(upload), status=201)
    messages.info(request, _("Upload received; the images are being anonymized."))
    return redirect("case-edit", pk=case.pk)


def _upload_status(upload: Upload) -> dict:
    return {
        "id": str(upload.public_id),
        "status": upload.status,
        "counts": upload.counts(),
        "items": [
            {
                "label": i.label,
                "status": i.status,
                "status_display": i.get_status_display(),
                "reason": i.reason,
            }
            for i in upload.items.all()
        ],
        "status_url": f"/uploads/{upload.public_id}/status",
    }


@login_required
def upload_status(request, public_id):
    upload = get_object_or_404(Upload.objects.select_related("case"), public_id=public_id)
    if upload.uploaded_by_id != request.user.pk and not request.user.has_perm(
        "archive.publish_case"
    ):
        raise Http404
    return JsonResponse(_upload_status(upload))


@login_required
@require_POST
def case_submit(request, pk: int):
    case = _case_for(request, pk)
    try:
        case_services.submit_case(case=case, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Submitted for review. A curator will publish it."))
        return redirect("my-cases")  # the case is locked for its author while under review
    return redirect("case-edit", pk=case.pk)
