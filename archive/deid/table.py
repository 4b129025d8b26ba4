"""Row type of the PS3.15 Annex E confidentiality profile table.

See DICOM PS3.15 Annex E.1.1, Table E.1-1 "Application Level Confidentiality
Profile Attributes".  The rows themselves are generated data in
:mod:`archive.deid.profile_table`.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["ProfileRow", "SafePrivateRow"]


class ProfileRow(NamedTuple):
    """One row of PS3.15 Table E.1-1.

    Attributes
    ----------
    tag : str
        Eight lowercase hex digits (``"00100010"``), a repeating-group pattern
        (``"60xx3000"``, ``"50xxxxxx"``) or ``"private"`` (odd groups).
    name : str
        Attribute name as printed in the standard.
    keyword : str
        pydicom keyword, empty for patterns or attributes unknown to pydicom.
    basic : str
        Action code of the Basic Profile column, e.g. ``"X"`` or ``"X/Z/D"``.
    in_std_comp_iod : bool
        "In Std. Comp. IOD" column.
    retain_safe_private, retain_uids, retain_device_identity, \
retain_institution_identity, retain_patient_characteristics, \
retain_long_full_dates, retain_long_modified_dates, clean_descriptors, \
clean_structured_content, clean_graphics : str or None
        Action code of the corresponding option column (PS3.15 E.3), ``None``
        when the option does not change the Basic Profile action.
    """

    tag: str
    name: str
    keyword: str
    basic: str
    in_std_comp_iod: bool
    retain_safe_private: str | None = None
    retain_uids: str | None = None
    retain_device_identity: str | None = None
    retain_institution_identity: str | None = None
    retain_patient_characteristics: str | None = None
    retain_long_full_dates: str | None = None
    retain_long_modified_dates: str | None = None
    clean_descriptors: str | None = None
    clean_structured_content: str | None = None
    clean_graphics: str | None = None


class SafePrivateRow(NamedTuple):
    """One row of PS3.15 Table E.3.10-1 "Safe Private Attributes".

    Attributes
    ----------
    group : int
        The (odd) group number.
    creator : str
        Private Creator string as printed in the standard.
    element : int
        The element byte within the creator's block: ``(gggg,xxEE)`` has ``EE``.
    vr, vm : str
        VR and VM as printed.
    meaning : str
        What the value means, as printed.
    """

    group: int
    creator: str
    element: int
    vr: str
    vm: str
    meaning: str
