"""Worker start-up: refuse to run without the pixel cleaner, then recover unfinished work.

With Redis, a task whose worker was killed is redelivered (late acks) to another worker, and
the items its claims held are taken over once the claims expire. The embedded broker (kombu's
SQLAlchemy transport, ``make run``) cannot promise that, so there a worker, when it starts,
fans out again the uploads that are not finished. With Redis that is skipped: every worker of
a scaled-out site would otherwise queue every chunk of every unfinished upload again whenever
one of them starts. Series redactions left half done are re-queued on every broker (one cheap
task per series; instances already redacted with the current boxes are skipped), and images
stored before boxes were one value get their boxes filled again (``archive.services.refill``;
one task, queued only while such images remain).
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


def broker_redelivers() -> bool:
    """Whether the broker hands a lost worker's unacknowledged tasks to another worker."""
    from django.conf import settings

    return settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://"))


@worker_ready.connect
def requeue_unfinished_uploads(**_kwargs) -> None:
    from archive import scheduling
    from archive.services.processing import unfinished_upload_ids

    if broker_redelivers():
        return
    ids = unfinished_upload_ids()
    for upload_id in ids:
        scheduling.send("archive.deidentify_upload", upload_id)
    if ids:
        log.info("Re-queued %d unfinished upload(s) at worker start", len(ids))


@worker_ready.connect
def requeue_unfinished_redactions(**_kwargs) -> None:
    from archive import scheduling
    from archive.services.review import unfinished_series_ids

    for series_id in unfinished_series_ids():
        scheduling.send("archive.redact_series", series_id)


@worker_ready.connect
def refill_outlined_boxes(**_kwargs) -> None:
    from archive import scheduling
    from archive.services.refill import any_to_check

    if any_to_check():
        scheduling.send("archive.refill_boxes")
