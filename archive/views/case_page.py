"""The case page students study: history, findings, the image viewer and, unless the case is in
quiz mode, the diagnosis and discussion."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from archive.rendering import WINDOW_PRESETS
from archive.services import cases as case_services
from archive.views.cases import _case_for, _series_of


@login_required
def case_detail(request, pk: int):
    case = _case_for(request, pk)
    series = _series_of(case)
    viewer_data = [
        {
            "label": f"{s.modality} {s.description}".strip(),
            "images": [
                {"id": i.pk, "frames": max(i.frames, 1)} for i in s.instances.all() if i.has_pixels
            ],
        }
        for s in series
    ]
    return render(
        request,
        "archive/case_detail.html",
        {
            "case": case,
            "series": series,
            "presets": list(WINDOW_PRESETS),
            "viewer_data": viewer_data,
            "can_edit": case_services.can_edit(request.user, case),
        },
    )
