"""The case page students study: history, findings, the image viewer and, unless the case is in
quiz mode and still unanswered, the diagnosis and discussion. Teachers and curators who may edit
the case also pick key images here."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from archive import privacy
from archive.models import KeyImage, QuizAnswer
from archive.privacy import CaseView
from archive.rendering import WINDOW_PRESETS
from archive.selectors import case_series
from archive.services import key_images as key_image_services
from archive.services import quiz
from archive.views.cases import viewable_case_or_404

COLOUR_PREFIXES = ("RGB", "YBR", "PALETTE")


def key_image_json(k: KeyImage, position: tuple[int, int] | None, view: CaseView) -> dict:
    return {
        "id": k.pk,
        "instance": k.instance_id,
        "frame": k.frame,
        "series": position[0] if position else 0,
        "position": position[1] if position else 0,
        # Captions and labels are the teacher's words: they may name the diagnosis.
        "caption": "" if view.hidden else k.caption,
        "annotations": [
            {**a, "label": "" if view.hidden else a.get("label", "")} for a in k.annotations
        ],
        "thumb": reverse("instance-frame", args=[k.instance_id, k.frame]) + "?size=96",
    }


def viewer_data(view: CaseView, series) -> dict:
    case = view.case
    positions: dict[tuple[int, int], tuple[int, int]] = {}
    out_series = []
    for s_index, s in enumerate(series):
        images, position = [], 0
        for i in s.instances.all():
            if not i.has_pixels:
                continue
            frames = max(i.frames, 1)
            for f in range(frames):
                positions[(i.pk, f)] = (s_index, position + f)
            position += frames
            images.append(
                {
                    "id": i.pk,
                    "frames": frames,
                    "rows": i.rows,
                    "cols": i.columns,
                    "wc": i.window_center,
                    "ww": i.window_width,
                    "colour": i.photometric.upper().startswith(COLOUR_PREFIXES),
                }
            )
        label = view.text(f"{s.modality} {s.description}".strip())
        out_series.append({"label": label, "images": images})
    keys = [
        key_image_json(k, positions.get((k.instance_id, k.frame)), view)
        for k in case.key_images.all()
        if (k.instance_id, k.frame) in positions
    ]
    return {
        "series": out_series,
        "keyImages": keys,
        "presets": {name: list(v) for name, v in WINDOW_PRESETS.items() if v},
        "canEdit": view.editable,
        "keyImageUrl": reverse("case-key-images", args=[case.pk]) if view.editable else "",
        "text": viewer_text(),
    }


def viewer_text() -> dict[str, str]:
    """The viewer script's words, translated here: there is no JavaScript catalogue."""
    return {
        "play": _("Play"),
        "pause": _("Pause"),
        "imageOf": _("Image %(n)s of %(total)s"),
        "imageOfSeries": _("Image %(n)s of %(total)s in series %(series)s"),
        "keyImage": _("Key image %(n)s"),
        "removeKeyImage": _("Remove key image %(n)s"),
        "colour": _("Colour image (shown as stored)"),
        "colourNoContrast": _("Colour images are shown as stored; contrast cannot be changed."),
        "saveKey": _("Save as key image"),
        "updateKey": _("Update key image"),
        "saved": _("Saved: image %(n)s is a key image."),
        "removed": _("Key image removed."),
        "saveFailed": _("The key image could not be saved. Reload the page and try again."),
    }


@login_required
def case_detail(request, pk: int):
    case = viewable_case_or_404(request, pk)
    series = case_series(case=case)
    view = privacy.case_view(request.user, case)
    answer = (
        QuizAnswer.objects.filter(user_id=request.user.pk, case=case).first()
        if case.quiz_mode
        else None
    )
    data = viewer_data(view, series)
    return render(
        request,
        "archive/case_detail.html",
        {
            "case": case,
            "series": series,
            "presets": list(WINDOW_PRESETS),
            "viewer_data": data,
            "can_edit": view.editable,
            "hidden": view.hidden,
            "answer": answer,
            "title": view.title,
            "history": view.text(case.history),
            "tags": view.tags(),
            "diagnosis_name": (
                quiz.display_name(case.diagnosis, get_language()) if case.diagnosis else ""
            ),
            "has_choices": view.hidden and len(quiz.choices_for(request.user, case)) >= 2,
            "has_images": any(s["images"] for s in data["series"]),
        },
    )


def _editable_case(request, pk: int):
    case = viewable_case_or_404(request, pk)  # 404 for whoever may not see the case
    if not privacy.can_edit_case(request.user, case):
        raise PermissionDenied
    return case


@login_required
@require_POST
def key_image_create(request, pk: int):
    case = _editable_case(request, pk)
    try:
        body = json.loads(request.body or b"{}")
        key = key_image_services.add_key_image(
            case=case,
            user=request.user,
            instance_id=int(body.get("instance")),
            frame=int(body.get("frame", 0)),
            caption=str(body.get("caption", "")),
            annotations=body.get("annotations") or [],
        )
    except (ValueError, TypeError, json.JSONDecodeError):
        return JsonResponse({"error": "Send the image, the frame and the annotations."}, status=400)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    data = viewer_data(privacy.case_view(request.user, case), case_series(case=case))
    return JsonResponse(
        {
            "keyImage": next((k for k in data["keyImages"] if k["id"] == key.pk), None),
            "keyImages": data["keyImages"],
        },
        status=201,
    )


@login_required
@require_POST
def key_image_delete(request, pk: int, key_pk: int):
    case = _editable_case(request, pk)
    if not case.key_images.filter(pk=key_pk).exists():
        raise Http404
    key_image_services.remove_key_image(case=case, user=request.user, key_image_id=key_pk)
    data = viewer_data(privacy.case_view(request.user, case), case_series(case=case))
    return JsonResponse({"keyImages": data["keyImages"]})
