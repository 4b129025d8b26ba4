"""The archive's de-identification policy, built once from settings, and the check that every
part of it is present.

The keys come from settings (environment or the generated keys file) and are never stored with
the data: whoever holds the database and the files cannot reverse a pseudonym or a UID without
them. Nothing on this path is optional: the burned-in text cleaner (OpenCV and the RapidOCR
ONNX models) is imported unconditionally, so a build without it fails at start-up (the app's
``ready``, the worker's start and ``manage.py check`` say why) instead of publishing images whose
pixels were never looked at.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from archive.deid import Policy

MISSING_CLEANER = (
    "The burned-in text cleaner (archive.deid.pixels: OpenCV and RapidOCR's ONNX models) cannot "
    "be loaded ({error}). The archive does not start without it, because images would be "
    "published with text in their pixels. Install the pinned requirements (`make venv`)."
)


def load_pixel_cleaner():
    """The Clean Pixel Data hook; raises ImproperlyConfigured if any part of it is missing."""
    try:
        from archive.deid.pixels import clean_pixels
    except ImportError as exc:
        raise ImproperlyConfigured(MISSING_CLEANER.format(error=type(exc).__name__)) from exc
    return clean_pixels


def check_pixel_cleaner() -> None:
    """Load the cleaner and its OCR models now (not at the first upload); raise if broken."""
    load_pixel_cleaner()
    from archive.deid.pixels import default_detector

    try:
        default_detector()
    except Exception as exc:  # an ONNX runtime that imports but cannot run is as bad
        raise ImproperlyConfigured(MISSING_CLEANER.format(error=type(exc).__name__)) from exc


@lru_cache(maxsize=1)
def archive_policy() -> Policy:
    options: dict = {
        "uid_key": settings.DEID_UID_KEY.encode(),
        "pseudonym_key": settings.DEID_PSEUDONYM_KEY.encode(),
        "pixel_cleaner": load_pixel_cleaner(),
    }
    if settings.DEID_UID_ROOT:
        options["uid_root"] = settings.DEID_UID_ROOT
    return Policy(**options)
