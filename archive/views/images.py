"""Serving anonymized images: rendered frames (PNG, cached, ETag) and DICOM downloads, each
behind the same permission check as the case page."""

from __future__ import annotations

import hashlib

from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseNotModified,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404

from archive import privacy
from archive.models import Case, Instance
from archive.rendering import (
    FrameNotFound,
    custom_window,
    effective_window,
    frame_etag,
    render_frame,
)
from archive.services import downloads


@login_required
def instance_frame(request, pk: int, frame: int):
    instance = get_object_or_404(Instance.objects.select_related("series__study__case"), pk=pk)
    if not privacy.can_view_case(request.user, instance.series.study.case):
        raise Http404
    preset = request.GET.get("preset", "default")
    size = request.GET.get("size")
    size = min(max(int(size), 32), 2048) if size and size.isdigit() else None
    window = None
    if "wc" in request.GET or "ww" in request.GET:
        window = custom_window(request.GET.get("wc"), request.GET.get("ww"))
        if window is None:
            return HttpResponse("wc and ww must be numbers.", status=400, content_type="text/plain")
    etag = frame_etag(instance, frame, preset, size, window)
    exists = instance.has_pixels and 0 <= frame < max(instance.frames, 1)
    if exists and request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified()  # custom windows are not cached: skip the rendering
    try:
        data, etag = render_frame(instance, frame, preset, size, window)
    except FrameNotFound as exc:
        raise Http404 from exc
    response = HttpResponse(data, content_type="image/png")
    response["ETag"] = etag
    # Revalidate every time (cheap with the ETag): a teacher may blank part of an image.
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
def instance_window(request, pk: int, frame: int):
    """The window the default rendering of a frame uses (JSON), where a W/L drag starts."""
    instance = get_object_or_404(Instance.objects.select_related("series__study__case"), pk=pk)
    if not privacy.can_view_case(request.user, instance.series.study.case):
        raise Http404
    try:
        window = effective_window(instance, frame)
    except FrameNotFound as exc:
        raise Http404 from exc
    body = {"center": window[0], "width": window[1]} if window else {"center": None, "width": None}
    response = JsonResponse(body)
    # Revalidate every time (cheap with the ETag): a teacher may blank part of an image.
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
def instance_download(request, pk: int):
    instance = get_object_or_404(
        Instance.objects.select_related("series__study__case__diagnosis"), pk=pk
    )
    view = privacy.case_view(request.user, instance.series.study.case)
    if not view.visible:
        raise Http404
    name = hashlib.sha256(instance.sop_uid.encode()).hexdigest()[:16] + ".dcm"
    if view.hidden:  # headers scrubbed of the diagnosis, as in the study zip
        return HttpResponse(
            b"".join(downloads.instance_bytes(instance, view.terms)),
            content_type="application/dicom",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return FileResponse(
        instance.file.open("rb"),
        as_attachment=True,
        filename=name,
        content_type="application/dicom",
    )


@login_required
def case_download(request, pk: int):
    """The case's anonymized images as a zip of DICOM files, streamed."""
    case = get_object_or_404(Case.objects.select_related("diagnosis"), pk=pk)
    view = privacy.case_view(request.user, case)
    if not view.visible or not case.instances().exists():
        raise Http404
    response = StreamingHttpResponse(
        downloads.stream_study_zip(case, view.terms), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="{downloads.study_zip_name(case)}"'
    response["Cache-Control"] = "private, no-store"
    return response
