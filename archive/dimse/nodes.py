"""Selectors for the remote DICOM nodes allowed to send to the listener."""

from __future__ import annotations

from archive.models import RemoteNode

__all__ = ["active_node", "registered_calling_aets"]


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
