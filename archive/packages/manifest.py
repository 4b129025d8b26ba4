"""The manifest of a case package: its JSON Schema, and the check every import starts with."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

__all__ = ["FORMAT", "SCHEMA_PATH", "VERSION", "PackageError", "check_manifest", "schema"]

FORMAT = "teaching-archive-case-package"
VERSION = 1
SCHEMA_PATH = Path(__file__).resolve().parent / "case-package.schema.json"


class PackageError(ValueError):
    """A package that cannot be read: the message says why, in a sentence a teacher can act on
    (it never quotes the package's text)."""


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def check_manifest(manifest: Any) -> dict[str, Any]:
    """``manifest`` if it is a valid version-1 manifest, else ``PackageError`` naming where."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise PackageError("This is not a case package: its manifest.json is not one.")
    if manifest.get("version") != VERSION:
        raise PackageError(
            f"This case package is of version {manifest.get('version')!r}; this archive reads "
            f"version {VERSION}. Export it again from an archive of the same version."
        )
    errors = sorted(Draft202012Validator(schema()).iter_errors(manifest), key=lambda e: e.path)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "the top level"
        # The validator's message may quote a value from the package: only the place is given.
        raise PackageError(
            f"The package's manifest.json does not follow the case-package schema at {where} "
            f"({errors[0].validator}). Export it again, or fix that part."
        )
    return manifest
