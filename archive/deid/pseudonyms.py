"""Patient pseudonyms and per-patient date shifts, keyed by issuer + Patient ID.

The same patient (Issuer of Patient ID + Patient ID) always gets the same
pseudonym and the same date shift for a given ``pseudonym_key``; the real ID is
never stored.  Pseudonyms are obvious placeholders (``ANON^7F3A2C1B``), never
realistic fake names.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydicom import Dataset

    from archive.deid.policy import Policy

__all__ = ["MAX_SHIFT_DAYS", "MIN_SHIFT_DAYS", "PatientPseudonym", "pseudonymize_patient"]

MIN_SHIFT_DAYS = 10
MAX_SHIFT_DAYS = 3650


@dataclass(frozen=True)
class PatientPseudonym:
    """Pseudonymous identity of one patient.

    Attributes
    ----------
    patient_name : str
        Value for Patient's Name (0010,0010), e.g. ``"ANON^7F3A2C1B"``.
    patient_id : str
        Value for Patient ID (0010,0020), ``"ANON-"`` + 20 hex digits.
    date_shift_days : int
        Days added to every date of this patient, in ``-3650 .. -10``.
    """

    patient_name: str
    patient_id: str
    date_shift_days: int


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    if value is None:
        return ""
    return str(value).strip(" \x00").upper()


def _patient_key(ds: Dataset) -> bytes:
    patient_id = _text(ds, "PatientID")
    if patient_id:
        return f"id\x00{_text(ds, 'IssuerOfPatientID')}\x00{patient_id}".encode()
    # Without an ID, name + birth date is the best stable identity available.
    name = _text(ds, "PatientName")
    if name:
        return f"name\x00{name}\x00{_text(ds, 'PatientBirthDate')}".encode()
    # Nothing identifies the patient: treat each study as its own patient.
    return f"study\x00{_text(ds, 'StudyInstanceUID') or _text(ds, 'SOPInstanceUID')}".encode()


def pseudonymize_patient(ds: Dataset, policy: Policy) -> PatientPseudonym:
    """Derive the pseudonym and date shift of the patient of `ds`.

    Parameters
    ----------
    ds : pydicom.Dataset
        The *input* dataset (top level).
    policy : Policy
        Supplies ``pseudonym_key``.

    Returns
    -------
    PatientPseudonym
    """
    key = _patient_key(ds)
    ident = hmac.new(policy.pseudonym_key, b"patient\x00" + key, hashlib.sha256).hexdigest()
    ident = ident.upper()
    shift_hash = hmac.new(policy.pseudonym_key, b"date-shift\x00" + key, hashlib.sha256).digest()
    span = MAX_SHIFT_DAYS - MIN_SHIFT_DAYS + 1
    days = -(MIN_SHIFT_DAYS + int.from_bytes(shift_hash[:8], "big") % span)
    return PatientPseudonym(
        patient_name=f"ANON^{ident[:8]}",
        patient_id=f"ANON-{ident[:20]}",
        date_shift_days=days,
    )
