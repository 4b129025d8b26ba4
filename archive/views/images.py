"""Serving anonymized images: rendered frames (PNG, cached, ETag) and DICOM downloads, each
behind the same permission check as the case page."""

from __future__ import annotations

import hashlib

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404

from archive.models import Instance
from archive.rendering import FrameNotFound, render_frame
from archive.services import cases as case_services


@login_required
def instance_frame(request, pk: int, frame: int):
    instance = get_object_or_404(Instance.objects.select_related("series__study__case"), pk=pk)
    if not case_services.can_view(request.user, instance.series.study.case):
        raise Http404
    preset = request.GET.get("preset", "default")
    size = request.GET.get("size")
    size = min(max(int(size), 32), 2048) if size and size.isdigit() else None
    try:
        data, etag = render_frame(instance, frame, preset, size)
    except FrameNotFound as exc:
        raise Http404 from exc
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified()
    response = HttpResponse(data, content_type="image/png")
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
def instance_download(request, pk: int):
    instance = get_object_or_404(Instance.objects.select_related("series__study__case"), pk=pk)
    case = instance.series.study.case
    if not case_services.can_view(request.user, case):
        raise Http404
    name = hashlib.sha256(instance.sop_uid.encode()).hexdigest()[:16] + ".dcm"
    return FileResponse(
        instance.file.open("rb"),
        as_attachment=True,
        filename=name,
        content_type="application/dicom",
    )
