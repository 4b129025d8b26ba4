"""DICOMweb endpoints (PS3.18): QIDO-RS search, WADO-RS retrieve, STOW-RS store.

Thin views: visibility comes from ``selectors`` and what a quiz hides from ``archive.privacy``
(an unpublished case is invisible, as a 404, except to its owner and curators; an unanswered quiz
case's descriptions and headers lose every way of writing its diagnosis), JSON from
``json_model``, uploads go through the intake service into the same de-identification pipeline
as browser uploads.
"""

from __future__ import annotations

import datetime as dt
import json

import pydicom
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from pydicom.pixels import pixel_array

from archive import privacy
from archive.dicomweb import json_model
from archive.dicomweb.auth import dicomweb_auth
from archive.dicomweb.multipart import (
    MalformedBody,
    boundary_of,
    multipart_stream,
    new_boundary,
    stream_parts,
)
from archive.dicomweb.selectors import visible_instances, visible_series, visible_studies
from archive.models import Case, Instance, Modality
from archive.rendering import FrameNotFound, render_frame
from archive.services.downloads import instance_bytes
from archive.services.incoming import IncomingFile, UploadLimits
from archive.services.intake import Received, receive_files

DICOM_JSON = "application/dicom+json"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def _json(data, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data), status=status, content_type=DICOM_JSON)


