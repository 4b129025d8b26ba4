"""DICOMweb (PS3.18) for external viewers: QIDO-RS search and WADO-RS retrieve over published,
anonymized data (plus a user's own drafts), and STOW-RS as a second upload path for teachers.

``auth`` (session or HTTP Basic), ``selectors`` (what a user may see), ``json_model`` (the
DICOM JSON Model, PS3.18 F.2), ``multipart`` (multipart/related bodies), ``views``, ``urls``.
"""

__all__ = ["auth", "json_model", "multipart", "selectors", "urls", "views"]
