"""Selectors for the remote DICOM nodes allowed to send to the listener."""

from __future__ import annotations

from archive.models import RemoteNode

__all__ = ["active_node", "address_refused", "registered_calling_aets"]


def registered_calling_aets() -> list[str]:
    """Calling AE titles of the active nodes (stripped, as pynetdicom compares them)."""
    return [
        title.strip()
        for title in RemoteNode.objects.filter(is_active=True).values_list("ae_title", flat=True)
    ]


def active_node(*, ae_title: str) -> RemoteNode | None:
    return (
        RemoteNode.objects.select_related("teacher", "target_case")
        .filter(ae_title=ae_title.strip(), is_active=True)
        .first()
    )


def address_refused(*, ae_title: str, address: str) -> bool:
    """Whether an active node has this calling AE title but is pinned to other peer addresses.

    An unknown AE title is not this function's business (``registered_calling_aets`` refuses
    it); an unpinned node admits any address.
    """
    node = RemoteNode.objects.filter(ae_title=ae_title.strip(), is_active=True).first()
    return node is not None and not node.admits(address)
