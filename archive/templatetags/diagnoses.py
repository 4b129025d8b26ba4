"""``{{ case.diagnosis|diagnosis_name }}``: the diagnosis in the user's language."""

from __future__ import annotations

from django import template

from archive.views.cases import diagnosis_label

register = template.Library()


@register.filter
def diagnosis_name(diagnosis) -> str:
    if diagnosis is None:
        return ""
    return diagnosis_label(diagnosis)
