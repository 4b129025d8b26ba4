"""Pre-filling a draft case from a received IHE TCE Key Object Selection document.

Runs after the upload has been processed, so the key images exist as anonymized instances. The
text was de-identified when the association was released (``archive.dimse.session``); here it
only fills fields the teacher has left empty. Running it again changes nothing.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from archive.dimse.key_objects import REMOVED
from archive.dimse.session import RECEIVED_TITLE_PREFIX
from archive.models import Case, Diagnosis, Instance, KeyObjectImport, Upload

__all__ = ["UploadNotFinished", "apply_key_objects", "key_image_instances"]


class UploadNotFinished(Exception):
    """The upload still has items being processed."""


def _diagnosis_named(name: str) -> Diagnosis | None:
    if not name or REMOVED in name:
        return None
    found = Diagnosis.objects.filter(name__iexact=name).first()
    if found is None:
        for candidate in Diagnosis.objects.filter(synonyms__icontains=name):
            if name.lower() in (s.lower() for s in candidate.synonym_list):
                return candidate
    # As the case form does: a new name becomes a diagnosis curators can merge later.
    return found or Diagnosis.objects.create(name=name[:200])


def apply_key_objects(upload_id: int) -> bool:
    """Fill the upload's draft case from its key objects; True if the case changed."""
    from archive.services.cases import case_changed

    with transaction.atomic():
        imported = (
            KeyObjectImport.objects.select_for_update()
            .filter(upload_id=upload_id, applied_at__isnull=True)
            .first()
        )
        if imported is None:
            return False
        upload = Upload.objects.get(pk=upload_id)
        if upload.status != Upload.Status.DONE:
            raise UploadNotFinished(f"upload {upload_id} is {upload.status}")
        case = Case.objects.select_for_update().get(pk=upload.case_id)
        changed: list[str] = []
        if case.status in {Case.Status.DRAFT, Case.Status.RETURNED}:
            if imported.title and (not case.title or case.title.startswith(RECEIVED_TITLE_PREFIX)):
                case.title = imported.title
                changed.append("title")
            for name in ("history", "findings"):
                if getattr(imported, name) and not getattr(case, name):
                    setattr(case, name, getattr(imported, name))
                    changed.append(name)
            if case.diagnosis_id is None:
                diagnosis = _diagnosis_named(imported.diagnosis)
                if diagnosis is not None:
                    case.diagnosis = diagnosis
                    changed.append("diagnosis")
            if changed:
                case.save(update_fields=[*changed, "updated_at"])
        imported.applied_at = timezone.now()
        imported.save(update_fields=["applied_at"])
    if changed:
        case_changed(case)
    return bool(changed)


def key_image_instances(case: Case) -> QuerySet[Instance]:
    """Instances of ``case`` marked as key images by a received Key Object Selection document."""
    uids: set[str] = set()
    for row in KeyObjectImport.objects.filter(upload__case=case).values_list(
        "key_image_uids", flat=True
    ):
        uids.update(row or [])
    return Instance.objects.filter(series__study__case=case, sop_uid__in=uids)
