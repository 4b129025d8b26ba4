"""A web worker's memory stays flat during a 1 GB upload (issue 10, finding 6).

The real web server (gunicorn, as ``make run`` starts it) runs against the test database; a
teacher's session uploads a 1 GB file generated on the fly, through the browser form and through
STOW-RS, while the test samples the gunicorn worker's resident memory from ``/proc``. Then the
same server, started with small limits, refuses what is over them with its sentences — a body
declared too large before the server reads a byte of it.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from archive.models import Case, Upload
from tests.conftest import REPO, WorkerProcess, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MB = 1024 * 1024
GB = 1024 * MB
CSRF = "c" * 32
#: The most a 1 GB upload may add to the worker's resident memory (it used to add the file).
RSS_GROWTH_BOUND = 100 * MB


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kb(status: str, field: str) -> int:
    for line in status.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"{field} not in /proc status")


class WebServer:
    """gunicorn with one sync worker, as scripts/run.sh runs it, on a free port."""

    def __init__(self, storage: dict[str, Path], log_path: Path, extra_env: dict[str, str]):
        self.port = _free_port()
        env = WorkerProcess(storage, log_path).env()
        env.update(extra_env)
        self.log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "teaching_archive.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--timeout",
                "300",
            ],
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for(self._ready, timeout=60, message="gunicorn to answer")

    def _ready(self) -> bool:
        assert self.proc.poll() is None, "gunicorn exited"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", "/accounts/login/")
            return conn.getresponse().status == 200
        except OSError:
            return False

    def worker_pid(self) -> int:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        (pid,) = children.split()
        return int(pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


@pytest.fixture
def start_server(storage_dirs, tmp_path) -> Iterator:
    servers: list[WebServer] = []

    def start(**extra_env: str) -> WebServer:
        servers.append(WebServer(storage_dirs, tmp_path / "gunicorn.log", extra_env))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()
    # A gigabyte of zeros per upload: do not leave it in the temporary folders.
    shutil.rmtree(storage_dirs["holding"], ignore_errors=True)


class RssSampler:
    """The worker's resident memory, sampled every 20 ms in a thread, and its high-water mark."""

    def __init__(self, pid: int) -> None:
        self.status = Path(f"/proc/{pid}/status")
        self.before = _kb(self.status.read_text(), "VmRSS")
        self.peak = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _kb(self.status.read_text(), "VmRSS"))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        # VmHWM also sees a peak between two samples.
        self.peak = max(self.peak, _kb(self.status.read_text(), "VmHWM"))
        return self.peak - self.before


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}; csrftoken={CSRF}"


