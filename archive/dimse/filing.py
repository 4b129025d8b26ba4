"""Filing a released association's study, and what happens when that fails.

By the time a peer releases its association every C-STORE has been answered "success", so the
PACS or modality considers the study delivered and will not send it again. If filing it into
an upload then fails (the database refuses the rows or is unreachable, the target case was
deleted meanwhile, the task queue is down, ...), deleting the received files would lose the
study without anyone noticing. Instead they are moved to the quarantine storage (readable by
the owner only; no URL maps to it), a :class:`~archive.models.ReceivedStudyFailure` records
what happened in a sentence a curator can act on, and the curator retries the filing once the
cause is fixed, downloads the files or discards them (admin, *Received studies not filed*).

If the database cannot even record the failure, a ``manifest.json`` (no PHI: AE title, peer
address, sizes, hashes, the error type) is written next to the files and registered by
:func:`register_unrecorded_failures` when the listener next starts or files a study.
Log lines carry the exception's type only: its text may quote values from the data.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Iterator
from typing import IO

from django.db import close_old_connections, transaction
from django.db.models import F
from django.utils import timezone

from archive import storage as storages
from archive.dimse.session import (
    HOLDING_PREFIX,
    MANIFEST_NAME,
    STATUS_SUCCESS,
    ReceivingSession,
    _Held,
    write_atomically,
)
from archive.models import ReceivedStudyFailure, RemoteNode, Upload

log = logging.getLogger(__name__)

__all__ = [
    "KeptStudyError",
    "discard_kept",
    "file_on_release",
    "filing_failure_cause",
    "keep_for_curator",
    "kept_files",
    "register_unrecorded_failures",
    "retry_filing",
]

QUARANTINE = "quarantine"
HOLDING = "holding"


class KeptStudyError(Exception):
    """A curator's action on a kept study did not happen; the message says why, in a sentence
    the curator can act on (no PHI)."""


def _storage(which: str):
    return storages.quarantine if which == QUARANTINE else storages.raw_holding


def _folder(public_id: uuid.UUID | str) -> str:
    return f"{HOLDING_PREFIX}/{public_id}"


# --- reasons ---------------------------------------------------------------------------------


def filing_failure_cause(exc: BaseException) -> str:
    """One sentence naming the cause of a filing failure by the exception's type only."""
    from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
    from kombu.exceptions import OperationalError as BrokerError

    if isinstance(exc, RemoteNode.DoesNotExist):
        return "The remote node was deleted while the study arrived."
    if isinstance(exc, IntegrityError):
        return (
            "The database refused the new records because they conflicted with other data "
            "(for example, the target case was deleted while the study arrived)."
        )
    if isinstance(exc, OperationalError | InterfaceError):
        return "The database could not be reached or stayed locked."
    if isinstance(exc, DatabaseError):
        return "The database refused the new records."
    if isinstance(exc, BrokerError):
        return "The task queue (Redis) could not be reached."
    if isinstance(exc, OSError):
        return "The storage could not be read or written."
    return f"An unexpected error occurred ({type(exc).__name__})."


def _kept_reason(exc: BaseException, count: int) -> str:
    return (
        f"Filing failed after receipt: {filing_failure_cause(exc)} The {count} received "
        f"instance(s) are kept for a curator: retry the filing once the cause is fixed, or "
        f"download or discard them."
    )


def _unqueued_reason(exc: BaseException, upload: Upload) -> str:
    return (
        f"The study was filed as upload {upload.public_id}, but the worker could not be asked "
        f"to process it: {filing_failure_cause(exc)} Its files wait with the upload; retry the "
        f"filing to queue it again."
    )


# --- on release ------------------------------------------------------------------------------


def file_on_release(session: ReceivingSession) -> Upload | ReceivedStudyFailure | None:
    """File the study of a released association; if that fails, keep it for a curator."""
    try:
        return session.commit()
    except Exception as exc:  # noqa: BLE001 - every failure is kept and recorded
        return keep_for_curator(session, exc)


