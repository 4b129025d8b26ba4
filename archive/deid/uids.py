"""Keyed, deterministic UID remapping (PS3.15 E.1.1 action ``U``).

The same original UID always maps to the same new UID for a given key and root,
across files, uploads and years, so references between instances still resolve.
Generated UIDs follow PS3.5 9.1 (digits and dots, no leading zeros, at most 64
characters).
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import TYPE_CHECKING

from pydicom.datadict import tag_for_keyword
from pydicom.uid import UID_dictionary

if TYPE_CHECKING:
    from archive.deid.policy import Policy

__all__ = ["CLASS_UID_TAGS", "is_standard_uid", "pseudonymize_uid"]

_DICOM_ROOT = "1.2.840.10008."

# Attributes holding the UID of a *kind* of thing (SOP class, transfer syntax,
# coding scheme); they identify no patient and must not be remapped.
_CLASS_UID_KEYWORDS = (
    "AffectedSOPClassUID",
    "CodingSchemeUID",
    "ImplementationClassUID",
    "MediaStorageSOPClassUID",
    "OriginalSpecializedSOPClassUID",
    "ReferencedSOPClassUID",
    "ReferencedSOPClassUIDInFile",
    "ReferencedTransferSyntaxUIDInFile",
    "RelatedGeneralSOPClassUID",
    "RequestedSOPClassUID",
    "SOPClassUID",
    "SOPClassesInStudy",
    "TransferSyntaxUID",
)
CLASS_UID_TAGS: frozenset[int] = frozenset(
    t for t in (tag_for_keyword(k) for k in _CLASS_UID_KEYWORDS) if t is not None
)


def is_standard_uid(uid: str) -> bool:
    """Return whether `uid` is defined by the standard (PS3.6 Annex A) and kept.

    Parameters
    ----------
    uid : str
        UID value without padding.
    """
    return uid.startswith(_DICOM_ROOT) or uid in UID_dictionary


@lru_cache(maxsize=1 << 16)
def _derive(uid_key: bytes, uid_root: str, uid: str) -> str:
    digest = hmac.new(uid_key, uid.encode("ascii", "replace"), hashlib.sha256).digest()
    if uid_root == "2.25":
        # RFC 9562 version 8 ("custom") UUID built from the keyed hash, as an
        # integer under 2.25 (PS3.5 B.2).
        raw = bytearray(digest[:16])
        raw[6] = (raw[6] & 0x0F) | 0x80
        raw[8] = (raw[8] & 0x3F) | 0x80
        return f"2.25.{int.from_bytes(raw, 'big')}"
    budget = 64 - len(uid_root) - 1
    number = int.from_bytes(digest, "big") % (10**budget) or 1
    return f"{uid_root}.{number}"


def pseudonymize_uid(uid: str, policy: Policy) -> str:
    """Return the pseudonymous UID for `uid` under `policy`.

    Standard UIDs (SOP classes, transfer syntaxes, well-known frames of
    reference, coding schemes; PS3.6 Annex A) are returned unchanged.

    Parameters
    ----------
    uid : str
        Original UID; trailing NUL/space padding is ignored.
    policy : Policy
        Supplies ``uid_key`` and ``uid_root``.

    Returns
    -------
    str
        A valid UID of at most 64 characters.
    """
    uid = uid.strip("\x00 ")
    if not uid or is_standard_uid(uid):
        return uid
    return _derive(policy.uid_key, policy.uid_root, uid)
