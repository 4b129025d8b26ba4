"""Fan-out and finalizer of an upload, in-process on the real database (issue 15): chunks by
files and bytes, a chunk run twice changes nothing, the finalizer runs once when several
callers race for it, and no service imports a task module (the old import circle)."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest
from django.db import connection

from archive import scheduling
from archive.models import Case, Instance, Upload, UploadItem
from archive.services import processing
from archive.services.intake import receive_files, received_from_bytes

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sent(monkeypatch) -> list[tuple]:
    """Tasks sent through archive.scheduling (name, args), instead of the broker."""
    calls: list[tuple] = []
    monkeypatch.setattr(scheduling, "send", lambda name, *args, **kw: calls.append((name, args)))
    return calls


@pytest.fixture
def case(teacher):
    return Case.objects.create(owner=teacher, title="Case", modality="CT", body_region="chest")


def test_chunks_hold_at_most_the_files_and_bytes_of_the_settings(settings):
    settings.TA_DEID_CHUNK_FILES = 3
    settings.TA_DEID_CHUNK_BYTES = 100
    items = [(1, 10), (2, 10), (3, 10), (4, 10), (5, 95), (6, 500), (7, 10)]
    # Four small files: three, then one; a large file starts a chunk; a huge one is alone.
    assert scheduling.chunks(items) == [[1, 2, 3], [4], [5], [6], [7]]
    assert scheduling.chunks([]) == []


def test_an_upload_fans_out_its_pending_items_in_order_and_an_empty_one_is_finished(
    case, teacher, phi_file, sent, settings
):
    settings.TA_DEID_CHUNK_FILES = 2
    blobs = [phi_file(), phi_file("MR_small.dcm"), b"", phi_file("CT_small.dcm")]
    upload = receive_files(case=case, user=teacher, files=[received_from_bytes(b) for b in blobs])
    assert sent == [("archive.deidentify_upload", (upload.pk,))]  # sent on commit
    sent.clear()
    pending = list(
        upload.items.filter(status=UploadItem.Status.PENDING).values_list("pk", flat=True)
    )
    assert len(pending) == 3  # the empty file was rejected on arrival
    assert processing.start_upload(upload.pk) == 2
    assert sent == [
        ("archive.deidentify_items", (upload.pk, pending[:2])),
        ("archive.deidentify_items", (upload.pk, pending[2:])),
    ]
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.PROCESSING

    sent.clear()
    nothing = receive_files(case=case, user=teacher, files=[received_from_bytes(b"")])
    sent.clear()
    assert processing.start_upload(nothing.pk) == 0
    assert sent == [("archive.finish_upload", (nothing.pk,))]


def test_a_chunk_run_twice_processes_each_item_once_and_finishes_the_upload_once(
    case, teacher, phi_file, sent
):
    upload = receive_files(
        case=case,
        user=teacher,
        files=[received_from_bytes(phi_file(n)) for n in ("CT_small.dcm", "MR_small.dcm")],
    )
    ids = list(upload.items.values_list("pk", flat=True))
    assert processing.process_items(upload.pk, ids, worker="w1@test") is True
    assert processing.process_items(upload.pk, ids, worker="w2@test") is False  # a redelivery
    items = list(upload.items.all())
    assert [(i.status, i.attempts, i.processed_by) for i in items] == [
        ("anonymized", 1, "w1@test"),
        ("anonymized", 1, "w1@test"),
    ]
    assert Instance.objects.filter(series__study__case=case).count() == 2
    upload.refresh_from_db()
    assert upload.status == Upload.Status.DONE and upload.finished_by == "w1@test"


def test_the_finalizer_runs_once_when_several_workers_finish_together(
    case, teacher, phi_file, sent
):
    upload = receive_files(case=case, user=teacher, files=[received_from_bytes(phi_file())])
    item = upload.items.get()
    assert processing.process_item(item.pk, worker="w0@test") == "anonymized"
    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.PROCESSING)
    sent.clear()

    callers = 6
    start = threading.Barrier(callers)
    ran: list[str] = []
    errors: list[BaseException] = []

    def finish(name: str) -> None:
        try:
            start.wait()
            if processing.finish_upload(upload.pk, worker=name):
                ran.append(name)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=finish, args=(f"w{n}@test",)) for n in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert len(ran) == 1, ran
    upload.refresh_from_db()
    assert upload.status == Upload.Status.DONE and upload.finished_by == ran[0]


def test_a_pending_item_keeps_the_upload_open(case, teacher, phi_file, sent):
    upload = receive_files(
        case=case, user=teacher, files=[received_from_bytes(phi_file()) for _ in range(2)]
    )
    first, _second = upload.items.all()
    processing.process_item(first.pk)
    assert processing.finish_upload(upload.pk) is False
    assert Upload.objects.get(pk=upload.pk).status != Upload.Status.DONE


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_service_imports_a_task_module():
    """Work is queued through archive.scheduling only; tasks import services, never the
    reverse (the circle processing → cases → review → tasks → processing is gone)."""
    modules = [*(REPO / "archive" / "services").glob("*.py"), REPO / "archive" / "scheduling.py"]
    modules += [REPO / "archive" / "dimse" / n for n in ("session.py", "filing.py")]
    for path in modules:
        tasks = {
            name
            for name in _imports(path)
            if name.endswith(".tasks") or ".tasks." in name or name == "archive.tasks"
        }
        assert not tasks, f"{path.relative_to(REPO)} imports {sorted(tasks)}"