def _filed_upload(public_id: uuid.UUID) -> Upload | None:
    """The upload, if the filing transaction committed before something after it failed (one
    still receiving was not filed: the release's transaction did not commit)."""
    try:
        return (
            Upload.objects.filter(public_id=public_id)
            .exclude(status=Upload.Status.RECEIVING)
            .first()
        )
    except Exception:  # noqa: BLE001 - the database is down: nothing was committed either
        return None


def _move_to_quarantine(session: ReceivingSession) -> tuple[str, list[dict]]:
    """Move the held files to the quarantine storage (0600); if it cannot take them, they stay
    in the holding area. Returns where they are and the entries to record."""
    holding = _storage(HOLDING)
    quarantine = _storage(QUARANTINE)
    where = QUARANTINE
    try:
        for entry in session.held:
            with holding.open(entry.name, "rb") as fh:
                write_atomically(quarantine, entry.name, fh.read())
    except OSError as exc:
        where = HOLDING
        log.error(
            "Quarantine storage not writable (%s); the received files stay in the holding area",
            type(exc).__name__,
        )
    entries: list[dict] = []
    for entry in session.received:
        if isinstance(entry, _Held):
            entries.append(
                {"file": entry.name, "storage": where, "size": entry.size, "sha256": entry.sha256}
            )
        else:
            entries.append({"rejected": entry.reason})
    if where == QUARANTINE:
        _delete_files(HOLDING, [e for e in entries if "file" in e], folder=session.public_id)
    else:
        _delete_files(QUARANTINE, [e for e in entries if "file" in e], folder=session.public_id)
    return where, entries


def _delete_files(which: str, entries: list[dict], *, folder: uuid.UUID | str) -> None:
    store = _storage(which)
    for entry in entries:
        try:
            store.delete(entry["file"])
        except OSError:
            pass
    try:
        store.delete(f"{_folder(folder)}/{MANIFEST_NAME}")
    except OSError:
        pass
    storages.delete_folder(store, _folder(folder))


def keep_for_curator(session: ReceivingSession, exc: BaseException) -> ReceivedStudyFailure | None:
    """Keep the files of a study whose filing failed and record why (see the module)."""
    close_old_connections()  # a connection the failure broke is replaced, not reused
    error_type = type(exc).__name__
    upload = _filed_upload(session.public_id)
    if upload is not None:
        # Committed, then queueing failed: the files belong to the upload and stay with it.
        failure = ReceivedStudyFailure.objects.create(
            public_id=session.public_id,
            node_id=session.node_id,
            calling_ae_title=session.calling_ae_title,
            peer_address=session.peer_address or None,
            instance_count=len(session.held),
            error_type=error_type,
            reason=_unqueued_reason(exc, upload),
            upload=upload,
        )
        log.error(
            "Association from %s was filed as upload %s but could not be queued (%s)",
            session.calling_ae_title,
            upload.public_id,
            error_type,
        )
        return failure

    # What was filed while receiving goes (its raw files are kept, below); if the database
    # cannot take that either, the listener's next start removes it.
    session.discard_filed_for_curator()
    where, entries = _move_to_quarantine(session)
    record = {
        "public_id": str(session.public_id),
        "node_id": session.node_id,
        "calling_ae_title": session.calling_ae_title,
        "peer_address": session.peer_address or None,
        "instance_count": len(session.held),
        "error_type": error_type,
        "reason": _kept_reason(exc, len(session.held)),
        "entries": entries,
        "received_at": timezone.now().isoformat(),
    }
    manifest = f"{_folder(session.public_id)}/{MANIFEST_NAME}"
    # Written first: if the database cannot take the record either, or this process dies
    # now, the next start registers the study from it.
    try:
        write_atomically(_storage(where), manifest, json.dumps(record).encode())
    except OSError as manifest_exc:  # the database record below is what counts
        log.error("Manifest of a kept study not written (%s)", type(manifest_exc).__name__)
    try:
        failure = _create_failure(record)
    except Exception as db_exc:  # noqa: BLE001 - the manifest keeps it
        if _registered_meanwhile(session.public_id):  # by another thread, from the manifest
            return ReceivedStudyFailure.objects.get(public_id=session.public_id)
        log.error(
            "Association from %s could not be filed (%s) and the failure could not be recorded "
            "(%s); %d received instance(s) kept in the %s storage under %s, registered when "
            "the listener next starts",
            session.calling_ae_title,
            error_type,
            type(db_exc).__name__,
            len(session.held),
            where,
            _folder(session.public_id),
        )
        return None
    _storage(where).delete(manifest)
    log.error(
        "Association from %s could not be filed (%s); %d received instance(s) kept for a "
        "curator (received study not filed #%s)",
        session.calling_ae_title,
        error_type,
        len(session.held),
        failure.pk,
    )
    return failure


