"""Key images: frames a teacher or curator shows first, with annotations kept as data.

An annotation is never burned into pixels; the viewer draws it as an SVG overlay. Coordinates
are normalised (0..1 of the image width for x and r, of the height for y), so they survive any
rendering size.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max

from archive import privacy
from archive.models import Case, CaseEvent, Instance, KeyImage
from teaching.localisation import REGION_TYPES

MAX_ANNOTATIONS = 10
MAX_LABEL = 80
_SHAPES = {"arrow": ("x1", "y1", "x2", "y2"), "circle": ("cx", "cy", "r")}


def clean_annotations(raw) -> list[dict]:
    """Validate annotations from the browser; raise ValidationError with a sentence to show."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list) or len(raw) > MAX_ANNOTATIONS:
        raise ValidationError(f"Send a list of at most {MAX_ANNOTATIONS} annotations.")
    out = []
    for item in raw:
        if not isinstance(item, dict) or item.get("type") not in _SHAPES:
            raise ValidationError("An annotation is an arrow or a circle.")
        shape = {"type": item["type"]}
        for key in _SHAPES[item["type"]]:
            value = item.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValidationError(f"The {item['type']} needs a number for {key}.")
            if not 0.0 <= float(value) <= 1.0:
                raise ValidationError("Annotation coordinates must lie within the image.")
            shape[key] = round(float(value), 4)
        if item["type"] == "circle" and shape["r"] <= 0:
            raise ValidationError("A circle needs a radius.")
        label = item.get("label", "")
        if not isinstance(label, str):
            raise ValidationError("An annotation label is text.")
        shape["label"] = " ".join(label.split())[:MAX_LABEL]
        out.append(shape)
    return out


@transaction.atomic
def add_key_image(
    *, case: Case, user, instance_id: int, frame: int, caption: str = "", annotations=None
) -> KeyImage:
    """Mark a frame of the case as key image, or update it if it already is one."""
    if not privacy.can_edit_key_images(user, case):
        raise PermissionDenied
    instance = Instance.objects.filter(pk=instance_id, series__study__case=case).first()
    if instance is None or not instance.has_pixels:
        raise ValidationError("Pick an image of this case.")
    if not 0 <= frame < max(instance.frames, 1):
        raise ValidationError("That frame does not exist in the image.")
    clean = clean_annotations(annotations)
    caption = " ".join((caption or "").split())[:200]
    existing = KeyImage.objects.select_for_update().filter(instance=instance, frame=frame).first()
    if existing is not None:
        # The lesion's region (teaching: click the lesion) has its own editor: keep it.
        regions = [a for a in existing.annotations or [] if a.get("type") in REGION_TYPES]
        existing.caption, existing.annotations = caption, clean + regions
        existing.save(update_fields=["caption", "annotations"])
        _record(case, user, CaseEvent.Action.KEY_IMAGE_SAVED, key_image=existing.pk)
        return existing
    last = KeyImage.objects.filter(case=case).aggregate(m=Max("order"))["m"]
    key = KeyImage.objects.create(
        case=case,
        instance=instance,
        frame=frame,
        caption=caption,
        annotations=clean,
        order=0 if last is None else last + 1,
        created_by=user,
    )
    _record(case, user, CaseEvent.Action.KEY_IMAGE_SAVED, key_image=key.pk)
    return key


@transaction.atomic
def remove_key_image(*, case: Case, user, key_image_id: int) -> None:
    if not privacy.can_edit_key_images(user, case):
        raise PermissionDenied
    deleted, _kinds = KeyImage.objects.filter(case=case, pk=key_image_id).delete()
    if deleted:
        _record(case, user, CaseEvent.Action.KEY_IMAGE_REMOVED, key_image=key_image_id)


def _record(case: Case, user, action: str, **detail) -> None:
    """Like the series controls: who changed which key image and when (ids only, never the
    caption), and the search index follows a published case (its lead image may change)."""
    from archive.services.cases import case_changed

    CaseEvent.objects.create(case=case, user=user, action=action, detail=detail)
    transaction.on_commit(lambda: case_changed(case))
