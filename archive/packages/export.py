"""Writing case packages: the anonymized files as stored, and the manifest.

Only what the privacy policy lets the user export (``privacy.can_export_case``) is written; the
files are the archive's de-identified instances, named by position (dicom/1/2/3.dcm), never by
UID or original name.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from archive import privacy
from archive.models import Case, KeyImage
from archive.packages.manifest import FORMAT, VERSION, check_manifest
from archive.selectors import case_series

__all__ = ["export_package", "package_name"]


def _author(case: Case) -> str:
    owner = case.owner
    return (owner.get_full_name() or owner.get_username())[:200]


def _diagnosis(case: Case) -> dict[str, Any] | None:
    d = case.diagnosis
    if d is None:
        return None
    return {
        "name": d.name,
        "icd10": d.icd10,
        "synonyms": d.synonym_list,
        "name_cs": d.name_cs,
        "synonyms_cs": d.synonym_list_cs,
    }


def _case_entry(case: Case, zf: zipfile.ZipFile, studies_before: int = 0) -> dict[str, Any]:
    """The manifest entry of ``case``, its files written to ``zf``. Studies are numbered across
    the package (``studies_before`` in earlier cases), so two cases never share a member name."""
    files: dict[int, str] = {}  # instance id → member name
    studies: list[dict[str, Any]] = []
    by_study: dict[int, dict[str, Any]] = {}
    for series in case_series(case=case):
        study = by_study.get(series.study_id)
        if study is None:
            study = {"description": series.study.description[:200], "series": []}
            by_study[series.study_id] = study
            studies.append(study)
        entry = {
            "modality": series.modality[:16],
            "description": series.description[:200],
            "number": series.number,
            "instances": [],
        }
        study["series"].append(entry)
        s_no, n_no = studies_before + studies.index(study) + 1, len(study["series"])
        for i, instance in enumerate(series.instances.all(), start=1):
            name = f"dicom/{s_no}/{n_no}/{i}.dcm"
            with instance.file.open("rb") as fh:
                data = fh.read()
            zf.writestr(name, data)
            files[instance.pk] = name
            entry["instances"].append(
                {
                    "file": name,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "instance_number": instance.instance_number,
                    "frames": instance.frames,
                }
            )
    key_images = [
        {
            "file": files[k.instance_id],
            "frame": k.frame,
            "caption": k.caption,
            "order": k.order,
            "annotations": k.annotations or [],
        }
        for k in KeyImage.objects.filter(case=case).order_by("order", "pk")
        if k.instance_id in files
    ]
    return {
        "title": case.title,
        "history": case.history,
        "findings": case.findings,
        "differential": case.differential,
        "discussion": case.discussion,
        "teaching_points": case.teaching_points,
        "references": case.references,
        "diagnosis": _diagnosis(case),
        "certainty": case.certainty,
        "modality": case.modality,
        "body_region": case.body_region,
        "organ_system": case.organ_system,
        "level": case.level,
        "age_group": case.age_group,
        "sex": case.sex,
        "quiz_mode": case.quiz_mode,
        "tags": sorted(t.name for t in case.tags.all()),
        "author": _author(case),
        "licence": settings.TA_PACKAGE_LICENCE,
        "studies": studies,
        "key_images": key_images,
    }


def export_package(cases: Iterable[Case], user) -> bytes:
    """The package of ``cases`` as ``user`` may export them (``PermissionDenied`` otherwise)."""
    cases = list(cases)
    for case in cases:
        if not privacy.can_export_case(user, case):
            raise PermissionDenied("This case cannot be exported by you.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "exported_at": timezone.now().isoformat(),
            "generator": "teaching-archive",
            "cases": [],
        }
        studies_before = 0
        for case in cases:
            entry = _case_entry(case, zf, studies_before)
            manifest["cases"].append(entry)
            studies_before += len(entry["studies"])
        check_manifest(manifest)  # what we write, others must be able to read
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return buffer.getvalue()


def package_name(cases: list[Case]) -> str:
    """A neutral file name: case numbers only (titles may name the diagnosis of a quiz)."""
    if len(cases) == 1:
        return f"case-{cases[0].pk}-package.zip"
    return f"cases-{len(cases)}-package.zip"
