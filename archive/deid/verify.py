"""Residual-PHI verifier (defence in depth after de-identification).

Scans every element of an output dataset - all VRs (binary ones decoded
leniently as Latin-1), every sequence depth, private and public, and the file
meta - for the identifying values collected from the input
(:class:`archive.deid.hints.PhiHints`).  Kept free text
(:func:`archive.deid.profile.holds_free_text`) is also searched for the shapes
of names, dates, phone numbers and identifiers of anyone
(:mod:`archive.deid.freetext`): the hints know only the people named in the
same header, not a physician or a relative named in a text.  Reasons name the
attribute and the kind of value found, never the value.  The one value not held
against a date hint is the one the engine wrote into that attribute by its shift
(``PhiHints.shifted_dates``): a shift can land on another date of the input.
"""

from __future__ import annotations

import io
import re
import struct
from typing import TYPE_CHECKING

from pydicom.datadict import keyword_for_tag
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag

from archive.deid.elements import RawDataElement, element_vr
from archive.deid.freetext import first_phi_category
from archive.deid.hints import HintCategoryValues
from archive.deid.profile import holds_free_text
from archive.deid.uids import CLASS_UID_TAGS

if TYPE_CHECKING:
    from pydicom import Dataset

    from archive.deid.hints import PhiHints

__all__ = ["verify"]

# Written by the engine from constants only (code meanings could collide with a
# hint such as a name part "BASIC"); everything else is scanned.
_GENERATED_TAGS = frozenset({0x00020013, 0x00120062, 0x00120063, 0x00120064, 0x00280303})
# Our own pseudonyms (keyed hashes, see archive.deid.pseudonyms) are skipped
# only when they have exactly that form.
_PSEUDONYM_RE = re.compile(r"^ANON[\^-][0-9A-F]{8,20}$")
_PSEUDONYM_TAGS = frozenset({0x00100010, 0x00100020})
BINARY_VRS = frozenset({"OB", "OW", "OF", "OD", "OL", "OV", "UN"})
_NUMBER_VRS = frozenset({"US", "SS", "UL", "SL", "FL", "FD", "UV", "SV", "AT"})
_NUMERIC_STRING_VRS = frozenset({"DS", "IS", "AS", "TM"})
_DATE_VRS = frozenset({"DA", "DT"})
_BULK_BYTES = 1024
#: Raw numeric values longer than this are also searched as bytes (8 = one FD, or 2 ULs).
_NUMBER_BYTES = 8


_PACK = {"US": "H", "SS": "h", "UL": "I", "SL": "i", "FL": "f", "FD": "d", "UV": "Q", "SV": "q"}