def _registered_meanwhile(public_id: uuid.UUID) -> bool:
    try:
        return ReceivedStudyFailure.objects.filter(public_id=public_id).exists()
    except Exception:  # noqa: BLE001 - the database is down
        return False


def _create_failure(record: dict) -> ReceivedStudyFailure:
    node_id = record["node_id"]
    if node_id is not None and not RemoteNode.objects.filter(pk=node_id).exists():
        node_id = None
    return ReceivedStudyFailure.objects.create(
        public_id=uuid.UUID(record["public_id"]),
        node_id=node_id,
        calling_ae_title=record["calling_ae_title"],
        peer_address=record["peer_address"],
        instance_count=record["instance_count"],
        error_type=record["error_type"],
        reason=record["reason"],
        entries=record["entries"],
        received_at=dt.datetime.fromisoformat(record["received_at"]),
    )


def register_unrecorded_failures() -> int:
    """Record kept studies whose failure the database could not take at the time (manifests
    left next to their files). Harmless to repeat. Returns how many were registered."""
    registered = 0
    for which in (QUARANTINE, HOLDING):
        store = _storage(which)
        try:
            folders, _files = store.listdir(HOLDING_PREFIX)
        except (OSError, NotImplementedError):  # no folder yet (or not a folder at all)
            continue
        for folder in folders:
            manifest = f"{HOLDING_PREFIX}/{folder}/{MANIFEST_NAME}"
            try:
                if not store.exists(manifest):
                    continue
                with store.open(manifest, "rb") as fh:
                    record = json.loads(fh.read())
                with transaction.atomic():
                    if not ReceivedStudyFailure.objects.filter(
                        public_id=record["public_id"]
                    ).exists():
                        _create_failure(record)
                        registered += 1
                store.delete(manifest)
            except Exception as exc:  # noqa: BLE001 - the others still get registered
                log.error(
                    "Kept study %s in the %s storage could not be registered (%s)",
                    folder,
                    which,
                    type(exc).__name__,
                )
    if registered:
        log.warning(
            "Registered %d received study(ies) kept while the database was unavailable",
            registered,
        )
    return registered


# --- a curator's actions ---------------------------------------------------------------------


def kept_files(failure: ReceivedStudyFailure) -> Iterator[tuple[int, IO[bytes]]]:
    """The kept instances of a failure as (number, open file), for the curator's download."""
    number = 0
    for entry in failure.entries:
        if "file" not in entry:
            continue
        number += 1
        with _storage(entry["storage"]).open(entry["file"], "rb") as fh:
            yield number, fh


def _delete_kept(failure: ReceivedStudyFailure) -> None:
    for which in (QUARANTINE, HOLDING):
        mine = [e for e in failure.entries if e.get("storage") == which]
        if mine:
            _delete_files(which, mine, folder=failure.public_id)


def _requeue(failure: ReceivedStudyFailure) -> Upload:
    from archive import scheduling

    upload = failure.upload
    try:
        # Outside a transaction the message is sent now, so a failure is seen here.
        scheduling.schedule_upload(upload.pk)
    except Exception as exc:
        ReceivedStudyFailure.objects.filter(pk=failure.pk).update(
            attempts=F("attempts") + 1,
            error_type=type(exc).__name__,
            reason=_unqueued_reason(exc, upload),
        )
        log.error("Queueing upload %s failed again (%s)", upload.public_id, type(exc).__name__)
        raise KeptStudyError(_unqueued_reason(exc, upload)) from exc
    ReceivedStudyFailure.objects.filter(pk=failure.pk).update(
        status=ReceivedStudyFailure.Status.FILED,
        attempts=F("attempts") + 1,
        resolved_at=timezone.now(),
    )
    return upload


