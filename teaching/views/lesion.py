"""The teacher's editor of the lesion's region on a key image (click the lesion)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from archive import privacy
from archive.views.cases import viewable_case_or_404
from teaching import selectors
from teaching.services import regions


def _editable(request, pk: int):
    case = viewable_case_or_404(request, pk)  # 404 for whoever may not see it
    if not privacy.can_edit_case(request.user, case):
        raise PermissionDenied
    return case


@login_required
def lesion_editor(request, pk: int):
    case = _editable(request, pk)
    keys = list(case.key_images.select_related("instance"))
    raw = request.GET.get("key", "")
    key = next((k for k in keys if raw.isdigit() and k.pk == int(raw)), None)
    key = key or selectors.target_key_image(case=case) or (keys[0] if keys else None)
    return render(
        request,
        "teaching/lesion_editor.html",
        {
            "case": case,
            "keys": keys,
            "key": key,
            "region": selectors.region_of(key),
            "key_url": (
                reverse("instance-frame", args=[key.instance_id, key.frame]) + "?preset=default"
                if key
                else ""
            ),
            "lesion_text": {
                "ellipse": _("Ellipse drawn. Save it, or drag again to redraw."),
                "polygon": _("Polygon closed. Save it, or click new points to redraw."),
            },
        },
    )


@login_required
@require_POST
def lesion_save(request, pk: int):
    case = _editable(request, pk)
    raw_key = request.POST.get("key", "")
    raw_region = request.POST.get("region", "").strip()
    back = reverse("teaching:lesion-editor", args=[case.pk])
    try:
        region = json.loads(raw_region) if raw_region else None
        key = regions.set_lesion_region(
            case=case,
            user=request.user,
            key_image_id=int(raw_key) if raw_key.isdigit() else 0,
            region=region,
        )
    except json.JSONDecodeError:
        messages.error(request, _("Draw an ellipse or a polygon around the lesion."))
        return redirect(back)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(f"{back}?key={raw_key}" if raw_key.isdigit() else back)
    if region is None:
        messages.success(request, _("Region removed: students answer this case without a click."))
    else:
        messages.success(
            request, _("Region saved: students now click the lesion on this key image.")
        )
    return redirect(f"{back}?key={key.pk}")
