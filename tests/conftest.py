"""Shared fixtures: isolated storage per test, users in each role, synthetic-PHI DICOM files,
and a real Celery worker process for the end-to-end tests."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.test import override_settings
from pydicom.data import get_testdata_file

from archive.scheduling import QUEUES
from tests.phi import SyntheticPatient, inject_phi

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _keys_for_child_processes():
    # A worker, a server or a child pytest started with another TA_VAR_DIR reads the same keys.
    os.environ.setdefault("TA_KEYS_FILE", str(django_settings.TA_KEYS_FILE))
    yield


@pytest.fixture(scope="session", autouse=True)
def _strict_pydicom():
    # Write-side validation on: an invalid value we write is an error, not a warning.
    pydicom.config.settings.writing_validation_mode = pydicom.config.RAISE
    yield


@pytest.fixture(scope="session", autouse=True)
def _plain_http_test_server():
    """The test client and the live server speak plain http, as `make run` does (TA_HTTPS=0);
    settings load before any fixture, so this undoes what TA_HTTPS's default turned on.
    tests/security checks the production values in a subprocess."""
    with override_settings(
        SECURE_SSL_REDIRECT=False,
        SESSION_COOKIE_SECURE=False,
        CSRF_COOKIE_SECURE=False,
        SECURE_HSTS_SECONDS=0,
    ):
        yield


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: the Redis one outlives a test session."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def storage_dirs(settings, tmp_path) -> dict[str, Path]:
    """Every test gets its own media, holding, quarantine and render-cache folders."""
    from teaching_archive.storages import filesystem_storages

    dirs = {name: tmp_path / name for name in ("media", "holding", "quarantine", "render")}
    for d in dirs.values():
        d.mkdir()
    settings.MEDIA_ROOT = dirs["media"]
    settings.RAW_HOLDING_ROOT = dirs["holding"]
    settings.QUARANTINE_ROOT = dirs["quarantine"]
    settings.RENDER_CACHE_ROOT = dirs["render"]
    settings.INCOMING_ROOT = ""
    settings.TA_STORAGE = "filesystem"
    # The real backends and options (private file and folder modes), only somewhere else.
    settings.STORAGES = {
        **filesystem_storages(
            media=dirs["media"],
            holding=dirs["holding"],
            quarantine=dirs["quarantine"],
            render_cache=dirs["render"],
        ),
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    return dirs


def _user(username: str, role: str | None, staff: bool = False) -> User:
    # Transactional tests flush the tables, data-migration rows included.
    from django.contrib.auth.models import Permission

    from archive.roles import ensure_roles

    ensure_roles(Group, Permission)
    user = User.objects.create_user(username=username, password="pw-" + username, is_staff=staff)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def teacher(db) -> User:
    return _user("teacher1", "teacher")


@pytest.fixture
def other_teacher(db) -> User:
    return _user("teacher2", "teacher")


@pytest.fixture
def student(db) -> User:
    return _user("student1", "student")


@pytest.fixture
def curator(db) -> User:
    return _user("curator1", "curator", staff=True)


@pytest.fixture
def patient() -> SyntheticPatient:
    return SyntheticPatient()


def dicom_bytes(ds: pydicom.Dataset) -> bytes:
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


@pytest.fixture
def phi_file(patient):
    """Factory: a real pydicom test file with the synthetic patient injected, as bytes."""

    def make(name: str = "CT_small.dcm", dataset_hook=None) -> bytes:
        ds = pydicom.dcmread(get_testdata_file(name))
        inject_phi(ds, patient)
        if dataset_hook:
            dataset_hook(ds)
        return dicom_bytes(ds)

    return make


# --- A real Celery worker process -------------------------------------------------------------


def _database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    host, port = s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{host}:{port}/{s['NAME']}"


class WorkerProcess:
    """``celery worker`` in a subprocess, sharing the test database, storage and broker.

    It consumes every queue (as ``make run``'s worker does). ``name`` is its Celery node name,
    which the items it settles record (``UploadItem.processed_by``). ``extra_env`` adds to its
    environment (e.g. ``TA_STORAGE=s3`` and the bucket, or longer claims).
    """

    def __init__(
        self,
        storage: dict[str, Path],
        log_path: Path,
        *,
        name: str = "worker@tests",
        extra_env: dict[str, str] | None = None,
    ):
        self.storage = storage
        self.log_path = log_path
        self.name = name
        self.extra_env = dict(extra_env or {})
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=_database_url(),
            TA_MEDIA_ROOT=str(self.storage["media"]),
            TA_RAW_HOLDING_ROOT=str(self.storage["holding"]),
            TA_QUARANTINE_ROOT=str(self.storage["quarantine"]),
            TA_RENDER_CACHE_ROOT=str(self.storage["render"]),
            CELERY_BROKER_URL=django_settings.CELERY_BROKER_URL,
            TA_VISIBILITY_TIMEOUT="3",
            TA_DEID_UID_KEY=django_settings.DEID_UID_KEY,
            TA_DEID_PSEUDONYM_KEY=django_settings.DEID_PSEUDONYM_KEY,
            TA_SEARCH_BACKEND=django_settings.SEARCH_BACKEND,
            PYTHONUNBUFFERED="1",
            # Servers started from this environment speak plain http, as `make run` does.
            TA_HTTPS="0",
        )
        env.update(self.extra_env)
        return env

    def start(self) -> WorkerProcess:
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "teaching_archive",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                self.name,
                "-Q",
                ",".join(QUEUES),
            ],
            cwd=REPO,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_ready(self, timeout: float = 120.0) -> WorkerProcess:
        """Wait until the worker consumes (its log says "ready.")."""
        wait_for(
            lambda: "ready." in self.log_text() or self.proc.poll() is not None,
            timeout=timeout,
            message=f"{self.name} to start",
        )
        assert self.proc.poll() is None, self.log_text()[-3000:]
        return self


def purge_broker() -> None:
    """Drop every message left in the archive's queues (by an earlier test or session)."""
    from teaching_archive.celery import app

    with app.connection_for_write() as conn:
        for queue in (*QUEUES, "celery"):
            conn.default_channel.queue_purge(queue)


@pytest.fixture
def celery_worker_process(storage_dirs, tmp_path, transactional_db) -> Iterator[WorkerProcess]:
    purge_broker()
    worker = WorkerProcess(storage_dirs, tmp_path / "worker.log").start()
    yield worker
    worker.stop()
    if os.environ.get("CI"):
        sys.stdout.write(worker.log_text()[-4000:])


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.1, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message or predicate}")
