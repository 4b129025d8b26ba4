"""The de-identification audit in the reader's language. The engine (``archive/deid``, free of
Django) records each action as a fixed English phrase, stored with the instance; these are the
phrases, marked for translation here, where they are shown."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext, gettext_noop

register = template.Library()

#: Every phrase ``archive/deid/engine.py`` records, alone or as a part of "<reason>: <what>".
PHRASES = (
    gettext_noop("applied"),
    gettext_noop("removed"),
    gettext_noop("emptied"),
    gettext_noop("dummy value"),
    gettext_noop("emptied (Type 2)"),
    gettext_noop("removed (Type 3)"),
    gettext_noop("UID remapped"),
    gettext_noop("date shifted"),
    gettext_noop("date written in the standard form"),
    gettext_noop("unknown value representation"),
    gettext_noop("cleaned (names, dates or numbers removed)"),
    gettext_noop("replaced with dummy value"),
    gettext_noop("replaced with dummy value (Type 1)"),
    gettext_noop("replaced with pseudonym"),
    gettext_noop("age above 89 reported as 090Y"),
    gettext_noop("age written in the standard form"),
    gettext_noop("kept, items de-identified (Type 1)"),
    gettext_noop("kept (clean descriptor)"),
    gettext_noop("kept (safe private)"),
    gettext_noop("safe private value failed verification"),
    gettext_noop("removed (not in the DICOM dictionary)"),
)


@register.filter
def audit_action(action) -> str:
    """One recorded action in the active language, part by part ("removed: <reason>");
    a part without a translation stays as recorded."""
    return ": ".join(gettext(part) if part else part for part in str(action).split(": "))
