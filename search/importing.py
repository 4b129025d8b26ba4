"""Bulk import of case metadata from JSON Lines (for demos and benchmarks).

One JSON object per line with: title, history, findings, diagnosis, icd10, differential,
discussion, modality, body_region, organ_system, level, age (years) or age_group, sex, tags (list
or comma-separated), published (bool), quiz_mode (bool). A bad line is reported with its number
and skipped; good lines are inserted in batches with ``bulk_create``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from archive.models import (
    AgeGroup,
    BodyRegion,
    Case,
    Diagnosis,
    Level,
    Modality,
    OrganSystem,
    Sex,
    Tag,
)

BATCH = 2000
IMPORTER_USERNAME = "importer"


@dataclass
class ImportReport:
    created: list[int] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def age_group_for(age: float) -> str:
    if age < 1 / 12:
        return AgeGroup.NEONATE
    if age < 18:
        return AgeGroup.CHILD
    if age < 65:
        return AgeGroup.ADULT
    return AgeGroup.ELDERLY


def _choice(value: Any, choices: type, name: str, required: bool = False) -> str:
    v = "" if value is None else str(value).strip()
    if not v:
        if required:
            raise ValueError(f"{name} is required")
        return ""
    for code, label in choices.choices:
        if v.lower() in {str(code).lower(), str(label).lower()}:
            return code
    raise ValueError(f"{name} {v!r} is not one of {', '.join(str(c) for c in choices.values)}")


def _text(row: dict, name: str, limit: int | None = None) -> str:
    v = row.get(name) or ""
    if not isinstance(v, str):
        raise ValueError(f"{name} must be text")
    v = v.strip()
    if limit and len(v) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")
    return v


def parse_row(row: Any) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise ValueError("each line must be a JSON object")
    title = _text(row, "title", 200)
    if not title:
        raise ValueError("title is required")
    age_group = ""
    if row.get("age") not in (None, ""):
        try:
            age = float(row["age"])
        except (TypeError, ValueError) as e:
            raise ValueError(f"age {row['age']!r} is not a number of years") from e
        if not 0 <= age < 130:
            raise ValueError(f"age {age} is out of range")
        age_group = age_group_for(age)
    elif row.get("age_group"):
        age_group = _choice(row["age_group"], AgeGroup, "age_group")
    tags = row.get("tags") or []
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError("tags must be a list of strings")
    return {
        "title": title,
        "history": _text(row, "history"),
        "findings": _text(row, "findings"),
        "diagnosis": _text(row, "diagnosis", 200),
        "icd10": _text(row, "icd10", 16).upper(),
        "differential": _text(row, "differential"),
        "discussion": _text(row, "discussion"),
        "modality": _choice(row.get("modality"), Modality, "modality", required=True),
        "body_region": _choice(row.get("body_region"), BodyRegion, "body_region", required=True),
        "organ_system": _choice(row.get("organ_system"), OrganSystem, "organ_system"),
        "level": _choice(row.get("level"), Level, "level") or Level.STUDENT,
        "age_group": age_group,
        "sex": _choice(row.get("sex"), Sex, "sex"),
        "tags": sorted({t.strip()[:64] for t in tags if t.strip()}),
        "published": bool(row.get("published", True)),
        "quiz_mode": bool(row.get("quiz_mode", False)),
    }


def importer_user(username: str | None = None):
    User = get_user_model()
    if username:
        return User.objects.get(username=username)
    user, created = User.objects.get_or_create(username=IMPORTER_USERNAME)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def import_lines(
    lines: Iterable[str], owner, on_error: Callable[[int, str], None] | None = None
) -> ImportReport:
    report = ImportReport()
    diagnoses = {d.name.lower(): d for d in Diagnosis.objects.all()}
    tags = {t.name: t for t in Tag.objects.all()}
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        if pending:
            report.created.extend(_insert(pending, owner, diagnoses, tags))
            pending.clear()

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            pending.append(parse_row(json.loads(line)))
        except (ValueError, json.JSONDecodeError) as e:
            report.errors.append((number, str(e)))
            if on_error:
                on_error(number, str(e))
            continue
        if len(pending) >= BATCH:
            flush()
    flush()
    return report


@transaction.atomic
def _insert(rows: list[dict[str, Any]], owner, diagnoses: dict, tags: dict) -> list[int]:
    new_d = {}
    for r in rows:
        key = r["diagnosis"].lower()
        if key and key not in diagnoses and key not in new_d:
            new_d[key] = Diagnosis(name=r["diagnosis"], icd10=r["icd10"])
            new_d[key].refresh_folded()
    if new_d:
        Diagnosis.objects.bulk_create(new_d.values(), ignore_conflicts=True)
        for d in Diagnosis.objects.filter(name__in=[d.name for d in new_d.values()]):
            diagnoses[d.name.lower()] = d
    new_t = {t for r in rows for t in r["tags"] if t not in tags}
    if new_t:
        Tag.objects.bulk_create([Tag(name=t) for t in new_t], ignore_conflicts=True)
        tags.update({t.name: t for t in Tag.objects.filter(name__in=new_t)})
    now = timezone.now()
    cases = [
        Case(
            title=r["title"],
            owner=owner,
            history=r["history"],
            findings=r["findings"],
            diagnosis=diagnoses.get(r["diagnosis"].lower()) if r["diagnosis"] else None,
            differential=r["differential"],
            discussion=r["discussion"],
            modality=r["modality"],
            body_region=r["body_region"],
            organ_system=r["organ_system"],
            level=r["level"],
            age_group=r["age_group"],
            sex=r["sex"],
            quiz_mode=r["quiz_mode"],
            status=Case.Status.PUBLISHED if r["published"] else Case.Status.DRAFT,
            published_at=now if r["published"] else None,
        )
        for r in rows
    ]
    created = Case.objects.bulk_create(cases, batch_size=1000)
    if any(c.pk is None for c in created):  # backends that cannot return ids
        raise RuntimeError("bulk_create returned no primary keys")
    through = Case.tags.through
    through.objects.bulk_create(
        [
            through(case_id=c.pk, tag_id=tags[t].pk)
            for c, r in zip(created, rows, strict=True)
            for t in r["tags"]
        ],
        batch_size=5000,
        ignore_conflicts=True,
    )
    return [c.pk for c in created]
