"""The lesion's region on a key image (click the lesion): an ellipse or a polygon kept as one
of the key image's annotations, like the arrows and circles, never burned into pixels. One
region per case: the key image that carries it is the one students click on."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from archive import privacy
from archive.models import Case, KeyImage
from teaching.localisation import MAX_POLYGON_POINTS, REGION_TYPES, clean_region

# teaching.localisation (no Django) says these in English; listed so they are translated.
REGION_MESSAGES = [
    gettext_noop("Draw an ellipse or a polygon around the lesion."),
    gettext_noop("Draw a larger ellipse: drag across the lesion."),
    gettext_noop("Each point of the polygon needs an x and a y."),
    gettext_noop("Draw a larger polygon: its points must enclose the lesion."),
    gettext_noop("The region must lie within the image."),
]


@transaction.atomic
def set_lesion_region(*, case: Case, user, key_image_id: int, region: dict | None) -> KeyImage:
    """Draw (or, with ``region=None``, remove) the lesion's region on one key image."""
    if not privacy.can_edit_case(user, case):
        raise PermissionDenied
    key = KeyImage.objects.select_for_update().filter(case=case, pk=key_image_id).first()
    if key is None:
        raise ValidationError(_("Pick a key image of this case."))
    clean = None
    if region is not None:
        try:
            clean = clean_region(region)
        except ValueError as exc:
            message = str(exc)
            if "between 3 and" in message:
                message = _(
                    "A polygon needs between 3 and %(n)s points: click around the lesion."
                ) % {"n": MAX_POLYGON_POINTS}
            raise ValidationError(_(message)) from None
    for other in case.key_images.select_for_update().exclude(pk=key.pk):
        kept = [a for a in other.annotations or [] if a.get("type") not in REGION_TYPES]
        if kept != other.annotations:
            other.annotations = kept
            other.save(update_fields=["annotations"])
    kept = [a for a in key.annotations or [] if a.get("type") not in REGION_TYPES]
    key.annotations = kept + ([{**clean, "label": ""}] if clean else [])
    key.save(update_fields=["annotations"])
    return key