def _error(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain")


def _param(request: HttpRequest, keyword: str, tag: str) -> list[str]:
    """Values of a matching key given by keyword or tag (PS3.18 8.3.4.1), comma lists split."""
    values = request.GET.getlist(keyword) + request.GET.getlist(tag)
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _page(request: HttpRequest) -> tuple[int, int]:
    def number(name: str, default: int) -> int:
        try:
            return max(int(request.GET.get(name, default)), 0)
        except ValueError:
            return default

    return number("offset", 0), min(number("limit", DEFAULT_LIMIT) or DEFAULT_LIMIT, MAX_LIMIT)


def _date_range(value: str) -> tuple[dt.date | None, dt.date | None]:
    def parse(text: str) -> dt.date | None:
        return dt.datetime.strptime(text, "%Y%m%d").date() if text else None

    start, sep, end = value.partition("-")
    return (parse(start), parse(end)) if sep else (parse(start), parse(start))


def _url(request: HttpRequest, name: str, *args) -> str:
    return request.build_absolute_uri(reverse(f"dicomweb:{name}", args=args))


# --- QIDO-RS -----------------------------------------------------------------------------------


@require_GET
@dicomweb_auth
def search_studies(request: HttpRequest) -> HttpResponse:
    studies = visible_studies(user=request.user)
    if uids := _param(request, "StudyInstanceUID", "0020000D"):
        studies = studies.filter(study_uid__in=uids)
    if patient_ids := _param(request, "PatientID", "00100020"):
        studies = studies.filter(pseudonymous_patient_id__in=patient_ids)
    if modalities := _param(request, "ModalitiesInStudy", "00080061"):
        studies = studies.filter(series__modality__in=modalities)
    if dates := _param(request, "StudyDate", "00080020"):
        try:
            start, end = _date_range(dates[0])
        except ValueError:
            return _error("StudyDate must be YYYYMMDD or a range YYYYMMDD-YYYYMMDD.", 400)
        if start:
            studies = studies.filter(study_date__gte=start)
        if end:
            studies = studies.filter(study_date__lte=end)
    offset, limit = _page(request)
    studies = studies.distinct().order_by("pk")[offset : offset + limit]
    policy = privacy.policy_for(request.user)
    out = []
    for study in studies:
        series = list(study.series.annotate(n=Count("instances")))
        first = Instance.objects.filter(series__study=study).order_by("pk").first()
        out.append(
            json_model.study_json(
                study,
                modalities=[s.modality for s in series],
                n_series=len(series),
                n_instances=sum(s.n for s in series),
                first_instance=first,
                retrieve_url=_url(request, "study", study.study_uid),
                hidden_terms=policy.view(study.case).terms,
            )
        )
    return _json(out)


@require_GET
@dicomweb_auth
def search_series(request: HttpRequest, study_uid: str) -> HttpResponse:
    series = visible_series(user=request.user, study_uid=study_uid)
    if uids := _param(request, "SeriesInstanceUID", "0020000E"):
        series = series.filter(series_uid__in=uids)
    if modalities := _param(request, "Modality", "00080060"):
        series = series.filter(modality__in=modalities)
    offset, limit = _page(request)
    rows = series.annotate(n=Count("instances")).order_by("number", "pk")
    policy = privacy.policy_for(request.user)
    return _json(
        [
            json_model.series_json(
                s,
                n_instances=s.n,
                retrieve_url=_url(request, "series", study_uid, s.series_uid),
                hidden_terms=policy.view(s.study.case).terms,
            )
            for s in rows[offset : offset + limit]
        ]
    )


@require_GET
@dicomweb_auth
def search_instances(request: HttpRequest, study_uid: str, series_uid: str) -> HttpResponse:
    instances = visible_instances(user=request.user, study_uid=study_uid, series_uid=series_uid)
    if uids := _param(request, "SOPInstanceUID", "00080018"):
        instances = instances.filter(sop_uid__in=uids)
    if classes := _param(request, "SOPClassUID", "00080016"):
        instances = instances.filter(sop_class_uid__in=classes)
    offset, limit = _page(request)
    return _json(
        [
            json_model.instance_json(
                i, retrieve_url=_url(request, "instance", study_uid, series_uid, i.sop_uid)
            )
            for i in instances.order_by("instance_number", "pk")[offset : offset + limit]
        ]
    )


# --- WADO-RS -----------------------------------------------------------------------------------


def _accepts_dicom(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "").lower()
    if not accept or "*/*" in accept or "application/dicom" in accept:
        return True
    return "multipart/related" in accept and "type=" not in accept


def _retrieve(request: HttpRequest, instances) -> HttpResponse:
    if not _accepts_dicom(request):
        return _error('Only multipart/related; type="application/dicom" is offered.', 406)
    instances = list(instances.order_by("series__number", "instance_number", "pk"))
    if not instances:
        raise Http404
    policy = privacy.policy_for(request.user)
    boundary = new_boundary()
    # An unanswered quiz case's files are re-written without its diagnosis (as downloads are).
    parts = (
        ("application/dicom", instance_bytes(i, policy.view(i.series.study.case).terms))
        for i in instances
    )
    response = StreamingHttpResponse(
        multipart_stream(parts, boundary),
        content_type=f'multipart/related; type="application/dicom"; boundary={boundary}',
    )
    response["Cache-Control"] = "private"
    return response


@require_GET
@dicomweb_auth
def retrieve_study(request, study_uid: str):
    return _retrieve(request, visible_instances(user=request.user, study_uid=study_uid))


@require_GET
@dicomweb_auth
def retrieve_series(request, study_uid: str, series_uid: str):
    return _retrieve(
        request, visible_instances(user=request.user, study_uid=study_uid, series_uid=series_uid)
    )


@require_GET
@dicomweb_auth
def retrieve_instance(request, study_uid: str, series_uid: str, sop_uid: str):
    return _retrieve(
        request,
        visible_instances(
            user=request.user, study_uid=study_uid, series_uid=series_uid, sop_uid=sop_uid
        ),
    )


def _metadata(request: HttpRequest, instances) -> HttpResponse:
    policy = privacy.policy_for(request.user)
    out = []
    for instance in instances.order_by("series__number", "instance_number", "pk"):
        study, series = instance.series.study.study_uid, instance.series.series_uid

        def uri(tag, instance=instance, study=study, series=series) -> str:
            return _url(request, "bulkdata", study, series, instance.sop_uid, f"{tag:08X}")

        terms = policy.view(instance.series.study.case).terms
        out.append(json_model.metadata_json(instance, bulk_data_uri=uri, hidden_terms=terms))
    if not out:
        raise Http404
    return _json(out)


@require_GET
@dicomweb_auth
def study_metadata(request, study_uid: str):
    return _metadata(request, visible_instances(user=request.user, study_uid=study_uid))


@require_GET
@dicomweb_auth
def series_metadata(request, study_uid: str, series_uid: str):
    return _metadata(
        request, visible_instances(user=request.user, study_uid=study_uid, series_uid=series_uid)
    )


@require_GET
@dicomweb_auth
def instance_metadata(request, study_uid: str, series_uid: str, sop_uid: str):
    return _metadata(
        request,
        visible_instances(
            user=request.user, study_uid=study_uid, series_uid=series_uid, sop_uid=sop_uid
        ),
    )


def _one(request, study_uid: str, series_uid: str, sop_uid: str) -> Instance:
    instance = visible_instances(
        user=request.user, study_uid=study_uid, series_uid=series_uid, sop_uid=sop_uid
    ).first()
    if instance is None:
        raise Http404
    return instance


@require_GET
@dicomweb_auth
def bulkdata(request, study_uid: str, series_uid: str, sop_uid: str, tag: str):
    """Pixel Data as uncompressed little-endian frames, one part (PS3.18 8.4.1.2)."""
    instance = _one(request, study_uid, series_uid, sop_uid)
    if tag.upper() != "7FE00010" or not instance.has_pixels:
        raise Http404
    with instance.file.open("rb") as fh:
        data = pixel_array(fh, raw=True).tobytes()
    boundary = new_boundary()
    body = b"".join(multipart_stream([("application/octet-stream", [data])], boundary))
    return HttpResponse(
        body,
        content_type=f'multipart/related; type="application/octet-stream"; boundary={boundary}',
    )


@require_GET
@dicomweb_auth
def rendered_frame(request, study_uid: str, series_uid: str, sop_uid: str, frame: int):
    instance = _one(request, study_uid, series_uid, sop_uid)
    try:
        data, etag = render_frame(instance, frame - 1, request.GET.get("preset", "default"))
    except FrameNotFound as exc:
        raise Http404 from exc
    response = HttpResponse(data, content_type="image/png")
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- STOW-RS -----------------------------------------------------------------------------------


def _target_case(request: HttpRequest) -> Case:
    from archive.dimse.session import received_title

    case_id = request.GET.get("case")
    if case_id:
        case = Case.objects.filter(pk=case_id if case_id.isdigit() else None).first()
        if case is None or not privacy.can_edit_case(request.user, case) or case.is_published:
            raise PermissionDenied
        return case
    if not request.user.has_perm("archive.add_case"):
        raise PermissionDenied
    # Neutral title: the date of receipt, never a header value.
    return Case.objects.create(
        owner=request.user, title=received_title(), modality=Modality.OT, body_region=""
    )


class _TooManyParts(Exception):
    pass


def _is_dicom(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "application/dicom"


@require_http_methods(["POST"])
@dicomweb_auth
def store_instances(request: HttpRequest, study_uid: str | None = None) -> HttpResponse:
    if not request.user.has_perm("archive.add_upload"):
        return _error("Only teachers can store studies in the archive.", 403)
    content_type = request.headers.get("Content-Type", "")
    boundary = boundary_of(content_type)
    if not content_type.lower().startswith("multipart/related") or not boundary:
        return _error('Send multipart/related; type="application/dicom" with a boundary.', 415)
    limits = UploadLimits.from_settings()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limits.request_bytes:
        # Refused before a byte of the body is read.
        return _error(limits.request_too_large(), 413)
    # Each DICOM part streams into its own temporary file in the holding area; other parts are
    # only counted.
    dicom: list[IncomingFile] = []
    skipped = 0

    def open_part(part_type: str):
        nonlocal skipped
        if not _is_dicom(part_type):
            skipped += 1
            return lambda chunk: None
        if len(dicom) >= limits.files:
            raise _TooManyParts
        incoming = IncomingFile(content_type="application/dicom")
        dicom.append(incoming)
        return lambda chunk: incoming.append(chunk, limits.file_bytes, limits.file_too_large())

    try:
        try:
            body = stream_parts(request, boundary, open_part)
        except _TooManyParts:
            return _error(limits.too_many_files(), 413)
        except MalformedBody:
            return _error(
                "The body is not multipart/related with the boundary of its Content-Type.", 400
            )
        if body.truncated and dicom:
            # The body stopped inside its last part: that part is incomplete, not stored.
            dicom.pop().close()
        if not dicom:
            return _error("No application/dicom part was found in the request.", 400)
        try:
            case = _target_case(request)
        except PermissionDenied:
            return _error("You cannot add images to this case (not yours, or not a draft).", 403)
        upload = receive_files(
            case=case,
            user=request.user,
            source="stow",
            files=(Received(stream=f.finish(), size=f.size, refusal=f.refusal) for f in dicom),
        )
    finally:
        for incoming in dicom:
            incoming.close()
    status_url = request.build_absolute_uri(reverse("upload-status", args=[upload.public_id]))
    ds = pydicom.Dataset()
    ds.RetrieveURL = status_url
    response = _json(ds.to_json_dict(), status=202)
    ignored = f"{skipped} part(s) that were not application/dicom ignored"
    if body.truncated:
        ignored += "; the body ended inside its last part, which was ignored"
    response["Warning"] = (
        f'299 teaching-archive "{len(dicom)} instance(s) queued for de-identification; {ignored}"'
    )
    response["Content-Location"] = request.build_absolute_uri(case.get_absolute_url())
    return response


# --- resources with more than one method -------------------------------------------------------


@csrf_exempt  # CSRF is checked by dicomweb_auth for session-authenticated writes
def studies_root(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return store_instances(request)
    return search_studies(request)


@csrf_exempt
def study_root(request: HttpRequest, study_uid: str) -> HttpResponse:
    if request.method == "POST":
        return store_instances(request, study_uid)
    return retrieve_study(request, study_uid)
