"""The de-identification profile as a list of PS3.15 options, read from text a person writes.

A privacy officer chooses the options of PS3.15 Table E.1-1 (the option columns, PS3.15 E.3)
by name, comma-separated, e.g. ``retain-longitudinal-modified-dates, clean-descriptors``.
Names are compared case-insensitively, with spaces or underscores for hyphens; the CID 7050
code meaning ("Retain UIDs Option") and code value ("113110") are accepted too.  The Basic
Application Level Confidentiality Profile always applies; an empty list means the Basic
Profile alone.

Two options keep values that identify patients when combined with other data: Retain
Longitudinal Temporal Information with Full Dates and Retain UIDs.  They exist for
completeness; :func:`parse_profile` refuses them unless the caller passes an explicit
acknowledgement (``accepted``) naming each of them (``full-dates``, ``retain-uids``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from archive.deid.enums import DeidentificationMethodCodeValues, ProfileOptionValues

__all__ = [
    "DEFAULT_PROFILE",
    "IDENTIFYING_OPTIONS",
    "ProfileError",
    "option_names",
    "parse_acknowledgements",
    "parse_profile",
]

_O = ProfileOptionValues

DEFAULT_PROFILE: tuple[ProfileOptionValues, ...] = (
    _O.RETAIN_LONGITUDINAL_MODIFIED_DATES,
    _O.RETAIN_PATIENT_CHARACTERISTICS,
    _O.CLEAN_DESCRIPTORS,
    _O.CLEAN_STRUCTURED_CONTENT,
    _O.CLEAN_GRAPHICS,
    _O.RETAIN_SAFE_PRIVATE,
)
"""The archive's choice: what a teaching file needs (intervals between studies, age and sex,
clean descriptions and report text, diffusion parameters), nothing that points to a patient,
a device or a hospital."""

IDENTIFYING_OPTIONS: dict[ProfileOptionValues, str] = {
    _O.RETAIN_LONGITUDINAL_FULL_DATES: "full-dates",
    _O.RETAIN_UIDS: "retain-uids",
}
"""Options refused unless acknowledged, with the word that acknowledges each."""

_WHY_IDENTIFYING = {
    _O.RETAIN_LONGITUDINAL_FULL_DATES: (
        "keeps the real dates of every study, which together with age, sex and the kind of "
        "examination can point to one patient"
    ),
    _O.RETAIN_UIDS: (
        "keeps the hospital's UIDs, which link every image back to the study in the hospital's PACS"
    ),
}

_CONTRADICTIONS = (
    (
        _O.RETAIN_LONGITUDINAL_FULL_DATES,
        _O.RETAIN_LONGITUDINAL_MODIFIED_DATES,
        "dates cannot be kept as they are and shifted at the same time",
    ),
)


class ProfileError(ValueError):
    """A profile that cannot be used; ``str()`` is a sentence a person can act on.

    Attributes
    ----------
    problem : str
        What is wrong, without the advice on acknowledging (a caller that knows the name of
        its acknowledgement setting says that part itself).
    needs_acknowledgement : str or None
        The acknowledgement word that would make the profile acceptable, when that is the
        only problem.
    """

    def __init__(self, problem: str, needs_acknowledgement: str | None = None) -> None:
        message = problem
        if needs_acknowledgement:
            message += (
                " If your privacy officer accepts that risk, acknowledge it with "
                f"{needs_acknowledgement!r}."
            )
        super().__init__(message)
        self.problem = problem
        self.needs_acknowledgement = needs_acknowledgement


def _key(text: str) -> str:
    key = re.sub(r"[\s_]+", "-", text.strip().lower())
    key = re.sub(r"-option$", "", key)
    return key


def _aliases() -> dict[str, ProfileOptionValues]:
    aliases: dict[str, ProfileOptionValues] = {}
    for option in ProfileOptionValues:
        method: DeidentificationMethodCodeValues = option.method
        aliases[_key(option.value)] = option
        aliases[_key(method.code_meaning)] = option
        aliases[method.code_value] = option
    # The names PS3.15 E.3.6 uses in its headings.
    aliases["retain-longitudinal-temporal-information-with-full-dates"] = (
        _O.RETAIN_LONGITUDINAL_FULL_DATES
    )
    aliases["retain-longitudinal-temporal-information-with-modified-dates"] = (
        _O.RETAIN_LONGITUDINAL_MODIFIED_DATES
    )
    return aliases


_ALIASES = _aliases()


def option_names() -> str:
    """The option names, comma-separated (for messages and documentation)."""
    return ", ".join(option.value for option in ProfileOptionValues)


def _items(value: str | Iterable[str]) -> list[str]:
    texts = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return [t for t in (text.strip() for text in texts) if t]


def parse_acknowledgements(value: str | Iterable[str]) -> frozenset[ProfileOptionValues]:
    """The identifying options a comma-separated acknowledgement accepts.

    Each item is ``full-dates`` or ``retain-uids`` (or the option's own name).

    Raises
    ------
    ProfileError
        For a word that acknowledges nothing.
    """
    words = {word: option for option, word in IDENTIFYING_OPTIONS.items()}
    accepted = set()
    for item in _items(value):
        key = _key(item)
        option = words.get(key) or _ALIASES.get(key)
        if option not in IDENTIFYING_OPTIONS:
            raise ProfileError(
                f"The acknowledgement {item!r} accepts no option; the options that need one "
                f"are: {', '.join(IDENTIFYING_OPTIONS.values())}."
            )
        accepted.add(option)
    return frozenset(accepted)


def parse_profile(
    value: str | Iterable[str], accepted: Iterable[ProfileOptionValues] = ()
) -> frozenset[ProfileOptionValues]:
    """Read a profile: the set of options it names.

    Parameters
    ----------
    value : str or iterable of str
        Option names, comma-separated in a string (see the module docstring).
    accepted : iterable of ProfileOptionValues
        Identifying options (:data:`IDENTIFYING_OPTIONS`) that the operator explicitly accepts.

    Raises
    ------
    ProfileError
        For an unknown option, two options that contradict each other, or an identifying
        option that is not accepted; the message says which and what to do.
    """
    options: set[ProfileOptionValues] = set()
    for item in _items(value):
        option = _ALIASES.get(_key(item))
        if option is None:
            raise ProfileError(
                f"The de-identification profile names an option that does not exist: {item!r}. "
                f"The options of PS3.15 Table E.1-1 are: {option_names()}."
            )
        options.add(option)
    for first, second, why in _CONTRADICTIONS:
        if first in options and second in options:
            raise ProfileError(
                f"The de-identification profile names both {first.value} and {second.value}, "
                f"but {why}: keep one of them."
            )
    accepted = frozenset(accepted)
    for option, word in IDENTIFYING_OPTIONS.items():
        if option in options and option not in accepted:
            raise ProfileError(
                f"The de-identification profile names {option.value}, which "
                f"{_WHY_IDENTIFYING[option]}; a teaching archive should not use it.",
                needs_acknowledgement=word,
            )
    return frozenset(options)
