"""The teacher's control over series and images (editor): delete, reorder, rename, lead image,
captions. Thin: the policy decides who (``can_edit_case``), ``services.series_control`` does it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from archive import privacy
from archive.models import Instance, Series
from archive.services import series_control


def _editable(request, case):
    if not privacy.can_view_case(request.user, case):
        raise Http404  # an unpublished case does not exist for others
    if not privacy.can_edit_case(request.user, case):
        raise PermissionDenied


def _error(request, exc: ValidationError) -> None:
    params = {k: _(v) for k, v in (exc.params or {}).items()}
    messages.error(request, _(exc.message) % params)


@login_required
@require_POST
def series_manage(request, pk: int):
    series = get_object_or_404(Series.objects.select_related("study__case"), pk=pk)
    case = series.study.case
    _editable(request, case)
    action = request.POST.get("action", "")
    back = reverse("case-edit", args=[case.pk]) + "#series-list"
    try:
        if action == "rename":
            series_control.rename_series(
                series=series, user=request.user, description=request.POST.get("description", "")
            )
            messages.success(request, _("The series' description was saved."))
        elif action in {"up", "down"}:
            step = -1 if action == "up" else 1
            series_control.move_series(series=series, user=request.user, step=step)
        elif action == "lead":
            series_control.set_lead(case=case, user=request.user, series=series)
            messages.success(request, _("Students now start with this series."))
        elif action == "delete":
            series_control.delete_series(series=series, user=request.user)
            messages.success(request, _("The series and its files were deleted."))
        else:
            messages.error(request, _("Choose what to do with the series."))
    except ValidationError as exc:
        _error(request, exc)
    return redirect(back)


@login_required
@require_GET
def series_images(request, pk: int):
    """Every image of a series: caption it, make it the lead image, delete it."""
    series = get_object_or_404(Series.objects.select_related("study__case"), pk=pk)
    case = series.study.case
    _editable(request, case)
    instances = series.instances.order_by("instance_number", "pk")
    return render(
        request,
        "archive/series_images.html",
        {"case": case, "series": series, "instances": instances},
    )


@login_required
@require_POST
def instance_manage(request, pk: int):
    instance = get_object_or_404(Instance.objects.select_related("series__study__case"), pk=pk)
    series = instance.series
    case = series.study.case
    _editable(request, case)
    action = request.POST.get("action", "")
    back = reverse("series-images", args=[series.pk])
    try:
        if action == "caption":
            series_control.set_caption(
                instance=instance, user=request.user, caption=request.POST.get("caption", "")
            )
            messages.success(request, _("The caption was saved."))
        elif action == "lead":
            series_control.set_lead(case=case, user=request.user, instance=instance)
            messages.success(request, _("Students now start with this image."))
        elif action == "delete":
            last = series.instances.count() == 1
            series_control.delete_instance(instance=instance, user=request.user)
            messages.success(request, _("The image and its file were deleted."))
            if last:
                back = reverse("case-edit", args=[case.pk]) + "#series-list"
        else:
            messages.error(request, _("Choose what to do with the image."))
    except ValidationError as exc:
        _error(request, exc)
    return redirect(back)
