"""What the archive asks of a storage beyond Django's API (archive/storage.py), one contract for
the filesystem and for S3 (a live S3Proxy bucket): exact names replaced whole, listings with
sizes, a used entry becoming the youngest, deletes that really delete, and STORAGES built from
the environment."""

from __future__ import annotations

import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile

from archive import storage as storages
from archive.storage import ArchiveFileSystemStorage, instance_file_name
from teaching_archive.storages import AREAS, storages_from


class StorageContract:
    """Subclasses provide the ``store`` fixture (an empty storage) and ``tick`` (seconds
    between two modification times the storage can tell apart)."""

    tick = 0.0

    def test_replace_keeps_the_exact_name_and_the_last_bytes(self, store):
        name = "dimse/abc/00000001.raw"
        assert storages.replace(store, name, b"first") == name
        assert storages.replace(store, name, b"second") == name
        with store.open(name, "rb") as fh:
            assert fh.read() == b"second"
        assert [e.name for e in storages.walk(store)] == [name]

    def test_listing_gives_sizes_and_times_under_a_prefix(self, store):
        store.save("a/1.png", ContentFile(b"x" * 10))
        store.save("a/b/2.png", ContentFile(b"y" * 20))
        store.save("c/3.png", ContentFile(b"z" * 30))
        found = {e.name: e.size for e in storages.walk(store)}
        assert found == {"a/1.png": 10, "a/b/2.png": 20, "c/3.png": 30}
        assert {e.name for e in storages.walk(store, "a")} == {"a/1.png", "a/b/2.png"}
        assert all(e.modified.tzinfo is not None for e in storages.walk(store))

    def test_a_touched_entry_becomes_the_youngest(self, store):
        store.save("old.png", ContentFile(b"old"))
        time.sleep(self.tick)
        store.save("new.png", ContentFile(b"new"))
        time.sleep(self.tick)
        store.touch("old.png")
        ages = sorted(storages.walk(store), key=lambda e: e.modified)
        assert [e.name for e in ages] == ["new.png", "old.png"]

    def test_a_delete_really_deletes_and_leaves_no_folder(self, store):
        store.save("dimse/abc/00000001.raw", ContentFile(b"raw"))
        store.delete("dimse/abc/00000001.raw")
        storages.delete_folder(store, "dimse/abc")
        assert not store.exists("dimse/abc/00000001.raw")
        assert list(storages.walk(store)) == []
        assert store.listdir("") == ([], [])

    def test_a_stored_file_opens_as_a_seekable_file_without_being_read_whole(
        self, store, tmp_path, monkeypatch
    ):
        """What the worker opens a received file with (``open_local``): a file that seeks, as
        pydicom reads it; a folder's file where it lies, an object past the spool's memory in
        an unnamed temporary file (nothing named left in the folder)."""
        from archive.deid import spool

        folder = tmp_path / "spool"
        folder.mkdir()
        monkeypatch.setattr(spool, "_directory", str(folder))
        data = bytes(range(256)) * (spool.SPOOL_MEMORY // 256 + 1000)
        name = storages.replace(store, "dimse/abc/00000002.raw", data)
        with storages.open_local(store, name) as fh:
            assert getattr(fh, "rolled", True)  # on disk either way, not in memory
            fh.seek(len(data) - 10)
            assert fh.read() == data[-10:]
            fh.seek(128)
            assert fh.read(4) == data[128:132]
        assert list(folder.iterdir()) == []
        with pytest.raises(FileNotFoundError):
            storages.open_local(store, "dimse/abc/gone.raw")


class TestFileSystemStorage(StorageContract):
    @pytest.fixture
    def store(self, tmp_path):
        return ArchiveFileSystemStorage(location=str(tmp_path / "area"), allow_overwrite=True)

    def test_private_modes_and_no_partial_file_left(self, tmp_path):
        store = ArchiveFileSystemStorage(
            location=str(tmp_path / "private"),
            file_permissions_mode=0o600,
            directory_permissions_mode=0o700,
        )
        name = storages.replace(store, "dimse/abc/00000001.raw", b"raw")
        path = tmp_path / "private" / name
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.parent.stat().st_mode & 0o777 == 0o700
        assert [p.name for p in path.parent.iterdir()] == ["00000001.raw"]


@pytest.mark.django_db
class TestS3Storage(StorageContract):
    tick = 1.1  # S3 keeps LastModified to the second

    @pytest.fixture
    def store(self, s3_storages):
        return storages.render_cache


def test_a_storage_without_local_paths_is_streamed_into_a_spool():
    """Any other storage (no ``path``, no ``download``): read a piece at a time."""
    from django.core.files.storage import InMemoryStorage

    store = InMemoryStorage()
    name = store.save("received.dcm", ContentFile(b"DICM" * 1000))
    with storages.open_local(store, name) as fh:
        fh.seek(400)
        assert fh.read(8) == b"DICMDICM"
        assert not fh.rolled  # small: kept in memory


def test_storages_from_the_environment(tmp_path):
    folders = {
        "media": tmp_path / "m",
        "holding": tmp_path / "h",
        "quarantine": tmp_path / "q",
        "render_cache": tmp_path / "r",
    }
    default = storages_from({}, **folders)
    assert {default[a]["BACKEND"] for a in AREAS} == {"archive.storage.ArchiveFileSystemStorage"}
    assert default["raw_holding"]["OPTIONS"]["file_permissions_mode"] == 0o600
    s3 = storages_from({"TA_STORAGE": "s3", "TA_S3_BUCKET": "archive"}, **folders)
    assert {s3[a]["OPTIONS"]["location"] for a in AREAS} == {
        "media",
        "holding",
        "quarantine",
        "render-cache",
    }
    assert {s3[a]["OPTIONS"]["default_acl"] for a in AREAS} == {"private"}
    split = storages_from(
        {"TA_STORAGE": "s3", "TA_S3_BUCKET": "archive", "TA_S3_BUCKET_HOLDING": "raw"}, **folders
    )
    assert split["raw_holding"]["OPTIONS"]["bucket_name"] == "raw"
    assert split["default"]["OPTIONS"]["bucket_name"] == "archive"
    with pytest.raises(ImproperlyConfigured, match="TA_S3_BUCKET"):
        storages_from({"TA_STORAGE": "s3"}, **folders)
    with pytest.raises(ImproperlyConfigured, match="filesystem or s3"):
        storages_from({"TA_STORAGE": "ftp"}, **folders)


def test_an_instance_file_lives_under_its_case_by_its_pseudonymous_uid():
    assert instance_file_name(7, "2.25.1") == "instances/7/2.25.1.dcm"
    assert instance_file_name(7, "2.25.1", revision=2) == "instances/7/2.25.1.r2.dcm"
