"""The archive's storages, and the names of the files in them.

Every file the archive keeps is reached through a Django storage chosen in ``settings.STORAGES``
(invariant 8: any worker on any machine can process any file), never through a local path:

* ``default`` — anonymized, verified instances (``instance_file_name``), served only by views
  that check permissions;
* ``raw_holding`` — raw uploads while they wait for the worker (and a browser upload's originals
  during the teacher's review); no URL maps to it;
* ``quarantine`` — files that failed verification, and received studies that could not be filed;
* ``render_cache`` — rendered PNGs of frames (derived data; safe to lose).

The embedded setup keeps them in folders under ``var/`` (``ArchiveFileSystemStorage``);
production may put them in S3-compatible object storage (``archive.storage_s3``, configured by
``teaching_archive/storages.py``). Both classes add what the archive needs and Django's storage
API leaves open — atomic writes, no empty folders left behind, a cheap listing with sizes
(``entries``), refreshing a cache entry's age (``touch``) — under the same names, so callers
never ask which one they have.

Django evaluates a FileField's storage callable once, when the model class loads. The storages
must follow settings instead (tests point them at temporary folders or buckets, and a worker
process must find the same files), so fields get a lazy proxy, like Django's own
``default_storage``, that is reset whenever ``STORAGES`` changes.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import setting_changed
from django.db import transaction
from django.utils.deconstruct import deconstructible
from django.utils.functional import LazyObject, empty

log = logging.getLogger(__name__)

_proxies: list[AliasedStorage] = []


def instance_file_name(case_id: int, sop_uid: str, revision: int = 0) -> str:
    """Where an anonymized instance's file lives in the default storage.

    Named by the pseudonymous SOP Instance UID only, so no original name survives; a teacher's
    re-redaction stores revision ``n`` under a new name (``.r<n>``), so rendered-frame caches
    and ETags, which follow the name, never show the old pixels.
    """
    suffix = f".r{revision}" if revision else ""
    return f"instances/{case_id}/{sop_uid}{suffix}.dcm"


def received_output_name(upload_public_id, item_id: int) -> str:
    """Where the de-identified output of an instance received while its association is still
    open waits (in the raw holding storage, never served) until the association is released
    and the instance is filed into the case, next to the association's raw files."""
    return f"dimse/{upload_public_id}/{item_id:08d}.deid"


class AliasedStorage(LazyObject):
    def __init__(self, alias: str) -> None:
        super().__init__()
        self.__dict__["_alias"] = alias
        _proxies.append(self)

    def _setup(self) -> None:
        self._wrapped = storages[self._alias]


def _reset(*, setting: str, **_kwargs) -> None:
    if setting == "STORAGES":
        for proxy in _proxies:
            proxy._wrapped = empty


setting_changed.connect(_reset)

raw_holding = AliasedStorage("raw_holding")
quarantine = AliasedStorage("quarantine")
render_cache = AliasedStorage("render_cache")


def replace(storage, name: str, data: bytes | BinaryIO) -> str:
    """Store ``data`` (bytes, or a file read from where it stands) under exactly ``name``,
    replacing what is there; returns the name.

    Readers never see a partial file: the filesystem storages below write a temporary file and
    rename it, and an object store shows an object only once it is complete.
    """
    if storage.exists(name):
        storage.delete(name)
    return storage.save(name, ContentFile(data) if isinstance(data, bytes) else File(data))


def release_files(rows, field: str, storage, what: str) -> int:
    """Clear ``field`` on each row (a queryset locked by the caller's transaction) and delete
    the files once that transaction commits: a rollback keeps both the rows and the files. A
    file that cannot be deleted is logged as ``what`` (never by name: names can be read as
    patient data by whoever reads logs) and left for its sweep. Returns how many."""
    names = []
    for row in rows:
        names.append(getattr(row, field).name)
        setattr(row, field, "")
        row.save(update_fields=[field])

    def delete() -> None:
        for name in names:
            try:
                storage.delete(name)
            except OSError:
                log.warning("Could not delete %s; its sweep will retry", what)

    if names:
        transaction.on_commit(delete)
    return len(names)


