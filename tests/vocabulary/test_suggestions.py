"""The editor's diagnosis field with the whole ICD-10: what a teacher typing gets, in which
order, in which language; free text allowed and filed under a code later by a curator."""

from __future__ import annotations

import pytest
from django.test import Client

from archive.models import Case, Diagnosis

pytestmark = pytest.mark.django_db(transaction=True)


def _client(user, language: str = "en") -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE=language)
    c.force_login(user)
    return c


def suggest(user, q: str, language: str = "en") -> list[dict]:
    response = _client(user, language).get("/api/diagnoses", {"q": q})
    assert response.status_code == 200
    return response.json()["results"]


def test_a_fresh_archive_offers_the_whole_catalogue(teacher):
    assert not Diagnosis.objects.exists()
    results = suggest(teacher, "pneumo")
    assert {"Pneumonia", "Pneumothorax"} <= {r["name"] for r in results}
    assert all(r["icd10"] and not r["in_archive"] for r in results)


def test_the_plain_name_comes_before_its_kinds(teacher):
    results = suggest(teacher, "pneumothorax")
    codes = [r["icd10"] for r in results]
    assert results[0]["name"] == "Pneumothorax" and codes[0] == "J93"
    assert codes.index("J93.9") < codes.index("S27.0")  # "Pneumothorax, unspecified" first
    assert results[codes.index("S27.0")]["name"] == "Traumatic pneumothorax"
    assert results[0]["block"] == "J90-J94" and results[0]["chapter"] == "X"


@pytest.mark.parametrize(
    "typed, code, name",
    [
        ("PTX", "J93", "Pneumothorax"),
        ("HCC", "C22.0", "Hepatocellular carcinoma"),
        ("hepatoma", "C22.0", "Hepatocellular carcinoma"),
        ("GBM", "C71.9", "Glioblastoma"),
        ("AAA", "I71.4", "Abdominal aortic aneurysm"),
        ("ACL tear", "S83.5", "Anterior cruciate ligament tear"),
        ("DDH", "Q65.8", "Developmental dysplasia of the hip"),
        ("NSCLC", "C34.9", "Non small cell lung cancer"),
        ("slipped disc", "M51.2", "Intervertebral disc herniation"),
        ("crohns disease", "K50.9", "Crohn's disease"),
        ("subarachnoid hemorrhage", "I60", "Subarachnoid haemorrhage"),
        ("primary spontaneous pneumo", "J93.1", "Other spontaneous pneumothorax"),
    ],
)
def test_abbreviations_lay_terms_eponyms_spellings_and_inclusion_terms(teacher, typed, code, name):
    first = suggest(teacher, typed)[0]
    assert (first["icd10"], first["name"]) == (code, name)


@pytest.mark.parametrize("typed", ["J93.1", "j931", "J93.1 "])
def test_a_code_finds_its_entry(teacher, typed):
    assert suggest(teacher, typed)[0]["icd10"] == "J93.1"


def test_a_parent_code_lists_its_subcategories_in_order(teacher):
    codes = [r["icd10"] for r in suggest(teacher, "J93")]
    assert codes == ["J93", "J93.0", "J93.1", "J93.8", "J93.9"]


def test_suggestions_speak_the_users_language(teacher):
    [czech] = suggest(teacher, "tenzni pneumo", language="cs")[:1]
    assert czech["label"] == "Tenzní pneumotorax"
    assert czech["name"] == "Tension pneumothorax"  # what the form stores
    assert czech["icd10"] == "J93.0"
    english = suggest(teacher, "tension pneumo")[0]
    assert english["label"] == "Tension pneumothorax" and english["name_cs"] == "Tenzní pneumotorax"
    ribs = suggest(teacher, "zlomenina zeber", language="cs")[0]
    assert (ribs["label"], ribs["icd10"]) == ("Zlomenina žebra", "S22.3")


def test_an_archive_diagnosis_without_a_czech_name_gets_the_vocabularys(teacher):
    Diagnosis.objects.create(name="Hepatocellular carcinoma", icd10="C22.0", synonyms="HCC")
    [first] = suggest(teacher, "HCC", language="cs")[:1]
    assert first["in_archive"] and first["label"] == "Hepatocelulární karcinom"


