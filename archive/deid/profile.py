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
from pydicom.tag import BaseTag

from archive.deid.enums import ActionCodeValues, DateModeValues
from archive.deid.profile_table import TABLE_E1_1

if TYPE_CHECKING:
    from collections.abc import Mapping

    from archive.deid.policy import Policy
    from archive.deid.table import ProfileRow

__all__ = [
    "FREE_TEXT_VRS",
    "KEEPABLE_DESCRIPTORS",
    "CompiledProfile",
    "Operation",
    "compile_profile",
    "holds_free_text",
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


def _tags(keywords: str) -> frozenset[int]:
    tags = {tag_for_keyword(k) for k in keywords.split()}
    return frozenset(t for t in tags if t is not None)


KEEPABLE_DESCRIPTORS = _tags(
    "StudyDescription SeriesDescription ProtocolName PerformedProcedureStepDescription "
    "RequestedProcedureDescription ScheduledProcedureStepDescription RequestedSeriesDescription "
    "AcquisitionDeviceProcessingDescription ContrastBolusAgent ROIName ROIObservationLabel "
    "RTPlanLabel RTPlanName StructureSetLabel StructureSetName TreatmentSite "
    "TextValue UnformattedTextValue"
)
"""Text kept when short, plain and free of identifying values (:attr:`Operation.CLEAN_TEXT`).

The short descriptors that the Clean Descriptors Option keeps (PS3.15 E.3.5), the text values
of SR and Key Object content items (Clean Structured Content, E.3.4) and the text objects of
graphic annotations in images and presentation states (Clean Graphics, E.3.3); every other
"C" descriptor and every free-text comment of Table E.1-1 is removed.
"""

FREE_TEXT_VRS = frozenset({"LO", "LT", "ST", "UT", "UC"})
"""VRs of text a person may type (PS3.5 6.2); SH, CS and the rest are codes and labels."""

# Kept text that is coded or names a product, a coding scheme or a private creator, written
# by a vendor or a standard, not about a patient (Table E.1-1 keeps them by not listing them).
_VOCABULARY = _tags(
    "CodeMeaning ExtendedCodeMeaning LongCodeValue CodingSchemeName "
    "CodingSchemeResponsibleOrganization CodingSchemeRegistry CodingSchemeExternalID "
    "MappingResourceName Manufacturer ManufacturerModelName "
    "ManufacturerModelVersion SoftwareVersions SecondaryCaptureDeviceManufacturer "
    "SecondaryCaptureDeviceManufacturerModelName SecondaryCaptureDeviceSoftwareVersions "
    "DetectorManufacturerName DetectorManufacturerModelName ReceiveCoilManufacturerName "
    "TransmitCoilManufacturerName ApplicationName ApplicationVersion ApplicationManufacturer "
    "IOLManufacturer AlgorithmName AlgorithmVersion AlgorithmSource PrivateCreatorReference "
    "DimensionIndexPrivateCreator FunctionalGroupPrivateCreator "
    "SelectorSequencePointerPrivateCreator SelectorAttributePrivateCreator "
    "AttributeOccurrencePrivateCreator PrivateDataElementName PrivateDataElementKeyword "
    "PrivateDataElementDescription PrivateDataElementEncoding DeidentificationMethod "
    "MIMETypeOfEncapsulatedDocument ListOfMIMETypes ConfidentialityCode ModalityLUTType "
    "RescaleType FontName CSSFontName"
)
_TABLE_TAGS = frozenset(
    int(row.tag, 16) for row in TABLE_E1_1 if len(row.tag) == 8 and "x" not in row.tag
)


@lru_cache(maxsize=4096)
def holds_free_text(tag: int, vr: str) -> bool:
    """Whether an element the profile keeps may hold text a person typed.

    The :data:`KEEPABLE_DESCRIPTORS`, and every public element of a free-text VR
    (:data:`FREE_TEXT_VRS`) that Table E.1-1 does not list, at any depth, except coded and
    vendor vocabulary: e.g. Graphic Layer Description and Content Description of presentation
    states, Overlay Description, Segment Description, Window Center & Width Explanation.  The
    engine removes names, dates and numbers from them (:mod:`archive.deid.freetext`) and the
    verifier checks them again.

    Parameters
    ----------
    tag : int
    vr : str
        VR of the element as read (explicit, or from the data dictionary).
    """
    if tag in KEEPABLE_DESCRIPTORS:
        return True
    return (
        vr in FREE_TEXT_VRS
        and not BaseTag(tag).is_private
        and tag not in _TABLE_TAGS
        and tag not in _VOCABULARY
    )


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
    kept_hint_tags : frozenset of int
        Tags an option keeps as they are (e.g. Institution Name under Retain Institution
        Identity): their values are not identifying under this profile, so they are no
        hints for the verifier.
    """

    operations: Mapping[int, Operation]
    fallbacks: Mapping[int, Operation]
    kept_hint_tags: frozenset[int] = frozenset()


@dataclass(frozen=True)
class _Flags:
    """The options of a :class:`Policy` that change Table E.1-1 operations."""

    patient_characteristics: bool
    date_mode: str
    clean_descriptors: bool
    clean_graphics: bool
    clean_structured_content: bool
    device_identity: bool
    institution_identity: bool
    uids: bool


def _row_operation(row: ProfileRow, vr: str, flags: _Flags) -> Operation:
    option_codes: list[str] = []
    for enabled, code in (
        (flags.patient_characteristics, row.retain_patient_characteristics),
        (flags.device_identity, row.retain_device_identity),
        (flags.institution_identity, row.retain_institution_identity),
        (flags.uids, row.retain_uids),
        (flags.clean_descriptors, row.clean_descriptors),
        (flags.clean_graphics, row.clean_graphics),
        (flags.clean_structured_content, row.clean_structured_content),
    ):
        if enabled and code:
            option_codes.append(code)
    if flags.date_mode != DateModeValues.REMOVE:
        column = (
            row.retain_long_modified_dates
            if flags.date_mode == DateModeValues.SHIFT
            else row.retain_long_full_dates
        )
        if column:
            # Whole-day shifts keep times of day: TM needs no change.  Full dates go through
            # the same path with no shift, so legacy forms are written in the standard one.
            if vr in ("DA", "DT"):
                return Operation.SHIFT_DATE
            return Operation.RECURSE if vr == "SQ" else Operation.KEEP
    if "K" in option_codes:
        return resolve_action("K", vr)
    if "C" in option_codes:
        return resolve_action("C", vr)
    return resolve_action(row.basic, vr)


# Values written afresh by the engine, whatever the input had.
_WRITTEN_AFRESH = (
    "PatientIdentityRemoved",
    "DeidentificationMethod",
    "DeidentificationMethodCodeSequence",
    "LongitudinalTemporalInformationModified",
)


@lru_cache(maxsize=64)
def _compile(flags: _Flags) -> CompiledProfile:
    operations: dict[int, Operation] = {}
    fallbacks: dict[int, Operation] = {}
    kept: set[int] = set()
    for row in TABLE_E1_1:
        if len(row.tag) != 8 or "x" in row.tag:
            continue  # repeating groups and private groups are handled in bulk
        tag = int(row.tag, 16)
        vr = _vr(tag)
        operations[tag] = _row_operation(row, vr, flags)
        fallbacks[tag] = resolve_action(row.basic, vr)
        if operations[tag] is Operation.KEEP and fallbacks[tag] is not Operation.KEEP:
            kept.add(tag)
    overrides = {
        "PatientName": Operation.PSEUDONYM_NAME,
        "PatientID": Operation.PSEUDONYM_ID,
        # Birth date is identifying even when shifted; the age is kept instead.
        "PatientBirthDate": Operation.EMPTY,
        "PatientBirthTime": Operation.REMOVE,
        # SR and graphic annotation free text (not in Table E.1-1): kept only when it
        # passes the descriptor check, else replaced by a dummy (Type 1 in TEXT items and
        # text objects).  Without Clean Structured Content, SR text is a dummy outright.
        "TextValue": (Operation.CLEAN_TEXT if flags.clean_structured_content else Operation.DUMMY),
        "UnformattedTextValue": Operation.CLEAN_TEXT,
    }
    overrides.update(dict.fromkeys(_WRITTEN_AFRESH, Operation.REMOVE))
    if flags.patient_characteristics:
        overrides["PatientAge"] = Operation.AGE
    for keyword, operation in overrides.items():
        override_tag = tag_for_keyword(keyword)
        assert override_tag is not None
        operations[override_tag] = operation
        kept.discard(override_tag)
    for keyword in ("TextValue", "UnformattedTextValue"):
        text_tag = tag_for_keyword(keyword)
        assert text_tag is not None
        fallbacks[text_tag] = Operation.DUMMY
    return CompiledProfile(
        MappingProxyType(operations), MappingProxyType(fallbacks), frozenset(kept)
    )


def compile_profile(policy: Policy) -> CompiledProfile:
    """Compiled operations for the options of `policy` (cached).

    Parameters
    ----------
    policy : Policy
    """
    return _compile(
        _Flags(
            patient_characteristics=policy.retain_patient_characteristics,
            date_mode=str(policy.date_mode),
            clean_descriptors=policy.clean_descriptors,
            clean_graphics=policy.clean_graphics,
            clean_structured_content=policy.clean_structured_content,
            device_identity=policy.retain_device_identity,
            institution_identity=policy.retain_institution_identity,
            uids=policy.retain_uids,
        )
    )
