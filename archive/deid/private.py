"""Retain Safe Private Option data (PS3.15 E.3.10).

Private attributes are removed by default (Table E.1-1, row "(gggg,eeee) where
gggg is odd", action X).  With the option, only the entries below are kept.
Each is keyed by ``(group, private creator, element offset)``; the offset is the
low byte of the element number, so the entry matches whatever block
(``gggg,10xx`` .. ``gggg,FFxx``) the creator was reserved in.

The list is deliberately tiny: diffusion acquisition parameters that conversion
tools need and that PS3.15 Annex E.3.10 (Table E.3.10-1, "Exemplary Safe Private
Attributes") lists as safe.  As a second guard, a retained value must also be
numeric (see :func:`is_numeric_value`), so a vendor that reuses an offset for
text can never leak a name through it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["SAFE_PRIVATE", "is_numeric_value"]

SAFE_PRIVATE: Mapping[tuple[int, str, int], str] = {
    # Siemens MR diffusion (PS3.15 Table E.3.10-1)
    (0x0019, "SIEMENS MR HEADER", 0x0C): "B_value",
    (0x0019, "SIEMENS MR HEADER", 0x0D): "DiffusionDirectionality",
    (0x0019, "SIEMENS MR HEADER", 0x0E): "DiffusionGradientDirection",
    # GE MR diffusion b-value "slop_int_6" (PS3.15 Table E.3.10-1)
    (0x0043, "GEMS_PARM_01", 0x39): "SlopInt6to9",
    # Philips MR diffusion b-factor (PS3.15 Table E.3.10-1)
    (0x2001, "PHILIPS IMAGING DD 001", 0x03): "DiffusionBFactor",
}
"""Safe private attributes; creators are compared upper-case and stripped."""

_NUMERIC_TEXT_RE = re.compile(rb"^[0-9+\-.eE\\ \x00]*$")
_NUMERIC_VRS = frozenset({"DS", "IS", "FD", "FL", "US", "SS", "UL", "SL", "UV", "SV", "CS"})


def is_numeric_value(vr: str, value: object) -> bool:
    """Whether a private value carries only numbers (no text that could identify).

    Parameters
    ----------
    vr : str
        VR of the element as read (``UN`` for implicit VR files).
    value : object
        The element value.
    """
    if vr in _NUMERIC_VRS and vr != "CS":
        return True
    if isinstance(value, bytes | bytearray):
        if vr in ("OB", "UN"):
            return bool(_NUMERIC_TEXT_RE.match(bytes(value)))
        return vr in ("OF", "OD", "OW", "OL", "OV")
    if isinstance(value, str):
        return bool(_NUMERIC_TEXT_RE.match(value.encode("latin-1", "replace")))
    return False
