"""The archive's de-identification policy, built once from settings.

The keys come from settings (environment) and are never stored with the data: whoever holds the
database and the files cannot reverse a pseudonym or a UID without them.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from archive.deid import Policy


@lru_cache(maxsize=1)
def archive_policy() -> Policy:
    options: dict = {
        "uid_key": settings.DEID_UID_KEY.encode(),
        "pseudonym_key": settings.DEID_PSEUDONYM_KEY.encode(),
    }
    if settings.DEID_UID_ROOT:
        options["uid_root"] = settings.DEID_UID_ROOT
    cleaner = pixel_cleaner()
    if cleaner is not None:
        options["pixel_cleaner"] = cleaner
    return Policy(**options)


def pixel_cleaner():
    """The burned-in text cleaner, when the pixel package is installed in this build."""
    try:
        from archive.deid.pixels import clean_pixels
    except ImportError:
        return None
    return clean_pixels
