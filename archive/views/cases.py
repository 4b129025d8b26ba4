"""Teacher pages (editor, upload, submit) and the diagnosis lookup the editor uses. Thin: the
work is in ``archive.services``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from archive import privacy
from archive.forms import CaseForm, UploadForm
from archive.models import Case, Diagnosis, Instance, RedactionBox, Series, Upload
from archive.services import cases as case_services
from archive.services import comments as comment_services
from archive.services import review as review_services
from archive.services.incoming import upload_rate_refusal, upload_refusal
from archive.services.intake import label_position, receive_files, received_from_django
from archive.services.review import series_preview, series_previews
from archive.vocabulary.selectors import diagnosis_suggestions
from teaching.flow import home_panels

DIAGNOSIS_SUGGESTIONS = 10

# The workflow service raises these in English; listed here so they are translated when shown.
WORKFLOW_MESSAGES = [
    gettext_noop("Only a draft or returned case can be submitted for review."),
    gettext_noop("Add at least one anonymized image before submitting the case."),
    gettext_noop("Wait until all uploads have finished processing."),
    gettext_noop("This case still has uploads being processed."),
    gettext_noop("Say what the author should change."),
    gettext_noop("Draw a larger box: drag across the area to blank."),
    gettext_noop("Choose whether to blank the box or to keep what is in it."),
    gettext_noop("The image is not part of this series."),
    gettext_noop("The frame is not part of this image."),
]


def home(request):
    recent = []
    if request.user.is_authenticated:
        policy = privacy.policy_for(request.user)
        cases = Case.objects.published().select_related("diagnosis").prefetch_related("tags")
        recent = [policy.view(case) for case in cases[:12]]
    # Assignments, the review queue, the case of the day, bookmarks (the teaching loop).
    panels = home_panels(request.user)
    return render(request, "archive/home.html", {"recent": recent, **panels})


def viewable_case_or_404(request, pk: int) -> Case:
    case = get_object_or_404(Case.objects.select_related("diagnosis", "owner"), pk=pk)
    if not privacy.can_view_case(request.user, case):
        raise Http404  # do not reveal that an unpublished case exists
    return case


@login_required
@permission_required("archive.add_case", raise_exception=True)
def my_cases(request):
    cases = Case.objects.filter(owner=request.user).select_related("diagnosis")
    editable = {Case.Status.DRAFT, Case.Status.RETURNED}
    discussed = comment_services.cases_with_unread_comments(user=request.user)
    return render(
        request,
        "archive/my_cases.html",
        {"cases": cases, "editable": [str(s) for s in editable], "discussed": discussed},
    )


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
    return render(request, "archive/case_form.html", {"form": form})


@login_required
def case_edit(request, pk: int):
    case = viewable_case_or_404(request, pk)
    if privacy.can_revise_case(request.user, case):
        return redirect("case-revise", pk=case.pk)  # a published case changes by revision
    if not privacy.can_edit_case(request.user, case):
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
            "previews": series_previews(case, review=True),
            "upload_messages": _upload_messages(),
            "review_messages": _review_messages(),
            "originals_kept": review_services.kept_originals(case=case).count(),
            "review_closes_at": review_services.review_closes_at(case),
            "can_submit": case.owner_id == request.user.pk
            and case.status in {Case.Status.DRAFT, Case.Status.RETURNED},
            # The button comes with the first anonymized image (the service checks it too).
            "has_images": case.instances().exists(),
            "events": case.events.select_related("user")[:20],
        },
    )


def _upload_messages() -> dict[str, str]:
    """The words upload.js shows, in the user's language."""
    return {
        "sending": _("Sending…"),
        "sent": _("Sent; waiting for the anonymizer."),
        "waiting": _("Waiting"),
        "processing": _("Anonymizing"),
        "processed": _("processed"),
        "done": _("Finished. Showing the anonymized images…"),
        "failed": _("The upload failed:"),
        "network": _("network error. Try again."),
        "file": _("File"),
        "entries": _("entries"),
        "entry": _("entry"),
    }


