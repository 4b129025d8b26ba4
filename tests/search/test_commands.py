"""``import_cases`` and ``search_index --rebuild`` on the database backend."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from archive.models import Case, Diagnosis, Tag
from search import services
from search.backends import search_backends

LINES = [
    {
        "title": "Collapsed lung",
        "diagnosis": "Pneumothorax",
        "icd10": "J93.9",
        "modality": "CR",
        "body_region": "chest",
        "age": 23,
        "sex": "M",
        "tags": ["trauma", "emergency"],
        "published": True,
    },
    "this is not json",
    {
        "title": "Liver mass",
        "diagnosis": "Hepatocellular carcinoma",
        "icd10": "C22.0",
        "modality": "CT",
        "body_region": "abdomen",
        "organ_system": "gastrointestinal",
        "age": 70,
        "tags": "cirrhosis, oncology",
        "published": True,
    },
    {"title": "No modality", "diagnosis": "Pneumothorax", "body_region": "chest"},
    {
        "title": "Draft case",
        "diagnosis": "Pneumothorax",
        "modality": "CT",
        "body_region": "chest",
        "published": False,
    },
    {"title": "Bad age", "modality": "CT", "body_region": "chest", "age": "old"},
]


@pytest.fixture(autouse=True)
def database_backend(settings, db):
    settings.SEARCH_BACKEND = "database"
    search_backends.reset()
    yield
    search_backends.reset()


def test_import_cases_reports_bad_lines_and_indexes(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in LINES) + "\n",
        encoding="utf-8",
    )
    out, err = io.StringIO(), io.StringIO()
    call_command("import_cases", str(path), stdout=out, stderr=err)
    errors = err.getvalue()
    assert "line 2:" in errors and "line 4: modality is required" in errors
    assert "line 6: age 'old'" in errors
    assert "Imported 3 cases" in out.getvalue() and "3 bad lines" in out.getvalue()
    assert Case.objects.count() == 3
    assert Case.objects.get(title="Collapsed lung").owner.username == "importer"
    assert Case.objects.get(title="Liver mass").age_group == "elderly"
    assert Diagnosis.objects.get(name="Hepatocellular carcinoma").icd10 == "C22.0"
    assert set(Tag.objects.values_list("name", flat=True)) >= {"trauma", "cirrhosis", "oncology"}
    found = services.search_cases(text="HCC")
    assert [r["title"] for r in found.results] == ["Liver mass"]
    assert services.search_cases(text="pneumothorax").total == 1  # the draft is not indexed
    assert services.search_cases(text="C22.0").total == 1


def test_import_cases_unknown_owner(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text("")
    with pytest.raises(CommandError, match="no user"):
        call_command("import_cases", str(path), owner="nobody")


def test_search_index_rebuild(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(LINES[0]) + "\n" + json.dumps(LINES[2]) + "\n")
    call_command("import_cases", str(path), "--no-index", stdout=io.StringIO())
    assert services.search_cases(text="pneumothorax").total == 0
    out = io.StringIO()
    call_command("search_index", "--rebuild", stdout=out)
    assert "2/2" in out.getvalue() and "Indexed 2 published cases" in out.getvalue()
    assert services.search_cases(text="pneumothorax").total == 1
    with pytest.raises(CommandError):
        call_command("search_index")


FOREIGN = [
    # Vocabularies of other teaching-file systems: each value is mapped, never dropped.
    {"title": "a", "modality": "MRI", "body_region": "Knee", "organ_system": "MSK",
     "level": "Advanced", "sex": "female"},
    {"title": "b", "modality": "X-ray", "body_region": "Thorax", "organ_system": "Respiratory"},
    {"title": "c", "modality": "Ultrazvuk", "body_region": "Left knee", "level": "Registrar"},
    {"title": "d", "modality": "Thermography", "body_region": "Skin of the back",
     "organ_system": "Dermatology", "level": "Guru", "sex": "x"},
]  # fmt: skip


def test_import_cases_maps_other_vocabularies_and_keeps_unknown_values(tmp_path):
    path = tmp_path / "foreign.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in FOREIGN) + "\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_cases", str(path), "--no-index", stdout=out, stderr=err)
    cases = {c.title: c for c in Case.objects.all()}
    assert len(cases) == 4  # no case dropped
    a, b, c, d = (cases[t] for t in "abcd")
    assert (a.modality, a.body_region, a.organ_system, a.level, a.sex) == (
        "MR", "lower_limb", "musculoskeletal", "specialist", "F"
    )  # fmt: skip
    assert (b.modality, b.body_region, b.organ_system) == ("CR", "chest", "chest")
    assert (c.modality, c.body_region, c.level) == ("US", "lower_limb", "resident")
    # Nothing matches: "other" (or the default), with a warning naming the value.
    assert (d.modality, d.body_region, d.organ_system, d.level, d.sex) == (
        "OT", "other", "other", "student", ""
    )  # fmt: skip
    report = out.getvalue()
    assert "Mapped organ_system 'Respiratory' → 'chest' in 1 case(s)." in report
    assert "Mapped body_region 'Knee' → 'lower_limb' in 1 case(s)." in report
    assert "Mapped body_region 'Left knee' → 'lower_limb' in 1 case(s)." in report
    assert "Imported 4 cases" in report and "0 bad lines" in report
    warnings = err.getvalue()
    assert (
        "line 4: body_region 'Skin of the back' is not a value the archive knows; imported as "
        "'Other'" in warnings
    )
    assert "line 4: modality 'Thermography'" in warnings and "'Other'" in warnings
    assert "line 4: level 'Guru'" in warnings and "'Medical student'" in warnings
    assert "(skipped)" not in warnings
