"""IHE Teaching File and Clinical Trial Export (TCE): what a Key Object Selection document asks.

A teacher flags images in the PACS and types the teaching file's title, history, findings and
diagnosis into the Key Object Description (``title=…`` or ``title: …`` lines, as MIRC reads
them). This module reads that text and the referenced images from the *raw* document
(PS3.3 A.35.4, TID 2010) and de-identifies the text against every identifying value found in the
headers received with it. No Django here: the caller decides where the result goes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydicom import Dataset

from archive.deid import PhiHints

__all__ = [
    "KEY_OBJECT_SELECTION_SOP_CLASS",
    "REMOVED",
    "KeyObjectContent",
    "TeachingFileFields",
    "deidentify_fields",
    "deidentify_text",
    "read_key_object",
    "teaching_file_fields",
]

KEY_OBJECT_SELECTION_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.88.59"
# (113012, DCM, "Key Object Description"), PS3.16 CID 7010 / TID 2010.
KEY_OBJECT_DESCRIPTION = ("113012", "DCM")
REMOVED = "[removed]"

_FIELD_ALIASES = {
    "title": "title",
    "history": "history",
    "clinical history": "history",
    "findings": "findings",
    "finding": "findings",
    "diagnosis": "diagnosis",
    "dx": "diagnosis",
}
_FIELD_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z ]{0,30}?)\s*[=:]\s*(.*)$")
# Any spelled-out calendar date, whether or not it is in the headers: a free-text date is too
# likely to be a birth or study date to keep.
_DATE_PATTERNS = [
    re.compile(r"(?<!\d)\d{1,4}[./-]\d{1,2}[./-]\d{1,4}(?!\d)"),
    re.compile(r"(?<!\d)(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)"),
]


@dataclass
class KeyObjectContent:
    """Raw content of one Key Object Selection document. Identifying: keep it in memory only."""

    descriptions: list[str] = field(default_factory=list)
    referenced_sop_instance_uids: list[str] = field(default_factory=list)


@dataclass
class TeachingFileFields:
    title: str = ""
    history: str = ""
    findings: str = ""
    diagnosis: str = ""

    def __bool__(self) -> bool:
        return any((self.title, self.history, self.findings, self.diagnosis))


def _code(item: Dataset, keyword: str) -> tuple[str, str] | None:
    seq = item.get(keyword)
    if not seq:
        return None
    return str(seq[0].get("CodeValue", "")), str(seq[0].get("CodingSchemeDesignator", ""))


def _referenced_uids(item: Dataset) -> list[str]:
    return [
        str(ref.ReferencedSOPInstanceUID)
        for ref in item.get("ReferencedSOPSequence", [])
        if "ReferencedSOPInstanceUID" in ref
    ]


def _walk_content(items: Iterable[Dataset], content: KeyObjectContent) -> None:
    for item in items:
        value_type = str(item.get("ValueType", ""))
        concept = _code(item, "ConceptNameCodeSequence")
        if value_type == "TEXT" and concept == KEY_OBJECT_DESCRIPTION:
            content.descriptions.append(str(item.get("TextValue", "")))
        elif value_type in {"IMAGE", "COMPOSITE", "WAVEFORM"}:
            content.referenced_sop_instance_uids.extend(_referenced_uids(item))
        if "ContentSequence" in item:
            _walk_content(item.ContentSequence, content)


def read_key_object(ds: Dataset) -> KeyObjectContent:
    """Description text and key images of a Key Object Selection document.

    Key images are the IMAGE/COMPOSITE content items (TID 2010); when a document lists none, the
    Current Requested Procedure Evidence Sequence (PS3.3 C.17.2) is used instead.
    """
    content = KeyObjectContent()
    _walk_content(ds.get("ContentSequence", []), content)
    if not content.referenced_sop_instance_uids:
        for study in ds.get("CurrentRequestedProcedureEvidenceSequence", []):
            for series in study.get("ReferencedSeriesSequence", []):
                content.referenced_sop_instance_uids.extend(_referenced_uids(series))
    content.referenced_sop_instance_uids = list(dict.fromkeys(content.referenced_sop_instance_uids))
    return content


def teaching_file_fields(descriptions: Iterable[str]) -> TeachingFileFields:
    """Parse ``key=value`` / ``key: value`` lines.

    A line without a key continues the field above it; a line with an unknown key ends it.
    """
    values: dict[str, list[str]] = {}
    current: str | None = None
    for text in descriptions:
        for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            match = _FIELD_LINE.match(line)
            key = _FIELD_ALIASES.get(match.group(1).strip().lower()) if match else None
            if key is not None:
                current = key
                values.setdefault(key, []).append(match.group(2).strip())
            elif match:  # another "key: value" line (e.g. "Requested by: …") ends the field
                current = None
            elif current is not None and line.strip():
                values[current].append(line.strip())
    joined = {k: "\n".join(v).strip() for k, v in values.items()}
    return TeachingFileFields(
        title=" ".join(joined.get("title", "").split()),
        history=joined.get("history", ""),
        findings=joined.get("findings", ""),
        diagnosis=" ".join(joined.get("diagnosis", "").split()),
    )


def _hint_regex(hints: Iterable[PhiHints]) -> re.Pattern[str] | None:
    free: set[str] = set()
    tokens: set[str] = set()
    for h in hints:
        for text in h.substrings:
            (free if len(text) >= 5 else tokens).add(text)
        tokens.update(h.exact)
    parts = [re.escape(t) for t in sorted(free, key=len, reverse=True)]
    if tokens:
        short = "|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True))
        parts.append(rf"(?<![^\W_])(?:{short})(?![^\W_])")
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def deidentify_text(text: str, hints: Iterable[PhiHints]) -> str:
    """Remove from free text every identifying value found in the received headers.

    Names and their parts, identifiers, dates (in the textual forms the hints carry) and
    original UIDs become ``[removed]``; any other calendar date is removed as well. If something
    identifying still matches afterwards, the whole text is dropped (returns ``""``).

    Parameters
    ----------
    text : str
        Free text typed in the PACS (e.g. a Key Object Description, PS3.16 TID 2010).
    hints : iterable of PhiHints
        Hints collected from the headers of the instances received with it.
    """
    hints = list(hints)
    pattern = _hint_regex(hints)
    out = pattern.sub(REMOVED, text) if pattern else text
    for date in _DATE_PATTERNS:
        out = date.sub(REMOVED, out)
    if pattern and pattern.search(out):
        return ""
    return out.strip()


def deidentify_fields(fields: TeachingFileFields, hints: Iterable[PhiHints]) -> TeachingFileFields:
    hints = list(hints)
    return TeachingFileFields(
        title=deidentify_text(fields.title, hints),
        history=deidentify_text(fields.history, hints),
        findings=deidentify_text(fields.findings, hints),
        diagnosis=deidentify_text(fields.diagnosis, hints),
    )
