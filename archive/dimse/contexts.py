"""Presentation contexts the listener accepts: every storage SOP class with every transfer
syntax this build can decode (pydicom + pylibjpeg plugins), and Verification.

PS3.4 Annex B (Storage Service Class) and Annex A (Verification Service Class).
"""

from __future__ import annotations

from functools import lru_cache

from pydicom.pixels import get_decoder
from pydicom.uid import UID, AllTransferSyntaxes
from pynetdicom import AllStoragePresentationContexts, build_context
from pynetdicom.presentation import PresentationContext
from pynetdicom.sop_class import Verification

__all__ = ["decodable_transfer_syntaxes", "storage_contexts", "verification_context"]


@lru_cache(maxsize=1)
def decodable_transfer_syntaxes() -> list[UID]:
    """Transfer syntaxes whose pixel data the de-identification pipeline can decode.

    Native (uncompressed) syntaxes come first so that a peer proposing several gets the
    cheapest one.
    """
    native, compressed = [], []
    for uid in AllTransferSyntaxes:
        try:
            available = get_decoder(uid).is_available
        except NotImplementedError:  # video and other syntaxes without a pixel decoder
            continue
        if available:
            (compressed if uid.is_compressed else native).append(uid)
    return native + compressed


def storage_contexts() -> list[PresentationContext]:
    syntaxes = decodable_transfer_syntaxes()
    return [build_context(cx.abstract_syntax, syntaxes) for cx in AllStoragePresentationContexts]


def verification_context() -> PresentationContext:
    return build_context(Verification)
