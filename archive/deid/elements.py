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

__all__ = ["RawDataElement", "element_vr"]


@lru_cache(maxsize=4096)
def _dictionary_vr(tag: int) -> str:
    try:
        return str(dictionary_VR(tag)).split(" ")[0]
    except KeyError:
        return "UN"


def element_vr(tag: int, raw: RawDataElement) -> str:
    """VR of a raw element: explicit if present, else from the data dictionary."""
    vr = raw.VR
    if vr:
        return str(vr)
    if tag >> 16 & 1:
        return "UN"
    return _dictionary_vr(tag)
