"""System checks of the archive's deployment (``manage.py check --deploy``)."""

from __future__ import annotations

import os
import stat

from django.conf import settings
from django.core.checks import Tags, Warning, register

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