def _number_bytes(vr: str, value: object) -> bytes:
    """A numeric element's values as the bytes they are written as (little endian)."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if not isinstance(value, MultiValue | list | tuple) or len(value) * 2 <= _NUMBER_BYTES:
        return b""
    code = _PACK.get(vr)
    if code is None:
        return b""
    try:
        return struct.pack(f"<{len(value)}{code}", *value)
    except (struct.error, TypeError):
        return b""


def _name(tag: int) -> str:
    tag = BaseTag(tag)
    keyword = keyword_for_tag(tag) if not tag.is_private else ""
    return f"{keyword or 'private element'} {tag}"


def _texts(value: object) -> list[str]:
    if isinstance(value, MultiValue | list | tuple):
        return [str(v) for v in value]
    return [str(value)]


def _encoding(ds: Dataset) -> str:
    charset = ds.get("SpecificCharacterSet") or ""
    return "utf-8" if "ISO_IR 192" in str(charset) else "latin-1"


def _unshifted(tag: int, texts: list[str], hints: PhiHints, reasons: list[str]) -> list[str]:
    """The texts of a date element that the engine did not write by shifting.  A shifted one
    is searched here, and only another kind of value than a date is residual in it: the
    engine's shift landed it on a date of the input (another of the instance's dates, the
    birth date of a child imaged that many days after birth), which it does not reveal."""
    rest = []
    for t in texts:
        if (tag, t) not in hints.shifted_dates:
            rest.append(t)
            continue
        category = hints.exact.get(t) or hints.search(t)
        if category == HintCategoryValues.DATE:
            # The first hint found is a date; another kind may overlap it (an ID across the
            # date and the time of a DT value).
            category = hints.without_dates.search(t)
        if category is not None:
            reasons.append(f"Residual {category} found in {_name(tag)}.")
    return rest


def _scan(
    ds: Dataset,
    hints: PhiHints,
    reasons: list[str],
    encoding: str,
    deferred: list[str] | None = None,
    free: list[tuple[int, list[str]]] | None = None,
) -> None:
    """Scan one dataset level (and its items); text hints are searched per
    level, or, with `deferred`, only gathered there (one search for all).
    Kept free text is gathered in `free`, as written (case tells names)."""
    store = ds._dict
    pending: list[tuple[int, list[str]]] = []
    for key in sorted(store, key=int):  # int keys: BaseTag compares in Python
        tag = int(key)
        if tag in _GENERATED_TAGS:
            continue
        elem = store[key]
        raw = type(elem) is RawDataElement
        vr = element_vr(tag, elem) if isinstance(elem, RawDataElement) else str(elem.VR)
        if vr in _NUMBER_VRS:
            # Numbers cannot spell a name, but a numeric element's raw bytes can hold anything:
            # a damaged length made Pixel Representation swallow the next elements, a private
            # name among them (found by the fuzzer in tests/hostile). Scan long ones as bytes.
            data = _number_bytes(vr, elem.value)
            if len(data) > _NUMBER_BYTES:
                category = hints.search_long_bytes(data)
                if category is not None:
                    reasons.append(f"Residual {category} found in {_name(tag)}.")
            continue
        if vr == "SQ":
            try:
                items = ds[key].value
            except Exception:
                reasons.append(f"Undecodable sequence {_name(tag)}.")
                continue
            for item in items or ():
                _scan(item, hints, reasons, encoding, deferred, free)
            continue
        value = elem.value
        if value is None:
            continue
        if isinstance(value, io.BufferedIOBase):
            # A spooled or viewed value (a cine's Pixel Data): searched a piece at a time.
            category = hints.search_long_buffer(value)
            if category is not None:
                reasons.append(f"Residual {category} found in {_name(tag)}.")
            continue
        if vr in BINARY_VRS or (not raw and isinstance(value, bytes | bytearray)):
            data = bytes(value) if isinstance(value, bytes | bytearray) else b""
            if len(data) > _BULK_BYTES:
                category = hints.search_long_bytes(data)
            else:
                category = hints.search(data.decode("latin-1").upper())
            if category is not None:
                reasons.append(f"Residual {category} found in {_name(tag)}.")
            continue
        if raw:
            written = bytes(value).decode(encoding, "replace").split("\\")
        else:
            written = _texts(value)
        texts = [t.strip(" \x00").upper() for t in written]
        if hints.shifted_dates and vr in _DATE_VRS:
            texts = _unshifted(tag, texts, hints, reasons)
        if free is not None and holds_free_text(tag, vr):
            free.append((tag, written))
        if tag in _PSEUDONYM_TAGS and all(_PSEUDONYM_RE.match(t) for t in texts):
            continue
        if vr == "UI":
            if tag not in CLASS_UID_TAGS and any(t in hints.uids for t in texts):
                reasons.append(f"Residual original UID found in {_name(tag)}.")
            continue
        if vr not in _NUMERIC_STRING_VRS:
            for t in texts:
                if t in hints.exact:
                    reasons.append(f"Residual {hints.exact[t]} found in {_name(tag)}.")
                    break
        pending.append((tag, texts))
    if deferred is not None:
        deferred.extend("\x01".join(texts) for _, texts in pending)
        return
    # One regex pass over all text of this level; per element only on a hit.
    if pending:
        joined = "\x01".join("\x01".join(texts) for _, texts in pending)
        if hints.search(joined):
            for tag, texts in pending:
                for t in texts:
                    if category := hints.search(t):
                        reasons.append(f"Residual {category} found in {_name(tag)}.")
                        break


def verify_bulk(
    tag: int, written: io.BufferedIOBase, start: int, end: int, hints: PhiHints
) -> list[str]:
    """What :func:`verify` says of a binary value longer than ``_BULK_BYTES``, given as where
    it lies in the written file, ``written[start:end]`` (a value left unread in the dataset, as
    the written file's Pixel Data is when it is read back: see ``engine._verify_written``),
    searched a piece at a time."""
    category = hints.search_long_buffer(written, start, end)
    return [f"Residual {category} found in {_name(tag)}."] if category is not None else []


def verify(output: Dataset, hints: PhiHints) -> list[str]:
    """Return reasons why `output` still contains identifying values.

    Parameters
    ----------
    output : pydicom.Dataset
        The de-identified dataset (its ``file_meta`` is scanned too).
    hints : PhiHints
        Values collected from the input by
        :func:`archive.deid.hints.collect_phi_hints`.

    Returns
    -------
    list of str
        Empty when clean.  Each reason names the attribute (keyword and tag)
        and the kind of value, never the value itself (PS3.15 E.1: the output
        must not contain identifying information).  Kept free text with a
        finding of :func:`archive.deid.freetext.find_phi` is a reason too,
        whoever it names.
    """
    reasons: list[str] = []
    meta = getattr(output, "file_meta", None)
    encoding = _encoding(output)
    # First pass: every check but the text search, whose texts are gathered
    # for one search.  A hint matched in a level's joined texts is matched in
    # all of them joined the same way (separators are no hint's characters),
    # so only then is the scan repeated level by level, for the reasons.
    deferred: list[str] = []
    free: list[tuple[int, list[str]]] = []
    if meta is not None:
        _scan(meta, hints, reasons, "latin-1", deferred)
    _scan(output, hints, reasons, encoding, deferred, free)
    if hints.search("\x01".join(deferred)) or any("\x01" in h for h in hints.substrings):
        reasons = []
        if meta is not None:
            _scan(meta, hints, reasons, "latin-1")
        _scan(output, hints, reasons, encoding)
    for tag, written in free:
        for text in written:
            if category := first_phi_category(text):
                reasons.append(
                    f"Residual {category} pattern found in the free text of {_name(tag)}."
                )
                break
    return list(dict.fromkeys(reasons))