def transfer(source, source_name: str, target, target_name: str) -> str:
    """Put the file ``source_name`` of ``source`` under exactly ``target_name`` in ``target``
    (replacing what is there); returns the name.

    Where both storages allow it the bytes never pass through this process: a hard link within
    one filesystem, a server-side copy within one object store (``adopt``); otherwise the file
    is streamed across. The source stays: its owner deletes it once the new file is recorded,
    so a transaction rolled back in between loses nothing (the next run transfers again).
    Raises ``FileNotFoundError`` if the source is gone.
    """
    adopt = getattr(target, "adopt", None)
    if adopt is not None and adopt(source, source_name, target_name):
        return target_name
    with source.open(source_name, "rb") as fh:
        if target.exists(target_name):
            target.delete(target_name)
        return target.save(target_name, File(fh))


def open_local(storage, name: str):
    """The stored file ``name`` as a seekable binary file on this machine, open for reading
    (the caller closes it); ``FileNotFoundError`` if it is gone.

    A folder storage's file is opened where it lies. Any other storage's (an object store's)
    is streamed, a piece at a time, into a :class:`~archive.deid.spool.Spool`: in memory for a
    small file, in an unnamed temporary file (mode 0600, in the worker's incoming folder) for a
    large one, never in memory whole (django-storages' own ``open`` keeps an object in memory).
    """
    from archive.deid.spool import PIECE, Spool

    if isinstance(storage, FileSystemStorage):
        return open(storage.path(name), "rb")  # noqa: SIM115 - the caller closes it
    target = Spool()
    try:
        download = getattr(storage, "download", None)
        if download is not None:
            download(name, target)
        else:
            with storage.open(name, "rb") as fh:
                while piece := fh.read(PIECE):
                    target.write(piece)
        target.seek(0)
    except BaseException:
        target.close()
        raise
    return target


def delete_folder(storage, folder: str) -> None:
    """Remove a folder left empty (a filesystem keeps it; an object store has none)."""
    try:
        storage.delete(folder)
    except OSError:
        pass  # not empty, or already gone


@dataclass(frozen=True)
class Entry:
    """A stored file as a listing reports it."""

    name: str
    size: int
    modified: dt.datetime


def walk(storage, prefix: str = "") -> Iterator[Entry]:
    """Every file under ``prefix`` with its size and modification time.

    One listing call per folder (or page of objects) where the storage offers ``entries``; the
    generic fallback asks for each file's size and time separately.
    """
    entries = getattr(storage, "entries", None)
    if entries is not None:
        yield from entries(prefix)
        return
    try:
        folders, files = storage.listdir(prefix)
    except FileNotFoundError:
        return
    for name in files:
        path = f"{prefix}/{name}" if prefix else name
        yield Entry(path, storage.size(path), storage.get_modified_time(path))
    for folder in folders:
        yield from walk(storage, f"{prefix}/{folder}" if prefix else folder)


