"""Date shifting and patient age (PS3.15 E.3.6 and E.3.7).

Dates are moved by whole days, so intervals and times of day are preserved and
Time (TM) values need no change.  All results are valid DA/DT/AS strings
(PS3.5 6.2).
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = [
    "AGE_CAP_YEARS",
    "TWO_DIGIT_YEAR_PIVOT",
    "age_between",
    "cap_age",
    "parse_da",
    "shift_da",
    "shift_dt",
]

AGE_CAP_YEARS = 90
"""Ages above 89 are reported as ``090Y`` (HIPAA Safe Harbor, 45 CFR 164.514(b)(2)(i)(C))."""

_DA_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# Legacy and careless forms still found in old files: ACR-NEMA ``YYYY.MM.DD``, ISO 8601
# ``YYYY-MM-DD``, ``YYYY/MM/DD`` and the six-digit ``YYMMDD``.
_DA_SEPARATED_RE = re.compile(r"^(\d{4})([.\-/])(\d{1,2})\2(\d{1,2})$")
_DA_SHORT_RE = re.compile(r"^(\d{2})(\d{2})(\d{2})$")
TWO_DIGIT_YEAR_PIVOT = 69
"""``YY`` below this is 20YY, else 19YY (the POSIX ``strptime`` rule for ``%y``)."""
_DT_RE = re.compile(
    r"^(\d{4})(\d{2})?(\d{2})?(\d{2}(?:\d{2}(?:\d{2}(?:\.\d{1,6})?)?)?)?([+-]\d{4})?$"
)
# ISO 8601 with separators (``YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM``), as some software writes DT.
_DT_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(\.\d{1,6})?)?)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)
_AS_RE = re.compile(r"^(\d{3})([DWMY])$")
# Ages written without padding or unit ("45", "45Y", "4 M"): a number of years by default.
_AS_LOOSE_RE = re.compile(r"^(\d{1,3})\s*([DWMY]?)$")


def parse_da(value: str) -> dt.date | None:
    """Parse a DA value (PS3.5 6.2: ``YYYYMMDD``).

    Legacy forms are accepted: ``YYYY.MM.DD`` (ACR-NEMA), ``YYYY-MM-DD``, ``YYYY/MM/DD`` and
    ``YYMMDD`` (years before :data:`TWO_DIGIT_YEAR_PIVOT` are 20YY, the others 19YY).
    ``None`` when it is not a date.
    """
    value = value.strip(" \x00")
    m = _DA_RE.match(value)
    if m:
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _DA_SEPARATED_RE.match(value):
        year, month, day = int(m[1]), int(m[3]), int(m[4])
    elif m := _DA_SHORT_RE.match(value):
        yy = int(m[1])
        year = (2000 if yy < TWO_DIGIT_YEAR_PIVOT else 1900) + yy
        month, day = int(m[2]), int(m[3])
    else:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def shift_da(value: str, days: int) -> str | None:
    """Shift a DA value by `days`, written ``YYYYMMDD`` whatever form it was read in.

    ``""`` for an empty value, ``None`` when it is not a date (see :func:`parse_da`).
    """
    if not value.strip(" \x00"):
        return ""
    date = parse_da(value)
    if date is None:
        return None
    try:
        return (date + dt.timedelta(days=days)).strftime("%Y%m%d")
    except OverflowError:
        return None


def _valid_time(rest: str) -> str:
    """The longest valid prefix of a DT time part ``HH[MM[SS[.F]]]`` (may be empty)."""
    limits = (23, 59, 60)  # 60: a leap second (PS3.5 6.2, DT)
    kept = ""
    for i, limit in enumerate(limits):
        part = rest[2 * i : 2 * i + 2]
        if len(part) < 2 or int(part) > limit:
            return kept
        kept += part
    return kept + rest[6:]


def _iso_dt(value: str) -> str | None:
    """A DT written ISO 8601 with separators, in the DICOM form, or ``None``."""
    m = _DT_ISO_RE.match(value)
    if not m:
        return None
    year, month, day, hh, mm, ss, fraction, tz = m.groups()
    text = f"{year}{month}{day}{hh or ''}{mm or ''}{ss or ''}{fraction or ''}"
    if tz and tz != "Z":
        text += tz.replace(":", "")
    elif tz == "Z":
        text += "+0000"
    return text


def shift_dt(value: str, days: int) -> str | None:
    """Shift the date part of a DT value by `days`, keeping its precision.

    Values with only a year or year and month are shifted from the first day of
    that period and truncated back to the original precision.  An ISO 8601 value
    with separators is rewritten in the DICOM form; an invalid time of day is cut
    back to its valid part (a DT may stop after the day).  ``None`` when the date
    part is not a date.
    """
    value = value.strip(" \x00")
    if not value:
        return ""
    m = _DT_RE.match(value)
    if not m:
        iso = _iso_dt(value)
        m = _DT_RE.match(iso) if iso is not None else None
        if not m:
            return None
    year, month, day, rest, tz = m.groups()
    try:
        date = dt.date(int(year), int(month or 1), int(day or 1)) + dt.timedelta(days=days)
    except (ValueError, OverflowError):
        return None
    text = date.strftime("%Y%m%d")[: 4 + (2 if month else 0) + (2 if day else 0)]
    rest = _valid_time(rest or "") if day else ""
    if tz and not (-1200 <= int(tz) <= 1400 and int(tz[-2:]) < 60):
        tz = None
    return text + rest + (tz or "")


def age_between(birth: dt.date, ref: dt.date) -> str | None:
    """Patient's Age (AS) at `ref` for a birth date, capped at ``090Y``."""
    if ref < birth:
        return None
    years = ref.year - birth.year - ((ref.month, ref.day) < (birth.month, birth.day))
    if years >= 2:
        return f"{min(years, AGE_CAP_YEARS):03d}Y"
    months = (ref.year - birth.year) * 12 + ref.month - birth.month - (ref.day < birth.day)
    if months >= 1:
        return f"{months:03d}M"
    return f"{(ref - birth).days:03d}D"


def cap_age(value: str) -> tuple[str | None, bool]:
    """Validate an AS value, write it ``nnnU`` and cap it at ``090Y``.

    Ages written without padding or unit (``45``, ``45Y``, ``4 M``) are read as
    such, in years when no unit is given.

    Returns
    -------
    tuple of (str or None, bool)
        The valid value (``None`` if `value` is not an age) and whether it
        was capped.
    """
    text = value.strip(" \x00").upper()
    m = _AS_RE.match(text) or _AS_LOOSE_RE.match(text)
    if not m:
        return None, False
    number, unit = int(m[1]), m[2] or "Y"
    years = {"Y": number, "M": number / 12, "W": number / 52.18, "D": number / 365.25}[unit]
    if years > AGE_CAP_YEARS - 1 and not (unit == "Y" and number == AGE_CAP_YEARS):
        return f"{AGE_CAP_YEARS:03d}Y", True
    return f"{number:03d}{unit}", False