def test_the_archives_own_diagnosis_stands_for_its_code(teacher):
    mine = Diagnosis.objects.create(name="Spontaneous pneumothorax", icd10="J93.1")
    results = suggest(teacher, "J93.1")
    assert results[0]["id"] == mine.pk and results[0]["name"] == "Spontaneous pneumothorax"
    assert [r["icd10"] for r in results].count("J93.1") == 1


EDITOR = {
    "title": "Sudden dyspnoea after a long flight",
    "modality": "CR",
    "body_region": "chest",
    "level": "student",
}


def test_picking_from_the_catalogue_brings_its_names(teacher):
    response = _client(teacher).post(
        "/cases/new/", {**EDITOR, "diagnosis_name": "Tension pneumothorax", "icd10": "J93.0"}
    )
    assert response.status_code == 302
    d = Case.objects.get().diagnosis
    assert (d.name, d.icd10, d.name_cs) == ("Tension pneumothorax", "J93.0", "Tenzní pneumotorax")
    assert "Spontaneous tension pneumothorax" in d.synonym_list
    assert "Přetlakový pneumotorax" in d.synonym_list_cs or "přetlakový pneumotorax" in (
        d.synonym_list_cs
    )


def test_a_free_text_diagnosis_is_kept_and_a_curator_files_it_under_a_code(teacher, curator):
    c = _client(teacher)
    response = c.post(
        "/cases/new/",
        {
            **EDITOR,
            "diagnosis_name": "Ballon pneumothorax",
            "diagnosis_name_cs": "Balonový pneumotorax",
            "diagnosis_synonyms_cs": "BPNO, balonek",
        },
    )
    assert response.status_code == 302
    d = Case.objects.get().diagnosis
    assert (d.name, d.icd10, d.name_cs) == ("Ballon pneumothorax", "", "Balonový pneumotorax")
    assert d.synonym_list_cs == ["BPNO", "balonek"]
    admin = _client(curator)
    listing = admin.get("/admin/archive/diagnosis/", {"coded": "no"}).content.decode()
    assert "Ballon pneumothorax" in listing
    page = admin.post(
        "/admin/archive/diagnosis/",
        {"action": "link_to_code", "_selected_action": [d.pk], "index": "0"},
    ).content.decode()
    assert "The catalogue suggests:" in page and "J93" in page
    bad = admin.post(
        "/admin/archive/diagnosis/",
        {"action": "link_to_code", "_selected_action": [d.pk], "code": "J99.9", "apply": "1"},
    )
    assert "not a category or subcategory of ICD-10" in bad.content.decode()
    done = admin.post(
        "/admin/archive/diagnosis/",
        {"action": "link_to_code", "_selected_action": [d.pk], "code": "j938", "apply": "1"},
        follow=True,
    )
    assert "Filed 1 diagnosis under J93.8 Other pneumothorax" in done.content.decode()
    d.refresh_from_db()
    assert d.icd10 == "J93.8" and d.name_cs == "Balonový pneumotorax"


def test_a_code_that_is_not_in_the_catalogue_is_refused_with_a_reason(teacher):
    response = _client(teacher).post(
        "/cases/new/", {**EDITOR, "diagnosis_name": "Pneumothorax", "icd10": "J99.9"}
    )
    assert response.status_code == 200
    assert "is not an ICD-10 diagnosis code" in response.content.decode()
    assert not Case.objects.exists()


def test_a_czech_name_typed_in_the_editor_counts_in_the_quiz_title_check(teacher):
    response = _client(teacher).post(
        "/cases/new/",
        {
            **EDITOR,
            "title": "Balonový pneumotorax po letu",
            "diagnosis_name": "Ballon pneumothorax",
            "diagnosis_name_cs": "Balonový pneumotorax",
            "quiz_mode": "on",
        },
    )
    assert "must not give the diagnosis away" in response.content.decode()
