"""Case packages: published cases moved between archives as self-describing zips.

A package holds the anonymized DICOM files of one or more cases and ``manifest.json`` (the
case text, diagnosis with its ICD-10 code and names, key images with their annotations, tags,
licence and author), described by ``case-package.schema.json`` (docs/case-packages.md).
``export`` writes one for a user the privacy policy lets export the cases; ``importing`` reads
one into drafts of the importing teacher, through the same de-identification pipeline as any
upload: PHI in the manifest quarantines the package, an image that fails verification or
carries burned-in text is quarantined with its reason, the rest goes on.
"""

from archive.packages.manifest import FORMAT, SCHEMA_PATH, VERSION, PackageError

__all__ = ["FORMAT", "SCHEMA_PATH", "VERSION", "PackageError"]
