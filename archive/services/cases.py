"""Case workflow: draft → submitted → published / returned, and facts derived from the images."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from archive.models import AgeGroup, Case, Instance

AGE_UNITS_IN_DAYS = {"D": 1, "W": 7, "M": 30.44, "Y": 365.25}
NEONATE_DAYS = 28


def age_group_from_dicom_age(age: str) -> str:
    """Map a DICOM AS value (e.g. ``045Y``, ``003M``, ``090Y`` for 90+) to an age group."""
    age = (age or "").strip().upper()
    if len(age) != 4 or not age[:3].isdigit() or age[3] not in AGE_UNITS_IN_DAYS:
        return AgeGroup.UNKNOWN
    number, unit = int(age[:3]), age[3]
    # "000Y" means "under a year", not "newborn": only day and week ages can say neonate.
    if unit in {"D", "W"} and number * AGE_UNITS_IN_DAYS[unit] < NEONATE_DAYS:
        return AgeGroup.NEONATE
    years = number * AGE_UNITS_IN_DAYS[unit] / 365.25
    if years < 18:
        return AgeGroup.CHILD
    if years < 65:
        return AgeGroup.ADULT
    return AgeGroup.ELDERLY


def _schedule_indexing(case_id: int) -> None:
    from search.services import schedule_case_indexing

    schedule_case_indexing(case_id)


def refresh_case_from_images(case_id: int) -> None:
    """Fill age group and sex from the anonymized headers when the teacher left them empty."""
    import pydicom

    case = Case.objects.get(pk=case_id)
    changed = []
    instance = Instance.objects.filter(series__study__case=case).first()
    if instance is not None and (not case.age_group or not case.sex):
        try:
            with instance.file.open("rb") as fh:
                ds = pydicom.dcmread(fh, stop_before_pixels=True)
        except (OSError, pydicom.errors.InvalidDicomError):
            ds = None
        if ds is not None:
            if not case.age_group:
                case.age_group = age_group_from_dicom_age(str(ds.get("PatientAge", "")))
                changed.append("age_group")
            sex = str(ds.get("PatientSex", "")).upper()
            if not case.sex and sex in {"M", "F", "O"}:
                case.sex = sex
                changed.append("sex")
    if changed:
        case.save(update_fields=[*changed, "updated_at"])
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
    case.status = Case.Status.SUBMITTED
    case.save(update_fields=["status", "updated_at"])
    _finish_review(case)
    return case


def _finish_review(case: Case) -> None:
    """The teacher's review of the images is over: the kept raw originals go (on commit)."""
    from archive.services.review import discard_originals

    discard_originals(case=case)


@transaction.atomic
def publish_case(*, case: Case, user=None) -> Case:
    if user is not None and not user.has_perm("archive.publish_case"):
        raise PermissionDenied
    if case.uploads.exclude(status="done").exists():
        raise ValidationError("This case still has uploads being processed.")
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
    # Out of the index as soon as this commits, not when a worker gets to it (searches also
    # re-check publication against the database, in case the removal fails).
    remove_from_index_now(case.pk)
    return case


def return_case(*, case: Case, user, comment: str) -> Case:
    if not comment.strip():
        raise ValidationError("Say what the author should change.")
    return unpublish_case(case=case, user=user, comment=comment)
