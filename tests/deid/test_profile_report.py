"""`manage.py deid_profile`: the profile a privacy officer signs, attribute by attribute.

The committed report of the default profile (docs/deid-profile-default.csv and .html) must be
exactly what the command prints today: a change to the engine's tables that changes what
happens to an attribute shows up here as a diff to review and commit (regenerate with
`python manage.py deid_profile -o docs/deid-profile-default.csv` and `--format html`)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from archive.deid.options import DEFAULT_PROFILE
from archive.deid.profile_table import TABLE_E1_1
from archive.deid.safe_private_table import TABLE_E3_10_1

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def default_profile(settings) -> None:
    settings.DEID_PROFILE = ",".join(DEFAULT_PROFILE)
    settings.DEID_ACCEPT_IDENTIFYING_OPTIONS = ""


def _report(*args: str) -> str:
    out = io.StringIO()
    call_command("deid_profile", *args, stdout=out)
    return out.getvalue()


def _rows(text: str) -> list[dict[str, str]]:
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return list(csv.DictReader(io.StringIO(body)))


@pytest.mark.usefixtures("default_profile")
@pytest.mark.parametrize(("fmt", "name"), [("csv", "deid-profile-default.csv"),
                                           ("html", "deid-profile-default.html")])  # fmt: skip
def test_the_committed_report_matches_the_code(fmt: str, name: str) -> None:
    committed = (DOCS / name).read_text(encoding="utf-8")
    assert _report("--format", fmt) == committed, (
        f"docs/{name} is out of date: regenerate it with "
        f"`python manage.py deid_profile --format {fmt} -o docs/{name}` and review the diff"
    )


@pytest.mark.usefixtures("default_profile")
def test_every_attribute_of_the_tables_has_a_row() -> None:
    rows = _rows(_report())
    table = [r for r in rows if r["section"] == "Table E.1-1"]
    assert {r["name"] for r in table} >= {row.name for row in TABLE_E1_1}
    assert len([r for r in rows if r["section"] == "Table E.3.10-1"]) == len(TABLE_E3_10_1)
    by_keyword = {r["keyword or private creator"]: r for r in table}
    assert by_keyword["PatientName"]["action"].startswith("replaced with the patient's keyed")
    assert by_keyword["StudyDate"]["action"].startswith("moved by the patient's keyed")
    assert by_keyword["InstitutionName"]["action"] == "replaced with the dummy value 'ANONYMIZED'"
    assert by_keyword["ReferencedStudySequence"]["action"].startswith("emptied (no items) (removed")


def test_a_profile_preview_says_what_changes(default_profile) -> None:
    rows = _rows(_report("--profile", "clean-descriptors, retain-institution-identity"))
    by_keyword = {r["keyword or private creator"]: r for r in rows if r["section"] == "Table E.1-1"}
    assert by_keyword["InstitutionName"]["action"] == "kept"
    assert by_keyword["InstitutionName"]["options applied"] == "Retain Institution Identity: K"
    assert by_keyword["StudyDate"]["action"].startswith("emptied")  # no longitudinal option
    header = _report("--profile", "clean-descriptors").splitlines()[0]
    assert header == "# Profile: clean-descriptors"


def test_a_refused_profile_is_not_reported(default_profile) -> None:
    with pytest.raises(CommandError, match="TA_DEID_ACCEPT_IDENTIFYING_OPTIONS=full-dates"):
        _report("--profile", "retain-longitudinal-full-dates")


def test_the_report_is_written_to_a_file(default_profile, tmp_path: Path) -> None:
    target = tmp_path / "profile.html"
    call_command("deid_profile", "--format", "html", "-o", str(target), stderr=io.StringIO())
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert "<td>Patient&#x27;s Name</td>" in page
