"""Floods (issue #18): the DICOM listener limits associations per calling AE title and bytes
per association, answering with the standard's refusals."""

from __future__ import annotations

import pytest
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage

from archive.dimse.listener import DicomListener
from tests.conftest import wait_for
from tests.dimse.conftest import CALLED_AET, CALLING_AET, write_series

pytestmark = pytest.mark.django_db(transaction=True)


def _scu() -> AE:
    ae = AE(ae_title=CALLING_AET)
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    return ae


@pytest.fixture
def small_listener(storage_dirs):
    server = DicomListener(
        ae_title=CALLED_AET,
        host="127.0.0.1",
        port=0,
        network_timeout=5,
        associations_per_ae=2,
        association_bytes=8000,
    )
    server.start()
    yield server
    server.stop()


def test_one_ae_title_gets_at_most_its_share_of_associations(small_listener, node):
    first = _scu().associate("127.0.0.1", small_listener.port, ae_title=CALLED_AET)
    second = _scu().associate("127.0.0.1", small_listener.port, ae_title=CALLED_AET)
    third = _scu().associate("127.0.0.1", small_listener.port, ae_title=CALLED_AET)
    try:
        assert first.is_established and second.is_established
        assert third.is_rejected
        # PS3.8 9.3.4: rejected-transient, by the service provider, local limit exceeded
        rejection = third.acceptor.primitive
        assert (rejection.result, rejection.result_source, rejection.diagnostic) == (2, 3, 2)
    finally:
        first.release()
        second.release()
    # Once they are released, the node may open another.
    wait_for(
        lambda: not small_listener.server.active_associations,
        timeout=10,
        message="the released associations to end on the listener's side",
    )
    again = _scu().associate("127.0.0.1", small_listener.port, ae_title=CALLED_AET)
    assert again.is_established
    again.abort()


def test_an_association_past_its_bytes_is_refused_out_of_resources(
    small_listener, node, tmp_path, patient
):
    files = write_series(tmp_path / "in", "CT_small.dcm", patient, count=2)  # ~39 KB each
    small_listener.association_bytes = files[0].stat().st_size + 1000
    assoc = _scu().associate("127.0.0.1", small_listener.port, ae_title=CALLED_AET)
    assert assoc.is_established
    assert assoc.send_c_store(files[0]).Status == 0x0000
    assert assoc.send_c_store(files[1]).Status == 0xA700  # PS3.4 B.2.3 Out of Resources
    assoc.abort()
