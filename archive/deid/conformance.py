"""Attribute Types by IOD, so de-identification never makes a valid instance invalid.

PS3.15 E.1.1 lets a de-identifier choose among combined action codes (``X/Z``, ``X/Z/D``...) "to
maintain IOD conformance", and PS3.5 7.4 says what each Type allows: a Type 1 attribute needs a
value, a Type 2 attribute may be empty but must be present, a Type 3 attribute may be left out
(a Type 3 sequence, when present, needs an item).  The engine asks :func:`attribute_types` for
the Type of an attribute at its sequence path in the instance's IOD and then

- removes what the profile would empty where the IOD makes it Type 3,
- empties what it would remove where the IOD makes it Type 2,
- gives a dummy value where the IOD makes it Type 1,

and the same when a value cannot be repaired (an invalid date or age).  Where the IOD does not
list the attribute (or the SOP Class is not a standard one) the profile's choice stands.

The data is generated from the standard (:mod:`archive.deid.module_types`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

from archive.deid.module_types import IOD_MODULES, MODULE_TYPES, SOP_CLASS_IODS

__all__ = ["TYPE_1", "TYPE_2", "TYPE_3", "AttributePath", "attribute_types", "iod_of"]

TYPE_1, TYPE_2, TYPE_3 = 1, 2, 3
"""Strictness of an attribute: 1 (Type 1 and 1C), 2 (Type 2 and 2C), 3."""

AttributePath = tuple[int, ...]
"""The tags of the enclosing sequences, outermost first, then the attribute's own tag."""

_EMPTY: Mapping[AttributePath, int] = MappingProxyType({})


@lru_cache(maxsize=512)
def _module(module: str) -> dict[AttributePath, int]:
    return {
        tuple(int(part, 16) for part in path.split("/")): strictness
        for path, strictness in MODULE_TYPES[module]
    }


def iod_of(sop_class_uid: str) -> str | None:
    """The IOD key (e.g. ``"ct-image"``) of a SOP Class UID, or ``None`` if not a standard one."""
    return SOP_CLASS_IODS.get(str(sop_class_uid).strip(" \x00"))


@lru_cache(maxsize=128)
def attribute_types(sop_class_uid: str) -> Mapping[AttributePath, int]:
    """Type (1, 2 or 3) of each listed attribute path in the IOD of `sop_class_uid`.

    An attribute in several modules of the IOD takes its strictest Type (a conditional or
    user-optional module may be the one present).  Empty for an unknown SOP Class.

    Parameters
    ----------
    sop_class_uid : str
    """
    iod = iod_of(sop_class_uid)
    if iod is None:
        return _EMPTY
    merged: dict[AttributePath, int] = {}
    for module in IOD_MODULES.get(iod, ()):
        for path, strictness in _module(module).items():
            merged[path] = min(merged.get(path, TYPE_3), strictness)
    return MappingProxyType(merged)
