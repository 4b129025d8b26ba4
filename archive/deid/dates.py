"""Date shifting and patient age (PS3.15 E.3.6 and E.3.5).

Dates are moved by whole days, so intervals and times of day are preserved and
Time (TM) values need no change.  All results are valid DA/DT/AS strings
(PS3.5 6.2).
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["AGE_CAP_YEARS", "age_between", "cap_age", "parse_da", "shift_da", "shift_dt"]

AGE_CAP_YEARS = 90
"""Ages above 89 are reported as ``090Y`` (HIPAA Safe Harbor, 45 CFR 164.514(b)(2)(i)(C))."""

_DA_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DT_RE = re.compile(
    r"^(\d{4})(\d{2})?(\d{2})?(\d{2}(?:\d{2}(?:\d{2}(?:\.\d{1,6})?)?)?)?([+-]\d{4})?$"
)
_AS_RE = re.compile(r"^(\d{3})([DWMY])$")


def parse_da(value: str) -> dt.date | None:
    """Parse a DA value (``YYYYMMDD``; legacy ``YYYY.MM.DD`` accepted)."""
    value = value.strip().replace(".", "")
    m = _DA_RE.match(value)
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def shift_da(value: str, days: int) -> str | None:
    """Shift a DA value by `days`; ``None`` when it is not a valid date."""
    if not value.strip():
        return ""
    date = parse_da(value)
    if date is None:
        return None
    try:
        return (date + dt.timedelta(days=days)).strftime("%Y%m%d")
    except OverflowError:
        return None


def shift_dt(value: str, days: int) -> str | None:
    """Shift the date part of a DT value by `days`, keeping its precision.

    Values with only a year or year and month are shifted from the first day of
    that period and truncated back to the original precision.
    """
    value = value.strip()
    if not value:
        return ""
    m = _DT_RE.match(value)
    if not m:
        return None
    year, month, day, rest, tz = m.groups()
    try:
        date = dt.date(int(year), int(month or 1), int(day or 1)) + dt.timedelta(days=days)
    except (ValueError, OverflowError):
        return None
    text = date.strftime("%Y%m%d")[: 4 + (2 if month else 0) + (2 if day else 0)]
    return text + (rest or "") + (tz or "")


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
    """Validate an AS value and cap it at ``090Y``.

    Returns
    -------
    tuple of (str or None, bool)
        The valid value (``None`` if `value` is not a valid AS) and whether it
        was capped.
    """
    m = _AS_RE.match(value.strip())
    if not m:
        return None, False
    number, unit = int(m[1]), m[2]
    years = {"Y": number, "M": number / 12, "W": number / 52.18, "D": number / 365.25}[unit]
    if years > AGE_CAP_YEARS - 1 and not (unit == "Y" and number == AGE_CAP_YEARS):
        return f"{AGE_CAP_YEARS:03d}Y", True
    return value.strip(), False
