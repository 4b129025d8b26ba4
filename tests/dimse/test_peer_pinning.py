"""A node pinned to peer addresses: a registered AE title from another address is rejected
(real associations from 127.0.0.1 and 127.0.0.2), and the admin explains a bad entry."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage, Verification

from archive.dimse.peers import address_allowed, parse_networks
from archive.models import RemoteNode, Upload
from tests.conftest import wait_for
from tests.dimse.conftest import (
    CALLED_AET,
    CALLING_AET,
    echoscu,
    holding_files,
    storescu,
    write_series,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    """These tests look at who may associate; the worker path has its own tests."""
    monkeypatch.setattr("archive.scheduling.schedule_upload", lambda upload_id: None)


def _associate(port: int, *, source: str):
    """A pynetdicom association from the given loopback address (127.0.0.0/8 is all local)."""
    ae = AE(ae_title=CALLING_AET)
    ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
    return ae.associate("127.0.0.1", port, ae_title=CALLED_AET, bind_address=(source, 0))


def _rejection(assoc) -> tuple[int, int, int]:
    rj = assoc.acceptor.primitive
    return rj.result, rj.result_source, rj.diagnostic


def test_node_pinned_to_another_network_is_rejected_and_logged_without_phi(
    listener, node, tmp_path, patient, storage_dirs, caplog
):
    node.allowed_addresses = "10.0.0.0/8"
    node.save()
    caplog.set_level(logging.INFO)

    echo = echoscu(listener.port)
    assert echo.returncode != 0
    assert "calling ae title not recognized" in (echo.stdout + echo.stderr).lower()
    files = write_series(tmp_path / "in", "CT_small.dcm", patient, count=2)
    store = storescu(listener.port, files)
    assert store.returncode != 0
    assert not Upload.objects.exists()
    assert not holding_files(storage_dirs)

    ours = [r.getMessage() for r in caplog.records if r.name.startswith("archive")]
    refused = [m for m in ours if "refused" in m]
    assert refused and refused[0] == (
        f"Association from {CALLING_AET} at 127.0.0.1 refused: "
        "not an allowed peer address for that node"
    )
    text = "\n".join(ours)
    for secret in patient.secrets():
        assert secret not in text


def test_pinned_address_is_accepted_and_its_loopback_neighbour_rejected_permanently(listener, node):
    node.allowed_addresses = "127.0.0.2"
    node.save()

    allowed = _associate(listener.port, source="127.0.0.2")
    assert allowed.is_established
    assert allowed.send_c_echo().Status == 0x0000
    allowed.release()

    other = _associate(listener.port, source="127.0.0.1")
    assert other.is_rejected and not other.is_established
    # PS3.8 9.3.4: rejected-permanent, by the service user, calling AE title not recognised.
    assert _rejection(other) == (0x01, 0x01, 0x03)


def test_pinned_node_stores_a_study_from_its_address(listener, node, tmp_path, patient):
    node.allowed_addresses = "127.0.0.2/32\n192.0.2.0/24"
    node.save()
    (path,) = write_series(tmp_path / "in", "CT_small.dcm", patient)
    assoc = _associate(listener.port, source="127.0.0.2")
    assert assoc.is_established
    assert assoc.send_c_store(path).Status == 0x0000
    assoc.release()
    wait_for(lambda: Upload.objects.exists(), timeout=10, message="the upload to be filed")
    assert Upload.objects.get().items.count() == 1


def test_unpinned_node_accepts_any_address_as_before(listener, node):
    assert node.allowed_addresses == ""
    for source in ("127.0.0.1", "127.0.0.2"):
        assoc = _associate(listener.port, source=source)
        assert assoc.is_established, source
        assoc.release()


def test_unknown_ae_title_is_still_rejected_even_with_pinned_nodes(listener, node):
    node.allowed_addresses = "127.0.0.1"
    node.save()
    assert echoscu(listener.port).returncode == 0
    assert echoscu(listener.port, calling="STRANGER").returncode != 0


def test_ipv4_peer_seen_through_a_dual_stack_socket_matches_ipv4_networks():
    networks = parse_networks("10.0.0.0/8\n2001:db8::/32")
    assert address_allowed("::ffff:10.1.2.3", networks)
    assert address_allowed("2001:db8::5", networks)
    assert not address_allowed("::ffff:192.0.2.1", networks)
    assert not address_allowed("127.0.0.1", networks)


def test_admin_form_explains_bad_entries_and_stores_clean_ones(teacher):
    admin_user = User.objects.create_superuser("root", password="pw-root")
    c = Client()
    c.force_login(admin_user)
    data = {
        "ae_title": "CTSCANNER",
        "teacher": teacher.pk,
        "allowed_addresses": "10.0.0.0/8\npacs.example.org\n10.0.0.5/8",
        "description": "",
        "is_active": "on",
    }
    page = c.post("/admin/archive/remotenode/add/", data)
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        "“pacs.example.org” is not an IP address or network. Write one address (such as "
        "192.0.2.10) or one network in CIDR notation (such as 10.0.0.0/8) per line; host "
        "names are not accepted."
    ) in html
    assert (
        "“10.0.0.5/8” has address bits set after the /8 prefix. Write the network as "
        "10.0.0.0/8, or the single address as 10.0.0.5."
    ) in html
    assert not RemoteNode.objects.exists()

    data["allowed_addresses"] = "192.0.2.10/32, 10.20.0.0/16\n\n2001:db8::1"
    assert c.post("/admin/archive/remotenode/add/", data).status_code == 302
    assert RemoteNode.objects.get().allowed_addresses == "192.0.2.10\n10.20.0.0/16\n2001:db8::1"
    listing = c.get("/admin/archive/remotenode/").content.decode()
    assert "192.0.2.10, 10.20.0.0/16, 2001:db8::1" in listing

    add_form = c.get("/admin/archive/remotenode/add/").content.decode()
    assert "an AE title is easy to imitate" in add_form
