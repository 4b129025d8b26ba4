"""Celery tasks of the DICOM receiver. They take ids only (never file names or header values)."""

from __future__ import annotations

from celery import chain, shared_task
from django.db import transaction

from archive.dimse.teaching_files import UploadNotFinished, apply_key_objects

__all__ = ["apply_teaching_file_hints", "queue_upload"]


@shared_task(
    name="archive.apply_teaching_file_hints",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=120,
)
def apply_teaching_file_hints(self, upload_id: int) -> None:
    try:
        apply_key_objects(upload_id)
    except UploadNotFinished as exc:
        # Another worker still holds some items of this upload: look again shortly.
        raise self.retry(exc=exc, countdown=5) from exc


def queue_upload(upload_id: int, *, with_key_objects: bool = False) -> None:
    """Queue de-identification (the browser uploads' task) once the transaction commits; then,
    when a Key Object Selection document came along, pre-fill the case from it."""
    from archive.services.processing import schedule_upload
    from archive.tasks import deidentify_upload

    if not with_key_objects:
        schedule_upload(upload_id)
        return
    transaction.on_commit(
        lambda: chain(
            deidentify_upload.si(upload_id), apply_teaching_file_hints.si(upload_id)
        ).apply_async()
    )
