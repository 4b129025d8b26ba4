"""Worker start-up: refuse to run without the pixel cleaner, then recover unfinished work.

With Redis, a task whose worker was killed is redelivered (late acks). The embedded broker cannot
promise that, so every worker, when it starts, re-queues the uploads and the series redactions
that are not finished. Both services are idempotent, so a task that is also redelivered does no
harm.
"""

from __future__ import annotations

import logging

from celery.signals import worker_init, worker_ready

log = logging.getLogger(__name__)


@worker_init.connect
def refuse_without_pixel_cleaner(**_kwargs) -> None:
    """A worker whose OCR models cannot load must not take uploads: it stops here, loudly."""
    from archive.services.policy import check_pixel_cleaner

    check_pixel_cleaner()


@worker_ready.connect
def requeue_unfinished_uploads(**_kwargs) -> None:
    from archive.services.processing import unfinished_upload_ids
    from archive.tasks import deidentify_upload

    ids = unfinished_upload_ids()
    for upload_id in ids:
        deidentify_upload.delay(upload_id)
    if ids:
        log.info("Re-queued %d unfinished upload(s) at worker start", len(ids))


@worker_ready.connect
def requeue_unfinished_redactions(**_kwargs) -> None:
    from archive.services.review import unfinished_series_ids
    from archive.tasks import redact_series

    for series_id in unfinished_series_ids():
        redact_series.delay(series_id)
