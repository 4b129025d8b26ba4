"""Identifying values collected from an input instance ("PHI hints").

The hints drive descriptor cleaning, the pixel text detector and the residual
PHI verifier.  They are identifying by construction: never log them, never put
them in reasons or audit records.  ``repr()`` shows counts only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydicom.datadict import tag_for_keyword
from pydicom.multival import MultiValue

from archive.deid.elements import ASCII_VRS, RawDataElement, ascii_values, element_vr
from archive.deid.uids import CLASS_UID_TAGS, is_standard_uid

if TYPE_CHECKING:
    import io
    from collections.abc import Iterator

    from pydicom import Dataset
    from pydicom.dataelem import DataElement

__all__ = [
    "HINT_TAGS",
    "HINT_VRS",
    "PLACEHOLDER_TEXT",
    "HintCategoryValues",
    "PhiHintCollector",
    "PhiHints",
    "collect_phi_hints",
]


class HintCategoryValues:
    """Category labels of hints; safe to show (they carry no value)."""

    PERSON_NAME = "person name"
    IDENTIFIER = "identifier"
    DATE = "date"
    ADDRESS = "address"
    PHONE = "phone number"
    INSTITUTION = "institution name"
    DEVICE = "device identifier"
    UID = "original UID"


_C = HintCategoryValues
_KEYWORD_CATEGORIES = {
    "PatientID": _C.IDENTIFIER,
    "OtherPatientIDs": _C.IDENTIFIER,
    "IssuerOfPatientID": _C.IDENTIFIER,
    "AccessionNumber": _C.IDENTIFIER,
    "StudyID": _C.IDENTIFIER,
    "MedicalRecordLocator": _C.IDENTIFIER,
    "AdmissionID": _C.IDENTIFIER,
    "PatientInsurancePlanCodeSequence": _C.IDENTIFIER,
    "RequestedProcedureID": _C.IDENTIFIER,
    "ScheduledProcedureStepID": _C.IDENTIFIER,
    "PerformedProcedureStepID": _C.IDENTIFIER,
    "FillerOrderNumberImagingServiceRequest": _C.IDENTIFIER,
    "PlacerOrderNumberImagingServiceRequest": _C.IDENTIFIER,
    "DeviceSerialNumber": _C.DEVICE,
    "StationName": _C.DEVICE,
    "PatientAddress": _C.ADDRESS,
    "InstitutionAddress": _C.ADDRESS,
    "ReferringPhysicianAddress": _C.ADDRESS,
    "PersonAddress": _C.ADDRESS,
    "RegionOfResidence": _C.ADDRESS,
    "PatientTelephoneNumbers": _C.PHONE,
    "ReferringPhysicianTelephoneNumbers": _C.PHONE,
    "PersonTelephoneNumbers": _C.PHONE,
    "PatientTelecomInformation": _C.PHONE,
    "InstitutionName": _C.INSTITUTION,
    "InstitutionalDepartmentName": _C.INSTITUTION,
    "ResponsibleOrganization": _C.INSTITUTION,
    "PatientBirthName": _C.PERSON_NAME,
    "PatientMotherBirthName": _C.PERSON_NAME,
}
_TAG_CATEGORIES: dict[int, str] = {}
for _kw, _cat in _KEYWORD_CATEGORIES.items():
    _tag = tag_for_keyword(_kw)
    if _tag is not None:
        _TAG_CATEGORIES[_tag] = _cat

# Name parts that are titles, suffixes or placeholder words ("Last Name^First
# Name", "Enter text"): as separate hints they would match coded vocabulary
# (Code Meaning "Recording Observer's Name", Value Type TEXT) and quarantine
# clean files.  The full name value stays a hint.
#: What the engine writes into a text element it must not leave empty (Type 1 and 2).
PLACEHOLDER_TEXT = "ANONYMIZED"

_NAME_STOPWORDS = frozenset(
    {"MRS", "MISS", "PHD", "PROF", "DR", "MD", "JR", "SR", "III", "NAME", "TEXT", "TEST",
     "FIRST", "LAST", "MIDDLE", "ENTER", "PATIENT", "UNKNOWN", "NONE", "ANON", "ANONYMOUS",
     "ANONYMIZED", "DOCTOR", "PHYSICIAN", "OPERATOR", "OBSERVER", "VERIFYING"}
)  # fmt: skip
_SPLIT_NAME_RE = re.compile(r"[\^=\s,]+")
_SPLIT_ADDRESS_RE = re.compile(r"[\^\r\n,;]+")
_DIGITS_RE = re.compile(r"\D+")
_YEAR_RE = re.compile(r"\d{4}")
MIN_SUBSTRING_LEN = 3
HINT_VRS = frozenset({"PN", "DA", "DT", "UI", "SQ"})
"""VRs whose elements can hold a hint whatever their tag."""
MIN_NUMERIC_SUBSTRING_LEN = 6
#: Bulk binary data is searched for hints in pieces of this many bytes (``search_long_bytes``).
LONG_BYTES_CHUNK = 4 << 20
MIN_FREE_SUBSTRING_LEN = 5

# Equipment vocabulary kept by the Basic Profile (not in Table E.1-1).  A hint
# contained in one of these input values (e.g. an Institution Name equal to the
# manufacturer's name) is dropped: the profile deems those values
# non-identifying, and flagging them would quarantine every such file.
_VOCABULARY_TAGS = frozenset(
    t for t in (tag_for_keyword(k) for k in ("Manufacturer", "ManufacturerModelName")) if t
)
_BIRTH_DATE_TAGS = frozenset(
    t
    for t in (
        tag_for_keyword(k) for k in ("PatientBirthDate", "PatientBirthDateInAlternativeCalendar")
    )
    if t
)
HINT_TAGS = frozenset(_TAG_CATEGORIES) | _VOCABULARY_TAGS
"""Tags whose elements hold a hint (or equipment vocabulary) whatever their VR."""


@dataclass(frozen=True, eq=False)
class PhiHints:
    """Identifying values of one input instance.

    Attributes
    ----------
    substrings : dict[str, str]
        Upper-case text -> category; searched as substrings of output values.
    exact : dict[str, str]
        Short values (e.g. a 4-digit ID) that only count when an output text
        value equals them (a substring search would flag innocent numbers).
    uids : frozenset[str]
        Original non-standard UIDs; any output UID equal to one is residual.
    shifted_dates : frozenset[tuple[int, str]]
        ``(tag, value)`` of each date the engine wrote by shifting an input date (upper
        case, stripped).  Such a value is the engine's own output: when it falls on another
        date of the input (a study date shifted by exactly the patient's age lands on the
        birth date), it is no residual of that date.  Only the date category is excused.
    """

    substrings: dict[str, str] = field(default_factory=dict)
    exact: dict[str, str] = field(default_factory=dict)
    uids: frozenset[str] = frozenset()
    shifted_dates: frozenset[tuple[int, str]] = frozenset()

    def __repr__(self) -> str:
        return (
            f"PhiHints(<{len(self.substrings)} substrings, {len(self.exact)} exact, "
            f"{len(self.uids)} UIDs>)"
        )

    def __bool__(self) -> bool:
        return bool(self.substrings or self.exact or self.uids)

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        """One alternation of all substring hints, longest first.

        Hints shorter than :data:`MIN_FREE_SUBSTRING_LEN` only match as whole
        tokens (a name part ``PRE`` must not match ``PREDECESSOR``).
        """
        if not self.substrings:
            return None
        ordered = sorted(self.substrings, key=len, reverse=True)
        free = [re.escape(h) for h in ordered if len(h) >= MIN_FREE_SUBSTRING_LEN]
        short = [re.escape(h) for h in ordered if len(h) < MIN_FREE_SUBSTRING_LEN]
        parts = free[:]
        if short:
            parts.append(f"(?<![A-Z0-9])(?:{'|'.join(short)})(?![A-Z0-9])")
        return re.compile("|".join(parts))

    @cached_property
    def long_pattern(self) -> re.Pattern[str] | None:
        """Hints long enough to search in bulk binary data without chance hits."""
        longs = [h for h in self.substrings if len(h) >= MIN_NUMERIC_SUBSTRING_LEN]
        if not longs:
            return None
        return re.compile("|".join(re.escape(a) for a in sorted(longs, key=len, reverse=True)))

    @cached_property
    def long_ascii_pattern(self) -> re.Pattern[bytes] | None:
        """:attr:`long_pattern` over bytes, or ``None`` unless every long hint is ASCII."""
        pattern = self.long_pattern
        if pattern is None or not pattern.pattern.isascii():
            return None
        return re.compile(pattern.pattern.encode("ascii"))

    # Compiling the alternations costs about 2 ms per instance (the hints differ
    # from file to file), more than the de-identification itself; almost every
    # text is free of hints, which plain substring tests show without a regex.
    # The patterns are compiled only when a hint occurs as a substring.

    @cached_property
    def _substring_groups(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Substring hints grouped under a common part that occurs in each of them.

        The textual forms of one date share their year, so one test of the
        year rules all of them out; other hints are their own group.
        """
        groups: dict[str, list[str]] = {}
        for hint, category in self.substrings.items():
            year = _YEAR_RE.search(hint) if category == _C.DATE else None
            groups.setdefault(year.group(0) if year else hint, []).append(hint)
        return tuple((key, tuple(hints)) for key, hints in groups.items())

    @cached_property
    def _long_byte_groups(self) -> tuple[tuple[bytes, tuple[bytes, ...]], ...] | None:
        """:attr:`_substring_groups` of the long hints as ASCII bytes (``None`` if not ASCII)."""
        groups = []
        for key, hints in self._substring_groups:
            longs = [h for h in hints if len(h) >= MIN_NUMERIC_SUBSTRING_LEN]
            if not longs:
                continue
            if not all(h.isascii() for h in longs):
                return None
            groups.append((key.encode("ascii"), tuple(h.encode("ascii") for h in longs)))
        return tuple(groups)

    @cached_property
    def _long_bytes_absent(self) -> bytes:
        """Bytes that, upper-cased, occur in no long ASCII hint."""
        present = {c for _, hints in self._long_byte_groups or () for h in hints for c in h}
        upper = bytes(range(256)).upper()
        return bytes(c for c in range(256) if upper[c] not in present)

    def contains_substring_hint(self, text: str) -> bool:
        """Whether a substring hint occurs in `text` (no regex).

        ``False`` means :attr:`pattern` finds nothing in `text`; ``True`` means
        it may (short hints also need token boundaries).
        """
        return any(
            key in text and any(h in text for h in hints) for key, hints in self._substring_groups
        )

    @cached_property
    def without_dates(self) -> PhiHints:
        """These hints but the dates: what else a shifted date value may hold, when a date
        hint matched in it would hide another hint overlapping it (``verify._unshifted``)."""
        return PhiHints(
            {h: c for h, c in self.substrings.items() if c != _C.DATE}, self.exact, self.uids
        )

    def search(self, text: str) -> str | None:
        """Category of the first hint :attr:`pattern` finds in upper-case `text`, or ``None``."""
        if not self.contains_substring_hint(text):
            return None
        m = self.pattern.search(text) if self.pattern is not None else None
        return self.substrings[m.group(0)] if m else None

    def search_long_bytes(self, data: bytes | memoryview) -> str | None:
        """Category of the first hint :attr:`long_pattern` finds in `data` read as
        Latin-1 and upper-cased, or ``None``.

        Upper-casing Latin-1 text maps each character to one character, ASCII
        to ASCII and the rest to non-ASCII, except U+00DF (``ß`` -> ``SS``);
        so once ``ß`` is spelled ``SS``, ``bytes.upper()`` puts every ASCII
        character where the upper-cased text has it, and ASCII hints are found
        exactly as in that text, much faster (pixel and waveform data are
        hundreds of kilobytes).

        Data longer than :data:`LONG_BYTES_CHUNK` is searched a piece at a time, each piece
        reaching the longest hint's length into the next (a hint is a plain substring, found in
        the piece it starts in): the copies the search makes are a piece's, not the data's (a
        4,000-frame cine's Pixel Data is 160 MiB).
        """
        if len(data) <= LONG_BYTES_CHUNK:
            return self._search_long_piece(bytes(data))  # no copy of bytes
        reach = max((len(h) for h in self.substrings), default=0)
        view = memoryview(data)
        for start in range(0, len(data), LONG_BYTES_CHUNK):
            found = self._search_long_piece(bytes(view[start : start + LONG_BYTES_CHUNK + reach]))
            if found is not None:
                return found
        return None

    def search_long_buffer(
        self, buffer: io.BufferedIOBase, start: int = 0, end: int | None = None
    ) -> str | None:
        """:meth:`search_long_bytes` of ``buffer[start:end]`` (a spooled value or the written
        file, see :mod:`archive.deid.spool`), read a piece at a time: the memory of the search
        is a piece's, whatever the value's length."""
        from archive.deid.spool import pieces

        reach = max((len(h) for h in self.substrings), default=0)
        for piece in pieces(buffer, start, end, overlap=reach):
            found = self._search_long_piece(piece)
            if found is not None:
                return found
        return None

    def _search_long_piece(self, data: bytes) -> str | None:
        groups = self._long_byte_groups
        if groups is not None:
            if b"\xdf" in data:
                data = data.replace(b"\xdf", b"SS")
            # A hint found in the data is found in what is left after deleting
            # every byte that occurs in no hint; mostly little of pixel data.
            compact = data.translate(None, self._long_bytes_absent).upper()
            candidates = [h for k, hs in groups if k in compact for h in hs if h in compact]
            if not candidates:
                return None
            upper = data.upper()
            if not any(h in upper for h in candidates):
                return None
            found = self.long_ascii_pattern.search(upper) if self.long_ascii_pattern else None
            return self.substrings[found.group(0).decode("ascii")] if found else None
        pattern = self.long_pattern
        m = pattern.search(data.decode("latin-1").upper()) if pattern is not None else None
        return self.substrings[m.group(0)] if m else None

    def __iter__(self) -> Iterator[str]:
        return iter(self.texts())

    def texts(self) -> list[str]:
        """All text hints (for the pixel text detector), longest first."""
        return sorted({*self.substrings, *self.exact}, key=len, reverse=True)


