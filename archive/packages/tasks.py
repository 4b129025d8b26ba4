"""Celery task of case packages: takes an id, re-fetches, calls the service."""

from __future__ import annotations

from celery import shared_task

from archive.packages.importing import UploadNotFinished, apply_package_extras

__all__ = ["apply_package_extras_task"]


@shared_task(
    name="archive.apply_package_extras",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=720,
)
def apply_package_extras_task(self, package_id: int) -> bool:
    try:
        return apply_package_extras(package_id)
    except UploadNotFinished as exc:
        # The images are still being de-identified: look again shortly (for up to an hour).
        raise self.retry(exc=exc, countdown=5) from exc