def _review_messages() -> dict[str, str]:
    """The words review.js shows, in the user's language."""
    return {
        "applying": _("Applying the box to this series…"),
        "progress": _("images redacted"),
        "done": _("Done: the series was redacted again from the originals."),
        "failed": _(
            "Some images could not be redacted with this box; they keep their previous "
            "redaction. Try a different box or ask a curator."
        ),
        "draw": _("Draw a box on the image first (drag across the area to blank)."),
        "network": _("Network error. Try again."),
        "finish": _(
            "Delete the original files now? Boxes can no longer be added to this case's images."
        ),
    }


# --- Teacher review of the redaction -----------------------------------------------------------


REVIEW_CLOSED = gettext_noop(
    "The originals of this series have been deleted (the review is finished), so boxes can no "
    "longer be added or removed."
)


def _series_for_review(request, pk: int) -> Series:
    series = get_object_or_404(Series.objects.select_related("study__case"), pk=pk)
    case = series.study.case
    if not privacy.can_view_case(request.user, case):
        raise Http404
    if not privacy.can_edit_case(request.user, case):
        raise PermissionDenied
    return series


def _review_status(series: Series, detail: bool = False) -> dict:
    if detail:  # the full-size review: every image, frame and box
        payload = review_services.review_payload(series)
        payload["status_url"] = reverse("series-redaction-status", args=[series.pk])
        return payload
    review = review_services.series_review(series)
    return {
        "state": review.state,
        "images": review.images,
        "editable": review.editable,
        "done": review.done,
        "failed": review.failed,
        "pending": review.pending,
        "boxes": len(review.boxes),
        "status_url": reverse("series-redaction-status", args=[series.pk]),
        "preview_url": reverse("series-preview", args=[series.pk]),
    }


def _review_error(request, series: Series, message: str, status: int):
    if _wants_json(request):
        return JsonResponse({"error": message}, status=status)
    messages.error(request, message)
    return redirect("case-edit", pk=series.study.case_id)


def _reference_instance(series: Series, instance_id: str | None) -> Instance | None:
    instances = series.instances.filter(has_pixels=True, columns__gt=0, rows__gt=0)
    if instance_id and instance_id.isdigit():
        chosen = instances.filter(pk=int(instance_id)).first()
        if chosen is not None:
            return chosen
    return instances.first()


#: Where a box applies: the frame shown, every frame of the image shown, or the whole series.
SCOPES = ("frame", "image", "series")


@login_required
@require_POST
def series_redaction_box_add(request, pk: int):
    """A box the teacher drew (or typed), in pixels of an image of the series: blank it
    (``action=blank``) or take back the automatic boxes in it (``action=keep``: the area is
    restored from the original), on one frame, every frame of that image or the whole series
    (``scope``), from the kept originals."""
    series = _series_for_review(request, pk)
    reference = _reference_instance(series, request.POST.get("instance"))
    try:
        x, y, w, h = (float(request.POST[k]) for k in ("x", "y", "width", "height"))
    except (KeyError, ValueError):
        return _review_error(
            request, series, _("Give the box's x, y, width and height in pixels."), 400
        )
    if reference is None:
        return _review_error(request, series, _("This series has no image to draw on."), 400)
    scope = request.POST.get("scope") or "series"
    action = request.POST.get("action") or RedactionBox.Action.BLANK
    if scope not in SCOPES or action not in RedactionBox.Action.values:
        return _review_error(request, series, _("Choose where the box applies."), 400)
    frame = None
    if scope == "frame":
        try:
            frame = int(request.POST.get("frame") or 0)
        except ValueError:
            return _review_error(request, series, _("The frame is not part of this image."), 400)
    cols, rows = reference.columns, reference.rows
    try:
        review_services.add_box(
            series=series,
            user=request.user,
            x0=x / cols,
            y0=y / rows,
            x1=(x + w) / cols,
            y1=(y + h) / rows,
            action=action,
            instance=None if scope == "series" else reference,
            frame=frame,
        )
    except review_services.ReviewClosed:
        return _review_error(request, series, _(REVIEW_CLOSED), 409)
    except ValueError as exc:
        return _review_error(request, series, _(str(exc)), 400)
    if _wants_json(request):
        return JsonResponse(_review_status(series), status=202)
    messages.info(request, _("The box is being applied to the series; reload to see it."))
    return redirect("case-edit", pk=series.study.case_id)


