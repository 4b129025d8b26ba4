"""De-identification engine (pure library, no Django).

Implements the DICOM PS3.15 Annex E Basic Application Level Confidentiality
Profile with the options a teaching archive needs, keyed pseudonyms and UID
remapping, names and dates removed from kept free text, and a residual-PHI
verifier.  See :func:`deidentify_bytes`.
"""

from archive.deid.engine import DeidResult, deidentify_bytes, deidentify_dataset
from archive.deid.enums import (
    ActionCodeValues,
    BurnedInAnnotationValues,
    DateModeValues,
    DeidentificationMethodCodeValues,
    DeidStatusValues,
    LongitudinalTemporalInformationModifiedValues,
    PatientIdentityRemovedValues,
)
from archive.deid.freetext import FreeTextCategoryValues, find_phi, redact_phi
from archive.deid.hints import PhiHints, collect_phi_hints
from archive.deid.policy import DEFAULT_UID_ROOT, PixelCleaner, Policy
from archive.deid.pseudonyms import PatientPseudonym, pseudonymize_patient
from archive.deid.reading import RejectedInput
from archive.deid.uids import pseudonymize_uid
from archive.deid.verify import verify

__all__ = [
    "DEFAULT_UID_ROOT",
    "ActionCodeValues",
    "BurnedInAnnotationValues",
    "DateModeValues",
    "DeidResult",
    "DeidStatusValues",
    "DeidentificationMethodCodeValues",
    "FreeTextCategoryValues",
    "LongitudinalTemporalInformationModifiedValues",
    "PatientIdentityRemovedValues",
    "PatientPseudonym",
    "PhiHints",
    "PixelCleaner",
    "Policy",
    "RejectedInput",
    "collect_phi_hints",
    "deidentify_bytes",
    "deidentify_dataset",
    "find_phi",
    "pseudonymize_patient",
    "pseudonymize_uid",
    "redact_phi",
    "verify",
]
