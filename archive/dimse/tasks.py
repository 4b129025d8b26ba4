"""Celery tasks of the DICOM receiver. They take ids only (never file names or header values)."""

from __future__ import annotations

from celery import shared_task

from archive.dimse.teaching_files import UploadNotFinished, apply_key_objects

__all__ = ["apply_teaching_file_hints"]


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
