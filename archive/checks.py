"""System checks of the privacy path: ``manage.py check`` (and every command that runs checks)
says why the archive would not be safe to run, before a teacher uploads anything."""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.security)
def pixel_cleaner_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    from archive.services.policy import check_pixel_cleaner

    try:
        check_pixel_cleaner()
    except ImproperlyConfigured as exc:
        return [checks.Critical(str(exc), id="archive.E001")]
    return []