@login_required
@require_POST
def series_redaction_box_delete(request, pk: int, box_pk: int):
    series = _series_for_review(request, pk)
    box = get_object_or_404(RedactionBox, pk=box_pk, series=series)
    try:
        review_services.remove_box(box=box)
    except review_services.ReviewClosed:
        return _review_error(request, series, _(REVIEW_CLOSED), 409)
    if _wants_json(request):
        return JsonResponse(_review_status(series), status=202)
    messages.info(request, _("The box was removed; the series is being redacted again."))
    return redirect("case-edit", pk=series.study.case_id)


@login_required
@require_GET
def series_redaction_status(request, pk: int):
    series = _series_for_review(request, pk)
    return JsonResponse(_review_status(series, detail=request.GET.get("detail") == "1"))


@login_required
@require_GET
def series_review_page(request, pk: int):
    """The redaction of one series at full size: every image and frame, zoom and pan, every
    automatic box outlined with its reason; remove a wrong box, draw a missed one, apply to a
    frame, an image or the series.  Teachers reach it from the editor, curators from the
    admin's case page (the same page: one review)."""
    series = _series_for_review(request, pk)
    case = series.study.case
    data = _review_status(series, detail=True)
    data["urls"] = {
        "add": reverse("series-redaction-boxes", args=[series.pk]),
        "delete": reverse("series-redaction-box-delete", args=[series.pk, 0]),
        "status": reverse("series-redaction-status", args=[series.pk]) + "?detail=1",
    }
    data["text"] = _review_page_messages()
    return render(
        request,
        "archive/series_review.html",
        {
            "case": case,
            "series": series,
            "review": data,
            "closed_message": _(REVIEW_CLOSED),
            "back_url": reverse("admin:archive_case_change", args=[case.pk])
            if request.GET.get("from") == "admin" and privacy.is_curator(request.user)
            else reverse("case-edit", args=[case.pk]),
        },
    )


def _review_page_messages() -> dict[str, str]:
    """The words the full-size review's script shows, in the user's language."""
    return {
        "automatic": _("Automatic"),
        "removed": _("removed: restored from the original"),
        "remove": _("Remove (not text)"),
        "undo": _("Undo"),
        "blank": _("Blanked by"),
        "keep": _("Kept (not text) by"),
        "scope_frame": _("this frame"),
        "scope_image": _("every frame of this image"),
        "scope_series": _("every image of the series"),
        "frame": _("Frame"),
        "image": _("Image"),
        "none": _("No automatic box on this frame."),
        "applying": _("Applying your changes…"),
        "done": _("Done: the series was redacted again from the originals."),
        "failed": _(
            "Some images could not be redacted with your boxes; they keep their previous "
            "redaction. Try a different box or ask a curator."
        ),
        "draw": _("Draw a box on the image first (drag across the area to blank)."),
        "network": _("Network error. Try again."),
        "closed": _(REVIEW_CLOSED),
    }


@login_required
@require_GET
def series_preview_fragment(request, pk: int):
    """The editor's preview of one series (HTML), re-fetched after a redaction finished."""
    series = _series_for_review(request, pk)
    return render(
        request,
        "archive/_series_preview.html",
        {"preview": series_preview(series, review=True)},
    )


