"""``settings.STORAGES`` from the environment: folders on this machine, or S3-compatible buckets.

``TA_STORAGE=filesystem`` (the default, ``make run``) keeps every storage in a folder under
``var/``; ``TA_STORAGE=s3`` puts the four storages the archive reads and writes (anonymized
instances, raw holding area, quarantine, render cache) in S3-compatible object storage, so that
workers on several machines share them. ``archive/storage.py`` says what each one holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

#: The archive's storages, and the prefix each one gets in an S3 bucket.
AREAS = {
    "default": "media",
    "raw_holding": "holding",
    "quarantine": "quarantine",
    "render_cache": "render-cache",
}

# Raw and quarantined files may identify a patient: readable by the archive's own user only,
# whatever the umask of the process that writes them (web, worker or DICOM listener).
PRIVATE_FILE_OPTIONS = {
    "base_url": None,
    "file_permissions_mode": 0o600,
    "directory_permissions_mode": 0o700,
}

FILESYSTEM = "archive.storage.ArchiveFileSystemStorage"
S3 = "archive.storage_s3.ArchiveS3Storage"


def filesystem_storages(
    *, media: Path, holding: Path, quarantine: Path, render_cache: Path
) -> dict[str, dict]:
    return {
        "default": {"BACKEND": FILESYSTEM, "OPTIONS": {"location": str(media)}},
        "raw_holding": {
            "BACKEND": FILESYSTEM,
            "OPTIONS": {"location": str(holding), **PRIVATE_FILE_OPTIONS},
        },
        "quarantine": {
            "BACKEND": FILESYSTEM,
            "OPTIONS": {"location": str(quarantine), **PRIVATE_FILE_OPTIONS},
        },
        "render_cache": {
            "BACKEND": FILESYSTEM,
            # Derived data: rendered again if a crash loses it, so not flushed to the disk.
            "OPTIONS": {"location": str(render_cache), "allow_overwrite": True, "durable": False},
        },
    }


def s3_storages(env: Mapping[str, str]) -> dict[str, dict]:
    """One entry per area: bucket ``TA_S3_BUCKET`` (or ``TA_S3_BUCKET_<AREA>``), prefix
    ``AREAS[area]``. Objects are private; URLs are never handed out (views serve the files)."""
    from botocore.config import Config

    bucket = env.get("TA_S3_BUCKET", "")
    endpoint = env.get("TA_S3_ENDPOINT_URL", "") or None
    client = Config(
        # An endpoint on a single host (S3Proxy, MinIO, Ceph) has no per-bucket host names.
        s3={"addressing_style": env.get("TA_S3_ADDRESSING_STYLE", "path" if endpoint else "auto")},
        signature_version="s3v4",
        # Checksums only where S3 requires them: S3-compatible servers (S3Proxy among them)
        # refuse the extra checksum headers boto3 sends by default since 1.36.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    common = {
        "endpoint_url": endpoint,
        "region_name": env.get("TA_S3_REGION", "us-east-1"),
        # Empty: boto3's own chain (instance role, ~/.aws, AWS_* variables).
        "access_key": env.get("TA_S3_ACCESS_KEY_ID", "") or None,
        "secret_key": env.get("TA_S3_SECRET_ACCESS_KEY", "") or None,
        "default_acl": "private",
        "querystring_auth": True,
        "file_overwrite": True,
        "client_config": client,
    }
    out = {}
    for area, prefix in AREAS.items():
        name = env.get(f"TA_S3_BUCKET_{prefix.upper().replace('-', '_')}", "") or bucket
        if not name:
            raise ImproperlyConfigured(
                "TA_STORAGE=s3 needs a bucket: set TA_S3_BUCKET (or one TA_S3_BUCKET_<AREA> "
                "for each of MEDIA, HOLDING, QUARANTINE and RENDER_CACHE)."
            )
        out[area] = {
            "BACKEND": S3,
            "OPTIONS": {**common, "bucket_name": name, "location": prefix},
        }
    return out


def storages_from(
    env: Mapping[str, str], *, media: Path, holding: Path, quarantine: Path, render_cache: Path
) -> dict[str, dict]:
    kind = env.get("TA_STORAGE", "filesystem")
    if kind == "filesystem":
        areas = filesystem_storages(
            media=media, holding=holding, quarantine=quarantine, render_cache=render_cache
        )
    elif kind == "s3":
        areas = s3_storages(env)
    else:
        raise ImproperlyConfigured("TA_STORAGE must be filesystem or s3.")
    return {**areas, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"}}
