"""C-STORE receive and processing throughput: a 300-slice CT sent by dcmtk's storescu.

Usage::

    python benchmarks/store_bench.py [--instances 300] [--db-name NAME] [--broker URL]

Three figures from the same run and the same files (CT_small.dcm copies with unique UIDs and
synthetic PHI, one series), next to dcmtk's own storescp as a reference for the machine:

1. raw receive: a bare pynetdicom Storage SCP that writes ``event.encoded_dataset()`` to disk;
2. archive receive: ``archive.dimse`` listener (AE title check, dataset validation, PHI hints,
   atomic write to the holding area, one Upload filed on release);
3. received and fully processed: from the first byte sent until one Celery worker (a real
   subprocess, production settings incl. burned-in text detection) has de-identified and
   filed every instance.

Uses its own PostgreSQL database (``<DATABASE_URL's name>_store_bench``), its own Redis
database (default ``/15``: no other worker takes its tasks) and temporary storage folders.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CALLING = "BENCHSCU"
CALLED = "TEACHARCHIVE"


def prepare_database(name: str | None) -> str:
    import psycopg

    url = urlparse(os.environ.get("DATABASE_URL", "postgres://ta:ta@127.0.0.1:5432/ta"))
    name = name or f"{url.path.lstrip('/')}_store_bench"
    with psycopg.connect(urlunparse(url), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunparse(url._replace(path=f"/{name}"))


def write_study(folder: Path, count: int) -> list[Path]:
    import pydicom
    from pydicom.data import get_testdata_file

    from tests.conftest import dicom_bytes
    from tests.phi import SyntheticPatient, inject_phi, unique_copy

    folder.mkdir(parents=True)
    base = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    inject_phi(base, SyntheticPatient())
    paths = []
    for number in range(1, count + 1):
        ds = unique_copy(base, number)
        ds.SliceLocation = float(number)
        path = folder / f"slice_{number:04d}.dcm"
        path.write_bytes(dicom_bytes(ds))
        paths.append(path)
    return paths


def storescu(port: int, paths: list[Path]) -> float:
    start = time.monotonic()
    subprocess.run(
        ["storescu", "-aet", CALLING, "-aec", CALLED, "127.0.0.1", str(port),
         *map(str, paths)],
        check=True, capture_output=True, timeout=3600,
    )  # fmt: skip
    return time.monotonic() - start


def raw_receive(paths: list[Path], out: Path) -> float:
    """Baseline: the cheapest useful Storage SCP (write what arrives, nothing else)."""
    from pynetdicom import AE, AllStoragePresentationContexts, evt

    out.mkdir()
    counter = iter(range(10**9))

    def on_store(event) -> int:
        (out / f"{next(counter):06d}.dcm").write_bytes(event.encoded_dataset())
        return 0x0000

    ae = AE(ae_title=CALLED)
    ae.supported_contexts = AllStoragePresentationContexts
    server = ae.start_server(
        ("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)]
    )
    try:
        return storescu(server.server_address[1], paths)
    finally:
        server.shutdown()


def dcmtk_receive(paths: list[Path], out: Path) -> float:
    """Reference: dcmtk's own storescp on the same loopback (what this machine's network and
    dcmtk manage without Python in the path)."""
    import socket

    out.mkdir()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    scp = subprocess.Popen(["storescp", "-aet", CALLED, "-od", str(out), str(port)])
    try:
        time.sleep(0.5)
        return storescu(port, paths)
    finally:
        scp.terminate()
        scp.wait(10)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "teaching_archive", "worker", "--pool=solo",
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=REPO, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while "ready." not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the worker did not start; see {log}")
        time.sleep(0.2)
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=300)
    parser.add_argument("--db-name", help="PostgreSQL database (default <name>_store_bench)")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="store-bench-"))
    env_updates = {
        "DATABASE_URL": prepare_database(args.db_name),
        "CELERY_BROKER_URL": args.broker,
        "TA_MEDIA_ROOT": str(tmp / "media"),
        "TA_RAW_HOLDING_ROOT": str(tmp / "holding"),
        "TA_QUARANTINE_ROOT": str(tmp / "quarantine"),
        "TA_RENDER_CACHE_ROOT": str(tmp / "render"),
        "TA_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "teaching_archive.settings",
    }
    os.environ.update(env_updates)
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from archive.dimse.listener import DicomListener
    from archive.models import RemoteNode, Upload

    call_command("migrate", verbosity=0)
    from teaching_archive.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    teacher, _ = User.objects.get_or_create(username="store-bench-teacher")
    RemoteNode.objects.update_or_create(
        ae_title=CALLING, defaults={"teacher": teacher, "target_case": None, "is_active": True}
    )

    worker = None
    listener = DicomListener(ae_title=CALLED, host="127.0.0.1", port=0)
    try:
        paths = write_study(tmp / "study", args.instances)
        size = sum(p.stat().st_size for p in paths) / 1024**2
        print(f"store benchmark: {args.instances} CT instances ({size:.1f} MB) via storescu")
        raw = raw_receive(paths, tmp / "raw")
        dcmtk = dcmtk_receive(paths, tmp / "dcmtk") if shutil.which("storescp") else None

        worker = start_worker({**os.environ, **env_updates}, tmp / "worker.log")
        listener.start()
        before = set(Upload.objects.values_list("pk", flat=True))
        start = time.monotonic()
        received = storescu(listener.port, paths)
        while not (new := Upload.objects.exclude(pk__in=before).first()):
            time.sleep(0.05)
        filed = time.monotonic() - start
        while Upload.objects.get(pk=new.pk).status != Upload.Status.DONE:
            time.sleep(0.2)
        done = time.monotonic() - start
        counts = Upload.objects.get(pk=new.pk).counts()

        n = args.instances
        if dcmtk is not None:
            print(f"dcmtk storescp (reference):            {dcmtk:7.2f} s = "
                  f"{n / dcmtk:7.1f} instances/s")  # fmt: skip
        print(f"raw receive (bare pynetdicom SCP):     {raw:7.2f} s = {n / raw:7.1f} instances/s")
        print(f"archive listener receive (to release): {received:7.2f} s = "
              f"{n / received:7.1f} instances/s")  # fmt: skip
        print(f"  upload filed after                   {filed:7.2f} s")
        print(f"received and fully processed:          {done:7.2f} s = "
              f"{n / done:7.1f} instances/s (1 worker, --pool=solo)")  # fmt: skip
        print(f"item statuses: {counts}")
    finally:
        listener.stop()
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
