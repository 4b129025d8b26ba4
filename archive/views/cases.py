"""Teacher pages (editor, upload, submit) and the diagnosis lookup the editor uses. Thin: the
work is in ``archive.services``."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from archive import privacy
from archive.forms import CaseForm, UploadForm
from archive.models import Case, Diagnosis, Instance, RedactionBox, Series, Upload
from archive.selectors import case_series
from archive.services import cases as case_services
from archive.services import review as review_services
from archive.services.incoming import upload_refusal
from archive.services.intake import receive_files, received_from_django
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
    return render(
        request, "archive/my_cases.html", {"cases": cases, "editable": [str(s) for s in editable]}
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
        },
    )


# --- Series previews with the redacted areas outlined ------------------------------------------


@dataclass
class RedactedBox:
    x: float
    y: float
    width: float
    height: float
    reason: str
    pk: int | None = None  # a teacher's RedactionBox, which the editor can remove


@dataclass
class SeriesPreview:
    series: Series
    images: int
    thumbnail: Instance | None
    boxes: list[RedactedBox] = field(default_factory=list)
    redacted_areas: int = 0
    redacted_images: int = 0
    # In the editor only: the teacher's boxes and whether they can still be applied.
    review: review_services.SeriesReview | None = None
    teacher_boxes: list[RedactedBox] = field(default_factory=list)

    @property
    def revision(self) -> int:
        """Changes whenever the thumbnail's file is replaced: busts the browser's image cache."""
        report = self.thumbnail.pixel_report if self.thumbnail else None
        return int((report or {}).get(review_services.REVISION_KEY) or 0)


def redacted_boxes(instance: Instance, frame: int | None = None) -> list[RedactedBox]:
    """The burned-in-text boxes the pixel cleaner blanked (``pixel_report["boxes"]``, each
    ``[frame, x0, y0, x1, y1, reason]`` in pixel coordinates), optionally of one frame only."""
    out = []
    for box in (instance.pixel_report or {}).get("boxes") or []:
        try:
            f, x0, y0, x1, y1 = (float(v) for v in box[:5])
        except (TypeError, ValueError):
            continue
        if frame is not None and int(f) != frame:
            continue
        reason = str(box[5]) if len(box) > 5 and box[5] else _("burned-in text")
        out.append(RedactedBox(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0), reason))
    return out


def series_previews(case: Case, *, review: bool = False) -> list[SeriesPreview]:
    """One thumbnail per series, preferring an image with redacted areas so the teacher sees
    what was blanked before submitting. ``review`` adds the teacher's boxes (editor)."""
    return [series_preview(series, review=review) for series in case_series(case=case)]


def series_preview(series: Series, *, review: bool = False) -> SeriesPreview:
    instances = [i for i in series.instances.all() if i.has_pixels]
    with_boxes = [(i, redacted_boxes(i)) for i in instances]
    redacted = [(i, b) for i, b in with_boxes if b]
    thumbnail = next((i for i, b in redacted if redacted_boxes(i, 0)), None)
    thumbnail = thumbnail or (instances[0] if instances else None)
    preview = SeriesPreview(
        series=series,
        images=len(series.instances.all()),
        thumbnail=thumbnail,
        boxes=redacted_boxes(thumbnail, 0) if thumbnail else [],
        redacted_areas=sum(len(b) for _, b in redacted),
        redacted_images=len(redacted),
    )
    if review and thumbnail is not None:
        preview.review = review_services.series_review(series)
        preview.teacher_boxes = [
            _in_pixels(box, thumbnail, _("drawn by you")) for box in preview.review.boxes
        ]
    return preview


def _in_pixels(box: RedactionBox, instance: Instance, reason: str) -> RedactedBox:
    x0, y0, x1, y1 = box.pixels(instance.columns, instance.rows)
    return RedactedBox(x0, y0, x1 - x0, y1 - y0, reason, pk=box.pk)


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


def _review_status(series: Series) -> dict:
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


@login_required
@require_POST
def series_redaction_box_add(request, pk: int):
    """A box the teacher drew (or typed), in pixels of the series' preview image: blank it on
    every frame of every image of the series, from the kept originals."""
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
    cols, rows = reference.columns, reference.rows
    try:
        review_services.add_box(
            series=series,
            user=request.user,
            x0=x / cols,
            y0=y / rows,
            x1=(x + w) / cols,
            y1=(y + h) / rows,
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
    return JsonResponse(_review_status(_series_for_review(request, pk)))


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


def _upload_status(upload: Upload) -> dict:
    return {
        "id": str(upload.public_id),
        "status": upload.status,
        "status_display": upload.get_status_display(),
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


def _rank(query: str, diagnosis: Diagnosis) -> tuple[int, str] | None:
    """How well ``query`` matches a diagnosis (lower is better) and the term that matched."""
    terms = [diagnosis.name, diagnosis.name_cs, diagnosis.icd10, *diagnosis.synonym_list]
    best: tuple[int, str] | None = None
    for term in filter(None, terms):
        low = term.lower()
        if low == query:
            score = 0
        elif low.startswith(query):
            score = 1
        elif any(word.startswith(query) for word in low.replace("-", " ").split()):
            score = 2
        elif query in low:
            score = 3
        else:
            continue
        if best is None or score < best[0]:
            best = (score, term)
    return best


def diagnosis_label(diagnosis: Diagnosis, language: str | None = None) -> str:
    """The diagnosis name in the user's language when the vocabulary has it."""
    language = (language or get_language() or "en").split("-")[0]
    return diagnosis.name_cs if language == "cs" and diagnosis.name_cs else diagnosis.name


@require_GET
def api_diagnoses(request):
    """Suggestions for the editor's diagnosis field: names, Czech names, synonyms, ICD-10."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": _("Log in to look up diagnoses.")}, status=401)
    if not request.user.has_perm("archive.add_case"):
        return JsonResponse({"error": _("Only teachers can look up diagnoses.")}, status=403)
    query = " ".join(request.GET.get("q", "").split()).lower()[:100]
    if not query:
        return JsonResponse({"results": []})
    candidates = Diagnosis.objects.filter(
        Q(name__icontains=query)
        | Q(name_cs__icontains=query)
        | Q(synonyms__icontains=query)
        | Q(icd10__istartswith=query)
    )[:300]
    ranked = []
    for diagnosis in candidates:
        rank = _rank(query, diagnosis)
        if rank is not None:
            ranked.append((rank[0], diagnosis.name.lower(), rank[1], diagnosis))
    ranked.sort(key=lambda r: (r[0], r[1]))
    results = []
    for _score, _name, matched, diagnosis in ranked[:DIAGNOSIS_SUGGESTIONS]:
        label = diagnosis_label(diagnosis)
        results.append(
            {
                "id": diagnosis.pk,
                "name": diagnosis.name,
                "label": label,
                "icd10": diagnosis.icd10,
                "synonyms": diagnosis.synonym_list,
                # Shown as "HCC → Hepatocellular carcinoma" when a synonym was what matched.
                "matched": "" if matched in {diagnosis.name, label, diagnosis.icd10} else matched,
            }
        )
    return JsonResponse({"results": results})
