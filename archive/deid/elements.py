"""Cheap access to element VRs without decoding values.

pydicom keeps elements as ``RawDataElement`` until they are accessed; decoding
every value costs more than the whole profile.  These helpers let the engine,
hint collector and verifier decide from the tag and VR alone which elements
need decoding (PS3.5 7.1: the VR is explicit, or implied by the data
dictionary for Implicit VR transfer syntaxes).
"""

from __future__ import annotations

from functools import lru_cache

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement

__all__ = ["ASCII_VRS", "RawDataElement", "ascii_values", "element_vr"]

ASCII_VRS = frozenset({"UI", "DA", "DT"})
"""VRs whose values are ASCII whatever the character set (PS3.5 6.2), read from raw bytes."""


@lru_cache(maxsize=4096)
def _dictionary_vr(tag: int) -> str:
    try:
        return str(dictionary_VR(tag)).split(" ")[0]
    except KeyError:
        return "UN"


def ascii_values(raw: RawDataElement) -> list[str]:
    """Values of a raw UI, DA or DT element, decoded as pydicom does.

    ISO 8859-1 (pydicom's default encoding), trailing NUL and space padding
    stripped, split at backslashes; an empty value gives an empty list.
    """
    text = (raw.value or b"").decode("latin-1").rstrip(" \x00")
    return text.split("\\") if text else []


def element_vr(tag: int, raw: RawDataElement) -> str:
    """VR of a raw element: explicit if present, else from the data dictionary."""
    vr = raw.VR
    if vr:
        return str(vr)
    if tag >> 16 & 1:
        return "UN"
    return _dictionary_vr(tag)
