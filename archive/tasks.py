"""Celery tasks of the archive: thin wrappers that take ids (never file names or header values)
and call a service. They are queued by ``archive.scheduling`` only, on the queue of their kind
of work."""

from __future__ import annotations

from celery import shared_task
from celery.worker.request import Request
from django.conf import settings

from archive import scheduling
from archive.services import processing

#: Late acks and redelivery when the worker is lost: a killed worker's task runs again, and the
#: services' claims make that harmless.
_DURABLE = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(
    bind=True,
    name="archive.deidentify_upload",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    **_DURABLE,
)
def deidentify_upload(self, upload_id: int) -> None:
    """Fan an upload out: one ``deidentify_items`` task per chunk of its pending files."""
    processing.start_upload(upload_id)


class ItemsRequest(Request):
    """A chunk's request that survives the hard time limit.

    At the hard limit Celery kills the child and acknowledges the message as failed, which
    would leave the item in work claimed for ever and the upload unfinished. The chunk is sent
    again instead (after its claims expire): the item in work counts one more attempt and ends
    in quarantine after ``TA_ITEM_MAX_ATTEMPTS``, the chunk's other items are processed.
    Runs in the worker's main process.
    """

    def on_timeout(self, soft, timeout):
        super().on_timeout(soft, timeout)
        if not soft:
            scheduling.send(
                "archive.deidentify_items", *self.args, countdown=settings.TA_ITEM_CLAIM_SECONDS
            )


@shared_task(
    bind=True,
    name="archive.deidentify_items",
    Request=ItemsRequest,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    **_DURABLE,
)
def deidentify_items(self, upload_id: int, item_ids: list[int]) -> None:
    """De-identify one chunk of an upload; the chunk that settles the last item finishes it."""
    try:
        processing.process_items(upload_id, item_ids, worker=self.request.hostname or "")
    except processing.ItemsInProgress as busy:
        # Another run holds some items (perhaps a killed worker's claim, which expires): come
        # back when it can be taken over. Not counted against the retries of real failures.
        raise self.retry(countdown=busy.retry_after, max_retries=None) from None


@shared_task(
    bind=True,
    name="archive.finish_upload",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    **_DURABLE,
)
def finish_upload(self, upload_id: int) -> None:
    """The finalizer of an upload with nothing left to process (runs once; see the service)."""
    processing.finish_upload(upload_id, worker=self.request.hostname or "")


@shared_task(
    name="archive.redact_series",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    **_DURABLE,
)
def redact_series(series_id: int) -> None:
    """Re-run de-identification of a series from its kept originals with the teacher's boxes."""
    from archive.services.review import redact_series_again

    redact_series_again(series_id)


@shared_task(name="archive.refill_boxes", **_DURABLE)
def refill_boxes() -> None:
    """Fill again as one value the boxes of images stored with their letters' outline in them
    (queued when a worker starts; ``archive.services.refill``)."""
    from archive.services.refill import refill_all

    refill_all()


@shared_task(name="archive.purge_originals", acks_late=True)
def purge_originals() -> None:
    """Delete raw originals whose review period ended, and temporary upload files an
    interrupted request left behind (scheduled hourly by Celery beat)."""
    from archive.services.incoming import sweep_incoming
    from archive.services.review import purge_expired_originals, sweep_orphaned_originals

    purge_expired_originals()
    sweep_orphaned_originals()
    sweep_incoming()


@shared_task(name="archive.case_reminders", acks_late=True)
def case_reminders() -> None:
    """Ask the authors of unconfirmed diagnoses for proof, and of cases due for re-review to
    check them (scheduled daily by Celery beat)."""
    from archive.services.comments import remind_rereview, remind_unconfirmed

    remind_unconfirmed()
    remind_rereview()


@shared_task(name="archive.purge_quarantine", acks_late=True)
def purge_quarantine() -> None:
    """Delete quarantined files older than TA_QUARANTINE_RETENTION_DAYS (hourly by Celery beat)."""
    from archive.services.quarantine import purge_expired_quarantine, sweep_orphaned_quarantine

    purge_expired_quarantine()
    sweep_orphaned_quarantine()