@login_required
@require_POST
def case_finish_review(request, pk: int):
    """Delete the kept originals now: the teacher has checked every image."""
    case = viewable_case_or_404(request, pk)
    if not privacy.can_edit_case(request.user, case):
        raise PermissionDenied
    review_services.discard_originals(case=case)
    messages.success(
        request, _("Review finished: the original files were deleted. The images are final.")
    )
    return redirect("case-edit", pk=case.pk)


# --- Upload ------------------------------------------------------------------------------------


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def case_upload(request, pk: int):
    case = viewable_case_or_404(request, pk)
    if not privacy.can_edit_case(request.user, case):
        raise PermissionDenied
    rate = upload_rate_refusal(request.user)
    if rate:
        if _wants_json(request):
            return JsonResponse({"error": rate}, status=429)
        messages.error(request, rate)
        return redirect("case-edit", pk=case.pk)
    refusal = upload_refusal(request)
    if refusal:
        if _wants_json(request):
            return JsonResponse({"error": refusal}, status=413)
        messages.error(request, refusal)
        return redirect("case-edit", pk=case.pk)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        if _wants_json(request):
            return JsonResponse({"error": _("Choose at least one file.")}, status=400)
        messages.error(request, _("Choose at least one file."))
        return redirect("case-edit", pk=case.pk)
    upload = receive_files(
        case=case,
        user=request.user,
        files=[received_from_django(f) for f in form.cleaned_data["files"]],
    )
    if _wants_json(request):
        return JsonResponse(_upload_status(upload), status=201)
    messages.info(request, _("Upload received; the images are being anonymized."))
    return redirect("case-edit", pk=case.pk)


def _upload_item(item) -> dict:
    file, entry = label_position(item.label) or (None, None)
    return {
        "label": item.label,
        "file": file,
        "entry": entry,
        "status": item.status,
        "status_display": item.get_status_display(),
        "reason": item.reason,
    }


def _upload_status(upload: Upload) -> dict:
    return {
        "id": str(upload.public_id),
        "status": upload.status,
        "status_display": upload.get_status_display(),
        "counts": upload.counts(),
        "items": [_upload_item(i) for i in upload.items.all()],
        "status_url": reverse("upload-status", args=[upload.public_id]),
    }


@login_required
def upload_status(request, public_id):
    upload = get_object_or_404(Upload.objects.select_related("case"), public_id=public_id)
    if not privacy.can_view_upload(request.user, upload):
        raise Http404
    return JsonResponse(_upload_status(upload))


# --- Workflow ----------------------------------------------------------------------------------


@login_required
@require_POST
def case_submit(request, pk: int):
    case = viewable_case_or_404(request, pk)
    try:
        case_services.submit_case(case=case, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(_(m) for m in exc.messages))
    else:
        messages.success(request, _("Submitted for review. A curator will publish it."))
        return redirect("my-cases")  # the case is locked for its author while under review
    return redirect("case-edit", pk=case.pk)


# --- Diagnosis lookup for the editor ----------------------------------------------------------


def diagnosis_label(diagnosis: Diagnosis, language: str | None = None) -> str:
    """The diagnosis name in the user's language when the vocabulary has it."""
    language = (language or get_language() or "en").split("-")[0]
    return diagnosis.name_cs if language == "cs" and diagnosis.name_cs else diagnosis.name


@require_GET
def api_diagnoses(request):
    """Suggestions for the editor's diagnosis field from the archive's diagnoses and the whole
    ICD-10 catalogue: names, Czech names, synonyms, ICD-10 codes (ranked by the selector)."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": _("Log in to look up diagnoses.")}, status=401)
    if not request.user.has_perm("archive.add_case"):
        return JsonResponse({"error": _("Only teachers can look up diagnoses.")}, status=403)
    suggestions = diagnosis_suggestions(
        query=request.GET.get("q", ""),
        language=get_language() or "en",
        limit=DIAGNOSIS_SUGGESTIONS,
    )
    return JsonResponse({"results": [s.as_json() for s in suggestions]})
