"""Compile PS3.15 Table E.1-1 and the selected options into per-tag operations.

The table (:data:`archive.deid.profile_table.TABLE_E1_1`) is compiled once per
combination of options into a ``dict`` keyed by the tag as ``int``, so applying
it costs one dictionary lookup per element.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING

from pydicom.datadict import dictionary_VR, tag_for_keyword

from archive.deid.enums import ActionCodeValues
from archive.deid.profile_table import TABLE_E1_1

if TYPE_CHECKING:
    from collections.abc import Mapping

    from archive.deid.policy import Policy
    from archive.deid.table import ProfileRow

__all__ = [
    "CompiledProfile",
    "Operation",
    "compile_profile",
    "resolve_action",
]


class Operation(IntEnum):
    """What the engine does to one element."""

    KEEP = 0
    REMOVE = 1
    EMPTY = 2
    DUMMY = 3
    REMAP_UID = 4
    SHIFT_DATE = 5
    CLEAN_TEXT = 6
    RECURSE = 7
    PSEUDONYM_NAME = 8
    PSEUDONYM_ID = 9
    AGE = 10


def _vr(tag: int) -> str:
    try:
        return str(dictionary_VR(tag)).split(" ")[0]
    except KeyError:
        return "UN"


def resolve_action(code: str, vr: str) -> Operation:
    """Turn a (possibly combined) Table E.1-1 action code into an operation.

    Combined codes (PS3.15 E.1.1) leave a choice that depends on the IOD's
    attribute type.  We do not track the IOD, so we pick the alternative that
    is conformant for every type: ``D`` over ``Z`` over ``X`` (a dummy or empty
    value is allowed where removal might not be).  Sequences with ``D``, ``K``
    or ``U*`` are kept and their items de-identified recursively.

    Parameters
    ----------
    code : str
        E.g. ``"X/Z/D"``.
    vr : str
        Value representation of the attribute.
    """
    codes = {ActionCodeValues(c) for c in code.replace("*", "").split("/")}
    is_sq = vr == "SQ"
    if ActionCodeValues.U in codes:
        return Operation.RECURSE if is_sq else Operation.REMAP_UID
    if ActionCodeValues.K in codes:
        return Operation.RECURSE if is_sq else Operation.KEEP
    if ActionCodeValues.C in codes:
        return Operation.RECURSE if is_sq else Operation.CLEAN_TEXT
    if ActionCodeValues.D in codes:
        if is_sq:
            return Operation.RECURSE
        return Operation.REMAP_UID if vr == "UI" else Operation.DUMMY
    if ActionCodeValues.Z in codes:
        return Operation.EMPTY
    return Operation.REMOVE


@dataclass(frozen=True)
class CompiledProfile:
    """Operations per tag for one set of options.

    Attributes
    ----------
    operations : Mapping[int, Operation]
        Operation for each public tag of Table E.1-1 (plus our overrides).
    fallbacks : Mapping[int, Operation]
        Basic Profile operation used when cleaning (``C``) a value fails.
    """

    operations: Mapping[int, Operation]
    fallbacks: Mapping[int, Operation]


def _row_operation(row: ProfileRow, vr: str, policy_flags: tuple[bool, ...]) -> Operation:
    patient_chars, shift, clean_desc, clean_graphics = policy_flags
    option_codes: list[str] = []
    if patient_chars and row.retain_patient_characteristics:
        option_codes.append(row.retain_patient_characteristics)
    if clean_desc and row.clean_descriptors:
        option_codes.append(row.clean_descriptors)
    if clean_graphics and row.clean_graphics:
        option_codes.append(row.clean_graphics)
    if shift and row.retain_long_modified_dates:
        # Whole-day shifts keep times of day: TM needs no change.
        if vr in ("DA", "DT"):
            return Operation.SHIFT_DATE
        return Operation.RECURSE if vr == "SQ" else Operation.KEEP
    if "K" in option_codes:
        return resolve_action("K", vr)
    if "C" in option_codes:
        return resolve_action("C", vr)
    return resolve_action(row.basic, vr)


@lru_cache(maxsize=16)
def _compile(policy_flags: tuple[bool, bool, bool, bool]) -> CompiledProfile:
    operations: dict[int, Operation] = {}
    fallbacks: dict[int, Operation] = {}
    for row in TABLE_E1_1:
        if len(row.tag) != 8 or "x" in row.tag:
            continue  # repeating groups and private groups are handled in bulk
        tag = int(row.tag, 16)
        vr = _vr(tag)
        operations[tag] = _row_operation(row, vr, policy_flags)
        fallbacks[tag] = resolve_action(row.basic, vr)
    overrides = {
        "PatientName": Operation.PSEUDONYM_NAME,
        "PatientID": Operation.PSEUDONYM_ID,
        # Birth date is identifying even when shifted; the age is kept instead.
        "PatientBirthDate": Operation.EMPTY,
        "PatientBirthTime": Operation.REMOVE,
        # SR free text (not in Table E.1-1): kept only when it passes the
        # descriptor check, else replaced by a dummy (Type 1 in TEXT items).
        "TextValue": Operation.CLEAN_TEXT,
        # Written afresh by the engine.
        "PatientIdentityRemoved": Operation.REMOVE,
        "DeidentificationMethod": Operation.REMOVE,
        "DeidentificationMethodCodeSequence": Operation.REMOVE,
        "LongitudinalTemporalInformationModified": Operation.REMOVE,
    }
    if policy_flags[0]:
        overrides["PatientAge"] = Operation.AGE
    for keyword, operation in overrides.items():
        override_tag = tag_for_keyword(keyword)
        assert override_tag is not None
        operations[override_tag] = operation
    text_value = tag_for_keyword("TextValue")
    assert text_value is not None
    fallbacks[text_value] = Operation.DUMMY
    return CompiledProfile(MappingProxyType(operations), MappingProxyType(fallbacks))


def compile_profile(policy: Policy) -> CompiledProfile:
    """Compiled operations for the options of `policy` (cached).

    Parameters
    ----------
    policy : Policy
    """
    return _compile(
        (
            policy.retain_patient_characteristics,
            policy.shift_dates,
            policy.clean_descriptors,
            policy.clean_graphics,
        )
    )
