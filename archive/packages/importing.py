"""Reading a case package into this archive: drafts of the importing teacher, every file
de-identified and verified again by the normal pipeline.

Order of checks: the zip and its manifest (schema, every named file present, within the upload
limits and matching its checksum) — a package failing them is refused with a reason and leaves
nothing; then the manifest's text is searched for personal data with the free-text detector the
de-identification engine uses — a finding quarantines the whole package (kept for curators,
nothing created); then each case becomes a draft whose files are an upload
(``source="package"``) processed like any other: a file that fails verification is quarantined
with its reason, the rest goes on. When the upload is done, :func:`apply_package_extras`
attaches the key images and annotations and sets aside (quarantines) any image in which the
pixel cleaner still found burned-in text: a package's images come from an archive that should
have removed it.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from archive.deid.freetext import first_phi_category
from archive.models import (
    Case,
    Instance,
    KeyImage,
    PackageImport,
    Series,
    Study,
    Upload,
    UploadItem,
)
from archive.packages.manifest import PackageError, check_manifest
from archive.services.incoming import UploadLimits
from archive.services.intake import receive_files, received_from_bytes
from archive.services.tags import tag_named

__all__ = [
    "UploadNotFinished",
    "apply_package_extras",
    "import_package",
    "manifest_findings",
    "read_package",
]

MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 20 * 1024 * 1024
# Text of a case that goes into the archive, searched for personal data before anything is made.
CASE_TEXT = ("title", "history", "findings", "differential", "discussion", "teaching_points")


class UploadNotFinished(Exception):
    """The package's upload still has files being processed."""


def _case_files(entry: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        i for study in entry["studies"] for series in study["series"] for i in series["instances"]
    ]


