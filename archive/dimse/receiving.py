"""An association's upload while it is still open: filed in batches, discarded on abort.

De-identification starts while a peer is still sending (``ReceivingSession`` files its instances
in batches): the upload exists in the database with the status *receiving*, no case, and items
whose anonymized outputs wait in the holding storage (``processing._settle_while_receiving``).
Nothing of it is filed into a case, so no page, search, DICOMweb answer or download can show it;
``privacy.can_view_upload`` and the admin leave it out too. Only the release files it: the case
is chosen or created, the waiting outputs become instances, and the finalizer runs once after
the last one.

An abort, a dropped connection or a stopped listener instead deletes everything the
association produced (:func:`discard_upload`): items, raw files, waiting outputs, quarantined
copies; a listener killed mid-association leaves an upload that :func:`sweep_stale_receiving`
deletes when a listener next starts.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from archive.models import ReceivedStudyFailure, Upload, UploadItem

log = logging.getLogger(__name__)

__all__ = ["discard_upload", "sweep_stale_receiving"]

_FILE_FIELDS = ("raw_file", "deidentified_file", "quarantined_file")


def _storage(field: str):
    return UploadItem._meta.get_field(field).storage


def discard_upload(upload_id: int, *, keep_raw: bool = False) -> int:
    """Delete an upload still receiving and every file of it; returns how many items it had.

    ``keep_raw`` leaves the raw files (a study whose filing failed is kept for a curator from
    them, ``archive.dimse.filing``). An upload already released is never touched. The upload's
    row is locked first, so a worker settling one of its items either finished before (its
    files are listed here) or finds the upload gone and writes nothing.
    """
    with transaction.atomic():
        upload = (
            Upload.objects.select_for_update()
            .filter(pk=upload_id, status=Upload.Status.RECEIVING)
            .first()
        )
        if upload is None:
            return 0
        fields = [f for f in _FILE_FIELDS if not (keep_raw and f == "raw_file")]
        names = {
            field: [n for n in upload.items.values_list(field, flat=True) if n] for field in fields
        }
        count = upload.items.count()
        upload.delete()  # its items go with it (no instance was ever filed for it)

        def delete_files() -> None:
            for field, listed in names.items():
                storage = _storage(field)
                for name in listed:
                    try:
                        storage.delete(name)
                    except OSError:
                        pass
            # No folder is removed here: a folder deletes itself with its last file, and
            # asking an object store to delete a "folder" that still has objects can stall.

        transaction.on_commit(delete_files)
    return count


def sweep_stale_receiving(*, older_than: float = 3600.0) -> int:
    """Delete uploads left *receiving* by a listener that was killed mid-association.

    Only those that received nothing for ``older_than`` seconds (a live association files a
    batch at least every network timeout, or is aborted), so another listener's association in
    progress is never touched. The raw files of a study kept for a curator stay. Returns how
    many uploads were removed.
    """
    cutoff = timezone.now() - dt.timedelta(seconds=older_than)
    stale = Upload.objects.filter(status=Upload.Status.RECEIVING, last_received_at__lt=cutoff)
    removed = 0
    for upload_id, public_id in stale.values_list("pk", "public_id"):
        kept = ReceivedStudyFailure.objects.filter(public_id=public_id).exists()
        discard_upload(upload_id, keep_raw=kept)
        removed += 1
    if removed:
        log.warning("Removed %d upload(s) left receiving by an interrupted listener", removed)
    return removed
