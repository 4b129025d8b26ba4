"""A 300-slice CT from first byte to last instance viewable, with 1 and with 2 workers.

Usage::

    python benchmarks/store_bench.py [--instances 300] [--workers 1,2] [--repeat N]
                                     [--chunk-files N] [--skip-reference] [--skip-zip]
                                     [--skip-dicom] [--db-name NAME] [--broker URL]

The study is CT_small.dcm copied with unique UIDs and synthetic PHI, one series. Figures from
the same run and the same files:

1. references for the machine: dcmtk's storescp, and a bare pynetdicom Storage SCP that only
   writes what arrives (``--skip-reference`` leaves them out);
2. for each worker count: the study sent by dcmtk ``storescu`` to the archive's DICOM listener,
   timed from the first byte sent until the last instance is viewable (every item settled and
   the upload finished), with that many Celery worker processes (real subprocesses, production
   settings incl. burned-in text detection, ``--pool=solo``: one process is one worker);
3. the same study as one zip file uploaded through the upload view (the browser's request,
   in this process: stream to the incoming area, unpack into the holding storage), timed the
   same way.

Worker counts are interleaved run after run (``--repeat``), and the speed-up is the median
1-worker time over the median 2-worker time. Which worker settled each item is counted from the
database (``UploadItem.processed_by``); the workers' logs give the chunk tasks' mean duration
and the share of the workers' busy time spent outside them (the task overhead).

Uses its own PostgreSQL database (``<DATABASE_URL's name>_store_bench``), its own Redis
database (default ``/15``: no other worker takes its tasks) and temporary storage folders.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
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
    from pynetdicom import AE, AllStoragePresentationContexts, _config, evt

    out.mkdir()
    counter = iter(range(10**9))

    def on_store(event) -> int:
        target = out / f"{next(counter):06d}.dcm"
        if _config.STORE_RECV_CHUNKED_DATASET:  # the archive's listener set it in this process
            shutil.copyfile(event.dataset_path, target)
        else:
            target.write_bytes(event.encoded_dataset())
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


def start_workers(count: int, env: dict[str, str], logs: Path) -> list[subprocess.Popen]:
    """``count`` worker processes consuming every queue, each named ``bench-<n>``."""
    procs = []
    for n in range(1, count + 1):
        log = logs / f"worker-{count}-{n}.log"
        procs.append(
            subprocess.Popen(
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
                    f"bench-{n}@%h",
                ],
                cwd=REPO,
                env=env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        )
    deadline = time.monotonic() + 180
    for n, proc in enumerate(procs, start=1):
        log = logs / f"worker-{count}-{n}.log"
        while "ready." not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"a worker did not start; see {log}")
            time.sleep(0.2)
    return procs


def cpu_seconds(procs: list[subprocess.Popen]) -> float:
    """User + system CPU time the worker processes used so far (Linux /proc): what the work
    costs whatever else the machine runs meanwhile."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for proc in procs:
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def viewable(upload_id: int, start: float) -> tuple[float, dict]:
    """Wait until every item of the upload is settled and the upload finished; returns the
    seconds since ``start`` and the upload's item counts by worker."""
    from archive.models import Upload, UploadItem

    while True:
        upload = Upload.objects.get(pk=upload_id)
        if upload.status == Upload.Status.DONE:
            break
        time.sleep(0.05)
    last = time.monotonic() - start
    items = UploadItem.objects.filter(upload_id=upload_id)
    by_worker = Counter(w.split("@")[0] for w in items.values_list("processed_by", flat=True))
    statuses = Counter(items.values_list("status", flat=True))
    return last, {"statuses": dict(statuses), "by_worker": dict(by_worker)}


_LOG_LINE = re.compile(
    r"^\[(?P<at>[\d-]+ [\d:,]+): INFO/MainProcess\] "
    r"Task archive\.deidentify_items\[(?P<id>[^\]]+)\] "
    r"(?:(?P<received>received)|succeeded in (?P<took>[\d.]+)s)"
)


