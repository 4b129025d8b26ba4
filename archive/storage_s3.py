"""S3-compatible object storage for the archive's storages (django-storages, boto3).

Imported only when ``TA_STORAGE=s3`` names it in ``settings.STORAGES``. Objects are private
(no public ACL, no public URLs: files are served by views that check permissions), and a
delete removes the object (buckets must not keep versions, see the README).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from botocore.exceptions import ClientError
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from archive.storage import Entry


class ArchiveS3Storage(S3Storage):
    """A bucket, or a prefix (``location``) in one, with the listing and ``touch`` of
    ``archive.storage.ArchiveFileSystemStorage``."""

    def entries(self, prefix: str = "") -> Iterator[Entry]:
        path = self._normalize_name(clean_name(prefix)) if prefix else self.location
        if path and not path.endswith("/"):
            path += "/"
        base = self.location.rstrip("/") + "/" if self.location else ""
        paginator = self.connection.meta.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket_name, Prefix=path):
            for obj in page.get("Contents", ()):
                if obj["Key"].endswith("/"):
                    continue  # a "folder" marker (some servers list their directories so)
                yield Entry(obj["Key"][len(base) :], obj["Size"], obj["LastModified"])

    def adopt(self, source, source_name: str, name: str) -> bool:
        """``archive.storage.transfer`` within one object store: a server-side copy (the bytes
        never pass through this process). Returns False for a storage elsewhere."""
        if not isinstance(source, ArchiveS3Storage) or (source.endpoint_url, source.access_key) != (
            self.endpoint_url,
            self.access_key,
        ):
            return False
        key = self._normalize_name(clean_name(name))
        origin = source._normalize_name(clean_name(source_name))
        try:
            self.connection.meta.client.copy_object(
                Bucket=self.bucket_name,
                Key=key,
                CopySource={"Bucket": source.bucket_name, "Key": origin},
                MetadataDirective="REPLACE",
                **self._get_write_parameters(name),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise FileNotFoundError(f"no object {source_name!r} to copy") from exc
            raise
        return True

    def download(self, name: str, target) -> None:
        """Write the object ``name`` into the binary file ``target`` a piece at a time
        (``archive.storage.open_local``); ``FileNotFoundError`` if there is none."""
        from archive.deid.spool import PIECE

        key = self._normalize_name(clean_name(name))
        try:
            body = self.connection.meta.client.get_object(Bucket=self.bucket_name, Key=key)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise FileNotFoundError(f"no object {name!r}") from exc
            raise
        try:
            for piece in body.iter_chunks(PIECE):
                target.write(piece)
        finally:
            body.close()

    #: A hit renews an object's age at most this often per process (a copy is a request).
    TOUCH_EVERY_SECONDS = 600.0

    def touch(self, name: str) -> None:
        """Renew the object's LastModified (its age in the render cache) by copying it onto
        itself; a bucket lifecycle rule may expire old cache objects instead."""
        now = time.monotonic()
        touched = self.__dict__.setdefault("_touched", {})
        if now - touched.get(name, -self.TOUCH_EVERY_SECONDS) < self.TOUCH_EVERY_SECONDS:
            return
        touched[name] = now
        if len(touched) > 10000:
            touched.clear()
        key = self._normalize_name(clean_name(name))
        try:
            self.connection.meta.client.copy_object(
                Bucket=self.bucket_name,
                Key=key,
                CopySource={"Bucket": self.bucket_name, "Key": key},
                MetadataDirective="REPLACE",
                ContentType="image/png",
            )
        except Exception:  # noqa: BLE001 - evicted meanwhile: the bytes already read are good
            pass
