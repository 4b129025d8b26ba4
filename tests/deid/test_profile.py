"""The PS3.15 Table E.1-1 data and its compilation into operations."""

from __future__ import annotations

import re

from pydicom.datadict import tag_for_keyword

from archive.deid import DateModeValues, Policy
from archive.deid.profile import Operation, compile_profile, resolve_action
from archive.deid.profile_table import TABLE_E1_1

CODE_RE = re.compile(r"^[DZXKCU](/[DZXKCU]\*?)*$")


def _op(policy: Policy, keyword: str) -> Operation:
    tag = tag_for_keyword(keyword)
    assert tag is not None
    return compile_profile(policy).operations[tag]


def test_table_is_complete_and_well_formed() -> None:
    assert len(TABLE_E1_1) >= 600
    tags = [row.tag for row in TABLE_E1_1]
    assert len(tags) == len(set(tags))
    for row in TABLE_E1_1:
        assert CODE_RE.match(row.basic), row
    by_keyword = {row.keyword: row for row in TABLE_E1_1}
    assert by_keyword["PatientName"].basic == "Z"
    assert by_keyword["SOPInstanceUID"].basic == "U"
    assert by_keyword["InstitutionName"].retain_institution_identity == "K"
    assert {"50xxxxxx", "60xx3000", "60xx4000", "private"} <= set(tags)


def test_combined_codes_choose_conformant_alternative() -> None:
    assert resolve_action("X/Z/D", "LO") is Operation.DUMMY
    assert resolve_action("X/Z", "PN") is Operation.EMPTY
    assert resolve_action("X", "LO") is Operation.REMOVE
    assert resolve_action("X/Z/U*", "SQ") is Operation.RECURSE
    assert resolve_action("U", "UI") is Operation.REMAP_UID


def test_options_change_operations(policy: Policy) -> None:
    assert _op(policy, "StudyDate") is Operation.SHIFT_DATE
    assert _op(policy, "PatientSex") is Operation.KEEP
    assert _op(policy, "PatientBirthDate") is Operation.EMPTY
    assert _op(policy, "StudyDescription") is Operation.CLEAN_TEXT
    strict = Policy(
        uid_key=policy.uid_key,
        pseudonym_key=policy.pseudonym_key,
        date_mode=DateModeValues.REMOVE,
        retain_patient_characteristics=False,
        clean_descriptors=False,
    )
    assert _op(strict, "StudyDate") is Operation.EMPTY
    assert _op(strict, "PatientSex") is Operation.EMPTY
    assert _op(strict, "StudyDescription") is Operation.REMOVE
    assert _op(strict, "PatientAge") is Operation.REMOVE
