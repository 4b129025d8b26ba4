"""Content negotiation for WADO-RS (PS3.18 8.7): which media type and transfer syntax a client
gets for an instance, a frame or a rendered image, or ``None`` when nothing it accepts can be
made (the view answers 406).

What can be made: the stored transfer syntax (as it is), or a lossless one transcoded by pydicom
(Explicit or Implicit VR Little Endian, RLE Lossless, JPEG-LS Lossless, JPEG 2000 Lossless).
Lossy re-encoding is never offered: a teaching image keeps the pixels the teacher checked.

When the client leaves the choice to the server (``*/*``, ``transfer-syntax=*``, no type),
frames come uncompressed (so a browser viewer needs no codec) and whole instances as stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
)

__all__ = [
    "FRAME_MEDIA_TYPES",
    "TRANSCODABLE",
    "MediaRange",
    "frame_choice",
    "instance_choice",
    "parse_accept",
    "rendered_choice",
]

#: Lossless syntaxes pydicom writes (its RLE encoder, pyjpegls, pylibjpeg-openjpeg).
TRANSCODABLE: tuple[str, ...] = (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    RLELossless,
    JPEGLSLossless,
    JPEG2000Lossless,
)

#: The media type of a frame in each transfer syntax (PS3.18 Table 8.7.3-2 and -5).
FRAME_MEDIA_TYPES: dict[str, str] = {
    "1.2.840.10008.1.2.1": "application/octet-stream",
    "1.2.840.10008.1.2": "application/octet-stream",
    "1.2.840.10008.1.2.5": "image/dicom-rle",
    "1.2.840.10008.1.2.4.50": "image/jpeg",
    "1.2.840.10008.1.2.4.51": "image/jpeg",
    "1.2.840.10008.1.2.4.57": "image/jpeg",
    "1.2.840.10008.1.2.4.70": "image/jpeg",
    "1.2.840.10008.1.2.4.80": "image/jls",
    "1.2.840.10008.1.2.4.81": "image/jls",
    "1.2.840.10008.1.2.4.90": "image/jp2",
    "1.2.840.10008.1.2.4.91": "image/jp2",
    "1.2.840.10008.1.2.4.92": "image/jpx",
    "1.2.840.10008.1.2.4.93": "image/jpx",
    "1.2.840.10008.1.2.4.201": "image/jphc",
    "1.2.840.10008.1.2.4.202": "image/jphc",
    "1.2.840.10008.1.2.4.203": "image/jphc",
}
_ALIASES = {"image/x-dicom-rle": "image/dicom-rle", "image/x-jls": "image/jls"}
#: Frames encoded here for a requested image type (lossless only).
_ENCODED_AS = {"image/dicom-rle": RLELossless, "image/jls": JPEGLSLossless,
               "image/jp2": JPEG2000Lossless}  # fmt: skip
_ANY = {"*/*", "multipart/*", "*"}


@dataclass(frozen=True)
class MediaRange:
    """One entry of an Accept header: ``multipart/related; type="application/dicom"``."""

    type: str
    params: dict[str, str] = field(default_factory=dict)
    q: float = 1.0

    @property
    def part_type(self) -> str | None:
        """The type of the parts of a multipart range (``type=``), else the range itself."""
        if self.type == "multipart/related":
            part = self.params.get("type")
            return _ALIASES.get(part, part) if part else None
        return _ALIASES.get(self.type, self.type)

    @property
    def transfer_syntax(self) -> str | None:
        return self.params.get("transfer-syntax")


def _split(value: str, sep: str) -> list[str]:
    """Split on ``sep`` outside double quotes."""
    out, current, quoted = [], [], False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == sep and not quoted:
            out.append("".join(current))
            current = []
        else:
            current.append(char)
    out.append("".join(current))
    return out


def parse_accept(header: str | None) -> list[MediaRange]:
    """Media ranges of an Accept header, best first (by q, then order); ``*/*`` when empty."""
    ranges = []
    for n, item in enumerate(_split(header or "", ",")):
        pieces = [p.strip() for p in _split(item, ";")]
        if not pieces[0]:
            continue
        params, q = {}, 1.0
        for piece in pieces[1:]:
            name, _, value = piece.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
            elif name:
                params[name] = value if name == "transfer-syntax" else value.lower()
        if q > 0:
            ranges.append((-q, n, MediaRange(pieces[0].lower(), params, q)))
    if not ranges:
        return [MediaRange("*/*")]
    return [r for _q, _n, r in sorted(ranges, key=lambda t: (t[0], t[1]))]


def _transcodable(target: str, stored: str) -> bool:
    return target == stored or target in TRANSCODABLE


def instance_choice(
    accept: list[MediaRange], stored: str, *, has_pixels: bool = True
) -> str | None:
    """The transfer syntax of whole instances (``application/dicom`` parts), or None.

    Without a ``transfer-syntax`` parameter the standard's default, Explicit VR Little Endian,
    is sent; ``*`` or a range that names no type gets the stored syntax."""
    for r in accept:
        part = r.part_type
        if r.type in _ANY or part in (None, "*/*", "application/*"):
            if r.type in _ANY or r.type == "multipart/related":
                return stored
            continue
        if part != "application/dicom":
            continue
        wanted = r.transfer_syntax
        if wanted is None:
            wanted = ExplicitVRLittleEndian
        if wanted == "*":
            return stored
        if _transcodable(wanted, stored):
            if not has_pixels and UID(wanted).is_compressed:
                return ExplicitVRLittleEndian  # nothing to compress: the plain encoding
            return wanted
    return None


def frame_choice(accept: list[MediaRange], stored: str) -> tuple[str, str] | None:
    """(transfer syntax, media type) of frames or pixel bulk data, or None.

    The server's own choice (``*/*``, ``transfer-syntax=*``) is uncompressed little endian: a
    browser then decodes nothing."""
    plain = (ExplicitVRLittleEndian, "application/octet-stream")
    stored_type = FRAME_MEDIA_TYPES.get(stored)
    for r in accept:
        part, wanted = r.part_type, r.transfer_syntax
        if r.type in _ANY or part in (None, "*/*"):
            if r.type in _ANY or r.type == "multipart/related":
                return plain
            continue
        if part == "application/octet-stream":
            if wanted in (None, "*", ExplicitVRLittleEndian):
                return plain
            continue
        if part == "image/*":
            if stored_type and stored_type.startswith("image/"):
                return stored, stored_type
            continue
        if wanted not in (None, "*"):
            if FRAME_MEDIA_TYPES.get(wanted) != part:
                continue
            if wanted == stored or wanted in TRANSCODABLE:
                return wanted, part
            continue
        if part == stored_type:
            return stored, part
        if part in _ENCODED_AS:
            return _ENCODED_AS[part], part
    return None


def rendered_choice(accept: list[MediaRange]) -> str | None:
    """``image/jpeg`` (the default of PS3.18 8.7.4) or ``image/png`` for rendered images."""
    for r in accept:
        wanted = r.part_type if r.type == "multipart/related" else r.type
        if wanted in (None, "*/*", "image/*", "image/jpeg") or r.type in _ANY:
            return "image/jpeg"
        if wanted == "image/png":
            return "image/png"
    return None
