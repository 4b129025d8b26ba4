"""DICOMweb endpoints (PS3.18): QIDO-RS search, WADO-RS retrieve, STOW-RS store.

Thin views: visibility comes from ``selectors`` and what a quiz hides from ``archive.privacy``
(an unpublished case is invisible, as a 404, except to its owner and curators; an unanswered quiz
case's descriptions and headers lose every way of writing its diagnosis), matching from
``matching``, media types and transfer syntaxes from ``negotiation`` (406 when nothing the client
accepts can be made), pixels from ``transcoding``, JSON from ``json_model``, absolute URLs from
``links``; uploads go through the intake service into the same de-identification pipeline as
browser uploads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable

from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    StreamingHttpResponse,
)
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from pydicom import Dataset

from archive import privacy
from archive.dicomweb import json_model, matching
from archive.dicomweb.auth import dicomweb_auth
from archive.dicomweb.links import absolute, external_base
from archive.dicomweb.multipart import (
    MalformedBody,
    boundary_of,
    multipart_stream,
    new_boundary,
    stream_parts,
)
from archive.dicomweb.negotiation import (
    frame_choice,
    instance_choice,
    parse_accept,
    rendered_choice,
)
from archive.dicomweb.selectors import visible_instances, visible_series, visible_studies
from archive.dicomweb.transcoding import FrameOutOfRange, frames_in, instance_in, stored_syntax
from archive.models import Case, Instance, Modality, Series, Study
from archive.rendering import FrameNotFound, custom_window, frame_etag, render_frame
from archive.services.incoming import IncomingFile, UploadLimits, upload_rate_refusal
from archive.services.intake import Received, receive_files

DICOM_JSON = "application/dicom+json"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: Thumbnails are this many pixels on their longer side unless ``viewport`` says otherwise.
THUMBNAIL_SIZE = 128

#: Instances in the order the teacher gave the series (``Series.position``; the header's
#: Series Number after), as the archive's pages and viewer show them.
TEACHERS_ORDER = ("series__position", "series__number", "series_id", "instance_number", "pk")


def _json(data, status: int = 200, warning: str | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(data), status=status, content_type=DICOM_JSON)
    if warning:
        response["Warning"] = warning
    return response


def _error(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain")


def _url(request: HttpRequest, name: str, *args) -> str:
    return absolute(request, name, *args)


def _not_acceptable(offered: str) -> HttpResponse:
    return _error(f"None of the media types in Accept can be sent. Offered: {offered}.", 406)


# --- QIDO-RS -----------------------------------------------------------------------------------


def _matching(
    rows: QuerySet,
    query: matching.Query,
    view_of: Callable,
    shown: Callable[[object], dict[str, str]],
) -> list:
    """The page of ``rows`` that also matches on what this user is shown (masked keys)."""
    if not query.masked:
        return list(rows[query.offset : query.offset + query.limit])
    out, skipped = [], 0
    for row in rows.iterator(chunk_size=200):
        view = view_of(row)
        if not query.shown_matches({k: view.text(v) for k, v in shown(row).items()}):
            continue
        if skipped < query.offset:
            skipped += 1
            continue
        out.append(row)
        if len(out) >= query.limit:
            break
    return out


def _parse(request: HttpRequest, keys: dict, prefixes: dict[str, str], quiz_path: str):
    return matching.parse(
        request.GET,
        keys,
        prefixes=prefixes,
        quiz_path=quiz_path,
        default_limit=DEFAULT_LIMIT,
        max_limit=MAX_LIMIT,
    )


def _qido(handler: Callable) -> Callable:
    """400 with the reason for a query the client must correct."""

    def wrapper(request, *args, **kwargs):
        try:
            return handler(request, *args, **kwargs)
        except matching.BadQuery as exc:
            return _error(str(exc), 400)

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


def _study_attributes(study: Study) -> Dataset:
    ds = Dataset()
    ds.StudyInstanceUID = study.study_uid
    ds.StudyDate = study.study_date.strftime("%Y%m%d") if study.study_date else ""
    ds.StudyDescription = study.description
    ds.PatientID = study.pseudonymous_patient_id
    return ds


def _series_attributes(series: Series) -> Dataset:
    ds = Dataset()
    ds.Modality = series.modality
    ds.SeriesDescription = series.description
    if series.number is not None:
        ds.SeriesNumber = series.number
    return ds


@require_GET
@dicomweb_auth
@_qido
def search_studies(request: HttpRequest) -> HttpResponse:
    query = _parse(request, matching.STUDY_KEYS, {"study": ""}, "case__quiz_mode")
    studies = visible_studies(user=request.user).filter(query.filters).distinct().order_by("pk")
    policy = privacy.policy_for(request.user)
    page = _matching(
        studies,
        query,
        lambda s: policy.view(s.case),
        lambda s: {"StudyDescription": s.description},
    )
    out = []
    for study in page:
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
                include=query.include,
                include_all=query.include_all,
            )
        )
    return _json(out, warning=matching.warning(query))


@require_GET
@dicomweb_auth
@_qido
def search_series(request: HttpRequest, study_uid: str | None = None) -> HttpResponse:
    """Series of one study, or of every visible study (top-level ``/series``, where study
    attributes are matching keys too and are returned with each series)."""
    keys = dict(matching.SERIES_KEYS)
    if study_uid is None:
        keys |= matching.STUDY_KEYS
    query = _parse(request, keys, {"series": "", "study": "study__"}, "study__case__quiz_mode")
    rows = (
        visible_series(user=request.user, study_uid=study_uid)
        .filter(query.filters)
        .annotate(n=Count("instances", distinct=True))
        .order_by("study_id", "position", "number", "pk")
    )
    policy = privacy.policy_for(request.user)
    page = _matching(
        rows,
        query,
        lambda s: policy.view(s.study.case),
        lambda s: {"SeriesDescription": s.description, "StudyDescription": s.study.description},
    )
    out = []
    for s in page:
        first = None
        if query.include or query.include_all:
            first = s.instances.order_by("instance_number", "pk").first()
        out.append(
            json_model.series_json(
                s,
                n_instances=s.n,
                retrieve_url=_url(request, "series", s.study.study_uid, s.series_uid),
                hidden_terms=policy.view(s.study.case).terms,
                include=query.include,
                include_all=query.include_all,
                first_instance=first,
                study=_study_attributes(s.study) if study_uid is None else None,
            )
        )
    return _json(out, warning=matching.warning(query))


@require_GET
@dicomweb_auth
@_qido
def search_instances(
    request: HttpRequest, study_uid: str | None = None, series_uid: str | None = None
) -> HttpResponse:
    """Instances of a series, of a study (series attributes added) or of every visible study
    (top-level ``/instances``: study and series attributes added)."""
    keys = dict(matching.INSTANCE_KEYS)
    if series_uid is None:
        keys |= matching.SERIES_KEYS
    if study_uid is None:
        keys |= matching.STUDY_KEYS
    query = _parse(
        request,
        keys,
        {"series": "series__", "study": "series__study__"},
        "series__study__case__quiz_mode",
    )
    rows = (
        visible_instances(user=request.user, study_uid=study_uid, series_uid=series_uid)
        .filter(query.filters)
        .distinct()
        .order_by("series__study_id", *TEACHERS_ORDER)
    )
    policy = privacy.policy_for(request.user)
    page = _matching(
        rows,
        query,
        lambda i: policy.view(i.series.study.case),
        lambda i: {
            "SeriesDescription": i.series.description,
            "StudyDescription": i.series.study.description,
        },
    )
    out = []
    for i in page:
        series, study = i.series, i.series.study
        parents = None
        if series_uid is None:
            parents = _series_attributes(series)
            if study_uid is None:
                for elem in _study_attributes(study):
                    parents.add(elem)
        out.append(
            json_model.instance_json(
                i,
                retrieve_url=_url(
                    request, "instance", study.study_uid, series.series_uid, i.sop_uid
                ),
                hidden_terms=policy.view(study.case).terms,
                include=query.include,
                include_all=query.include_all,
                parents=parents,
            )
        )
    return _json(out, warning=matching.warning(query))


# --- WADO-RS: instances --------------------------------------------------------------------------


def _retrieve(request: HttpRequest, instances) -> HttpResponse:
    instances = list(instances.order_by(*TEACHERS_ORDER))
    if not instances:
        raise Http404
    accept = parse_accept(request.headers.get("Accept"))
    chosen = []
    for instance in instances:
        syntax = instance_choice(accept, stored_syntax(instance), has_pixels=instance.has_pixels)
        if syntax is None:
            return _not_acceptable(
                'multipart/related; type="application/dicom" with transfer-syntax '
                "* (as stored), 1.2.840.10008.1.2.1, 1.2.840.10008.1.2, 1.2.840.10008.1.2.5, "
                "1.2.840.10008.1.2.4.80, 1.2.840.10008.1.2.4.90"
            )
        chosen.append((instance, syntax))
    policy = privacy.policy_for(request.user)
    boundary = new_boundary()
    # An unanswered quiz case's files are re-written without its diagnosis (as downloads are).
    parts = (
        (
            f"application/dicom; transfer-syntax={syntax}",
            instance_in(i, syntax, policy.view(i.series.study.case).terms),
        )
        for i, syntax in chosen
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
    for instance in instances.order_by(*TEACHERS_ORDER):
        study, series = instance.series.study.study_uid, instance.series.series_uid

        def uri(tag, instance=instance, study=study, series=series) -> str:
            return _url(request, "bulkdata", study, series, instance.sop_uid, f"{tag:08X}")

        terms = policy.view(instance.series.study.case).terms
        out.append(json_model.metadata_json(instance, bulk_data_uri=uri, hidden_terms=terms))
    if not out:
        raise Http404
    response = _json(out)
    response["Cache-Control"] = "private, no-cache"
    return response


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


# --- WADO-RS: pixels ---------------------------------------------------------------------------

FRAMES_OFFERED = (
    'multipart/related; type="application/octet-stream" (uncompressed), or the stored '
    'syntax\'s image type, or type="image/dicom-rle", "image/jls" or "image/jp2" (lossless)'
)


def _frame_numbers(frame_list: str) -> list[int]:
    try:
        numbers = [int(n) for n in frame_list.split(",") if n.strip()]
    except ValueError as exc:
        raise Http404 from exc
    if not numbers:
        raise Http404
    return numbers


def _pixel_parts(
    request: HttpRequest, instance: Instance, numbers: list[int], *, one_part: bool = False
) -> HttpResponse:
    """Frames as multipart/related (PS3.18 8.7.3.3.2): each frame one part, or for uncompressed
    bulk data all frames in one part. Revalidated by ETag on every use: a teacher may redact
    an image again, which replaces its file."""
    stored = stored_syntax(instance)
    choice = frame_choice(parse_accept(request.headers.get("Accept")), stored)
    if choice is None:
        return _not_acceptable(FRAMES_OFFERED)
    syntax, media_type = choice
    tag = f"{instance.pk}|{instance.file.name}|{numbers}|{syntax}|{one_part}"
    etag = f'"{hashlib.sha256(tag.encode()).hexdigest()[:32]}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
        response["ETag"] = etag
        return response
    try:
        frames = frames_in(instance, numbers, syntax)
    except FrameOutOfRange as exc:
        raise Http404 from exc
    if one_part and media_type == "application/octet-stream":
        frames = [b"".join(frames)]
    boundary = new_boundary()
    part_type = f"{media_type}; transfer-syntax={syntax}"
    body = b"".join(multipart_stream(((part_type, [f]) for f in frames), boundary))
    response = HttpResponse(
        body,
        content_type=f'multipart/related; type="{media_type}"; boundary={boundary}',
    )
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


@require_GET
@dicomweb_auth
def frames(request, study_uid: str, series_uid: str, sop_uid: str, frame_list: str):
    """Frames ``1,2,…`` of an instance: uncompressed by default, or as the client asks."""
    instance = _one(request, study_uid, series_uid, sop_uid)
    numbers = _frame_numbers(frame_list)
    if len(numbers) > max(instance.frames, 1):
        return _error("Ask for each frame at most once.", 400)
    return _pixel_parts(request, instance, numbers)


@require_GET
@dicomweb_auth
def bulkdata(request, study_uid: str, series_uid: str, sop_uid: str, tag: str):
    """Pixel Data (the only bulk data the metadata refers to): uncompressed, all frames in one
    part, or one part per frame in a compressed syntax (PS3.18 8.7.3.3.3)."""
    instance = _one(request, study_uid, series_uid, sop_uid)
    if tag.upper() != "7FE00010" or not instance.has_pixels:
        raise Http404
    numbers = list(range(1, max(instance.frames, 1) + 1))
    return _pixel_parts(request, instance, numbers, one_part=True)


# --- WADO-RS: rendered images and thumbnails ---------------------------------------------------


def _viewport_size(request: HttpRequest, default: int | None) -> int | None:
    """The longer side asked for by ``viewport=vw,vh`` (PS3.18 8.3.5.1.3), bounded."""
    raw = request.GET.get("viewport", "")
    try:
        sides = [int(v) for v in raw.split(",")[:2] if v.strip()]
    except ValueError:
        sides = []
    if not sides:
        return default
    return min(max(max(sides), 16), 4096)


def _window(request: HttpRequest):
    raw = request.GET.get("window", "")
    if not raw:
        return None
    center, _, rest = raw.partition(",")
    width = rest.split(",")[0]
    return custom_window(center, width) or False


def _render(
    request: HttpRequest,
    instances: list[tuple[Instance, int]],
    *,
    size: int | None,
    single: bool,
) -> HttpResponse:
    accept = parse_accept(request.headers.get("Accept"))
    media_type = rendered_choice(accept)
    if media_type is None:
        return _not_acceptable("image/jpeg or image/png")
    window = _window(request)
    if window is False:
        return _error("window must be center,width[,function] with numbers.", 400)
    fmt = media_type.split("/")[1]
    if single:
        instance, frame = instances[0]
        etag = frame_etag(instance, frame, "default", size, window, fmt)
        exists = instance.has_pixels and 0 <= frame < max(instance.frames, 1)
        if exists and request.headers.get("If-None-Match") == etag:
            return HttpResponseNotModified()
        try:
            data, etag = render_frame(instance, frame, "default", size, window, fmt)
        except FrameNotFound as exc:
            raise Http404 from exc
        response = HttpResponse(data, content_type=media_type)
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        return response
    images = []
    for instance, frame in instances:
        if not instance.has_pixels:
            continue
        images.append(render_frame(instance, frame, "default", size, window, fmt)[0])
    if not images:
        raise Http404
    boundary = new_boundary()
    body = b"".join(multipart_stream(((media_type, [d]) for d in images), boundary))
    return HttpResponse(
        body, content_type=f'multipart/related; type="{media_type}"; boundary={boundary}'
    )


def _ordered(instances: QuerySet) -> list[Instance]:
    return list(instances.order_by(*TEACHERS_ORDER))


@require_GET
@dicomweb_auth
def rendered_frame(request, study_uid: str, series_uid: str, sop_uid: str, frame_list: str):
    instance = _one(request, study_uid, series_uid, sop_uid)
    numbers = _frame_numbers(frame_list)
    pairs = [(instance, n - 1) for n in numbers]
    return _render(request, pairs, size=_viewport_size(request, None), single=len(pairs) == 1)


@require_GET
@dicomweb_auth
def rendered_instance(request, study_uid: str, series_uid: str, sop_uid: str):
    """The first frame, rendered (PS3.18 8.7.4: a single-frame image media type)."""
    instance = _one(request, study_uid, series_uid, sop_uid)
    return _render(request, [(instance, 0)], size=_viewport_size(request, None), single=True)


@require_GET
@dicomweb_auth
def rendered_series(request, study_uid: str, series_uid: str):
    instances = _ordered(
        visible_instances(user=request.user, study_uid=study_uid, series_uid=series_uid)
    )
    if not instances:
        raise Http404
    return _render_many(request, instances)


@require_GET
@dicomweb_auth
def rendered_study(request, study_uid: str):
    instances = _ordered(visible_instances(user=request.user, study_uid=study_uid))
    if not instances:
        raise Http404
    return _render_many(request, instances)


def _render_many(request: HttpRequest, instances: list[Instance]) -> HttpResponse:
    """Every instance's first frame as parts of a multipart/related answer when the client
    asks for multipart; a client asking for one image type gets one image (the first)."""
    accept = parse_accept(request.headers.get("Accept"))
    multipart = any(r.type == "multipart/related" for r in accept)
    pairs = [(i, 0) for i in instances if i.has_pixels] or [(instances[0], 0)]
    size = _viewport_size(request, None)
    return _render(request, pairs if multipart else pairs[:1], size=size, single=not multipart)


def _representative(instances: Iterable[Instance]) -> Instance:
    """The middle image of the first series that has pixels: what a thumbnail shows."""
    by_series: dict[int, list[Instance]] = {}
    for i in instances:
        if i.has_pixels:
            by_series.setdefault(i.series_id, []).append(i)
    if not by_series:
        raise Http404
    first = next(iter(by_series.values()))
    return first[len(first) // 2]


def _thumbnail(request: HttpRequest, instance: Instance, frame: int) -> HttpResponse:
    size = _viewport_size(request, THUMBNAIL_SIZE)
    return _render(request, [(instance, frame)], size=size, single=True)


@require_GET
@dicomweb_auth
def thumbnail_study(request, study_uid: str):
    instances = _ordered(visible_instances(user=request.user, study_uid=study_uid))
    return _thumbnail(request, _representative(instances), 0)


@require_GET
@dicomweb_auth
def thumbnail_series(request, study_uid: str, series_uid: str):
    instances = _ordered(
        visible_instances(user=request.user, study_uid=study_uid, series_uid=series_uid)
    )
    return _thumbnail(request, _representative(instances), 0)


@require_GET
@dicomweb_auth
def thumbnail_instance(request, study_uid: str, series_uid: str, sop_uid: str):
    instance = _one(request, study_uid, series_uid, sop_uid)
    return _thumbnail(request, instance, max(instance.frames, 1) // 2)


@require_GET
@dicomweb_auth
def thumbnail_frame(request, study_uid: str, series_uid: str, sop_uid: str, frame_list: str):
    instance = _one(request, study_uid, series_uid, sop_uid)
    return _thumbnail(request, instance, _frame_numbers(frame_list)[0] - 1)


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
    rate = upload_rate_refusal(request.user)
    if rate:
        return _error(rate, 429)
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
        # The sender's own UIDs, echoed in the response (read before the files move on).
        identities = [json_model.sop_identity(f.finish()) for f in dicom]
        upload = receive_files(
            case=case,
            user=request.user,
            source="stow",
            files=(Received(stream=f.finish(), size=f.size, refusal=f.refusal) for f in dicom),
        )
    finally:
        for incoming in dicom:
            incoming.close()
    base = external_base(request)
    status_url = base + reverse("upload-status", args=[upload.public_id])
    response = _json(json_model.store_response(status_url, identities), status=202)
    ignored = f"{skipped} part(s) that were not application/dicom ignored"
    if body.truncated:
        ignored += "; the body ended inside its last part, which was ignored"
    response["Warning"] = (
        f'299 teaching-archive "{len(dicom)} instance(s) queued for de-identification; {ignored}"'
    )
    response["Content-Location"] = base + case.get_absolute_url()
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
