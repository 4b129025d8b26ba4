"""De-identification policy: secrets and the PS3.15 options in use."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from archive.deid.enums import DateModeValues, ProfileOptionValues
from archive.deid.limits import InputLimits

if TYPE_CHECKING:
    from pydicom import Dataset

    from archive.deid.hints import PhiHints

__all__ = ["DEFAULT_UID_ROOT", "PixelCleaner", "Policy"]

DEFAULT_UID_ROOT = "2.25"
"""Default UID root.

``2.25`` is the root for UUID-derived UIDs (PS3.5 B.2, ITU-T X.667); it needs no
registration.  Under this root :func:`archive.deid.uids.pseudonymize_uid` turns
the keyed hash into an RFC 9562 version-8 UUID, so generated UIDs are valid,
globally unique and at most 44 characters long.  An organisation root (e.g. one
obtained from a registration authority) can be configured instead; it must be at
most 30 characters so that at least 33 hashed digits follow it.
"""

PixelCleaner = Callable[["Dataset", "PhiHints"], object]
"""Signature of the Clean Pixel Data hook (PS3.15 E.3.1).

Called with the already header-de-identified output dataset (to be modified in
place: burned-in text redacted in every frame) and the PHI hints collected from
the input (iterating a :class:`PhiHints` yields its text hints, so
``archive.deid.pixels.clean_pixels`` fits directly).  Returns ``True`` (or an
object whose ``ok`` attribute is true) when the pixel data is known to be clean;
otherwise the instance is quarantined, with the object's ``reasons`` if any.
"""

_UID_ROOT_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")


@dataclass(frozen=True, kw_only=True)
class Policy:
    """What the engine does with an instance.

    Parameters
    ----------
    uid_key : bytes
        HMAC secret for UID remapping (never stored with the data).
    pseudonym_key : bytes
        HMAC secret for patient pseudonyms and per-patient date shifts.
    uid_root : str
        Root of generated UIDs, see :data:`DEFAULT_UID_ROOT`.
    date_mode : {"shift", "remove", "keep"}
        ``"shift"`` applies the Retain Longitudinal Temporal Information with
        Modified Dates Option (PS3.15 E.3.6); ``"keep"`` the same option with
        Full Dates; ``"remove"`` the Basic Profile.
    retain_patient_characteristics : bool
        Retain Patient Characteristics Option (PS3.15 E.3.7): age, sex, size,
        weight and similar are kept.
    clean_descriptors : bool
        Clean Descriptors Option (PS3.15 E.3.5): a few short descriptions
        (e.g. Study/Series Description) are kept when free of identifying
        values; all other descriptions and comments are removed.
    clean_graphics : bool
        Clean Graphics Option (PS3.15 E.3.3): overlays (60xx) and curves (50xx)
        are removed entirely.  The text of graphic annotations (in images and
        presentation states) is cleaned whatever this option, like SR text
        (:mod:`archive.deid.freetext`).
    retain_safe_private : bool
        Retain Safe Private Option (PS3.15 E.3.10) with the table in
        :mod:`archive.deid.private`.
    clean_structured_content : bool
        Clean Structured Content Option (PS3.15 E.3.4): the content items of SR
        documents, Key Objects and acquisition context are kept with their text
        cleaned; without it, every text value in them is replaced by a dummy.
    retain_device_identity : bool
        Retain Device Identity Option (PS3.15 E.3.8).
    retain_institution_identity : bool
        Retain Institution Identity Option (PS3.15 E.3.11).
    retain_uids : bool
        Retain UIDs Option (PS3.15 E.3.9): no UID is remapped.
    pixel_cleaner : callable, optional
        Clean Pixel Data hook, see :data:`PixelCleaner`.  Without one, an
        instance with pixel data is quarantined: burned-in text was not looked
        for.
    limits : InputLimits
        What one input may hold (declared pixel sizes, nesting, element count,
        value length), checked before anything is decoded; see
        :mod:`archive.deid.limits`.
    """

    uid_key: bytes
    pseudonym_key: bytes
    uid_root: str = DEFAULT_UID_ROOT
    date_mode: DateModeValues | str = DateModeValues.SHIFT
    retain_patient_characteristics: bool = True
    clean_descriptors: bool = True
    clean_graphics: bool = True
    retain_safe_private: bool = True
    clean_structured_content: bool = True
    retain_device_identity: bool = False
    retain_institution_identity: bool = False
    retain_uids: bool = False
    pixel_cleaner: PixelCleaner | None = None
    limits: InputLimits = InputLimits()

    @classmethod
    def from_profile(
        cls,
        options: Iterable[ProfileOptionValues | str],
        *,
        uid_key: bytes,
        pseudonym_key: bytes,
        uid_root: str = DEFAULT_UID_ROOT,
        pixel_cleaner: PixelCleaner | None = None,
        limits: InputLimits | None = None,
    ) -> Policy:
        """A policy that applies exactly the given PS3.15 options (plus the Basic Profile).

        Use :func:`archive.deid.options.parse_profile` first to read and check a profile
        written by a person; this constructor only maps options to fields.
        """
        chosen = {ProfileOptionValues(o) for o in options}
        o = ProfileOptionValues
        if o.RETAIN_LONGITUDINAL_FULL_DATES in chosen:
            date_mode = DateModeValues.KEEP
        elif o.RETAIN_LONGITUDINAL_MODIFIED_DATES in chosen:
            date_mode = DateModeValues.SHIFT
        else:
            date_mode = DateModeValues.REMOVE
        return cls(
            uid_key=uid_key,
            pseudonym_key=pseudonym_key,
            uid_root=uid_root,
            date_mode=date_mode,
            retain_patient_characteristics=o.RETAIN_PATIENT_CHARACTERISTICS in chosen,
            clean_descriptors=o.CLEAN_DESCRIPTORS in chosen,
            clean_graphics=o.CLEAN_GRAPHICS in chosen,
            retain_safe_private=o.RETAIN_SAFE_PRIVATE in chosen,
            clean_structured_content=o.CLEAN_STRUCTURED_CONTENT in chosen,
            retain_device_identity=o.RETAIN_DEVICE_IDENTITY in chosen,
            retain_institution_identity=o.RETAIN_INSTITUTION_IDENTITY in chosen,
            retain_uids=o.RETAIN_UIDS in chosen,
            pixel_cleaner=pixel_cleaner,
            limits=limits or InputLimits(),
        )

    @property
    def profile(self) -> tuple[ProfileOptionValues, ...]:
        """The PS3.15 options this policy applies, in the order of :class:`ProfileOptionValues`."""
        o = ProfileOptionValues
        chosen = {
            o.RETAIN_LONGITUDINAL_FULL_DATES: self.date_mode == DateModeValues.KEEP,
            o.RETAIN_LONGITUDINAL_MODIFIED_DATES: self.date_mode == DateModeValues.SHIFT,
            o.RETAIN_PATIENT_CHARACTERISTICS: self.retain_patient_characteristics,
            o.RETAIN_DEVICE_IDENTITY: self.retain_device_identity,
            o.RETAIN_INSTITUTION_IDENTITY: self.retain_institution_identity,
            o.RETAIN_UIDS: self.retain_uids,
            o.CLEAN_DESCRIPTORS: self.clean_descriptors,
            o.CLEAN_STRUCTURED_CONTENT: self.clean_structured_content,
            o.CLEAN_GRAPHICS: self.clean_graphics,
            o.RETAIN_SAFE_PRIVATE: self.retain_safe_private,
        }
        return tuple(option for option in ProfileOptionValues if chosen[option])

    def __post_init__(self) -> None:
        if not isinstance(self.uid_key, bytes) or len(self.uid_key) < 16:
            raise ValueError("uid_key must be a secret of at least 16 bytes.")
        if not isinstance(self.pseudonym_key, bytes) or len(self.pseudonym_key) < 16:
            raise ValueError("pseudonym_key must be a secret of at least 16 bytes.")
        if not _UID_ROOT_RE.match(self.uid_root) or len(self.uid_root) > 30:
            raise ValueError(
                "uid_root must be a valid UID root (digits and dots, no leading zeros) "
                "of at most 30 characters."
            )
        object.__setattr__(self, "date_mode", DateModeValues(self.date_mode))

    def __repr__(self) -> str:  # never show the secrets
        return (
            f"Policy(uid_root={self.uid_root!r}, "
            f"profile={','.join(o.value for o in self.profile)!r}, "
            f"pixel_cleaner={'set' if self.pixel_cleaner else None})"
        )

    @property
    def shift_dates(self) -> bool:
        """Whether dates are moved (Modified Dates)."""
        return self.date_mode == DateModeValues.SHIFT

    @property
    def retains_dates(self) -> bool:
        """Whether dates are kept in the output, moved or not (either longitudinal option)."""
        return self.date_mode != DateModeValues.REMOVE
