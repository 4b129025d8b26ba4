"""The one place that queues the archive's background work.

Services call these functions and never import a task module; tasks are thin wrappers that
call services. Tasks are sent by name (their module is imported by the worker, and by this
process's Celery app when it first sends), so ``services`` → ``scheduling`` → ``tasks`` is
never a circle at import time.

Each kind of work has its own Celery queue (``QUEUES``, routed in settings by ``ROUTES``), so a
2,000-image upload cannot hold up a teacher's re-redaction or a curator's publish:

==============  ==============================================================================
``deidentify``  an upload: one fan-out task, then one task per chunk of files, then one
                finalizer (refresh the case, redact what the teacher boxed, index, key objects)
``redact``      re-redaction of a series from its kept originals with the teacher's boxes
``index``       the search index (a case published, edited, unpublished)
``housekeeping`` hourly purges of expired originals, quarantine and temporary files
==============  ==============================================================================

A worker started without ``-Q`` consumes every queue (``make run``, the tests); production
starts workers per queue (``docker-compose.yml``), on as many machines as needed.

An upload's files are processed in chunks sized so that the task overhead (broker round trip,
claim and finish queries, about 10 ms) stays under ~5 % of the work: at most
``TA_DEID_CHUNK_FILES`` files and ``TA_DEID_CHUNK_BYTES`` bytes per task (a file larger than
that is a chunk of its own). Small chunks also spread one study over every free worker.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

DEIDENTIFY = "deidentify"
REDACT = "redact"
INDEX = "index"
HOUSEKEEPING = "housekeeping"
QUEUES = (DEIDENTIFY, REDACT, INDEX, HOUSEKEEPING)

#: Task name → queue (``CELERY_TASK_ROUTES``). Unlisted tasks go to ``housekeeping``.
ROUTES = {
    "archive.deidentify_upload": DEIDENTIFY,
    "archive.deidentify_items": DEIDENTIFY,
    "archive.finish_upload": DEIDENTIFY,
    "archive.apply_teaching_file_hints": DEIDENTIFY,
    "archive.apply_package_extras": DEIDENTIFY,
    "archive.redact_series": REDACT,
    "search.index_case": INDEX,
    "search.index_diagnosis_cases": INDEX,
    "archive.purge_originals": HOUSEKEEPING,
    "archive.refill_boxes": HOUSEKEEPING,
    "archive.case_reminders": HOUSEKEEPING,
    "archive.purge_quarantine": HOUSEKEEPING,
}


def send(name: str, *args, countdown: float | None = None) -> None:
    """Send a task now, by name, to the queue its kind of work has."""
    from celery import current_app

    if current_app.conf.task_always_eager:
        # Eager mode (a management command with no worker) runs the task here, so it must be
        # registered: a by-name signature of an unknown task would go to the broker instead.
        current_app.loader.import_default_modules()
    current_app.signature(name, args=args).apply_async(countdown=countdown)


def send_on_commit(name: str, *args) -> None:
    """Send a task once the current transaction commits (the worker then sees what it wrote)."""
    transaction.on_commit(lambda: send(name, *args))


# --- Uploads -----------------------------------------------------------------------------------


def schedule_upload(upload_id: int) -> None:
    """De-identify an upload once the current transaction commits: a fan-out task splits it
    into chunks for every free worker (``fan_out``)."""
    send_on_commit("archive.deidentify_upload", upload_id)


#: An output de-identified while its association was open is only filed on release (its rows
#: written with the chunk's, its file moved; ``processing.file_received``): a fraction of
#: de-identifying it, so chunks of them are larger.
FILING_CHUNK_FACTOR = 4


def chunks(items: Iterable[tuple[int, int]], *, factor: int = 1) -> list[list[int]]:
    """Group ``(item id, size)`` pairs, in order, into the chunks one task processes
    (``factor`` times the usual number of files and bytes)."""
    max_files = max(1, int(settings.TA_DEID_CHUNK_FILES)) * factor
    max_bytes = max(1, int(settings.TA_DEID_CHUNK_BYTES)) * factor
    out: list[list[int]] = []
    current: list[int] = []
    size = 0
    for item_id, item_size in items:
        if current and (len(current) >= max_files or size + item_size > max_bytes):
            out.append(current)
            current, size = [], 0
        current.append(item_id)
        size += item_size
    if current:
        out.append(current)
    return out


def fan_out(upload_id: int, pending: Iterable[tuple[int, int]]) -> int:
    """Queue one task per chunk of the pending items (or the finalizer if none is pending).
    Returns the number of chunk tasks sent. Sending a chunk twice is harmless: an item is
    claimed before it is processed and settled only once."""
    groups = chunks(pending)
    for group in groups:
        send("archive.deidentify_items", upload_id, group)
    if not groups:
        send("archive.finish_upload", upload_id)
    return len(groups)


def schedule_received(upload_id: int, pending: Iterable[tuple[int, int]]) -> int:
    """Queue chunks of instances filed while their DICOM association is still open (now: the
    caller's batch is committed). They are de-identified ahead of the release, and filed into
    the case only after it (``archive.services.receiving``)."""
    return fan_out(upload_id, pending) if pending else 0


def schedule_released(
    upload_id: int,
    to_deidentify: Iterable[tuple[int, int]],
    to_file: Iterable[tuple[int, int]],
) -> None:
    """Once the release's transaction commits, queue what a released association still needs:
    its instances never queued, then those de-identified ahead and waiting to be filed, in
    larger chunks (or the finalizer, if nothing is left)."""
    groups = chunks(to_deidentify) + chunks(to_file, factor=FILING_CHUNK_FACTOR)

    def send_all() -> None:
        for group in groups:
            send("archive.deidentify_items", upload_id, group)
        if not groups:
            send("archive.finish_upload", upload_id)

    transaction.on_commit(send_all)


def schedule_key_objects(upload_id: int) -> None:
    """Pre-fill the case from a received Key Object Selection once its upload is finished."""
    send_on_commit("archive.apply_teaching_file_hints", upload_id)


# --- Review and search -------------------------------------------------------------------------


def schedule_redaction(series_id: int) -> None:
    """Redact a series again from its kept originals with the teacher's boxes (on commit)."""
    send_on_commit("archive.redact_series", series_id)


def schedule_indexing(case_id: int) -> None:
    """(Re)index a case in the search backend once the current transaction commits."""
    send_on_commit("search.index_case", case_id)


__all__ = [
    "QUEUES",
    "ROUTES",
    "chunks",
    "fan_out",
    "schedule_indexing",
    "schedule_key_objects",
    "schedule_received",
    "schedule_redaction",
    "schedule_released",
    "schedule_upload",
    "send",
    "send_on_commit",
]
