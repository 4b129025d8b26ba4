"""Coded values used by the de-identification engine.

Enumerations follow the highdicom convention ``<Attribute>Values``; functions
of this package accept either the enum member or its plain string value.
"""

from __future__ import annotations

from enum import Enum, StrEnum

__all__ = [
    "ActionCodeValues",
    "BurnedInAnnotationValues",
    "DateModeValues",
    "DeidentificationMethodCodeValues",
    "DeidStatusValues",
    "LongitudinalTemporalInformationModifiedValues",
    "PatientIdentityRemovedValues",
    "ProfileOptionValues",
]


class ActionCodeValues(StrEnum):
    """Action codes of PS3.15 Table E.1-1 (see PS3.15 E.1.1, "Action Codes").

    Combined codes such as ``X/Z/D`` list alternatives; see
    :func:`archive.deid.profile.resolve_action` for how we choose.
    """

    D = "D"
    """Replace with a non-zero length dummy value consistent with the VR."""
    Z = "Z"
    """Replace with a zero length value (or a dummy value consistent with the VR)."""
    X = "X"
    """Remove."""
    K = "K"
    """Keep (unchanged for non-sequence attributes, cleaned for sequences)."""
    C = "C"
    """Clean: replace with values of similar meaning known not to identify."""
    U = "U"
    """Replace with a non-zero length UID that is internally consistent."""


class DeidentificationMethodCodeValues(Enum):
    """CID 7050 "De-identification Method" codes (scheme DCM), PS3.16.

    Each value is a ``(code value, code meaning)`` pair.
    """

    BASIC_PROFILE = ("113100", "Basic Application Confidentiality Profile")
    CLEAN_PIXEL_DATA = ("113101", "Clean Pixel Data Option")
    CLEAN_RECOGNIZABLE_VISUAL_FEATURES = ("113102", "Clean Recognizable Visual Features Option")
    CLEAN_GRAPHICS = ("113103", "Clean Graphics Option")
    CLEAN_STRUCTURED_CONTENT = ("113104", "Clean Structured Content Option")
    CLEAN_DESCRIPTORS = ("113105", "Clean Descriptors Option")
    RETAIN_LONGITUDINAL_FULL_DATES = (
        "113106",
        "Retain Longitudinal Temporal Information Full Dates Option",
    )
    RETAIN_LONGITUDINAL_MODIFIED_DATES = (
        "113107",
        "Retain Longitudinal Temporal Information Modified Dates Option",
    )
    RETAIN_PATIENT_CHARACTERISTICS = ("113108", "Retain Patient Characteristics Option")
    RETAIN_DEVICE_IDENTITY = ("113109", "Retain Device Identity Option")
    RETAIN_UIDS = ("113110", "Retain UIDs Option")
    RETAIN_SAFE_PRIVATE = ("113111", "Retain Safe Private Option")
    RETAIN_INSTITUTION_IDENTITY = ("113112", "Retain Institution Identity Option")

    @property
    def code_value(self) -> str:
        return self.value[0]

    @property
    def code_meaning(self) -> str:
        return self.value[1]


class DateModeValues(StrEnum):
    """How dates and times are treated (our policy choice)."""

    SHIFT = "shift"
    """Retain Longitudinal Temporal Information with Modified Dates (PS3.15 E.3.6):
    every date of a patient is moved by the same keyed per-patient number of days."""
    REMOVE = "remove"
    """Basic Profile actions for dates (removed, emptied or dummy values)."""
    KEEP = "keep"
    """Retain Longitudinal Temporal Information with Full Dates (PS3.15 E.3.6): dates are
    kept (only rewritten in the standard form when written in a legacy one)."""


class ProfileOptionValues(StrEnum):
    """The options of PS3.15 Table E.1-1 (the option columns; PS3.15 E.3) by their setting name.

    The Clean Pixel Data and Clean Recognizable Visual Features Options have no column in the
    table; the archive always cleans pixel data (and does not claim the second option).
    """

    RETAIN_LONGITUDINAL_FULL_DATES = "retain-longitudinal-full-dates"
    """E.3.6: dates and times kept as they are."""
    RETAIN_LONGITUDINAL_MODIFIED_DATES = "retain-longitudinal-modified-dates"
    """E.3.6: dates moved by a keyed number of days per patient; intervals kept."""
    RETAIN_PATIENT_CHARACTERISTICS = "retain-patient-characteristics"
    """E.3.7: sex, age, size, weight and the like kept."""
    RETAIN_DEVICE_IDENTITY = "retain-device-identity"
    """E.3.8: station name, device serial numbers and the like kept."""
    RETAIN_INSTITUTION_IDENTITY = "retain-institution-identity"
    """E.3.11: institution name, address and department kept."""
    RETAIN_UIDS = "retain-uids"
    """E.3.9: UIDs kept as they are (not remapped)."""
    CLEAN_DESCRIPTORS = "clean-descriptors"
    """E.3.5: short descriptions kept when free of identifying values."""
    CLEAN_STRUCTURED_CONTENT = "clean-structured-content"
    """E.3.4: SR and acquisition-context content items kept, their text cleaned."""
    CLEAN_GRAPHICS = "clean-graphics"
    """E.3.3: overlays and curves removed; graphic annotation text cleaned."""
    RETAIN_SAFE_PRIVATE = "retain-safe-private"
    """E.3.10: private attributes listed as safe in Table E.3.10-1 kept when verified."""

    @property
    def method(self) -> DeidentificationMethodCodeValues:
        """The CID 7050 code recorded when the option is applied."""
        return DeidentificationMethodCodeValues[self.name]


class DeidStatusValues(StrEnum):
    """Outcome of de-identifying one instance."""

    ANONYMIZED = "anonymized"
    QUARANTINED = "quarantined"


class PatientIdentityRemovedValues(StrEnum):
    """Patient Identity Removed (0012,0062), PS3.3 C.7.1.1."""

    YES = "YES"
    NO = "NO"


class LongitudinalTemporalInformationModifiedValues(StrEnum):
    """Longitudinal Temporal Information Modified (0028,0303), PS3.3 C.7.6.1."""

    UNMODIFIED = "UNMODIFIED"
    MODIFIED = "MODIFIED"
    REMOVED = "REMOVED"


class BurnedInAnnotationValues(StrEnum):
    """Burned In Annotation (0028,0301), PS3.3 C.7.6.1."""

    YES = "YES"
    NO = "NO"
