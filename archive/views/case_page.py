"""The case page students study: history, findings, the image viewer and, unless the case is in
quiz mode and still unanswered, the diagnosis and discussion. Teachers and curators who may edit
the case also pick key images here."""

from __future__ import annotations

import json

import pydicom
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from archive import privacy
from archive.models import Instance, KeyImage, QuizAnswer, Series
from archive.privacy import CaseView
from archive.selectors import case_series, lead_images
from archive.services import cases as case_services
from archive.services import comments as comment_services
from archive.services import key_images as key_image_services
from archive.services import quiz
from archive.services import revisions as revision_services
from archive.views.cases import viewable_case_or_404
from teaching import flow as teaching_flow

COLOUR_PREFIXES = ("RGB", "YBR", "PALETTE")


def key_image_json(k: KeyImage, position: tuple[int, int] | None, view: CaseView) -> dict:
    return {
        "id": k.pk,
        "instance": k.instance_id,
        "frame": k.frame,
        "series": position[0] if position else 0,
        "position": position[1] if position else 0,
        # Captions, labels and even the shapes (an arrow at the lesion) are the teacher's
        # answer: an unanswered quiz gets the key image, not what was drawn or written on it.
        "caption": "" if view.hidden else k.caption,
        "annotations": [] if view.hidden else [{**a, "label": a.get("label", "")}
                                                for a in k.annotations],
        "thumb": reverse("instance-frame", args=[k.instance_id, k.frame]) + "?size=96",
    }  # fmt: skip


def _series_plane(series: Series, first: Instance | None) -> str:
    """The series' plane, read from its first image's header the first time and kept on the
    series: a page showing a case then opens no file for it."""
    if series.plane is None and first is not None:
        plane = _plane(first)
        if plane is None:  # the file could not be read now: not kept, tried again next time
            return ""
        Series.objects.filter(pk=series.pk).update(plane=plane)
        series.plane = plane
    return series.plane or ""


def _plane(instance: Instance) -> str | None:
    """axial, coronal, sagittal or oblique, from Image Orientation (Patient); "" without it;
    None when the file cannot be read."""
    try:
        with instance.file.open("rb") as fh:
            ds = pydicom.dcmread(
                fh, stop_before_pixels=True, specific_tags=["ImageOrientationPatient"]
            )
    except (OSError, ValueError, pydicom.errors.InvalidDicomError):
        return None
    try:
        row, column = ds.ImageOrientationPatient[:3], ds.ImageOrientationPatient[3:6]
    except (AttributeError, ValueError, TypeError):
        return ""
    normal = [
        row[1] * column[2] - row[2] * column[1],
        row[2] * column[0] - row[0] * column[2],
        row[0] * column[1] - row[1] * column[0],
    ]
    axis = max(range(3), key=lambda i: abs(normal[i]))
    if abs(normal[axis]) < 0.8:
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def viewer_data(view: CaseView, series) -> dict:
    """What the viewer script needs: each series with its DICOMweb UIDs, label (masked for an
    unanswered quiz), plane and image count; the key images; where to open (the first key
    image, else the longest series); the words, translated."""
    case = view.case
    positions: dict[tuple[int, int], tuple[int, int]] = {}
    out_series = []
    with_pixels = [s for s in series if any(i.has_pixels for i in s.instances.all())]
    for s_index, s in enumerate(with_pixels):
        images, position = [], 0
        instances = [i for i in s.instances.all() if i.has_pixels]
        instances.sort(key=lambda i: (i.instance_number is None, i.instance_number or 0, i.pk))
        for i in instances:
            frames = max(i.frames, 1)
            for f in range(frames):
                positions[(i.pk, f)] = (s_index, position + f)
            position += frames
            images.append(
                {
                    "id": i.pk,
                    "sop": i.sop_uid,
                    "frames": frames,
                    "colour": i.photometric.upper().startswith(COLOUR_PREFIXES),
                }
            )
        plane = _series_plane(s, instances[0] if instances else None)
        label = view.text(s.description.strip()) or s.modality
        out_series.append(
            {
                "label": label,
                "modality": s.modality,
                "plane": plane,
                "count": position,
                "study": s.study.study_uid,
                "uid": s.series_uid,
                "thumb": reverse(
                    "dicomweb:series-thumbnail", args=[s.study.study_uid, s.series_uid]
                )
                + "?viewport=96,96",
                "images": images,
            }
        )
    keys = [
        key_image_json(k, positions.get((k.instance_id, k.frame)), view)
        for k in case.key_images.all()
        if (k.instance_id, k.frame) in positions
    ]
    lead = {"series": 0, "position": 0}
    chosen = lead_images(case_ids=[case.pk]).get(case.pk)  # the one rule of what leads
    if chosen in positions:
        s_index, position = positions[chosen]
        lead = {"series": s_index, "position": position}
    elif keys:
        lead = {"series": keys[0]["series"], "position": keys[0]["position"]}
    elif out_series:
        longest = max(range(len(out_series)), key=lambda n: out_series[n]["count"])
        lead = {"series": longest, "position": 0}
    return {
        "dicomweb": reverse("dicomweb:studies").removesuffix("/studies"),
        "series": out_series,
        "keyImages": keys,
        "lead": lead,
        "canEdit": view.key_images,
        "keyImageUrl": reverse("case-key-images", args=[case.pk]) if view.key_images else "",
        "text": viewer_text(),
    }


