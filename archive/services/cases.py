"""Case workflow: draft → submitted → published / returned, and facts derived from the images."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from archive.models import AgeGroup, Case, Instance, Sex

AGE_UNITS_IN_DAYS = {"D": 1, "W": 7, "M": 30.44, "Y": 365.25}
NEONATE_DAYS = 28


def age_group_from_dicom_age(age: str) -> str:
    """Map a DICOM AS value (e.g. ``045Y``, ``003M``, ``090Y`` for 90+) to an age group.

    ``000Y`` (and any zero age) is what many systems write when the age is not known, not a
    newborn: it maps to unknown, like an empty or malformed value.
    """
    age = (age or "").strip().upper()
    if len(age) != 4 or not age[:3].isdigit() or age[3] not in AGE_UNITS_IN_DAYS:
        return AgeGroup.UNKNOWN
    number, unit = int(age[:3]), age[3]
    if number == 0:
        return AgeGroup.UNKNOWN
    if unit in {"D", "W"} and number * AGE_UNITS_IN_DAYS[unit] < NEONATE_DAYS:
        return AgeGroup.NEONATE
    years = number * AGE_UNITS_IN_DAYS[unit] / 365.25
    if years < 18:
        return AgeGroup.CHILD
    if years < 65:
        return AgeGroup.ADULT
    return AgeGroup.ELDERLY


def sex_from_dicom_sex(sex: str) -> str:
    """Map a DICOM Patient's Sex (PS3.3 C.7.1.1) to the case's sex: only ``M`` and ``F`` say
    something; ``O`` ("other", also written when unknown), empty or anything else is unknown."""
    value = (sex or "").strip().upper()
    return value if value in {Sex.MALE, Sex.FEMALE} else Sex.UNKNOWN


#: How many of a case's images are read for its age and sex (the first valid value wins).
HEADER_FACT_IMAGES = 10


def header_facts(case: Case) -> tuple[str, str]:
    """(age group, sex) as the case's anonymized headers give them, unknown where none says."""
    import pydicom

    age_group, sex = AgeGroup.UNKNOWN, Sex.UNKNOWN
    instances = Instance.objects.filter(series__study__case=case).order_by("pk")
    for instance in instances[:HEADER_FACT_IMAGES]:
        try:
            with instance.file.open("rb") as fh:
                ds = pydicom.dcmread(fh, stop_before_pixels=True)
        except (OSError, pydicom.errors.InvalidDicomError):
            continue
        age_group = age_group or age_group_from_dicom_age(str(ds.get("PatientAge", "")))
        sex = sex or sex_from_dicom_sex(str(ds.get("PatientSex", "")))
        if age_group and sex:
            break
    return age_group, sex


def _schedule_indexing(case_id: int) -> None:
    from search.services import schedule_case_indexing

    schedule_case_indexing(case_id)


def refresh_case_from_images(case_id: int) -> None:
    """Record what the anonymized headers say about age group and sex, and let it fill the
    case's fields only where they are empty: a header value is a suggestion, never an overwrite.

    Each field is filled by a conditional UPDATE (``WHERE field = ''``), so a value the teacher
    saves while the worker runs is never replaced.
    """
    case = Case.objects.get(pk=case_id)
    age_group, sex = header_facts(case)
    Case.objects.filter(pk=case.pk).update(header_age_group=age_group, header_sex=sex)
    if age_group:
        Case.objects.filter(pk=case.pk, age_group="").update(
            age_group=age_group, updated_at=timezone.now()
        )
    if sex:
        Case.objects.filter(pk=case.pk, sex="").update(sex=sex, updated_at=timezone.now())
    if case.is_published:
        _schedule_indexing(case.pk)


def case_changed(case: Case) -> None:
    """Call after a teacher or curator edited a case: keeps the search index in step."""
    _schedule_indexing(case.pk)


@transaction.atomic
def submit_case(*, case: Case, user) -> Case:
    if case.owner_id != user.pk:
        raise PermissionDenied
    if case.status not in {Case.Status.DRAFT, Case.Status.RETURNED}:
        raise ValidationError("Only a draft or returned case can be submitted for review.")
    if not case.instances().exists():
        raise ValidationError("Add at least one anonymized image before submitting the case.")
    if case.uploads.exclude(status="done").exists():
        raise ValidationError("Wait until all uploads have finished processing.")
    _refuse_held_images(case)
    case.status = Case.Status.SUBMITTED
    case.save(update_fields=["status", "updated_at"])
    _finish_review(case)
    return case


def _refuse_held_images(case: Case) -> None:
    """An image not confirmed clean (``archive.services.refill``) keeps its case unpublished."""
    from archive.services.refill import held_message

    if message := held_message(case):
        raise ValidationError(message)


def _finish_review(case: Case) -> None:
    """The teacher's review of the images is over: the kept raw originals go (on commit)."""
    from archive.services.review import discard_originals

    discard_originals(case=case)


def curation_actions(case: Case) -> list[str]:
    """What a curator can do with the case in its present state, in the order shown."""
    if case.status == Case.Status.PUBLISHED:
        return ["return", "unpublish"]
    if case.status == Case.Status.SUBMITTED:
        return ["publish", "return"]
    return ["publish"]  # a draft or a returned case, e.g. after a curator's own fixes


@transaction.atomic
def publish_case(*, case: Case, user=None) -> Case:
    if user is not None and not user.has_perm("archive.publish_case"):
        raise PermissionDenied
    if case.uploads.exclude(status="done").exists():
        raise ValidationError("This case still has uploads being processed.")
    _refuse_held_images(case)
    case.status = Case.Status.PUBLISHED
    case.published_at = case.published_at or timezone.now()
    case.review_comment = ""
    case.save(update_fields=["status", "published_at", "review_comment", "updated_at"])
    _finish_review(case)  # originals of a curator's own late upload
    _schedule_indexing(case.pk)
    return case


@transaction.atomic
def unpublish_case(*, case: Case, user=None, comment: str = "") -> Case:
    from search.services import remove_from_index_now

    if user is not None and not user.has_perm("archive.publish_case"):
        raise PermissionDenied
    case.status = Case.Status.RETURNED if comment else Case.Status.DRAFT
    case.review_comment = comment
    case.save(update_fields=["status", "review_comment", "updated_at"])
    # Its author now edits the case itself: a revision in progress no longer applies.
    from archive.services.revisions import withdraw_open_revisions

    withdraw_open_revisions(case)
    # Out of the index as soon as this commits, not when a worker gets to it (searches also
    # re-check publication against the database, in case the removal fails).
    remove_from_index_now(case.pk)
    return case


def return_case(*, case: Case, user, comment: str) -> Case:
    if not comment.strip():
        raise ValidationError("Say what the author should change.")
    return unpublish_case(case=case, user=user, comment=comment)