def read_package(source: bytes | IO[bytes]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """(manifest, {member: bytes}) of a package, or ``PackageError`` with the reason."""
    limits = UploadLimits.from_settings()
    try:
        zf = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, OSError) as e:
        raise PackageError(
            "This file is not a zip archive: choose the .zip of a case package."
        ) from e
    with zf:
        try:
            info = zf.getinfo(MANIFEST)
        except KeyError as e:
            raise PackageError("This zip has no manifest.json: it is not a case package.") from e
        if info.file_size > MAX_MANIFEST_BYTES:
            raise PackageError("The package's manifest.json is too large to be a case manifest.")
        try:
            manifest = json.loads(zf.read(info).decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise PackageError("The package's manifest.json is not valid JSON.") from e
        check_manifest(manifest)
        members: dict[str, bytes] = {}
        total = 0
        for number, entry in enumerate(manifest["cases"], start=1):
            files = {i["file"] for i in _case_files(entry)}
            for key in entry.get("key_images") or []:
                if key["file"] not in files:
                    raise PackageError(
                        f"Case {number} of the package marks a key image that is not one of "
                        "its files: export the package again."
                    )
            for instance in _case_files(entry):
                name = instance["file"]
                try:
                    member = zf.getinfo(name)
                except KeyError as e:
                    raise PackageError(
                        f"The package lacks {name}, which its manifest lists: it is incomplete."
                    ) from e
                total += member.file_size
                if member.file_size > limits.file_bytes or total > limits.upload_bytes:
                    raise PackageError(
                        "The package is larger than this archive accepts in one upload "
                        "(TA_MAX_FILE_BYTES, TA_MAX_UPLOAD_TOTAL_BYTES): export fewer cases."
                    )
                data = zf.read(member)
                if hashlib.sha256(data).hexdigest() != instance["sha256"]:
                    raise PackageError(
                        f"{name} does not match its checksum in the manifest: the package is "
                        "damaged; copy or export it again."
                    )
                members[name] = data
    return manifest, members


def manifest_findings(manifest: dict[str, Any]) -> list[str]:
    """Where the manifest's text has what looks like personal data: "case 1, history (a date)".
    Names the place and the kind only, never the text."""
    out = []
    for number, entry in enumerate(manifest["cases"], start=1):
        texts: list[tuple[str, str]] = [(name, entry.get(name) or "") for name in CASE_TEXT]
        diagnosis = entry.get("diagnosis") or {}
        texts += [("diagnosis", diagnosis.get("name") or "")]
        texts += [("diagnosis synonyms", t) for t in diagnosis.get("synonyms") or []]
        texts += [("diagnosis Czech name", diagnosis.get("name_cs") or "")]
        texts += [("diagnosis synonyms", t) for t in diagnosis.get("synonyms_cs") or []]
        texts += [("tags", t) for t in entry.get("tags") or []]
        for study in entry["studies"]:
            texts.append(("study description", study.get("description") or ""))
            texts += [("series description", s.get("description") or "") for s in study["series"]]
        for key in entry.get("key_images") or []:
            texts.append(("key image caption", key.get("caption") or ""))
            texts += [
                ("annotation label", a.get("label") or "") for a in key.get("annotations") or []
            ]
        for where, text in texts:
            category = first_phi_category(text) if text else None
            if category is not None:
                finding = f"case {number}, {where} (a {category})"
                if finding not in out:
                    out.append(finding)
    return out


def _quarantine_package(source: bytes, user, findings: list[str]) -> PackageImport:
    reason = (
        "The package's text has what looks like personal data: "
        + "; ".join(findings)
        + ". Nothing was imported; a curator reviews the package in the quarantine."
    )
    package = PackageImport.objects.create(
        imported_by=user, status=PackageImport.Status.QUARANTINED, reason=reason
    )
    package.quarantined_file.save(f"packages/{package.public_id}.zip", ContentFile(source))
    return package


def _draft(entry: dict[str, Any], user) -> Case:
    from archive.vocabulary.services import diagnosis_for
    from search.importing import map_value

    case = Case(owner=user, status=Case.Status.DRAFT)
    for name in ("title", "history", "findings", "differential", "discussion"):
        setattr(case, name, entry.get(name) or "")
    case.teaching_points = entry.get("teaching_points") or ""
    case.references = entry.get("references") or ""
    case.certainty = entry.get("certainty") or ""
    case.age_group = entry.get("age_group") or ""
    case.quiz_mode = bool(entry.get("quiz_mode"))
    # Codes another archive may not share: mapped as import_cases maps them ("other" if none).
    for name in ("modality", "body_region", "organ_system", "level", "sex"):
        setattr(case, name, map_value(name, entry.get(name)).value)
    case.level = case.level or "student"
    diagnosis = entry.get("diagnosis")
    if diagnosis:
        case.diagnosis = diagnosis_for(name=diagnosis["name"], icd10=_known_code(diagnosis))
        _adopt_names(case.diagnosis, diagnosis)
    case.save()
    names = sorted({t.strip().lower()[:64] for t in entry.get("tags") or [] if t.strip()})
    case.tags.set([t for n in names if (t := tag_named(n)) is not None])
    return case


def _known_code(diagnosis: dict[str, Any]) -> str:
    from archive.vocabulary.selectors import catalogue_code

    entry = catalogue_code(diagnosis.get("icd10") or "")
    return entry.code if entry else ""


def _adopt_names(diagnosis, exported: dict[str, Any]) -> None:
    """A diagnosis new to this archive takes the exporting archive's synonyms and Czech names;
    one this archive has keeps its own (its curators decide)."""
    from archive.vocabulary.services import update_names

    if diagnosis.synonyms or diagnosis.cases.exists():
        return
    diagnosis.synonyms = "\n".join(exported.get("synonyms") or [])
    diagnosis.save(update_fields=["synonyms"])
    update_names(
        diagnosis,
        name_cs=exported.get("name_cs") or "",
        synonyms_cs=exported.get("synonyms_cs") or [],
    )


def import_package(source: bytes, user) -> list[PackageImport]:
    """Import a package as ``user``'s drafts (one ``PackageImport`` per case), or quarantine
    it; ``PackageError`` when it cannot be read at all."""
    if not (user.is_authenticated and user.has_perm("archive.add_case")):
        raise PermissionDenied
    manifest, members = read_package(source)
    findings = manifest_findings(manifest)
    if findings:
        return [_quarantine_package(source, user, findings)]
    imported = []
    for entry in manifest["cases"]:
        files = [i["file"] for i in _case_files(entry)]
        position = {name: n for n, name in enumerate(files)}
        with transaction.atomic():
            case = _draft(entry, user)
        upload = receive_files(
            case=case,
            user=user,
            files=[received_from_bytes(members[name]) for name in files],
            source="package",
        )
        with transaction.atomic():
            package = PackageImport.objects.create(
                imported_by=user,
                case=case,
                upload=upload,
                author=entry.get("author") or "",
                licence=entry.get("licence") or "",
                key_images=[
                    {
                        "item": position[k["file"]],
                        "frame": k.get("frame", 0),
                        "caption": k.get("caption") or "",
                        "order": k.get("order", 0),
                        "annotations": k.get("annotations") or [],
                    }
                    for k in entry.get("key_images") or []
                ],
            )
            _schedule_extras(package.pk)
        imported.append(package)
    return imported


def _schedule_extras(package_id: int) -> None:
    from archive.packages.tasks import apply_package_extras_task as task

    transaction.on_commit(lambda: task.delay(package_id))


BURNED_IN = (
    "Text was found burned into the pixels of this image of an imported package and blanked "
    "({n} area(s)). A package's images should already be anonymized, so the image was set "
    "aside for a curator instead of being added to the case."
)


def _set_aside(item: UploadItem, reason: str) -> None:
    """Quarantine an item whose instance was filed: the stored (blanked) file goes to the
    quarantine storage, the instance and any series or study left empty are removed."""
    instance = Instance.objects.select_related("series__study").get(pk=item.instance_id)
    with instance.file.open("rb") as fh:
        data = fh.read()
    item.quarantined_file.save(f"{item.upload.public_id}/{item.pk:08d}.dcm", ContentFile(data))
    stored, storage = instance.file.name, instance.file.storage
    series, study = instance.series, instance.series.study
    item.instance = None
    item.mark(UploadItem.Status.QUARANTINED, reason)
    item.save()
    instance.delete()
    transaction.on_commit(lambda: storage.delete(stored))
    if not Instance.objects.filter(series=series).exists():
        Series.objects.filter(pk=series.pk).delete()
    if not Series.objects.filter(study=study).exists():
        Study.objects.filter(pk=study.pk).delete()


def apply_package_extras(package_id: int) -> bool:
    """Once the package's upload is processed: set aside images with burned-in text, attach the
    key images and annotations. True if it ran now; harmless to repeat."""
    with transaction.atomic():
        package = (
            PackageImport.objects.select_for_update()
            .filter(pk=package_id, applied_at__isnull=True)
            .exclude(upload=None)
            .first()
        )
        if package is None:
            return False
        upload = Upload.objects.get(pk=package.upload_id)
        if upload.status != Upload.Status.DONE:
            raise UploadNotFinished(f"upload {upload.pk} is {upload.status}")
        items = list(upload.items.select_related("instance").order_by("pk"))
        for item in items:
            report = (item.instance.pixel_report or {}) if item.instance_id else {}
            boxes = report.get("boxes") or []
            if item.status == UploadItem.Status.ANONYMIZED and boxes:
                _set_aside(item, BURNED_IN.format(n=len(boxes)))
        for key in package.key_images:
            n = key.get("item", -1)
            item = items[n] if 0 <= n < len(items) else None
            if item is None or item.instance_id is None:
                continue  # that image was not imported (its item says why)
            KeyImage.objects.get_or_create(
                instance_id=item.instance_id,
                frame=key.get("frame", 0),
                defaults={
                    "case_id": package.case_id,
                    "caption": key.get("caption") or "",
                    "annotations": key.get("annotations") or [],
                    "order": key.get("order", 0),
                    "created_by_id": package.imported_by_id,
                },
            )
        package.status = PackageImport.Status.IMPORTED
        package.applied_at = timezone.now()
        package.save(update_fields=["status", "applied_at"])
    return True
