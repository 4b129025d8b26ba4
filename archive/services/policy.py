"""The archive's de-identification policy, built from settings, and the check that every part of
it is present.

The profile is the privacy officer's choice of PS3.15 options (``TA_DEID_PROFILE``, see
``docs/deid-profile.md``); an unknown or contradictory option, or one that keeps identifying
values (Full Dates, Retain UIDs) without ``TA_DEID_ACCEPT_IDENTIFYING_OPTIONS`` naming it, stops
the start-up with a sentence that says what to change.

The keys come from settings (environment or the generated keys file) and are never stored with
the data: whoever holds the database and the files cannot reverse a pseudonym or a UID without
them. Nothing on this path is optional: the burned-in text cleaner (OpenCV and the RapidOCR
ONNX models) is imported unconditionally, so a build without it fails at start-up (the app's
``ready``, the worker's start and ``manage.py check`` say why) instead of publishing images whose
pixels were never looked at.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from archive.deid import Policy
from archive.deid.enums import ProfileOptionValues
from archive.deid.limits import InputLimits
from archive.deid.options import ProfileError, parse_acknowledgements, parse_profile
from archive.deid.spool import configure as configure_spool

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


def profile_from(
    profile: str | Iterable[str], accepted: str | Iterable[str]
) -> tuple[ProfileOptionValues, ...]:
    """Read and check a profile as the settings give it (``TA_DEID_PROFILE`` and
    ``TA_DEID_ACCEPT_IDENTIFYING_OPTIONS``), in the standard's order.

    Raises
    ------
    ImproperlyConfigured
        With a sentence naming the setting and what to change.
    """
    try:
        acknowledged = parse_acknowledgements(accepted)
    except ProfileError as exc:
        raise ImproperlyConfigured(f"TA_DEID_ACCEPT_IDENTIFYING_OPTIONS: {exc}") from None
    try:
        options = parse_profile(profile, acknowledged)
    except ProfileError as exc:
        if exc.needs_acknowledgement:
            raise ImproperlyConfigured(
                f"TA_DEID_PROFILE: {exc.problem} Remove it from TA_DEID_PROFILE or, if your "
                "privacy officer accepts that risk, set TA_DEID_ACCEPT_IDENTIFYING_OPTIONS="
                f"{exc.needs_acknowledgement}."
            ) from None
        raise ImproperlyConfigured(f"TA_DEID_PROFILE: {exc}") from None
    return tuple(option for option in ProfileOptionValues if option in options)


def effective_profile() -> tuple[ProfileOptionValues, ...]:
    """The profile in force (settings ``DEID_PROFILE``, ``DEID_ACCEPT_IDENTIFYING_OPTIONS``)."""
    return profile_from(settings.DEID_PROFILE, settings.DEID_ACCEPT_IDENTIFYING_OPTIONS)


def input_limits() -> InputLimits:
    """What one file may declare and hold (``TA_MAX_FRAME_PIXEL_BYTES`` and the rest)."""
    return InputLimits(
        max_frame_bytes=settings.TA_MAX_FRAME_PIXEL_BYTES,
        max_instance_bytes=settings.TA_MAX_INSTANCE_PIXEL_BYTES,
        max_depth=settings.TA_MAX_SEQUENCE_DEPTH,
        max_elements=settings.TA_MAX_ELEMENTS,
        max_value_bytes=settings.TA_MAX_VALUE_BYTES,
    )


@lru_cache(maxsize=8)
def _policy(
    profile: tuple[ProfileOptionValues, ...],
    uid_key: str,
    pseudonym_key: str,
    uid_root: str,
    limits: InputLimits,
) -> Policy:
    options: dict = {
        "uid_key": uid_key.encode(),
        "pseudonym_key": pseudonym_key.encode(),
        "pixel_cleaner": load_pixel_cleaner(),
        "limits": limits,
    }
    if uid_root:
        options["uid_root"] = uid_root
    return Policy.from_profile(profile, **options)


def archive_policy() -> Policy:
    """The policy every de-identification of the archive uses (built once per settings).

    A large output's temporary files (``archive.deid.spool``) go to the incoming area, the
    owner-only folder where received files wait too, not the system's shared one."""
    from archive.services.incoming import incoming_dir

    configure_spool(incoming_dir())
    return _policy(
        effective_profile(),
        settings.DEID_UID_KEY,
        settings.DEID_PSEUDONYM_KEY,
        settings.DEID_UID_ROOT or "",
        input_limits(),
    )
