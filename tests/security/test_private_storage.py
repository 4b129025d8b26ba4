"""Raw and quarantined files are the archive user's alone (0600 in 0700 folders), quarantined
files are deleted after TA_QUARANTINE_RETENTION_DAYS, and `check --deploy` flags a holding or
quarantine folder left open to other users."""

from __future__ import annotations

import datetime as dt
import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from archive.dimse.session import _raw_storage, write_atomically
from archive.models import Case, UploadItem
from tests.editor.builders import quarantined_item
from tests.security.test_http_settings import REPO, production_env

pytestmark = pytest.mark.django_db


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_browser_upload_keeps_its_raw_file_0600_in_a_0700_folder(teacher, phi_file):
    case = Case.objects.create(owner=teacher, title="t", modality="CT", body_region="chest")
    client = Client()
    client.force_login(teacher)
    response = client.post(
        f"/cases/{case.pk}/upload/",
        {"files": [SimpleUploadedFile("a.dcm", phi_file())]},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201
    item = UploadItem.objects.get(upload__case=case)
    raw = Path(item.raw_file.path)
    assert raw.read_bytes()[128:132] == b"DICM"
    assert _mode(raw) == 0o600
    assert _mode(raw.parent) == 0o700


def test_quarantined_files_are_0600_in_0700_folders(teacher):
    case = Case.objects.create(owner=teacher, title="t", modality="CT", body_region="chest")
    path = Path(quarantined_item(case).quarantined_file.path)
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700


def test_files_from_the_dicom_listener_are_private_too(storage_dirs):
    write_atomically(_raw_storage(), "dimse/0123/000001.dcm", b"DICM")
    written = storage_dirs["holding"] / "dimse" / "0123" / "000001.dcm"
    assert _mode(written) == 0o600
    assert _mode(written.parent) == 0o700 and _mode(written.parent.parent) == 0o700


def test_quarantined_files_are_deleted_after_the_retention_days(
    teacher, settings, django_capture_on_commit_callbacks
):
    settings.TA_QUARANTINE_RETENTION_DAYS = 30
    case = Case.objects.create(owner=teacher, title="t", modality="CT", body_region="chest")
    old, recent = quarantined_item(case), quarantined_item(case)
    old_path, recent_path = Path(old.quarantined_file.path), Path(recent.quarantined_file.path)
    UploadItem.objects.filter(pk=old.pk).update(processed_at=timezone.now() - dt.timedelta(days=31))
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_quarantine", stdout=out)
    assert "Deleted 1 quarantined file(s) older than 30 days" in out.getvalue()
    assert not old_path.exists() and recent_path.exists()
    old.refresh_from_db()
    # The item still says what happened; only the file is gone (the admin shows no link).
    assert old.status == UploadItem.Status.QUARANTINED and "Residual PHI" in old.reason
    assert not old.quarantined_file
    # A repeat finds nothing more to do.
    out = io.StringIO()
    call_command("purge_quarantine", stdout=out)
    assert "Deleted 0 quarantined file(s)" in out.getvalue()


def test_orphaned_quarantined_files_are_swept_once_old(teacher, storage_dirs):
    case = Case.objects.create(owner=teacher, title="t", modality="CT", body_region="chest")
    item = quarantined_item(case)
    path = Path(item.quarantined_file.path)
    UploadItem.objects.filter(pk=item.pk).delete()  # its case was deleted
    from archive.services.quarantine import sweep_orphaned_quarantine

    assert sweep_orphaned_quarantine() == 0 and path.exists()  # may still be committing
    later = timezone.now() + dt.timedelta(days=31)
    assert sweep_orphaned_quarantine(now=later) == 1 and not path.exists()


def test_the_hourly_schedule_purges_quarantine(settings):
    from teaching_archive.celery import app

    app.loader.import_default_modules()
    schedule = {e["task"]: e["schedule"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["archive.purge_quarantine"] == 3600.0
    assert "archive.purge_quarantine" in app.tasks


def test_check_deploy_flags_a_holding_folder_open_to_others(tmp_path):
    holding = tmp_path / "prod-holding"
    holding.mkdir(mode=0o755)
    os.chmod(holding, 0o755)
    env = production_env(tmp_path, TA_RAW_HOLDING_ROOT=str(holding))
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "archive.W001" in done.stderr and f"chmod -R go= {holding}" in done.stderr
    os.chmod(holding, 0o700)
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
