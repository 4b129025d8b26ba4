"""The archive's DICOM node: Storage SCP for every storage SOP class, and Verification SCP.

Only registered, active calling AE titles are accepted, and for a node pinned to peer
addresses only from those addresses (association rejected otherwise, PS3.8 A-ASSOCIATE-RJ
"rejected-permanent, calling AE title not recognized"). Every association is a
:class:`~archive.dimse.session.ReceivingSession`: de-identified in batches while it is open,
filed into a case on release (kept for a curator if filing fails, see
:mod:`~archive.dimse.filing`), discarded on abort, lost connection or network timeout. Log
lines name the calling AE title and peer address, never a header value.

A received instance is never held in memory: pynetdicom writes its P-DATA fragments straight to
a temporary file (``STORE_RECV_CHUNKED_DATASET``) in the incoming area (owner-only, swept of
files an interrupted association leaves, :func:`archive.services.incoming.sweep_incoming`), and
the session reads and stores it from there. Memory per association is then a few fragments
whatever the instance's size; before, a 500 MiB cine was held three times over (the received
stream, its value, the file meta prepended).
"""

from __future__ import annotations

import functools
import logging
import tempfile
import threading

from django.conf import settings
from django.db import close_old_connections, connections
from pynetdicom import AE, _config, dimse_messages, evt
from pynetdicom.association import Association
from pynetdicom.transport import ThreadedAssociationServer

from archive.dimse.contexts import storage_contexts, verification_context
from archive.dimse.filing import file_on_release, register_unrecorded_failures
from archive.dimse.nodes import active_node, address_refused, registered_calling_aets
from archive.dimse.receiving import sweep_stale_receiving
from archive.dimse.session import (
    STATUS_OUT_OF_RESOURCES,
    ReceivingSession,
    sweep_orphaned_holding,
)
from archive.models import Upload
from archive.services.incoming import incoming_dir, sweep_incoming

log = logging.getLogger(__name__)

__all__ = ["ArchiveAE", "DicomListener"]

# pynetdicom rejects a calling AE title absent from a non-empty list; this never matches a
# real title (it has a control character), so "no node registered" still rejects everyone.
_NOBODY = "\x01NO NODE"

# PS3.8 9.3.4 A-ASSOCIATE-RJ: result 1 "rejected-permanent", source 1 "DICOM UL service-user",
# reason 3 "calling-AE-title-not-recognized" - what an unregistered AE title gets too.
_REJECT_CALLING_AE = (0x01, 0x01, 0x03)
# Result 2 "rejected-transient", source 3 "DICOM UL service-provider (presentation related)",
# reason 2 "local-limit-exceeded": what pynetdicom answers past its maximum of associations,
# here per calling AE title (TA_DICOM_MAX_ASSOCIATIONS_PER_AE). The peer may try again later.
_REJECT_LOCAL_LIMIT = (0x02, 0x03, 0x02)


def receive_to_files() -> None:
    """Have pynetdicom write each received dataset to a file in the incoming area.

    pynetdicom's switch is process-wide and its temporary files go to the system's temporary
    folder; the received bytes are raw patient data, so they go to the owner-only incoming
    folder instead, the same place as a browser upload's, swept by the same housekeeping.
    """
    if not hasattr(dimse_messages, "NamedTemporaryFile"):  # pragma: no cover - pinned version
        raise RuntimeError("pynetdicom no longer creates its received files as this expects")
    _config.STORE_RECV_CHUNKED_DATASET = True
    dimse_messages.NamedTemporaryFile = functools.partial(
        tempfile.NamedTemporaryFile, dir=incoming_dir(), prefix=""
    )


class ArchiveAE(AE):
    """An AE whose accepted calling AE titles are read from the database per association."""

    @property
    def require_calling_aet(self) -> list[str]:
        close_old_connections()
        try:
            return registered_calling_aets() or [_NOBODY]
        except Exception as exc:  # database down: refuse rather than accept anyone
            log.error(
                "Could not read registered AE titles (%s); association refused", type(exc).__name__
            )
            return [_NOBODY]
        finally:
            connections.close_all()

    @require_calling_aet.setter
    def require_calling_aet(self, ae_titles: list[str]) -> None:
        raise AttributeError("Calling AE titles are registered as RemoteNode rows in the admin.")


