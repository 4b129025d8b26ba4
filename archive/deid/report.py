"""The effective de-identification profile, attribute by attribute, for a privacy officer.

:func:`profile_report` reads what the engine will do from the same compiled table it applies
(:func:`archive.deid.profile.compile_profile`), so the report cannot drift from the code: one
row per attribute of PS3.15 Table E.1-1, the rules for attributes the table does not list, and
the safe private attributes of Table E.3.10-1.  :func:`to_csv` and :func:`to_html` write it for
signing off; both are deterministic (no date, no host), so a committed copy can be compared.
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass

from archive.deid import module_types
from archive.deid.engine import _DUMMY
from archive.deid.enums import DateModeValues, DeidentificationMethodCodeValues
from archive.deid.policy import Policy
from archive.deid.private import SafePrivateKindValues, safe_private_rule
from archive.deid.profile import KEEPABLE_DESCRIPTORS, Operation, _vr, compile_profile
from archive.deid.profile_table import TABLE_E1_1
from archive.deid.safe_private_table import TABLE_E3_10_1
from archive.deid.table import ProfileRow

__all__ = ["ReportRow", "profile_report", "to_csv", "to_html"]

_OPTION_COLUMNS = (
    ("retain_safe_private", "Retain Safe Private"),
    ("retain_uids", "Retain UIDs"),
    ("retain_device_identity", "Retain Device Identity"),
    ("retain_institution_identity", "Retain Institution Identity"),
    ("retain_patient_characteristics", "Retain Patient Characteristics"),
    ("retain_long_full_dates", "Retain Longitudinal Full Dates"),
    ("retain_long_modified_dates", "Retain Longitudinal Modified Dates"),
    ("clean_descriptors", "Clean Descriptors"),
    ("clean_structured_content", "Clean Structured Content"),
    ("clean_graphics", "Clean Graphics"),
)
_BY_TYPE_EMPTY = " (removed where the IOD makes it Type 3; a dummy value where Type 1)"
_BY_TYPE_REMOVE = " (emptied where the IOD makes it Type 2; a dummy value where Type 1)"


@dataclass(frozen=True)
class ReportRow:
    """One line of the report.

    Attributes
    ----------
    section : str
        ``"Table E.1-1"``, ``"Not in Table E.1-1"`` or ``"Table E.3.10-1"``.
    tag, name, keyword : str
        The attribute (a pattern, a VR or a private creator block for the other sections).
    basic : str
        The Basic Profile action code (empty where the table has none).
    options : str
        The option columns of the table that apply under this profile, ``Option: code``.
    action : str
        What the archive does, in words.
    """

    section: str
    tag: str
    name: str
    keyword: str
    basic: str
    options: str
    action: str


def _enabled_columns(policy: Policy) -> set[str]:
    enabled = {
        "retain_safe_private": policy.retain_safe_private,
        "retain_uids": policy.retain_uids,
        "retain_device_identity": policy.retain_device_identity,
        "retain_institution_identity": policy.retain_institution_identity,
        "retain_patient_characteristics": policy.retain_patient_characteristics,
        "retain_long_full_dates": policy.date_mode == DateModeValues.KEEP,
        "retain_long_modified_dates": policy.date_mode == DateModeValues.SHIFT,
        "clean_descriptors": policy.clean_descriptors,
        "clean_structured_content": policy.clean_structured_content,
        "clean_graphics": policy.clean_graphics,
    }
    return {column for column, on in enabled.items() if on}


def _tag_text(tag: str) -> str:
    if tag == "private":
        return "(gggg,eeee), gggg odd"
    return f"({tag[:4].upper()},{tag[4:].upper()})".replace("X", "x")


def _action(op: Operation, tag: int, vr: str, policy: Policy, fallback: Operation) -> str:
    if op is Operation.KEEP:
        return "kept"
    if op is Operation.RECURSE:
        return "kept; its items are de-identified by these same rules"
    if op is Operation.REMOVE:
        return "removed" + _BY_TYPE_REMOVE
    if op is Operation.EMPTY:
        return ("emptied (no items)" if vr == "SQ" else "emptied") + _BY_TYPE_EMPTY
    if op is Operation.DUMMY:
        dummy = _DUMMY.get(vr)
        return f"replaced with the dummy value {dummy!r}" if dummy is not None else "emptied"
    if op is Operation.REMAP_UID:
        return "replaced with a UID derived from it by a keyed hash (the same in every upload)"
    if op is Operation.SHIFT_DATE:
        if policy.shift_dates:
            return "moved by the patient's keyed number of days (intervals kept)"
        return "kept (a legacy form written YYYYMMDD)"
    if op is Operation.PSEUDONYM_NAME:
        return "replaced with the patient's keyed pseudonym ANON^XXXXXXXX"
    if op is Operation.PSEUDONYM_ID:
        return "replaced with the patient's keyed pseudonym ANON-XXXXXXXXXXXXXXXXXXXX"
    if op is Operation.AGE:
        return "kept (over 89 written 090Y; computed from the birth date when missing)"
    if op is Operation.CLEAN_TEXT:
        otherwise = _action(fallback, tag, vr, policy, fallback)
        if tag in KEEPABLE_DESCRIPTORS:
            return (
                "kept when short, plain and free of the instance's identifying values "
                f"(names, dates and numbers cut out); otherwise {otherwise}"
            )
        return otherwise
    raise ValueError(op)  # pragma: no cover - every operation is described above


def _pattern_action(row: ProfileRow, policy: Policy) -> str:
    if row.tag == "private":
        if not policy.retain_safe_private:
            return "removed"
        return (
            f"removed, except the {len(TABLE_E3_10_1)} attributes of Table E.3.10-1 "
            "(listed below) when their value is what the table says"
        )
    if row.tag.startswith("50"):
        return "removed (curves)"
    if row.tag in ("60xx3000", "60xx4000"):
        return "removed (overlay data and comments)"
    return "removed"  # pragma: no cover - the table has no other pattern


def _table_rows(policy: Policy) -> list[ReportRow]:
    compiled = compile_profile(policy)
    enabled = _enabled_columns(policy)
    rows = []
    for row in TABLE_E1_1:
        options = "; ".join(
            f"{label}: {getattr(row, column)}"
            for column, label in _OPTION_COLUMNS
            if column in enabled and getattr(row, column)
        )
        if len(row.tag) != 8 or "x" in row.tag:
            action = _pattern_action(row, policy)
        else:
            tag = int(row.tag, 16)
            vr = _vr(tag)
            op = compiled.operations[tag]
            action = _action(op, tag, vr, policy, compiled.fallbacks[tag])
            if op is Operation.KEEP and vr == "TM" and policy.shift_dates:
                action = "kept (dates move by whole days, so times of day stay)"
        rows.append(
            ReportRow(
                "Table E.1-1",
                _tag_text(row.tag),
                row.name,
                row.keyword,
                row.basic,
                options,
                action,
            )
        )
    if policy.clean_graphics:
        rows.append(
            ReportRow(
                "Table E.1-1",
                "(60xx,xxxx)",
                "Overlay attributes",
                "",
                "",
                "Clean Graphics",
                "removed (whole overlay groups: overlays are not cleaned but removed)",
            )
        )
    return rows


def _other_rows(policy: Policy) -> list[ReportRow]:
    uid = (
        "kept"
        if policy.retain_uids
        else "replaced with a UID derived from it by a keyed hash (SOP Class and other "
        "well-known UIDs kept)"
    )
    if policy.shift_dates:
        dates = "moved by the patient's keyed number of days"
    elif policy.date_mode == DateModeValues.KEEP:
        dates = "kept (a legacy form written YYYYMMDD)"
    else:
        dates = "emptied" + _BY_TYPE_EMPTY
    entries = [
        ("UI", "Unique identifiers", uid),
        ("DA, DT", "Dates and date-times", dates),
        ("PN", "Person names", "emptied" + _BY_TYPE_EMPTY),
        ("UN", "Values of unknown VR", "removed"),
        (
            "LO, LT, ST, UT, UC",
            "Free text (descriptions, explanations, text of graphic annotations)",
            "kept with every span shaped like a name, date, time, phone number or ID cut out",
        ),
        ("SQ", "Sequences", "kept; their items are de-identified by these same rules"),
        ("other", "Codes, numbers, geometry, pixel data", "kept"),
    ]
    rows = [
        ReportRow("Not in Table E.1-1", "", name, "", "", "VR " + vr, action)
        for vr, name, action in entries
    ]
    rows.append(
        ReportRow(
            "Not in Table E.1-1",
            "",
            "Values that cannot be written validly (invalid dates, ages, undecodable values)",
            "",
            "",
            "",
            "removed; emptied where the IOD makes them Type 2; a dummy value where Type 1",
        )
    )
    return rows


def _private_rows(policy: Policy) -> list[ReportRow]:
    rows = []
    for row in TABLE_E3_10_1:
        if not policy.retain_safe_private:
            action = "removed (Retain Safe Private is off)"
        else:
            kind = safe_private_rule(row)
            if kind is SafePrivateKindValues.NUMBERS:
                action = "kept when a number"
            elif kind is SafePrivateKindValues.TEXT:
                action = "kept when it passes the verifier (no identifying value, name or date)"
            else:
                action = "removed (bulk data or sequence: cannot be verified)"
        rows.append(
            ReportRow(
                "Table E.3.10-1",
                f"({row.group:04X},xx{row.element:02X})",
                row.meaning,
                row.creator,
                row.vr,
                "",
                action,
            )
        )
    return rows


def profile_report(policy: Policy) -> list[ReportRow]:
    """Every rule `policy` applies, as rows (see :class:`ReportRow`)."""
    return _table_rows(policy) + _other_rows(policy) + _private_rows(policy)


def _header(policy: Policy) -> list[tuple[str, str]]:
    methods = sorted(
        [DeidentificationMethodCodeValues.BASIC_PROFILE, *(o.method for o in policy.profile)],
        key=lambda m: m.code_value,
    )
    lines = [
        ("Profile", ", ".join(o.value for o in policy.profile) or "(Basic Profile only)"),
        (
            "Recorded as (CID 7050)",
            "; ".join(f"{m.code_value} {m.code_meaning}" for m in methods)
            + "; 113101 Clean Pixel Data Option when the burned-in text cleaner confirms an "
            "image clean (images it cannot confirm are quarantined)",
        ),
        (
            "Sources",
            "PS3.15 Table E.1-1 (archive/deid/profile_table.py), Table E.3.10-1 "
            "(archive/deid/safe_private_table.py), PS3.3 attribute Types "
            f"(archive/deid/module_types.py, {len(module_types.SOP_CLASS_IODS)} SOP Classes)",
        ),
        (
            "Always",
            "Every output is scanned again for each identifying value of its input and for "
            "names, dates, phone numbers and IDs in kept free text; any finding quarantines it.",
        ),
    ]
    return lines


_COLUMNS = ("section", "tag", "name", "keyword", "basic", "options", "action")
_CSV_HEADINGS = (
    "section",
    "tag",
    "name",
    "keyword or private creator",
    "basic profile (VR for private)",
    "options applied",
    "action",
)


def to_csv(policy: Policy) -> str:
    """The report as CSV: the header lines as ``# key: value`` comments, then the rows."""
    out = io.StringIO()
    for key, value in _header(policy):
        out.write(f"# {key}: {value}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_CSV_HEADINGS)
    for row in profile_report(policy):
        writer.writerow([getattr(row, c) for c in _COLUMNS])
    return out.getvalue()


def to_html(policy: Policy) -> str:
    """The report as a standalone HTML page (no script, no external style)."""
    e = html.escape
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        "<title>De-identification profile</title>\n",
        "<style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #bbb;padding:2px 6px;vertical-align:top;text-align:left}"
        "th{background:#eee}code{white-space:nowrap}dt{font-weight:bold}"
        "td:nth-child(3){word-break:break-all}</style>\n</head>\n<body>\n",
        "<h1>De-identification profile</h1>\n<dl>\n",
    ]
    for key, value in _header(policy):
        parts.append(f"<dt>{e(key)}</dt><dd>{e(value)}</dd>\n")
    parts.append("</dl>\n")
    section = None
    for row in profile_report(policy):
        if row.section != section:
            if section is not None:
                parts.append("</tbody></table>\n")
            section = row.section
            parts.append(f"<h2>{e(section)}</h2>\n<table><thead><tr>")
            parts.extend(f'<th scope="col">{e(h)}</th>' for h in _CSV_HEADINGS[1:])
            parts.append("</tr></thead><tbody>\n")
        parts.append(
            f"<tr><td><code>{e(row.tag)}</code></td><td>{e(row.name)}</td>"
            f"<td>{e(row.keyword)}</td><td>{e(row.basic)}</td><td>{e(row.options)}</td>"
            f"<td>{e(row.action)}</td></tr>\n"
        )
    parts.append("</tbody></table>\n<p>Signed off by: ______________________ "
                 "Date: ____________</p>\n</body>\n</html>\n")  # fmt: skip
    return "".join(parts)
