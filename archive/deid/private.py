"""Retain Safe Private Option (PS3.15 E.3.10): which private attributes may stay.

Private attributes are removed by default (Table E.1-1, row "(gggg,eeee) where gggg is odd",
action X).  With the option, an attribute listed in PS3.15 Table E.3.10-1 "Safe Private
Attributes" (:data:`archive.deid.safe_private_table.TABLE_E3_10_1`, generated from the
standard) is kept, with its Private Creator, when its value is what the table says it is:

- its VR is the table's (or ``UN``, as read from an Implicit VR file);
- numbers (US, SS, UL, SL, FL, FD, ... and IS/DS text of digits only) are kept;
- text (CS, SH, LO, UI, ...) is kept only when it passes the verifier's checks (no identifying
  value of the instance, no name, date, phone number or ID shape; see
  :func:`archive.deid.engine` and :mod:`archive.deid.freetext`): the engine decides it once
  every identifying value of the instance is known;
- bulk data (OB, OW, UN in the table) and sequences are removed: their content cannot be
  verified, and Note 2 of E.3.10 warns that bulk private data often carries whole headers
  with the patient's name.

A vendor that reuses an element for something else is thus caught by its VR or its value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType

from pydicom.multival import MultiValue

from archive.deid.safe_private_table import TABLE_E3_10_1
from archive.deid.table import SafePrivateRow

__all__ = [
    "SAFE_PRIVATE",
    "SafePrivateKindValues",
    "creator_key",
    "safe_private_kind",
    "safe_private_rule",
]


def creator_key(creator: str) -> str:
    """Private Creator strings compared upper-case, without padding (vendors vary the case)."""
    return creator.strip(" \x00").upper()


SAFE_PRIVATE: Mapping[tuple[int, str, int], SafePrivateRow] = MappingProxyType(
    {(row.group, creator_key(row.creator), row.element): row for row in TABLE_E3_10_1}
)
"""Rows of Table E.3.10-1 by ``(group, creator_key(creator), element byte)``."""


class SafePrivateKindValues(Enum):
    """What kind of value a listed private attribute holds, as far as keeping it goes."""

    NUMBERS = "numbers"
    """Binary numbers or numeric text: kept."""
    TEXT = "text"
    """Text: kept only when the verifier's checks pass."""


_NUMERIC_TEXT_RE = re.compile(rb"^[0-9+\-.eE\\ \x00]*$")
_BINARY_SIZES = {"US": 2, "SS": 2, "UL": 4, "SL": 4, "FL": 4, "FD": 8, "UV": 8, "SV": 8,
                 "OF": 4, "OD": 8, "OL": 4, "OV": 8}  # fmt: skip
_NUMERIC_TEXT_VRS = frozenset({"IS", "DS"})
_TEXT_VRS = frozenset({"CS", "SH", "LO", "UI", "ST", "LT", "UT", "UC"})


def _as_bytes(value: object) -> bytes | None:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("latin-1", "replace")
    if isinstance(value, MultiValue | list | tuple):
        return "\\".join(str(v) for v in value).encode("latin-1", "replace")
    if isinstance(value, int | float):
        return str(value).encode("ascii")
    return None


def safe_private_rule(row: SafePrivateRow) -> SafePrivateKindValues | None:
    """What the table's VR allows at best: numbers, verified text, or nothing (``None``)."""
    if row.vr in _BINARY_SIZES or row.vr in _NUMERIC_TEXT_VRS:
        return SafePrivateKindValues.NUMBERS
    if row.vr in _TEXT_VRS:
        return SafePrivateKindValues.TEXT
    return None


def safe_private_kind(row: SafePrivateRow, vr: str, value: object) -> SafePrivateKindValues | None:
    """Whether a listed private element may be kept, and on what condition.

    Parameters
    ----------
    row : SafePrivateRow
        Its row of Table E.3.10-1.
    vr : str
        The VR as read (``UN`` for Implicit VR files whose VR pydicom does not know).
    value : object
        The value as read.

    Returns
    -------
    SafePrivateKindValues or None
        ``None``: remove it.
    """
    if vr not in (row.vr, "UN"):
        return None  # not the attribute the table lists
    if value is None or value == b"" or value == "":
        return SafePrivateKindValues.NUMBERS  # nothing in it
    if row.vr in _BINARY_SIZES:
        if vr == "UN":
            data = _as_bytes(value)
            if data is None or len(data) % _BINARY_SIZES[row.vr]:
                return None
        elif isinstance(value, str | bytes | bytearray) and vr not in ("OF", "OD", "OL", "OV"):
            return None
        return SafePrivateKindValues.NUMBERS
    if row.vr in _NUMERIC_TEXT_VRS:
        data = _as_bytes(value)
        if data is not None and _NUMERIC_TEXT_RE.match(data):
            return SafePrivateKindValues.NUMBERS
        return None
    if row.vr in _TEXT_VRS:
        return SafePrivateKindValues.TEXT if _as_bytes(value) is not None else None
    return None  # OB, OW, UN, SQ: cannot be verified