class DicomListener:
    """Build, start and stop the Storage/Verification SCP.

    Parameters default to the ``TA_DICOM_*`` settings; ``port=0`` picks a free port (tests).
    """

    def __init__(
        self,
        *,
        ae_title: str | None = None,
        host: str | None = None,
        port: int | None = None,
        network_timeout: int | None = None,
        maximum_associations: int | None = None,
        associations_per_ae: int | None = None,
        association_bytes: int | None = None,
    ) -> None:
        self.ae_title = ae_title or getattr(settings, "TA_DICOM_AE_TITLE", "TEACHARCHIVE")
        self.host = host or getattr(settings, "TA_DICOM_BIND_ADDRESS", "127.0.0.1")
        self.port = getattr(settings, "TA_DICOM_PORT", 11112) if port is None else port
        self.network_timeout = network_timeout or getattr(settings, "TA_DICOM_NETWORK_TIMEOUT", 60)
        self.maximum_associations = maximum_associations or getattr(
            settings, "TA_DICOM_MAX_ASSOCIATIONS", 10
        )
        # A flood from one node (or one AE title imitated) must not take every association
        # slot, and one association must not fill the holding storage.
        self.associations_per_ae = associations_per_ae or getattr(
            settings, "TA_DICOM_MAX_ASSOCIATIONS_PER_AE", 4
        )
        self.association_bytes = association_bytes or getattr(
            settings, "TA_DICOM_MAX_ASSOCIATION_BYTES", 16 * 1024**3
        )
        self._received_bytes: dict[int, int] = {}
        self.server: ThreadedAssociationServer | None = None
        self._sessions: dict[int, ReceivingSession] = {}
        self._lock = threading.Lock()

    def application_entity(self) -> ArchiveAE:
        ae = ArchiveAE(ae_title=self.ae_title)
        ae.supported_contexts = [*storage_contexts(), verification_context()]
        ae.network_timeout = self.network_timeout
        ae.dimse_timeout = self.network_timeout
        ae.acse_timeout = self.network_timeout
        ae.maximum_associations = self.maximum_associations
        # A peer that stalls is aborted (not released): its partial study is discarded.
        ae.network_timeout_response = "A-ABORT"
        return ae

    def handlers(self) -> list[tuple]:
        return [
            (evt.EVT_REQUESTED, self._on_requested),
            (evt.EVT_C_STORE, self._on_store),
            (evt.EVT_RELEASED, self._on_released),
            (evt.EVT_ABORTED, self._on_aborted),
            (evt.EVT_CONN_CLOSE, self._on_connection_closed),
        ]

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ThreadedAssociationServer:
        """Start serving in background threads; returns the server (``server_address``)."""
        register_unrecorded_failures()
        sweep_stale_receiving()
        sweep_orphaned_holding()
        sweep_incoming()
        receive_to_files()
        ae = self.application_entity()
        self.server = ae.start_server(
            (self.host, self.port), block=False, evt_handlers=self.handlers()
        )
        self.port = self.server.server_address[1]
        log.info("DICOM listener %s on %s:%s", self.ae_title, self.host, self.port)
        return self.server

    def serve_forever(self) -> None:
        self.start()
        try:
            threading.Event().wait()
        finally:
            self.stop()

    def stop(self) -> None:
        if self.server is not None:
            active = list(self.server.active_associations)
            self.server.shutdown()
            self.server = None
            for assoc in active:  # unreleased: aborted, so their sessions are discarded
                assoc.abort()
                assoc.join(timeout=5)
        with self._lock:
            leftovers = list(self._sessions.values())
            self._sessions.clear()
        for session in leftovers:
            session.discard()

    # --- sessions ----------------------------------------------------------------------------

    def _session(self, assoc: Association) -> ReceivingSession | None:
        with self._lock:
            session = self._sessions.get(id(assoc))
        if session is not None:
            return session
        node = active_node(ae_title=assoc.requestor.ae_title)
        if node is None:  # deactivated since the association was accepted
            return None
        session = ReceivingSession(
            node_id=node.pk,
            calling_ae_title=node.ae_title,
            peer_address=assoc.requestor.address,
            file_while_receiving=True,
        )
        with self._lock:
            self._sessions[id(assoc)] = session
        return session

    def _pop(self, assoc: Association) -> ReceivingSession | None:
        with self._lock:
            self._received_bytes.pop(id(assoc), None)
            return self._sessions.pop(id(assoc), None)

    def _same_calling_ae(self, assoc: Association, calling: str) -> int:
        """Other live associations from the calling AE title ``calling``."""
        server = self.server
        others = list(server.active_associations) if server is not None else []
        count = 0
        for other in others:
            if other is assoc or other.is_rejected or other.is_aborted or other.is_released:
                continue
            primitive = getattr(other.requestor, "primitive", None)
            title = getattr(primitive, "calling_ae_title", None)
            if title is not None and str(title).strip() == calling:
                count += 1
        return count

    def _reject(self, assoc: Association, reason: tuple[int, int, int]) -> None:
        try:
            assoc.acse.send_reject(*reason)
        finally:
            # pynetdicom skips negotiation for a rejected association; marked here too in
            # case the reject could not be sent, so the peer is never accepted. Killing it
            # is what pynetdicom's own rejection does.
            assoc.is_rejected = True
            assoc.kill()

    def _on_requested(self, event) -> None:
        """Refuse a registered AE title calling from an address its node is not pinned to.

        Runs in the association's thread after the A-ASSOCIATE-RQ arrived and before
        pynetdicom negotiates (which then checks the AE title itself); pynetdicom does not
        negotiate an association a handler of EVT_REQUESTED rejected.
        """
        assoc = event.assoc
        calling = str(assoc.requestor.primitive.calling_ae_title).strip()
        address = assoc.requestor.address
        close_old_connections()
        try:
            refused = address_refused(ae_title=calling, address=address)
        except Exception as exc:  # noqa: BLE001 - database down or bad data: refuse
            log.error(
                "Could not check the peer address of %s (%s); association refused",
                calling,
                type(exc).__name__,
            )
            refused = True
        finally:
            connections.close_all()
        if refused:
            log.warning(
                "Association from %s at %s refused: not an allowed peer address for that node",
                calling,
                address,
            )
            self._reject(assoc, _REJECT_CALLING_AE)
            return
        with self._lock:  # two requests at once from one AE title are counted one by one
            busy = self._same_calling_ae(assoc, calling)
            if busy >= self.associations_per_ae:
                log.warning(
                    "Association from %s at %s refused: it already has %s open associations",
                    calling,
                    address,
                    busy,
                )
                self._reject(assoc, _REJECT_LOCAL_LIMIT)

    def _on_store(self, event) -> int:
        try:
            session = self._session(event.assoc)
            if session is None:
                return STATUS_OUT_OF_RESOURCES
            path = event.dataset_path  # removed by pynetdicom once this handler returns
            size = path.stat().st_size
            key = id(event.assoc)
            with self._lock:
                total = self._received_bytes.get(key, 0) + size
                if total > self.association_bytes:
                    over = True
                else:
                    over = False
                    self._received_bytes[key] = total
            if over:
                # PS3.4 B.2.3 "Refused: Out of Resources": this association has sent its share;
                # what it sent so far is filed on release, the rest can come in another one.
                log.warning(
                    "C-STORE from %s refused: the association passed %s bytes",
                    event.assoc.requestor.ae_title,
                    self.association_bytes,
                )
                return STATUS_OUT_OF_RESOURCES
            with path.open("rb") as received:
                return session.store(received)
        except Exception as exc:  # noqa: BLE001 - answer the peer, keep serving
            log.error(
                "C-STORE from %s failed (%s)", event.assoc.requestor.ae_title, type(exc).__name__
            )
            return STATUS_OUT_OF_RESOURCES

    def _on_released(self, event) -> None:
        session = self._pop(event.assoc)
        try:
            if session is not None and isinstance(file_on_release(session), Upload):
                # The database takes records again: register studies kept while it did not.
                register_unrecorded_failures()
        except Exception as exc:  # noqa: BLE001 - keep serving; the files are kept
            log.error(
                "Association from %s: recording its filing failed (%s)",
                event.assoc.requestor.ae_title,
                type(exc).__name__,
            )
        finally:
            connections.close_all()

    def _on_aborted(self, event) -> None:
        session = self._pop(event.assoc)
        try:
            if session is not None:
                session.discard()
        finally:
            connections.close_all()

    def _on_connection_closed(self, event) -> None:
        # Fired by the transport thread, possibly while the association thread is still
        # handling a release. Wait (elsewhere) for the association to finish, then discard
        # whatever was neither released nor aborted: the peer just went away.
        assoc = event.assoc

        def settle() -> None:
            assoc.join(timeout=self.network_timeout + 30)
            session = self._pop(assoc)
            try:
                if session is not None:
                    session.discard()
            finally:
                connections.close_all()

        threading.Thread(target=settle, name="dicom-settle", daemon=True).start()
