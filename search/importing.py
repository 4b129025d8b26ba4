"""Bulk import of case metadata from JSON Lines (for demos and benchmarks).

One JSON object per line with: title, history, findings, diagnosis, icd10, differential,
discussion, modality, body_region, organ_system, level, age (years) or age_group, sex, tags (list
or comma-separated), published (bool), quiz_mode (bool). A bad line (not JSON, no title, no
modality or region, a bad age) is reported with its number and skipped; good lines are inserted
in batches with ``bulk_create``.

Modality, region, organ system, level and sex may be written as other systems write them:
``search/data/import_words.tsv`` maps accepted words to the archive's values ("Respiratory" →
chest, "Knee" → lower limb, "MRI" → MR); the report says what was mapped, and a value nothing
matches is imported as "other" (level: medical student, sex: unknown) with a warning, never
dropped with its case.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
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


WORDS_FILE = Path(__file__).resolve().parent / "data" / "import_words.tsv"
# A value no word of the table knows is imported as this (with a warning), not dropped.
FALLBACK = {
    "modality": Modality.OT,
    "body_region": BodyRegion.OTHER,
    "organ_system": OrganSystem.OTHER,
    "level": Level.STUDENT,
    "sex": Sex.UNKNOWN,
}
CHOICES = {
    "modality": Modality,
    "body_region": BodyRegion,
    "organ_system": OrganSystem,
    "level": Level,
    "sex": Sex,
}


@dataclass
class ImportReport:
    created: list[int] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    # (field, value as written, value stored) → how many cases, for words the table mapped.
    mapped: Counter = field(default_factory=Counter)
    # (line, sentence): values imported as "other" (or the default) because nothing matched.
    warnings: list[tuple[int, str]] = field(default_factory=list)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w&/]+", " ", plain).split())


@lru_cache(maxsize=1)
def accepted_words() -> dict[str, dict[str, str]]:
    """field → folded word → value, from ``search/data/import_words.tsv`` plus every choice's
    own code and label."""
    table: dict[str, dict[str, str]] = {name: {} for name in CHOICES}
    for name, choices in CHOICES.items():
        for code, label in choices.choices:
            if code:
                table[name][_fold(str(code))] = code
                table[name][_fold(str(label))] = code
    with WORDS_FILE.open(encoding="utf-8") as fh:
        rows = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t")
        for row in rows:
            for word in row["words"].split(","):
                if word.strip():
                    table[row["field"]][_fold(word)] = row["value"]
    return table


@lru_cache(maxsize=8)
def _own_words(name: str) -> frozenset[str]:
    """The field's codes and labels, folded: matching one of them is no mapping to report."""
    return frozenset(_fold(str(x)) for pair in CHOICES[name].choices for x in pair)


@dataclass
class Mapped:
    """A value of a vocabulary field as import_cases stores it."""

    value: str
    written: str = ""
    how: str = "exact"  # "exact", "mapped" (by the word table) or "unknown" (the fallback)


def map_value(name: str, value: Any, *, required: bool = False) -> Mapped:
    """The stored value for what another system wrote in field ``name``."""
    written = "" if value is None else str(value).strip()
    if not written:
        if required:
            raise ValueError(f"{name} is required")
        return Mapped("", written)
    choices = CHOICES[name]
    if written in choices.values:
        return Mapped(written, written)
    words = accepted_words()[name]
    folded = _fold(written)
    if folded in words:
        exact = folded in _own_words(name)
        return Mapped(words[folded], written, "exact" if exact else "mapped")
    # Word by word, and then pairs of words: "Left knee" → knee, "CT of the chest" → CT.
    tokens = folded.split()
    for n in (2, 1):
        for i in range(len(tokens) - n + 1):
            part = " ".join(tokens[i : i + n])
            if part in words:
                return Mapped(words[part], written, "mapped")
    return Mapped(FALLBACK[name], written, "unknown")


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


def _unknown_warning(name: str, mapped: Mapped) -> str:
    label = dict(CHOICES[name].choices).get(mapped.value) or "unknown"
    return (
        f"{name} {mapped.written!r} is not a value the archive knows; imported as "
        f"{str(label)!r} (add the word to search/data/import_words.tsv to map it)"
    )


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
    mapping = {
        name: map_value(name, row.get(name), required=name in ("modality", "body_region"))
        for name in CHOICES
    }
    mapped_values = {name: m.value for name, m in mapping.items()}
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
        **mapped_values,
        "level": mapped_values["level"] or Level.STUDENT,
        "age_group": age_group,
        "_mapped": mapping,
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
    lines: Iterable[str],
    owner,
    on_error: Callable[[int, str], None] | None = None,
    on_warning: Callable[[int, str], None] | None = None,
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
            row = parse_row(json.loads(line))
        except (ValueError, json.JSONDecodeError) as e:
            report.errors.append((number, str(e)))
            if on_error:
                on_error(number, str(e))
            continue
        for name, m in row.pop("_mapped").items():
            if m.how == "mapped":
                report.mapped[(name, m.written, m.value)] += 1
            elif m.how == "unknown":
                report.warnings.append((number, _unknown_warning(name, m)))
                if on_warning:
                    on_warning(number, _unknown_warning(name, m))
        pending.append(row)
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
