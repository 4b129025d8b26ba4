"""Template helpers for the upload results on the editor."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from archive.services.intake import label_position

register = template.Library()


@register.simple_tag
def upload_position(item) -> str:
    """``data-file``/``data-entry`` attributes with the item's position in the teacher's upload,
    for upload.js to show the file's own name (known only to the browser); empty otherwise."""
    position = label_position(item.label)
    if position is None:
        return ""
    return format_html(' data-file="{}" data-entry="{}"', *position)