class PhiHintCollector:
    """Accumulates hints element by element; :meth:`finish` makes the :class:`PhiHints`.

    The engine feeds it during its single pass over the input (each element
    before it is changed); :func:`collect_phi_hints` walks a dataset with it.
    """

    def __init__(
        self,
        *,
        skip_uids: bool = False,
        skip_dates: bool = False,
        skip_tags: frozenset[int] = frozenset(),
    ) -> None:
        self.substrings: dict[str, str] = {}
        self.exact: dict[str, str] = {}
        self.uids: set[str] = set()
        self.vocabulary: list[str] = []
        # What the profile keeps is, by the privacy officer's choice, not identifying here:
        # as a hint it would quarantine every instance (Retain UIDs, Full Dates, Retain
        # Device or Institution Identity).  The birth date stays a hint: it is never kept.
        self.skip_uids = skip_uids
        self.skip_dates = skip_dates
        self.skip_tags = skip_tags
        # The values of those kept tags: the same value collected elsewhere (an Issuer of
        # Patient ID equal to the kept Institution Name) is no hint either.
        self.kept_values: set[str] = set()

    def finish(self) -> PhiHints:
        kept = self.kept_values

        def allowed(hint: str) -> bool:
            return hint not in kept and not any(hint in v for v in self.vocabulary)

        return PhiHints(
            {h: c for h, c in self.substrings.items() if allowed(h)},
            {h: c for h, c in self.exact.items() if allowed(h)},
            frozenset(self.uids),
        )

    def add(self, text: str, category: str) -> None:
        text = text.strip(" \x00").upper()
        # The engine's own placeholder (a file this or another archive already de-identified,
        # such as an imported case package) names nobody: as a hint it would quarantine the file.
        if len(text) < 2 or text == PLACEHOLDER_TEXT:
            return
        if text.isdigit() and len(text) < MIN_NUMERIC_SUBSTRING_LEN:
            self.exact.setdefault(text, category)
        elif len(text) >= MIN_SUBSTRING_LEN:
            self.substrings.setdefault(text, category)
        else:
            self.exact.setdefault(text, category)

    def add_name(self, text: str) -> None:
        if text.strip(" \x00").upper() not in _NAME_STOPWORDS:
            self.add(text, _C.PERSON_NAME)
        for part in _SPLIT_NAME_RE.split(text):
            part = part.strip(". ")
            if len(part) >= MIN_SUBSTRING_LEN and part.upper() not in _NAME_STOPWORDS:
                self.add(part, _C.PERSON_NAME)

    def add_date(self, text: str) -> None:
        text = text.strip()
        if len(text) < 8 or not text[:8].isdigit():
            return
        y, m, d = text[:4], text[4:6], text[6:8]
        for form in (f"{y}{m}{d}", f"{y}-{m}-{d}", f"{d}.{m}.{y}", f"{m}/{d}/{y}", f"{d}/{m}/{y}",
                     f"{y}/{m}/{d}", f"{y}.{m}.{d}"):  # fmt: skip
            self.substrings.setdefault(form, _C.DATE)

    def visit(self, elem: DataElement) -> None:
        """Collect the hints of one decoded element (not its sequence items)."""
        vr = elem.VR
        value = elem.value
        if value is None or value == "" or vr == "SQ":
            return
        values = list(value) if isinstance(value, MultiValue | list) else [value]
        self.add_values(int(elem.tag), str(vr), values, value)

    def add_values(self, tag: int, vr: str, values: list[Any], value: object = None) -> None:
        """Collect the hints of one element from its (decoded) values.

        `value` is the element value as a whole (only used for the equipment
        vocabulary); it defaults to the single value of `values`.
        """
        if tag in _VOCABULARY_TAGS:
            whole = value if value is not None else values[0] if len(values) == 1 else values
            self.vocabulary.append(str(whole).upper())
            return
        if not values:
            return
        if tag in self.skip_tags:
            for v in values:
                text = v.decode("latin-1") if isinstance(v, bytes) else str(v)
                self.kept_values.add(text.strip(" \x00").upper())
            return
        if vr == "UI":
            if tag in CLASS_UID_TAGS or self.skip_uids:
                return
            for uid in values:
                uid = str(uid).strip("\x00 ")
                if uid and not is_standard_uid(uid):
                    self.uids.add(uid)
                    if len(uid) >= 16:
                        self.substrings.setdefault(uid, _C.UID)
            return
        if vr == "PN":
            for name in values:
                self.add_name(str(name))
            return
        if vr in ("DA", "DT"):
            if self.skip_dates and tag not in _BIRTH_DATE_TAGS:
                return
            for date in values:
                self.add_date(str(date))
            return
        category = _TAG_CATEGORIES.get(tag)
        if category is None or not isinstance(values[0], str | bytes):
            return
        for item in values:
            text = item.decode("latin-1") if isinstance(item, bytes) else str(item)
            self.add(text, category)
            if category == _C.ADDRESS:
                for part in _SPLIT_ADDRESS_RE.split(text):
                    if len(part.strip()) >= 5:
                        self.add(part, category)
            elif category == _C.PHONE:
                digits = _DIGITS_RE.sub("", text)
                if len(digits) >= MIN_NUMERIC_SUBSTRING_LEN:
                    self.add(digits, category)

    def walk(self, ds: Dataset) -> None:
        """Collect from every element of `ds` at every sequence depth.

        Like :meth:`Dataset.walk`, but an element that cannot be decoded is
        skipped instead of aborting (the engine removes such elements).
        """
        store = ds._dict
        for key in list(store):
            tag = int(key)
            if tag >> 16 & 1:
                # Private elements are removed (or kept only when numeric, see
                # archive.deid.private); not decoding them saves most of the cost.
                continue
            raw = store[key]
            if type(raw) is RawDataElement:
                vr = element_vr(tag, raw)
                if tag not in HINT_TAGS and vr not in HINT_VRS:
                    continue  # cannot hold a hint: leave it undecoded
                if vr in ASCII_VRS:
                    self.add_values(tag, vr, ascii_values(raw))
                    continue
            try:
                elem = ds[key]
            except Exception:
                continue
            self.visit(elem)
            if elem.VR == "SQ" and elem.value:
                for item in elem.value:
                    self.walk(item)


def collect_phi_hints(ds: Dataset) -> PhiHints:
    """Collect identifying values from an input dataset (all sequence depths).

    Collected: person names and their parts (at least 3 characters), patient
    and study identifiers, all dates (DA, and the date part of DT) in DICOM and
    common textual forms, addresses, phone numbers, institution and station
    names, and all non-standard UIDs (PS3.15 E.1: the kinds of values the Basic
    Profile removes because they identify).

    Parameters
    ----------
    ds : pydicom.Dataset
        The input dataset; its file meta is scanned as well.

    Returns
    -------
    PhiHints
    """
    collector = PhiHintCollector()
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        collector.walk(meta)
    collector.walk(ds)
    return collector.finish()
