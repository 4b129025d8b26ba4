"""QIDO-RS matching (PS3.18 8.3.4, PS3.4 C.2.2.2): keys given by keyword or tag, single value,
UID list, wildcard (``*`` and ``?``) and date-range matching, ``includefield``, ``limit`` and
``offset``, all on the database.

Keys whose values a quiz may hide (study and series descriptions) are matched against what the
user is shown: the database narrows the rows (quiz cases always pass that step), then each
remaining row is checked against the value as :class:`archive.privacy.CaseView` masks it, so a
search for ``*pneumothorax*`` cannot find an unanswered quiz by its answer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q
from django.http import QueryDict
from pydicom.datadict import keyword_for_tag, tag_for_keyword

__all__ = [
    "INSTANCE_KEYS",
    "SERIES_KEYS",
    "STUDY_KEYS",
    "BadQuery",
    "Key",
    "Query",
    "parse",
    "warning",
]


class BadQuery(ValueError):
    """A query the client must correct; the message says how."""


@dataclass(frozen=True)
class Key:
    keyword: str
    field: str  # path from the queried model, with {p} for the prefix to Study/Series
    kind: str  # "uid", "text", "itext" (case-insensitive), "date", "int", "modality"
    masked: bool = False  # a quiz may hide words of it: also matched in Python


STUDY_KEYS = {
    k.keyword: k
    for k in (
        Key("StudyInstanceUID", "{study}study_uid", "uid"),
        Key("PatientID", "{study}pseudonymous_patient_id", "text"),
        Key("StudyDate", "{study}study_date", "date"),
        Key("StudyDescription", "{study}description", "itext", masked=True),
        Key("ModalitiesInStudy", "{study}series__modality", "modality"),
    )
}
SERIES_KEYS = {
    k.keyword: k
    for k in (
        Key("SeriesInstanceUID", "{series}series_uid", "uid"),
        Key("Modality", "{series}modality", "modality"),
        Key("SeriesNumber", "{series}number", "int"),
        Key("SeriesDescription", "{series}description", "itext", masked=True),
        Key("BodyPartExamined", "{series}body_part", "itext"),
    )
}
INSTANCE_KEYS = {
    k.keyword: k
    for k in (
        Key("SOPInstanceUID", "sop_uid", "uid"),
        Key("SOPClassUID", "sop_class_uid", "uid"),
        Key("InstanceNumber", "instance_number", "int"),
        Key("Rows", "rows", "int"),
        Key("Columns", "columns", "int"),
    )
}
#: Query parameters that are not matching keys.
CONTROL = {"limit", "offset", "includefield", "fuzzymatching", "case"}


def _keyword(name: str) -> str | None:
    """``StudyDate`` or ``00080020`` → ``StudyDate``; None when not a DICOM attribute."""
    if re.fullmatch(r"[0-9A-Fa-f]{8}", name):
        try:
            return keyword_for_tag(int(name, 16)) or None
        except (KeyError, ValueError):
            return None
    return name if tag_for_keyword(name) is not None else None


def _wildcard_regex(value: str) -> str:
    return "^" + "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in value
    ) + "$"  # fmt: skip


def _date(text: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.datetime.strptime(text.replace(".", ""), "%Y%m%d").date()
    except ValueError as e:
        raise BadQuery(
            f"{text!r} is not a date: write YYYYMMDD, or a range YYYYMMDD-YYYYMMDD "
            "(either end may be left open)."
        ) from e


@dataclass
class Query:
    """A parsed QIDO-RS query for one level."""

    filters: Q = field(default_factory=Q)
    #: (key, Python matcher) for masked keys, checked on what the user is shown.
    masked: list[tuple[Key, Callable[[str], bool]]] = field(default_factory=list)
    include: set[str] = field(default_factory=set)
    include_all: bool = False
    ignored: list[str] = field(default_factory=list)
    offset: int = 0
    limit: int = 100

    def shown_matches(self, values: dict[str, str]) -> bool:
        """Whether the masked keys match ``values`` (keyword → the text the user sees)."""
        return all(match(values.get(key.keyword, "")) for key, match in self.masked)


def _condition(key: Key, value: str, path: str) -> tuple[Q, Callable[[str], bool] | None]:
    if key.kind == "date":
        start, sep, end = value.partition("-")
        first, last = _date(start), _date(end) if sep else _date(start)
        q = Q()
        if first:
            q &= Q(**{f"{path}__gte": first})
        if last:
            q &= Q(**{f"{path}__lte": last})
        return q, None
    if key.kind == "int":
        try:
            return Q(**{path: int(value)}), None
        except ValueError as e:
            raise BadQuery(f"{key.keyword} must be a whole number.") from e
    values = [v.strip() for v in value.split(",") if v.strip()] if key.kind in (
        "uid", "modality") else [value]  # fmt: skip
    if key.kind in ("uid", "modality"):
        if any("*" in v or "?" in v for v in values) and key.kind == "modality":
            regex = "|".join(_wildcard_regex(v) for v in values)
            return Q(**{f"{path}__regex": regex}), None
        return Q(**{f"{path}__in": values}), None
    insensitive = key.kind == "itext"
    flags = re.IGNORECASE if insensitive else 0
    if "*" in value or "?" in value:
        regex = _wildcard_regex(value)
        lookup = "iregex" if insensitive else "regex"
        pattern = re.compile(regex, flags | re.DOTALL)
        return Q(**{f"{path}__{lookup}": regex}), lambda shown: bool(pattern.match(shown or ""))
    if insensitive:
        folded = value.casefold()
        return Q(**{f"{path}__iexact": value}), lambda shown: (shown or "").casefold() == folded
    return Q(**{path: value}), lambda shown: (shown or "") == value


def parse(
    params: QueryDict,
    keys: dict[str, Key],
    *,
    prefixes: dict[str, str],
    quiz_path: str,
    default_limit: int = 100,
    max_limit: int = 1000,
) -> Query:
    """A :class:`Query` from the request's parameters, for the ``keys`` of this level.

    ``prefixes`` maps ``study``/``series`` to the path from the queried model (``""`` for the
    model itself); ``quiz_path`` leads to ``Case.quiz_mode``."""
    query = Query()
    for name in params:
        if name in CONTROL:
            continue
        keyword = _keyword(name)
        values = [v for v in params.getlist(name)]
        if keyword is None:
            raise BadQuery(f"{name!r} is neither a query parameter nor a DICOM attribute.")
        key = keys.get(keyword)
        value = ",".join(v for v in values if v is not None)
        if not value:  # universal matching: the attribute is returned, nothing filtered
            query.include.add(keyword)
            continue
        if key is None:
            query.ignored.append(keyword)
            continue
        path = key.field.format(**prefixes)
        condition, matcher = _condition(key, value, path)
        if key.masked and matcher is not None:
            query.filters &= condition | Q(**{quiz_path: True})
            query.masked.append((key, matcher))
        else:
            query.filters &= condition
    for value in params.getlist("includefield"):
        for item in value.split(","):
            item = item.strip()
            if item == "all":
                query.include_all = True
            elif item:
                keyword = _keyword(item)
                if keyword is None:
                    raise BadQuery(f"includefield: {item!r} is not a DICOM attribute.")
                query.include.add(keyword)
    if params.get("fuzzymatching", "").lower() == "true":
        query.ignored.append("fuzzymatching")

    def number(name: str, default: int) -> int:
        raw = params.get(name)
        if raw in (None, ""):
            return default
        try:
            n = int(raw)
        except ValueError as e:
            raise BadQuery(f"{name} must be a whole number.") from e
        if n < 0:
            raise BadQuery(f"{name} must not be negative.")
        return n

    query.offset = number("offset", 0)
    query.limit = min(number("limit", default_limit) or default_limit, max_limit)
    return query


def warning(query: Query) -> str | None:
    """The Warning header (PS3.18 8.3.4.4) naming keys that were not used for matching."""
    if not query.ignored:
        return None
    if query.ignored == ["fuzzymatching"]:
        return '299 teaching-archive "fuzzymatching is not supported: literal matching was done"'
    names = ", ".join(sorted(set(query.ignored)))
    return (
        f'299 teaching-archive "The following attributes are not supported as matching keys '
        f'and were ignored: {names}"'
    )
