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


_SESSION_LOCK = None


def pytest_sessionstart(session) -> None:
    """Refuse to run beside another test session on the same PostgreSQL database and broker:
    the two would share the test database and the queues, and each would see items the other
    took and settled (a slice "missing" from a case just built). A session-level advisory lock,
    released when this process ends, however it ends."""
    global _SESSION_LOCK
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    key = f"teaching-archive tests on {cfg['NAME']} with {os.environ.get('CELERY_BROKER_URL', '')}"
    conn = psycopg.connect(
        host=cfg["HOST"] or "127.0.0.1",
        port=cfg["PORT"] or 5432,
        user=cfg["USER"],
        password=cfg["PASSWORD"],
        dbname="postgres",  # always there (the named database may exist only as test_<name>)
        autocommit=True,
    )
    if not conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key]).fetchone()[0]:
        conn.close()
        pytest.exit(
            f"Another test session is running on the database test_{cfg['NAME']} and the same "
            "broker: stop it first, or give this one its own DATABASE_URL and CELERY_BROKER_URL.",
            returncode=3,
        )
    _SESSION_LOCK = conn


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

    It consumes every queue (as ``make run``'s worker does), in one process (``pool="solo"``) or
    in one child of a main process (``pool="prefork"``, as in production: a child that dies is
    replaced). ``name`` is its Celery node name,
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
        pool: str = "solo",
    ):
        self.pool = pool
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
                f"--pool={self.pool}",
                "--concurrency=1",
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


# --- A real S3 API server (S3Proxy, archive/s3_node) ------------------------------------------

S3_TEST_IDENTITY = os.environ.get("TA_S3_TEST_ACCESS_KEY_ID", "ta-s3-node")
S3_TEST_SECRET = os.environ.get("TA_S3_TEST_SECRET_ACCESS_KEY", "ta-s3-node-test-secret")


def s3_test_endpoint() -> str:
    return os.environ.get("TA_S3_TEST_ENDPOINT", "http://127.0.0.1:8333")


def _s3_answers(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(url + "/", timeout=2).close()
    except urllib.error.HTTPError as exc:  # anonymous: an S3 error document, 403
        return b"<Error>" in exc.read()
    except OSError:
        return False
    return False


@pytest.fixture(scope="session")
def s3_node() -> Iterator[dict]:
    """The S3 server at TA_S3_TEST_ENDPOINT; started from archive/s3_node when
    TA_START_S3_NODE=1 (`make test` sets it), as the Elasticsearch node is. Yields the endpoint,
    the credentials and, when this session started it, the folder its filesystem backend
    writes to (to check that a delete really removed the bytes)."""
    import urllib.parse

    url = s3_test_endpoint()
    script = REPO / "archive" / "s3_node" / "run.sh"
    node_dir = Path(os.environ.get("TA_S3_NODE_DIR", REPO / "var" / "s3-node"))
    started = None
    if not _s3_answers(url) and os.environ.get("TA_START_S3_NODE") == "1":
        started = subprocess.run(
            ["bash", str(script), "--background"],
            capture_output=True,
            text=True,
            timeout=600,
            env={
                **os.environ,
                "TA_S3_PORT": str(urllib.parse.urlsplit(url).port or 8333),
                "TA_S3_NODE_DIR": str(node_dir),
                "TA_S3_ACCESS_KEY_ID": S3_TEST_IDENTITY,
                "TA_S3_SECRET_ACCESS_KEY": S3_TEST_SECRET,
            },
        )
        if "using it" in started.stdout:  # not ours to stop
            started = None
    if not _s3_answers(url):
        why = (started.stdout + started.stderr)[-300:] if started is not None else ""
        pytest.skip(f"no S3 server answers at {url} (TA_START_S3_NODE=1 starts one) {why}")
    yield {
        "endpoint": url,
        "access_key": S3_TEST_IDENTITY,
        "secret_key": S3_TEST_SECRET,
        "data_dir": node_dir / "data" if started is not None else None,
    }
    if started is not None and started.returncode == 0:
        subprocess.run(["bash", str(script), "--stop"], capture_output=True, timeout=60)


class S3Storages:
    """Every storage of the archive in one fresh private bucket of the S3 server."""

    def __init__(self, node: dict, bucket: str):
        self.node = node
        self.bucket = bucket
        self.env = {
            "TA_STORAGE": "s3",
            "TA_S3_ENDPOINT_URL": node["endpoint"],
            "TA_S3_BUCKET": bucket,
            "TA_S3_ACCESS_KEY_ID": node["access_key"],
            "TA_S3_SECRET_ACCESS_KEY": node["secret_key"],
        }

    @property
    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.node["endpoint"],
            aws_access_key_id=self.node["access_key"],
            aws_secret_access_key=self.node["secret_key"],
            region_name="us-east-1",
            config=Config(
                s3={"addressing_style": "path"},
                signature_version="s3v4",
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        # Without "folder" markers (S3Proxy's filesystem backend lists its directories so).
        keys = [obj["Key"] for page in pages for obj in page.get("Contents", ())]
        return [key for key in keys if not key.endswith("/")]

    def files_on_disk(self, prefix: str = "") -> list[Path]:
        """The bytes the server keeps for the bucket (when this session started it)."""
        if self.node["data_dir"] is None:
            return []
        root = self.node["data_dir"] / self.bucket / prefix
        return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def s3_storages(s3_node, settings, storage_dirs) -> Iterator[S3Storages]:
    """Point every storage of this process at a new private bucket; ``.env`` does the same for
    a worker process (``WorkerProcess(extra_env=...)``)."""
    import uuid

    from teaching_archive.storages import storages_from

    area = S3Storages(s3_node, f"ta-test-{uuid.uuid4().hex[:16]}")
    area.client.create_bucket(Bucket=area.bucket, ACL="private")
    settings.TA_STORAGE = "s3"
    settings.STORAGES = {
        **storages_from(
            area.env,
            media=storage_dirs["media"],
            holding=storage_dirs["holding"],
            quarantine=storage_dirs["quarantine"],
            render_cache=storage_dirs["render"],
        ),
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    yield area
    client = area.client
    for key in area.keys():
        client.delete_object(Bucket=area.bucket, Key=key)
    client.delete_bucket(Bucket=area.bucket)
