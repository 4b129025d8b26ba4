"""The teacher's control over a case's series and images: delete a series or an image (its file
and cached renders go), reorder series, rename a series' description (checked for personal data
like any text people type), choose the lead series and image, caption images. Each change is
recorded as a ``CaseEvent`` (who, when, what — ids and counts, never the typed text).

Who may do it is the privacy policy's (``can_edit_case``); the views check it first.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_noop

from archive.deid.freetext import first_phi_category
from archive.models import Case, CaseEvent, Instance, Series
from archive.rendering import forget_rendered

#: Shown when typed text looks like personal data (the category is named, never the value).
PERSONAL_DATA = gettext_noop(
    "This text looks like it holds personal data (%(category)s). Describe the image without "
    "names, dates or numbers that identify someone."
)


#: The kinds of personal data, as the message names them (translated where it is shown).
CATEGORY_NAMES = {
    "person name": gettext_noop("person name"),
    "date": gettext_noop("date"),
    "time of day": gettext_noop("time of day"),
    "phone number": gettext_noop("phone number"),
    "e-mail address": gettext_noop("e-mail address"),
    "identifier": gettext_noop("identifier"),
}


def check_typed_text(text: str) -> str:
    """The text with its spaces tidied, or ValidationError if the free-text checker of the
    de-identification (the verifier's) finds a name, a date, an ID… in it."""
    text = " ".join(text.split())
    category = first_phi_category(text)
    if category is not None:
        name = CATEGORY_NAMES.get(str(category), gettext_noop("identifier"))
        raise ValidationError(PERSONAL_DATA, params={"category": name})
    return text


def _record(case: Case, user, action: str, **detail) -> None:
    CaseEvent.objects.create(case=case, user=user, action=action, detail=detail)


def _changed(case: Case) -> None:
    from archive.services.cases import case_changed

    transaction.on_commit(lambda: case_changed(case))


def _forget_files(instances: list[Instance]) -> None:
    """After the rows are gone (on commit): the anonymized files and their cached renders."""
    files = [(i.pk, i.file.name, i.frames, i.file.storage) for i in instances if i.file]

    def forget() -> None:
        for pk, name, frames, storage in files:
            storage.delete(name)
            forget_rendered(pk, name, frames)

    transaction.on_commit(forget)


def ordered_series(case: Case) -> list[Series]:
    return list(
        Series.objects.filter(study__case=case).order_by("position", "study_id", "number", "pk")
    )


@transaction.atomic
def delete_series(*, series: Series, user) -> None:
    case = series.study.case
    instances = list(series.instances.all())
    _record(
        case,
        user,
        CaseEvent.Action.SERIES_DELETED,
        series=series.pk,
        modality=series.modality,
        images=len(instances),
    )
    study = series.study
    series.delete()
    if not study.series.exists():
        study.delete()
    _forget_files(instances)
    _changed(case)


@transaction.atomic
def delete_instance(*, instance: Instance, user) -> None:
    series = instance.series
    case = series.study.case
    _record(case, user, CaseEvent.Action.IMAGE_DELETED, series=series.pk, image=instance.pk)
    instance.delete()
    if not series.instances.exists():
        study = series.study
        series.delete()
        if not study.series.exists():
            study.delete()
    _forget_files([instance])
    _changed(case)


@transaction.atomic
def move_series(*, series: Series, user, step: int) -> None:
    """One place up (``step=-1``) or down (``+1``) in the case's order."""
    case = series.study.case
    order = ordered_series(case)
    index = next(n for n, s in enumerate(order) if s.pk == series.pk)
    target = index + step
    if not 0 <= target < len(order):
        return
    order[index], order[target] = order[target], order[index]
    for position, s in enumerate(order, start=1):
        if s.position != position:
            Series.objects.filter(pk=s.pk).update(position=position)
    _record(case, user, CaseEvent.Action.SERIES_MOVED, series=series.pk, position=target + 1)
    _changed(case)


@transaction.atomic
def rename_series(*, series: Series, user, description: str) -> None:
    description = check_typed_text(description)[:200]
    series.description = description
    series.save(update_fields=["description"])
    case = series.study.case
    _record(case, user, CaseEvent.Action.SERIES_RENAMED, series=series.pk)
    _changed(case)


@transaction.atomic
def set_caption(*, instance: Instance, user, caption: str) -> None:
    instance.caption = check_typed_text(caption)[:300]
    instance.save(update_fields=["caption"])
    case = instance.series.study.case
    _record(case, user, CaseEvent.Action.CAPTION_CHANGED, image=instance.pk)
    _changed(case)


@transaction.atomic
def set_lead(*, case: Case, user, series: Series | None = None, instance: Instance | None = None):
    """The series (its first image) or the image a student sees first."""
    if instance is not None:
        series = instance.series
    case.lead_series = series
    case.lead_instance = instance
    case.save(update_fields=["lead_series", "lead_instance", "updated_at"])
    _record(
        case,
        user,
        CaseEvent.Action.LEAD_CHOSEN,
        series=series.pk if series else None,
        image=instance.pk if instance else None,
    )
    _changed(case)


__all__ = [
    "check_typed_text",
    "delete_instance",
    "delete_series",
    "move_series",
    "ordered_series",
    "rename_series",
    "set_caption",
    "set_lead",
]
