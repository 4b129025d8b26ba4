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

from archive.forms import CaseForm, UploadForm
from archive.models import Case, Diagnosis, Instance, Series, Upload
from archive.services import cases as case_services
from archive.services.intake import receive_files, received_from_django

DIAGNOSIS_SUGGESTIONS = 10

# The workflow service raises these in English; listed here so they are translated when shown.
WORKFLOW_MESSAGES = [
    gettext_noop("Only a draft or returned case can be submitted for review."),
    gettext_noop("Add at least one anonymized image before submitting the case."),
    gettext_noop("Wait until all uploads have finished processing."),
    gettext_noop("This case still has uploads being processed."),
    gettext_noop("Say what the author should change."),
]


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
            "previews": series_previews(case),
            "upload_messages": _upload_messages(),
            "can_submit": case.owner_id == request.user.pk
            and case.status in {Case.Status.DRAFT, Case.Status.RETURNED},
        },
    )


def _series_of(case: Case):
    return (
        Series.objects.filter(study__case=case)
        .prefetch_related("instances")
        .order_by("study_id", "number", "pk")
    )


# --- Series previews with the redacted areas outlined ------------------------------------------


@dataclass
class RedactedBox:
    x: float
    y: float
    width: float
    height: float
    reason: str


@dataclass
class SeriesPreview:
    series: Series
    images: int
    thumbnail: Instance | None
    boxes: list[RedactedBox] = field(default_factory=list)
    redacted_areas: int = 0
    redacted_images: int = 0


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


def series_previews(case: Case) -> list[SeriesPreview]:
    """One thumbnail per series, preferring an image with redacted areas so the teacher sees
    what was blanked before submitting."""
    previews = []
    for series in _series_of(case):
        instances = [i for i in series.instances.all() if i.has_pixels]
        with_boxes = [(i, redacted_boxes(i)) for i in instances]
        redacted = [(i, b) for i, b in with_boxes if b]
        thumbnail = next((i for i, b in redacted if redacted_boxes(i, 0)), None)
        thumbnail = thumbnail or (instances[0] if instances else None)
        previews.append(
            SeriesPreview(
                series=series,
                images=len(series.instances.all()),
                thumbnail=thumbnail,
                boxes=redacted_boxes(thumbnail, 0) if thumbnail else [],
                redacted_areas=sum(len(b) for _, b in redacted),
                redacted_images=len(redacted),
            )
        )
    return previews


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


# --- Upload ------------------------------------------------------------------------------------


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def case_upload(request, pk: int):
    case = _case_for(request, pk)
    if not case_services.can_edit(request.user, case):
        raise PermissionDenied
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
    if upload.uploaded_by_id != request.user.pk and not request.user.has_perm(
        "archive.publish_case"
    ):
        raise Http404
    return JsonResponse(_upload_status(upload))


# --- Workflow ----------------------------------------------------------------------------------


@login_required
@require_POST
def case_submit(request, pk: int):
    case = _case_for(request, pk)
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
