"""System checks of the archive: ``manage.py check`` (and every command that runs checks) says
why the archive would not be safe to run, before a teacher uploads anything; ``check --deploy``
adds what a production host must get right."""

from __future__ import annotations

import os
import stat

from django.conf import settings
from django.core import checks
from django.core.checks import Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.security)
def pixel_cleaner_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    from archive.services.policy import check_pixel_cleaner

    try:
        check_pixel_cleaner()
    except ImproperlyConfigured as exc:
        return [checks.Critical(str(exc), id="archive.E001")]
    return []


@checks.register(checks.Tags.security)
def deid_profile_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The de-identification profile names real options that fit together, and any option
    that keeps identifying values is acknowledged (and then still reported)."""
    from archive.deid.options import IDENTIFYING_OPTIONS
    from archive.services.policy import effective_profile

    try:
        profile = effective_profile()
    except ImproperlyConfigured as exc:
        return [checks.Critical(str(exc), id="archive.E002")]
    return [
        checks.Warning(
            f"TA_DEID_PROFILE keeps identifying values ({option.value}), acknowledged by "
            "TA_DEID_ACCEPT_IDENTIFYING_OPTIONS; cases published from this archive can be "
            "linked back to patients.",
            hint="Remove the option unless your privacy officer has signed off this profile.",
            id="archive.W002",
        )
        for option in profile
        if option in IDENTIFYING_OPTIONS
    ]


#: Storages whose files may identify a patient, and the setting that names their folder.
PRIVATE_STORAGES = {"raw_holding": "TA_RAW_HOLDING_ROOT", "quarantine": "TA_QUARANTINE_ROOT"}


@register(Tags.security, deploy=True)
def private_folders_are_private(app_configs=None, **kwargs) -> list[Warning]:
    """The holding and quarantine folders must not be open to other users of the machine.

    The storages create files 0600 and folders 0700, but a root folder made earlier (by hand, or
    before these modes were set) keeps its old mode.
    """
    found = []
    for alias, setting in PRIVATE_STORAGES.items():
        location = settings.STORAGES[alias].get("OPTIONS", {}).get("location")
        if not location or not os.path.isdir(location):
            continue  # created 0700 by the storage on first use
        mode = stat.S_IMODE(os.stat(location).st_mode)
        if mode & 0o077:
            found.append(
                Warning(
                    f"{setting} ({location}) is open to other users of this machine (mode "
                    f"{mode:04o}); the files in it may identify patients.",
                    hint=f"Run: chmod -R go= {location}",
                    id="archive.W001",
                )
            )
    return found


@register(Tags.security, deploy=True)
def no_test_hooks(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The test suite's hooks (a worker that kills itself on a given file) never in production."""
    if getattr(settings, "TA_TEST_HOOKS", False):
        return [
            checks.Critical(
                "TA_TEST_HOOKS is on: it lets the test suite make a worker kill itself on a "
                "given file. Unset it outside the test suite.",
                id="archive.E010",
            )
        ]
    return []