def _lead_metadata_url(data: dict) -> str:
    if not data["series"]:
        return ""
    lead = data["series"][min(data["lead"]["series"], len(data["series"]) - 1)]
    return reverse("dicomweb:series-metadata", args=[lead["study"], lead["uid"]])


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
        "loading": _("Loading the images…"),
        "loadFailed": _("The images could not be loaded. Reload the page to try again."),
        "value": _("value %(v)s"),
        "length": _("Length %(v)s %(unit)s"),
        "angle": _("Angle %(v)s°"),
        "ellipse": _("Mean %(mean)s, SD %(sd)s %(unit)s, area %(area)s %(areaUnit)s"),
        # The window/level readout: width and level (centre) of the window shown.
        "windowLevel": _("W %(w)s L %(l)s"),
        "preset_header": _("as acquired"),
        "preset_auto": _("auto"),
        "preset_full": _("full range"),
        "preset_lung": _("lung"),
        "preset_mediastinum": _("mediastinum"),
        "preset_bone": _("bone"),
        "preset_brain": _("brain"),
        "preset_abdomen": _("abdomen"),
        "preset_liver": _("liver"),
    }


def _captions(view: CaseView, series) -> list[dict]:
    """The teacher's image captions, with where they are (series label, image number)."""
    out = []
    for s in series:
        instances = sorted(
            s.instances.all(),
            key=lambda i: (i.instance_number is None, i.instance_number or 0, i.pk),
        )
        for n, instance in enumerate(instances, start=1):
            if instance.caption:
                label = view.text(s.description.strip()) or s.modality
                out.append({"series": label, "image": n, "caption": instance.caption})
    return out


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


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
    teaching_flow.remember_search(request)
    comments_open = privacy.can_comment_case(request.user, case) and not view.hidden
    revision = revision_services.pending_revision(case) if case.is_published else None
    if revision is not None and not privacy.can_view_revision(request.user, revision):
        revision = None  # students (and other teachers) see the published case only
    if comments_open:
        comment_services.mark_seen(case=case, user=request.user)
    return render(
        request,
        "archive/case_detail.html",
        {
            **teaching_flow.case_page_extras(request, case),
            # The answer is timed from here (signed, so the page cannot claim another start).
            "quiz_started": quiz.start_token(request.user, case) if view.hidden else "",
            "next_url": teaching_flow.next_case_url(request, case) if answer else "",
            "case": case,
            "series": series,
            "viewer_data": data,
            "can_edit": view.editable,
            "can_revise": privacy.can_revise_case(request.user, case),
            "revision": revision,
            "revision_curation": bool(
                revision
                and revision.state == revision.State.SUBMITTED
                and privacy.can_curate_case(request.user, case)
            ),
            "revision_diff": (
                revision_services.revision_diff(revision)
                if revision and privacy.can_curate_case(request.user, case)
                else []
            ),
            # Changed by the revision and directly since: publishing is refused unless the
            # curator chooses to replace the direct changes.
            "revision_conflicts": (
                revision_services.merge_revision(revision).conflict_labels()
                if revision and privacy.can_curate_case(request.user, case)
                else []
            ),
            "curation": (
                case_services.curation_actions(case)
                if privacy.can_curate_case(request.user, case)
                else []
            ),
            "hidden": view.hidden,
            "answer": answer,
            "title": view.title,
            "history": view.text(case.history),
            "tags": view.tags(),
            # One point, one reference per line (as the editor asks); withheld with the other
            # answer fields while a quiz is unanswered.
            "teaching_points": [] if view.hidden else _lines(case.teaching_points),
            "references": [] if view.hidden else _lines(case.references),
            "captions": [] if view.hidden else _captions(view, series),
            # Peer review: teachers and curators, not while the answer is withheld from them.
            "comments_open": comments_open,
            "comments": case.comments.select_related("author") if comments_open else [],
            "diagnosis_name": (
                quiz.display_name(case.diagnosis, get_language()) if case.diagnosis else ""
            ),
            "has_choices": view.hidden and len(quiz.choices_for(request.user, case)) >= 2,
            "has_images": any(s["images"] for s in data["series"]),
            # The viewer's first request, started while the page is still being read.
            "lead_metadata_url": _lead_metadata_url(data),
        },
    )


def _key_images_case(request, pk: int):
    case = viewable_case_or_404(request, pk)  # 404 for whoever may not see the case
    if not privacy.can_edit_key_images(request.user, case):
        raise PermissionDenied
    return case


@login_required
@require_POST
def key_image_create(request, pk: int):
    case = _key_images_case(request, pk)
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
    case = _key_images_case(request, pk)
    if not case.key_images.filter(pk=key_pk).exists():
        raise Http404
    key_image_services.remove_key_image(case=case, user=request.user, key_image_id=key_pk)
    data = viewer_data(privacy.case_view(request.user, case), case_series(case=case))
    return JsonResponse({"keyImages": data["keyImages"]})
