"""Celery tasks of the archive. They take ids only (never file names or header values)."""

from __future__ import annotations

from celery import shared_task

from archive.services.processing import ItemsInProgress, process_upload


@shared_task(
    bind=True,
    name="archive.deidentify_upload",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def deidentify_upload(self, upload_id: int) -> None:
    try:
        process_upload(upload_id)
    except ItemsInProgress as busy:
        # Another run holds some items (perhaps a killed worker's claim, which expires): come
        # back when it can be taken over. Not counted against the retries of real failures.
        raise self.retry(countdown=busy.retry_after, max_retries=None) from None


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


@shared_task(name="archive.purge_originals", acks_late=True)
def purge_originals() -> None:
    """Delete raw originals whose review period ended, and temporary upload files an
    interrupted request left behind (scheduled hourly by Celery beat)."""
    from archive.services.incoming import sweep_incoming
    from archive.services.review import purge_expired_originals, sweep_orphaned_originals

    purge_expired_originals()
    sweep_orphaned_originals()
    sweep_incoming()


@shared_task(name="archive.purge_quarantine", acks_late=True)
def purge_quarantine() -> None:
    """Delete quarantined files older than TA_QUARANTINE_RETENTION_DAYS (hourly by Celery beat)."""
    from archive.services.quarantine import purge_expired_quarantine, sweep_orphaned_quarantine

    purge_expired_quarantine()
    sweep_orphaned_quarantine()
