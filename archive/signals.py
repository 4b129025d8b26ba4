"""Worker start-up recovery.

With Redis, a task whose worker was killed is redelivered (late acks). The embedded broker cannot
promise that, so every worker, when it starts, re-queues uploads that are not finished. The
service is idempotent, so a task that is also redelivered does no harm.
"""

from __future__ import annotations

import logging

from celery.signals import worker_ready

log = logging.getLogger(__name__)


@worker_ready.connect
def requeue_unfinished_uploads(**_kwargs) -> None:
    from archive.services.processing import unfinished_upload_ids
    from archive.tasks import deidentify_upload

    ids = unfinished_upload_ids()
    for upload_id in ids:
        deidentify_upload.delay(upload_id)
    if ids:
        log.info("Re-queued %d unfinished upload(s) at worker start", len(ids))
