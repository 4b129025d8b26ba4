"""One case moved between two archives: exported over HTTP from this one (the test database),
imported by `manage.py import_package` into a second archive — another process with its own
SQLite database, storage and de-identification keys, as another hospital would run it — where
every image, key image, annotation and field arrives intact, as a draft of its teacher."""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import subprocess
import sys

import pydicom
import pytest
from django.test import Client

from tests.conftest import REPO
from tests.packages.builders import ANNOTATIONS, teaching_case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DUMP = r"""
import hashlib, json, pydicom
from archive.models import Case
case = Case.objects.select_related("diagnosis", "owner").get()
d = case.diagnosis
def pixels(i):
    with i.file.open("rb") as fh:
        ds = pydicom.dcmread(fh)
    return [i.instance_number, ds.SOPInstanceUID, hashlib.sha256(ds.PixelData).hexdigest()]
print(json.dumps({
    "owner": case.owner.username, "status": case.status,
    "fields": {f: getattr(case, f) for f in FIELDS},
    "diagnosis": [d.name, d.icd10, d.name_cs, d.synonym_list_cs],
    "tags": sorted(t.name for t in case.tags.all()),
    "instances": sorted(pixels(i) for i in case.instances()),
    "key_images": [[k.instance.instance_number, k.frame, k.caption, k.annotations, k.order]
                   for k in case.key_images.order_by("order")],
    "items": [i.status for i in case.uploads.get().items.order_by("pk")],
    "package": [[p.author, p.licence, p.status] for p in case.package_imports.all()],
}))
"""
FIELDS = [
    "title", "history", "findings", "differential", "discussion", "teaching_points",
    "references", "certainty", "modality", "body_region", "organ_system", "level",
    "age_group", "sex", "quiz_mode",
]  # fmt: skip


class SecondArchive:
    """`manage.py` of another archive: its own database, media, quarantine and keys."""

    def __init__(self, root):
        self.env = dict(os.environ)
        for name in ("media", "holding", "quarantine", "render"):
            (root / name).mkdir(parents=True)
        self.env.update(
            DATABASE_URL=f"sqlite:///{root / 'second.sqlite3'}",
            TA_VAR_DIR=str(root),
            TA_MEDIA_ROOT=str(root / "media"),
            TA_RAW_HOLDING_ROOT=str(root / "holding"),
            TA_QUARANTINE_ROOT=str(root / "quarantine"),
            TA_RENDER_CACHE_ROOT=str(root / "render"),
            # Another hospital: other keys, so its pseudonyms and UIDs are its own.
            DJANGO_SECRET_KEY=secrets.token_urlsafe(48),
            TA_DEID_UID_KEY=secrets.token_urlsafe(48),
            TA_DEID_PSEUDONYM_KEY=secrets.token_urlsafe(48),
            # No worker in this archive: its tasks run in the command, as they are queued.
            CELERY_TASK_ALWAYS_EAGER="1",
            TA_SEARCH_BACKEND="database",
            TA_HTTPS="0",
        )

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout


def test_a_case_moves_to_another_archive_intact(teacher, tmp_path):
    case = teaching_case(teacher)
    client = Client()
    client.force_login(teacher)
    package = client.get(f"/cases/{case.pk}/package.zip").content
    path = tmp_path / "package.zip"
    path.write_bytes(package)

    second = SecondArchive(tmp_path / "second")
    second.manage("migrate", "--noinput", "-v0")
    second.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import Group, Permission, User; "
        "from archive.roles import ensure_roles; ensure_roles(Group, Permission); "
        "u = User.objects.create_user('teacher-b'); "
        "u.groups.add(Group.objects.get(name='teacher'))",
    )
    out = second.manage("import_package", str(path), "--owner", "teacher-b")
    assert "imported as a draft of teacher-b (imported)" in out
    dumped = second.manage("shell", "-c", f"FIELDS = {FIELDS!r}\n{DUMP}")
    there = json.loads(dumped.strip().splitlines()[-1])  # after whatever the site logs

    assert (there["owner"], there["status"]) == ("teacher-b", "draft")
    assert there["fields"] == {f: getattr(case, f) for f in FIELDS}
    assert there["diagnosis"] == [
        "Tension pneumothorax",
        "J93.0",
        "Tenzní pneumotorax",
        case.diagnosis.synonym_list_cs,
    ]
    assert there["tags"] == ["emergency", "pleura"]
    assert there["items"] == ["anonymized"] * 3
    assert there["package"] == [[teacher.username, "CC BY-NC-SA 4.0", "imported"]]
    # Every image: the same pixels, under the second archive's own UIDs.
    here = []
    for instance in case.instances():
        with instance.file.open("rb") as fh:
            ds = pydicom.dcmread(io.BytesIO(fh.read()))
        here.append(
            [ds.InstanceNumber, ds.SOPInstanceUID, hashlib.sha256(ds.PixelData).hexdigest()]
        )
    here.sort()
    assert [[n, p] for n, _, p in there["instances"]] == [[n, p] for n, _, p in here]
    assert {u for _, u, _ in there["instances"]}.isdisjoint({u for _, u, _ in here})
    assert there["key_images"] == [
        [1, 0, "Right apex", ANNOTATIONS, 0],
        [3, 0, "Hilum", [], 1],
    ]