@deconstructible(path="archive.storage.ArchiveFileSystemStorage")
class ArchiveFileSystemStorage(FileSystemStorage):
    """A folder on this machine (the embedded setup), with atomic writes.

    A file is written next to its final name and renamed into place, so a reader (a worker, the
    listener's sweep, a render cache hit) never sees half of it, and flushed to the disk first
    (``durable``): the DICOM listener tells a PACS "stored" once the save returns. Deleting a
    file also removes the folders it leaves empty, as an object store would.
    """

    def __init__(self, *args, durable: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.durable = durable

    def _save(self, name, content):
        if hasattr(content, "temporary_file_path"):
            return super()._save(name, content)  # a rename already
        full_path = self.path(name)
        folder = os.path.dirname(full_path)
        self._make_folder(folder)
        partial = f"{full_path}.{secrets.token_hex(6)}.part"
        mode = self.file_permissions_mode or 0o666
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileNotFoundError:  # the folder was just removed as empty by a delete
            os.makedirs(folder, exist_ok=True)
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            with os.fdopen(fd, "wb") as fh:
                if self.file_permissions_mode is not None:
                    os.fchmod(fh.fileno(), self.file_permissions_mode)
                for chunk in content.chunks():
                    fh.write(chunk if isinstance(chunk, bytes) else chunk.encode())
                if self.durable:
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(partial, full_path)
            _stamp(full_path)
        except BaseException:
            try:
                os.unlink(partial)
            except FileNotFoundError:
                pass
            raise
        return os.path.relpath(full_path, self.location).replace("\\", "/")

    #: ``os.link`` failures that mean "not here" (another filesystem, no hard links), not "lost".
    _NO_LINK = frozenset({errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES})

    def adopt(self, source, source_name: str, name: str) -> bool:
        """``transfer`` a file of another folder storage on the same filesystem by a hard link:
        no byte is copied, and the file takes this storage's permissions (the source's name
        is deleted by its owner). Returns False where a link cannot be made."""
        if not isinstance(source, ArchiveFileSystemStorage):
            return False
        origin = source.path(source_name)
        full_path = self.path(name)
        folder = os.path.dirname(full_path)
        partial = f"{full_path}.{secrets.token_hex(6)}.part"
        for _attempt in range(2):
            self._make_folder(folder)
            try:
                os.link(origin, partial)
                break
            except FileNotFoundError:
                if not os.path.exists(origin):
                    raise
                # The folder was just removed as empty by a delete: made again above.
            except OSError as exc:
                if exc.errno in self._NO_LINK:
                    return False
                raise
        else:
            return False
        try:
            if self.file_permissions_mode is not None:
                os.chmod(partial, self.file_permissions_mode)
            os.replace(partial, full_path)
            _stamp(full_path)
        finally:
            # Gone after the rename, except where ``full_path`` already was this very file (a
            # run again after a rollback): then the rename does nothing and leaves it.
            try:
                os.unlink(partial)
            except FileNotFoundError:
                pass
        return True

    def _make_folder(self, folder: str) -> None:
        if self.directory_permissions_mode is not None:
            from django.utils._os import safe_makedirs

            safe_makedirs(folder, self.directory_permissions_mode, exist_ok=True)
        else:
            os.makedirs(folder, exist_ok=True)

    def delete(self, name):
        super().delete(name)
        # Folders left empty go too (up to the root), as in an object store.
        folder = os.path.dirname(self.path(name))
        while os.path.abspath(folder).startswith(self.location + os.sep):
            try:
                os.rmdir(folder)
            except OSError:
                break
            folder = os.path.dirname(folder)

    def entries(self, prefix: str = "") -> Iterator[Entry]:
        root = self.path(prefix) if prefix else self.location
        stack = [root]
        while stack:
            try:
                scan = list(os.scandir(stack.pop()))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in scan:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                        continue
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue  # deleted meanwhile
                if entry.name.endswith(".part"):
                    continue  # being written
                name = os.path.relpath(entry.path, self.location).replace("\\", "/")
                modified = dt.datetime.fromtimestamp(st.st_mtime, tz=dt.UTC)
                yield Entry(name, st.st_size, modified)

    def touch(self, name: str) -> None:
        """Mark a file as just used (its modification time is its age in the render cache)."""
        try:
            _stamp(self.path(name))
        except OSError:
            pass  # evicted meanwhile by another process


def _stamp(path: str) -> None:
    # The clock's own time, not the kernel's coarse file timestamp (a few ms): the render
    # cache's eviction orders entries written or used within the same tick.
    now = time.time_ns()
    os.utime(path, ns=(now, now))
