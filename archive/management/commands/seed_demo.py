"""Create the demo accounts and a few demo cases so a new archive is explorable at once.

The demo cases are built from pydicom's public test images (no real patient) and go through the
same de-identification pipeline as any upload. Running the command again changes nothing.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from pydicom.data import get_testdata_file

from archive.models import Case, Diagnosis, Tag
from archive.services.cases import publish_case
from archive.services.intake import receive_files, received_from_bytes
from archive.services.processing import process_upload

DEMO_USERS = [
    ("curator", "curator", True),
    ("teacher", "teacher", False),
    ("student", "student", False),
]

DEMO_CASES = [
    {
        "title": "Demo: small CT slice",
        "files": ["CT_small.dcm"],
        "modality": "CT",
        "body_region": "abdomen",
        "organ_system": "gastrointestinal",
        "level": "student",
        "history": "Demo case built from a public test image. Follow-up imaging.",
        "findings": "Single axial CT slice, soft-tissue window.",
        "diagnosis": ("Hepatocellular carcinoma", "C22.0", "HCC\nliver cell carcinoma"),
        "discussion": "Demo text: HCC typically shows arterial enhancement and washout.",
        "tags": ["demo", "liver"],
    },
    {
        "title": "Demo: small MR slice",
        "files": ["MR_small.dcm"],
        "modality": "MR",
        "body_region": "head",
        "organ_system": "neuro",
        "level": "resident",
        "history": "Demo case built from a public test image.",
        "findings": "Single small MR slice.",
        "diagnosis": ("Glioblastoma", "C71.9", "GBM\nglioblastoma multiforme"),
        "discussion": "Demo text: GBM is the most common primary malignant brain tumour in adults.",
        "tags": ["demo", "brain"],
    },
    {
        "title": "Demo: colour ultrasound frames",
        "files": ["SC_rgb_rle_2frame.dcm"],
        "modality": "US",
        "body_region": "abdomen",
        "organ_system": "genitourinary",
        "level": "student",
        "quiz_mode": True,
        "history": "Demo quiz case: two colour frames from a public test image.",
        "findings": "Colour test pattern frames.",
        "diagnosis": ("Renal cyst", "N28.1", "simple renal cyst"),
        "discussion": "Demo text.",
        "tags": ["demo", "quiz"],
    },
]


class Command(BaseCommand):
    help = "Create demo users (teacher, student, curator) and demo cases from public test images."

    def add_arguments(self, parser):
        parser.add_argument("--no-cases", action="store_true", help="Only create the users.")

    def handle(self, *args, **options):
        password = self._demo_password()
        User = get_user_model()
        users = {}
        for username, group, staff in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
                user.is_staff = staff
                user.save()
                user.groups.add(Group.objects.get(name=group))
            users[username] = user
        if not options["no_cases"]:
            for spec in DEMO_CASES:
                self._demo_case(spec, users["teacher"], users["curator"])
        self.stdout.write(
            self.style.SUCCESS(
                "Demo accounts: curator, teacher, student — password in "
                f"{self._credentials_file()} (or $TA_DEMO_PASSWORD)."
            )
        )

    def _credentials_file(self) -> Path:
        return Path(settings.VAR_DIR) / "demo-password.txt"

    def _demo_password(self) -> str:
        if os.environ.get("TA_DEMO_PASSWORD"):
            return os.environ["TA_DEMO_PASSWORD"]
        path = self._credentials_file()
        if path.exists():
            return path.read_text().strip()
        password = secrets.token_urlsafe(12)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(password + "\n")
        path.chmod(0o600)
        self.stdout.write(f"Generated a demo password: {password}")
        return password

    def _demo_case(self, spec: dict, teacher, curator) -> None:
        if Case.objects.filter(title=spec["title"], is_demo=True).exists():
            return
        name, icd10, synonyms = spec["diagnosis"]
        diagnosis, _ = Diagnosis.objects.get_or_create(
            name=name, defaults={"icd10": icd10, "synonyms": synonyms}
        )
        with transaction.atomic():
            case = Case.objects.create(
                title=spec["title"],
                owner=teacher,
                history=spec["history"],
                findings=spec["findings"],
                diagnosis=diagnosis,
                discussion=spec["discussion"],
                modality=spec["modality"],
                body_region=spec["body_region"],
                organ_system=spec["organ_system"],
                level=spec["level"],
                quiz_mode=spec.get("quiz_mode", False),
                is_demo=True,
            )
            case.tags.set([Tag.objects.get_or_create(name=t)[0] for t in spec["tags"]])
            files = [
                received_from_bytes(Path(get_testdata_file(f)).read_bytes()) for f in spec["files"]
            ]
            upload = receive_files(case=case, user=teacher, files=files, source="demo")
        process_upload(upload.pk)
        publish_case(case=case, user=curator)
        self.stdout.write(f"Demo case created: {case.title}")
