"""``manage.py dicom_listener``: run the archive's DICOM node (C-STORE and C-ECHO)."""

from __future__ import annotations

import os
import signal
import threading

from django.core.management.base import BaseCommand

from archive.dimse.listener import DicomListener

STOP_GRACE_SECONDS = 20


class Command(BaseCommand):
    help = (
        "Receive studies from registered PACS and modalities (Storage SCP + Verification SCP). "
        "Each association becomes an upload for the node's teacher, de-identified by the worker."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--ae-title", default=None, help="Called AE title (default: TA_DICOM_AE_TITLE)."
        )
        parser.add_argument(
            "--host", default=None, help="Address to bind (default: TA_DICOM_BIND_ADDRESS)."
        )
        parser.add_argument(
            "--port", type=int, default=None, help="TCP port (default: TA_DICOM_PORT)."
        )

    def handle(self, *args, ae_title=None, host=None, port=None, **options):
        stop_requested = threading.Event()

        def stop(signum, frame):
            stop_requested.set()

        # Before serving: a stop request that arrives during start-up must not be lost.
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        listener = DicomListener(ae_title=ae_title, host=host, port=port)
        listener.start()
        self.stdout.write(
            f"DICOM listener {listener.ae_title} on {listener.host}:{listener.port} "
            f"(timeout {listener.network_timeout}s, max {listener.maximum_associations} "
            "associations). Stop with Ctrl-C."
        )
        self.stdout.flush()
        try:
            # A timed wait, not signal.pause(): a signal landing just before pause() would be lost.
            while not stop_requested.wait(0.5):
                pass
        finally:
            # Stopping waits for open associations; never let one keep the process alive.
            stopper = threading.Thread(target=listener.stop, daemon=True)
            stopper.start()
            stopper.join(STOP_GRACE_SECONDS)
            self.stdout.write("DICOM listener stopped.")
            if stopper.is_alive():
                self.stderr.write(
                    f"Open associations did not end within {STOP_GRACE_SECONDS} s; exiting "
                    "anyway. Their partial files are swept when the listener next starts."
                )
                self.stdout.flush()
                self.stderr.flush()
                os._exit(0)