def retry_filing(failure_id: int) -> Upload:
    """File a kept study again (a curator fixed the cause). Harmless to repeat.

    The kept files are replayed into a new receiving session (a new upload id), exactly as the
    association delivered them, and filed in one transaction that also marks the failure filed. On
    failure the copies are removed again, the kept files stay, and :class:`KeptStudyError`
    carries the new reason.
    """
    failure = ReceivedStudyFailure.objects.select_related("upload").get(pk=failure_id)
    if failure.status != ReceivedStudyFailure.Status.KEPT:
        raise KeptStudyError("This study is no longer waiting: it was filed or discarded.")
    if failure.upload is not None:
        return _requeue(failure)
    if failure.node_id is None:
        raise KeptStudyError(
            "The remote node this study came from was deleted, so there is no teacher to file "
            "it for. Download the files, or discard them."
        )
    # A new id, so the copies never collide with kept files left in the holding area.
    session = ReceivingSession(
        node_id=failure.node_id,
        calling_ae_title=failure.calling_ae_title,
        peer_address=failure.peer_address or "",
    )
    try:
        for entry in failure.entries:
            if "file" not in entry:
                session.note_rejected(entry["rejected"])
                continue
            with _storage(entry["storage"]).open(entry["file"], "rb") as fh:
                if session.store(fh.read()) != STATUS_SUCCESS:
                    raise OSError("a kept instance could not be held again")
        with transaction.atomic():
            locked = ReceivedStudyFailure.objects.select_for_update().get(pk=failure.pk)
            if locked.status != ReceivedStudyFailure.Status.KEPT:
                raise KeptStudyError("This study is no longer waiting: it was filed or discarded.")
            upload = session.file()
            locked.status = ReceivedStudyFailure.Status.FILED
            locked.upload = upload
            locked.attempts += 1
            locked.resolved_at = timezone.now()
            locked.save()
    except KeptStudyError:
        session.discard_copies()
        raise
    except Exception as exc:
        close_old_connections()
        upload = _filed_upload(session.public_id)
        if upload is not None:
            # Committed, then queueing failed: the copies now belong to the upload.
            _delete_kept(failure)
            reason = _unqueued_reason(exc, upload)
            ReceivedStudyFailure.objects.filter(pk=failure.pk).update(
                status=ReceivedStudyFailure.Status.KEPT,
                upload=upload,
                entries=[],
                error_type=type(exc).__name__,
                reason=reason,
                resolved_at=None,
            )
            log.error(
                "Kept study #%s was filed as upload %s but could not be queued (%s)",
                failure.pk,
                upload.public_id,
                type(exc).__name__,
            )
            raise KeptStudyError(reason) from exc
        session.discard_copies()
        reason = _kept_reason(exc, failure.instance_count)
        ReceivedStudyFailure.objects.filter(pk=failure.pk).update(
            attempts=F("attempts") + 1, error_type=type(exc).__name__, reason=reason
        )
        log.error("Retrying kept study #%s failed again (%s)", failure.pk, type(exc).__name__)
        raise KeptStudyError(reason) from exc
    _delete_kept(failure)
    log.info(
        "Kept study #%s from %s filed on retry as upload %s",
        failure.pk,
        failure.calling_ae_title,
        upload.public_id,
    )
    return upload


def discard_kept(failure_id: int) -> None:
    """Delete the kept files of a study a curator decided not to file (the record stays)."""
    with transaction.atomic():
        failure = ReceivedStudyFailure.objects.select_for_update().get(pk=failure_id)
        if failure.status != ReceivedStudyFailure.Status.KEPT:
            raise KeptStudyError("This study is no longer waiting: it was filed or discarded.")
        if failure.upload_id is not None:
            raise KeptStudyError(
                "This study was filed as an upload and only waits to be queued; retry the "
                "filing, or delete the upload or its case if it is not wanted."
            )
        failure.status = ReceivedStudyFailure.Status.DISCARDED
        failure.resolved_at = timezone.now()
        failure.save(update_fields=["status", "resolved_at"])
        transaction.on_commit(lambda: _delete_kept(failure))
    log.info("Kept study #%s discarded by a curator", failure.pk)
