"""Celery tasks of the archive. They take ids only (never file names or header values)."""

from __future__ import annotations

from celery import shared_task
from celery.signals import worker_ready

from archive.services.processing import process_upload


@shared_task(
    name="archive.deidentify_upload",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def deidentify_upload(upload_id: int) -> None:
    process_upload(upload_id)


@shared_task(
    name="archive.redact_series",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def redact_series(series_id: int) -> None:
    """Re-run de-identification of a series from its kept originals with the teacher's boxes."""
    from archive.services.review import redact_series_again

    redact_series_again(series_id)


@worker_ready.connect
def requeue_unfinished_redactions(**_kwargs) -> None:
    """As for uploads (``archive.signals``): the embedded broker may lose a task whose worker
    was killed; redacting again is idempotent, so a redelivered one does no harm."""
    from archive.services.review import unfinished_series_ids

    for series_id in unfinished_series_ids():
        redact_series.delay(series_id)