def chunk_overhead(logs: list[Path], since: float) -> str:
    """From the workers' logs: chunk tasks run, their mean duration, and the share of each
    worker's busy time (first chunk received to last chunk done) spent outside the chunks'
    own code (broker round trips, acknowledgements, waiting for the next chunk)."""
    import datetime as dt

    tasks, inside, busy = 0, 0.0, 0.0
    for log in logs:
        first = last = None
        for line in log.read_text(errors="replace").splitlines():
            m = _LOG_LINE.match(line)
            if not m:
                continue
            at = dt.datetime.strptime(m["at"], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if at < since:
                continue
            if m["received"]:
                first = at if first is None else first
            else:
                tasks += 1
                inside += float(m["took"])
                last = at
        if first is not None and last is not None:
            busy += last - first
    if not tasks or not busy:
        return "no chunk tasks logged"
    return (
        f"{tasks} chunk tasks, {inside / tasks * 1000:.0f} ms each; "
        f"{max(busy - inside, 0) / busy * 100:.1f} % of the workers' busy time outside them"
    )


def purge_queues() -> None:
    from archive.scheduling import QUEUES
    from teaching_archive.celery import app

    with app.connection_for_write() as conn:
        for queue in (*QUEUES, "celery"):
            conn.default_channel.queue_purge(queue)


def new_case(teacher, title: str):
    from archive.models import Case

    return Case.objects.create(owner=teacher, title=title, modality="CT", body_region="chest")


def run_listener(paths: list[Path], teacher) -> tuple[float, float, dict]:
    """storescu → listener; returns (receive seconds, first byte → viewable seconds, detail)."""
    from archive.dimse.listener import DicomListener
    from archive.models import RemoteNode, Upload

    case = new_case(teacher, "Store bench (DICOM)")
    RemoteNode.objects.update_or_create(
        ae_title=CALLING, defaults={"teacher": teacher, "target_case": case, "is_active": True}
    )
    listener = DicomListener(ae_title=CALLED, host="127.0.0.1", port=0)
    listener.start()
    try:
        before = set(Upload.objects.values_list("pk", flat=True))
        start = time.monotonic()
        received = storescu(listener.port, paths)
        while not (new := Upload.objects.exclude(pk__in=before).first()):
            time.sleep(0.05)
        done, detail = viewable(new.pk, start)
    finally:
        listener.stop()
    return received, done, detail


def zipped(paths: list[Path]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in paths:
            zf.write(path, path.name)
    return out.getvalue()


def run_zip(archive: bytes, teacher) -> tuple[float, float, dict]:
    """The upload view receives the zip (in this process); returns (receive seconds, first
    byte → viewable seconds, detail)."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from archive.models import Upload

    case = new_case(teacher, "Store bench (zip)")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(teacher)
    upload_file = SimpleUploadedFile("study.zip", archive, content_type="application/zip")
    start = time.monotonic()
    response = client.post(
        f"/cases/{case.pk}/upload/", {"files": [upload_file]}, HTTP_ACCEPT="application/json"
    )
    received = time.monotonic() - start
    if response.status_code != 201:
        raise SystemExit(f"the zip upload was refused: {response.status_code}")
    upload = Upload.objects.get(public_id=response.json()["id"])
    done, detail = viewable(upload.pk, start)
    return received, done, detail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=300)
    parser.add_argument("--workers", default="1,2", help="worker counts to compare")
    parser.add_argument("--chunk-files", type=int, help="TA_DEID_CHUNK_FILES for the workers")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--skip-zip", action="store_true")
    parser.add_argument("--skip-dicom", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="runs per worker count")
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
        "TA_HTTPS": "0",
        "DJANGO_SETTINGS_MODULE": "teaching_archive.settings",
    }
    if args.chunk_files:
        env_updates["TA_DEID_CHUNK_FILES"] = str(args.chunk_files)
    os.environ.update(env_updates)
    import django

    django.setup()
    from django.contrib.auth.models import Group, Permission, User
    from django.core.management import call_command

    from archive.roles import ensure_roles

    call_command("migrate", verbosity=0)
    ensure_roles(Group, Permission)
    teacher, _ = User.objects.get_or_create(username="store-bench-teacher")
    teacher.groups.add(Group.objects.get(name="teacher"))
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    n = args.instances

    try:
        paths = write_study(tmp / "study", n)
        size = sum(p.stat().st_size for p in paths) / 1024**2
        archive = b"" if args.skip_zip else zipped(paths)
        print(f"store benchmark: {n} CT instances ({size:.1f} MB) via storescu and as one zip")
        if not args.skip_reference:
            raw = raw_receive(paths, tmp / "raw")
            print(f"bare pynetdicom SCP (reference):  {raw:7.2f} s = {n / raw:6.1f} instances/s")
            if shutil.which("storescp"):
                dcmtk = dcmtk_receive(paths, tmp / "dcmtk")
                print(f"dcmtk storescp (reference):       {dcmtk:7.2f} s = "
                      f"{n / dcmtk:6.1f} instances/s")  # fmt: skip

        results: dict[str, dict[int, list[float]]] = {"storescu": {}, "zip": {}}
        # Worker counts interleaved, run after run: the machines here are shared and their load
        # swings, so each count sees the same weather; medians are compared.
        for run in range(1, args.repeat + 1):
            for workers in counts:
                purge_queues()
                procs = start_workers(workers, {**os.environ, **env_updates}, tmp)
                logs = [tmp / f"worker-{workers}-{n}.log" for n in range(1, workers + 1)]
                try:
                    kinds = [] if args.skip_dicom else ["storescu"]
                    kinds += [] if args.skip_zip else ["zip"]
                    for kind in kinds:
                        cpu_before = cpu_seconds(procs)
                        if kind == "storescu":
                            received, done, detail = run_listener(paths, teacher)
                        else:
                            received, done, detail = run_zip(archive, teacher)
                        results[kind].setdefault(workers, []).append(done)
                        print(f"run {run}, {kind:8s} {workers} worker(s): received in "
                              f"{received:6.2f} s, last instance viewable after {done:6.2f} s "
                              f"= {n / done:5.1f}/s  {detail}")  # fmt: skip
                        cpu = cpu_seconds(procs) - cpu_before
                        print(f"  {chunk_overhead(logs, time.time() - done)}; workers' CPU "
                              f"{cpu:.1f} s = {cpu / n * 1000:.0f} ms per instance")  # fmt: skip
                finally:
                    stop(procs)
        for kind, by_count in results.items():
            medians = {w: statistics.median(t) for w, t in by_count.items()}
            for workers, median in sorted(medians.items()):
                print(f"{kind:8s} {workers} worker(s): median {median:6.2f} s "
                      f"(runs: {', '.join(f'{t:.1f}' for t in by_count[workers])})")  # fmt: skip
            if 1 in medians and 2 in medians:
                print(f"speed-up 1 → 2 workers ({kind}): {medians[1] / medians[2]:.2f}×")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