def _stream(
    server: WebServer,
    path: str,
    headers: dict[str, str],
    head: bytes,
    size: int,
    tail: bytes,
    send_body: bool = True,
) -> tuple[int, bytes]:
    """POST ``head`` + ``size`` bytes generated on the fly + ``tail``; return status and body."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
    conn.putrequest("POST", path)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.putheader("Content-Length", str(len(head) + size + len(tail)))
    conn.endheaders()
    if send_body:
        conn.send(head)
        block = bytes(4 * MB)
        sent = 0
        while sent < size:
            piece = block[: min(len(block), size - sent)]
            conn.send(piece)
            sent += len(piece)
        conn.send(tail)
    response = conn.getresponse()
    return response.status, response.read()


def _form_upload(server, case, cookie, files: list[int], send_body=True) -> tuple[int, bytes]:
    """A browser upload (multipart/form-data) of files of the given sizes, as upload.js sends."""
    boundary = "----ta-memory-test"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
        f"{CSRF}\r\n"
    ).encode()
    part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        f'filename="IM{{n}}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    )
    # All files but the last go into the head (small), the last one is streamed.
    for n, size in enumerate(files[:-1]):
        head += part.format(n=n).encode() + bytes(size) + b"\r\n"
    head += part.format(n=len(files) - 1).encode()
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Cookie": cookie,
        "X-CSRFToken": CSRF,
        "Accept": "application/json",
    }
    tail = f"\r\n--{boundary}--\r\n".encode()
    return _stream(server, f"/cases/{case.pk}/upload/", headers, head, files[-1], tail, send_body)


def _stow(server, teacher, size: int) -> tuple[int, bytes]:
    boundary = "ta-memory-stow"
    token = base64.b64encode(f"{teacher.username}:pw-{teacher.username}".encode()).decode()
    headers = {
        "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
        "Authorization": f"Basic {token}",
        "Accept": "application/dicom+json",
    }
    head = f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return _stream(server, "/dicomweb/studies", headers, head, size, tail)


def _nothing_left_in_incoming(storage_dirs) -> None:
    # The request's temporary files are closed (deleted) just after its response is sent.
    folder = storage_dirs["holding"] / "incoming"
    wait_for(lambda: not list(folder.iterdir()), timeout=10, message="temporary files to go")


@pytest.fixture
def case(teacher):
    return Case.objects.create(owner=teacher, title="Big", modality="US", body_region="chest")


def test_a_1_gb_upload_leaves_the_web_workers_memory_flat(
    start_server, teacher, case, storage_dirs, capsys
):
    server = start_server()
    cookie = _session_cookie(teacher)
    pid = server.worker_pid()
    # Warm up: the first upload imports and caches what every later one uses.
    status, body = _form_upload(server, case, cookie, [64 * 1024])
    assert status == 201, body

    sampler = RssSampler(pid)
    status, body = _form_upload(server, case, cookie, [GB])
    browser_growth = sampler.stop()
    assert status == 201, body
    assert json.loads(body)["counts"]["total"] == 1

    sampler = RssSampler(pid)
    status, body = _stow(server, teacher, GB)
    stow_growth = sampler.stop()
    assert status == 202, body

    with capsys.disabled():
        print(
            f"\n1 GB upload, gunicorn worker RSS growth: browser form {browser_growth / MB:.1f} MB,"
            f" STOW-RS {stow_growth / MB:.1f} MB (before: {sampler.before / MB:.0f} MB)"
        )
    assert browser_growth < RSS_GROWTH_BOUND
    assert stow_growth < RSS_GROWTH_BOUND
    # Both files are in the holding storage, whole; no temporary file is left.
    held = sorted(p.stat().st_size for p in storage_dirs["holding"].rglob("*.raw"))
    assert held[-2:] == [GB, GB]
    _nothing_left_in_incoming(storage_dirs)


def test_the_real_server_refuses_what_is_over_its_limits_with_a_sentence(
    start_server, teacher, case, storage_dirs
):
    server = start_server(
        TA_MAX_FILE_BYTES=str(MB),
        TA_MAX_REQUEST_BYTES=str(8 * MB),
        TA_MAX_UPLOAD_TOTAL_BYTES=str(3 * MB),
        TA_MAX_FILES_PER_REQUEST="5",
    )
    cookie = _session_cookie(teacher)

    # Declared 3 GB: refused from its headers, before the server reads a byte of the body.
    status, body = _form_upload(server, case, cookie, [3 * GB], send_body=False)
    assert status == 413
    assert json.loads(body)["error"] == (
        "This upload is larger than the limit of 8 MB per request; nothing was stored. "
        "Send the files in several smaller uploads."
    )
    status, body = _form_upload(server, case, cookie, [10] * 6)
    assert status == 413
    assert "more than 5 files" in json.loads(body)["error"]
    assert not Upload.objects.exists()

    # Over the per-file limit, then over the upload's total: reasons per file, the rest stored.
    status, body = _form_upload(server, case, cookie, [2 * MB] + [1000 * 1024] * 4)
    assert status == 201, body
    items = json.loads(body)["items"]
    assert [i["status"] for i in items] == ["rejected", "pending", "pending", "pending", "rejected"]
    assert items[0]["reason"] == (
        "This file is larger than the limit of 1 MB per file; it was not stored."
    )
    assert items[4]["reason"] == (
        "The files of this upload add up to more than 3 MB, the total one upload may hold; "
        "this file was not stored. Upload it separately."
    )
    _nothing_left_in_incoming(storage_dirs)


def test_rss_is_read_from_proc():
    # The sampler reads Linux's /proc; make the dependency explicit rather than silently pass.
    assert os.path.exists(f"/proc/{os.getpid()}/status")
    assert _kb(Path(f"/proc/{os.getpid()}/status").read_text(), "VmRSS") > 0
