"""DICOMweb (PS3.18) for external viewers and the site's own: QIDO-RS search and WADO-RS
retrieve over published, anonymized data (plus a user's own drafts), and STOW-RS as a second
upload path for teachers.

``auth`` (session or HTTP Basic), ``selectors`` (what a user may see), ``matching`` (QIDO-RS
matching keys), ``negotiation`` (Accept → media type and transfer syntax), ``transcoding``
(frames and instances in that syntax), ``json_model`` (the DICOM JSON Model, PS3.18 F.2),
``links`` (absolute URLs), ``multipart`` (multipart/related bodies), ``views``, ``urls``.
"""

__all__ = [
    "auth",
    "json_model",
    "links",
    "matching",
    "multipart",
    "negotiation",
    "selectors",
    "transcoding",
    "urls",
    "views",
]
