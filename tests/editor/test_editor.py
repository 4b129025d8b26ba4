"""The teacher's editor: diagnosis lookup, all fields, per-file upload results, thumbnails with
the blanked text outlined, and editing limited to the author's own draft or returned cases."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from archive.models import Case, Diagnosis, Upload
from archive.services.processing import process_upload
from tests.editor.builders import case_with_images, client_for, hcc

pytestmark = pytest.mark.django_db(transaction=True)


# --- /api/diagnoses ------------------------------------------------------------------------


def test_a_synonym_finds_the_diagnosis_with_its_code(teacher):
    hcc()
    Diagnosis.objects.create(name="Cholangiocarcinoma", icd10="C22.1")
    results = client_for(teacher).get("/api/diagnoses", {"q": "HCC"}).json()["results"]
    assert results[0]["name"] == "Hepatocellular carcinoma"
    assert results[0]["icd10"] == "C22.0"
    assert results[0]["matched"] == "HCC"
    assert "Cholangiocarcinoma" not in [r["name"] for r in results]


@pytest.mark.parametrize("q", ["hepato", "C22.0", "c22", "liver cell", "hepatoma"])
def test_names_codes_and_synonyms_all_match(teacher, q):
    hcc()
    names = [
        r["name"] for r in client_for(teacher).get("/api/diagnoses", {"q": q}).json()["results"]
    ]
    assert "Hepatocellular carcinoma" in names


def test_exact_and_prefix_matches_come_before_substrings(teacher):
    Diagnosis.objects.create(name="Tension pneumothorax")
    Diagnosis.objects.create(name="Pneumothorax", icd10="J93.9")
    Diagnosis.objects.create(name="Pneumonia", icd10="J18.9")
    results = client_for(teacher).get("/api/diagnoses", {"q": "pneumothorax"}).json()["results"]
    names = [r["name"] for r in results]
    # The archive's "Pneumothorax" stands for the catalogue's entries of that name.
    assert names[0] == "Pneumothorax" and names.count("Pneumothorax") == 1
    assert results[0]["in_archive"] and results[0]["icd10"] == "J93.9"
    assert names.index("Tension pneumothorax") < names.index("Traumatic pneumothorax")
    assert "Pneumonia" not in names


def test_czech_users_see_the_czech_name(teacher):
    hcc()
    c = client_for(teacher)
    result = c.get("/api/diagnoses", {"q": "HCC"}, HTTP_ACCEPT_LANGUAGE="cs").json()["results"][0]
    assert result["label"] == "Hepatocelulární karcinom"
    assert result["name"] == "Hepatocellular carcinoma"  # what the form stores
    czech = c.get("/api/diagnoses", {"q": "hepatocelul"}).json()["results"]
    assert czech and czech[0]["name"] == "Hepatocellular carcinoma"


def test_diagnosis_lookup_is_for_teachers(student):
    assert Client().get("/api/diagnoses", {"q": "HCC"}).status_code == 401
    assert client_for(student).get("/api/diagnoses", {"q": "HCC"}).status_code == 403


def test_an_empty_query_suggests_nothing(teacher):
    hcc()
    assert client_for(teacher).get("/api/diagnoses", {"q": "  "}).json() == {"results": []}


# --- the form ------------------------------------------------------------------------------

FULL_CASE = {
    "title": "Liver mass in a man with cirrhosis",
    "history": "65-year-old with hepatitis C cirrhosis, rising AFP.",
    "findings": "Arterial hyperenhancement with washout and a capsule.",
    "diagnosis_name": "Hepatocellular carcinoma",
    "icd10": "",
    "certainty": "pathology",
    "differential": "Regenerative nodule\nCholangiocarcinoma",
    "discussion": "LI-RADS 5 observation.",
    "teaching_points": "Washout needs the portal venous phase.",
    "references": "ACR LI-RADS v2018.",
    "modality": "CT",
    "body_region": "abdomen",
    "organ_system": "gastrointestinal",
    "level": "resident",
    "age_group": "elderly",
    "sex": "M",
    "tag_names": "Liver, cirrhosis, liver",
}


def test_every_field_of_the_editor_is_saved(teacher):
    diagnosis = hcc()
    response = client_for(teacher).post("/cases/new/", FULL_CASE)
    assert response.status_code == 302
    case = Case.objects.get(title=FULL_CASE["title"])
    assert case.owner == teacher and case.status == "draft"
    assert case.diagnosis == diagnosis  # reused, not duplicated
    for name in ["history", "findings", "certainty", "differential", "discussion",
                 "teaching_points", "references", "modality", "body_region", "organ_system",
                 "level", "age_group", "sex"]:  # fmt: skip
        assert getattr(case, name) == FULL_CASE[name], name
    # Tags keep the case typed first; "liver" is the same tag as "Liver".
    assert sorted(t.name for t in case.tags.all()) == ["Liver", "cirrhosis"]


def test_a_new_diagnosis_name_joins_the_vocabulary_with_its_code(teacher):
    data = {**FULL_CASE, "diagnosis_name": "Fibrolamellar carcinoma", "icd10": "C22.0"}
    client_for(teacher).post("/cases/new/", data)
    assert Diagnosis.objects.get(name="Fibrolamellar carcinoma").icd10 == "C22.0"


def test_the_editor_has_sections_and_an_accessible_diagnosis_combobox(teacher):
    html = client_for(teacher).get("/cases/new/").content.decode()
    for legend in ["The case", "Diagnosis", "Teaching", "Classification", "Tags and quiz"]:
        assert f"<legend>{legend}</legend>" in html
    combo = re.search(r'<input[^>]*name="diagnosis_name"[^>]*>', html).group(0)
    assert 'role="combobox"' in combo and 'aria-controls="diagnosis-listbox"' in combo
    assert 'data-diagnosis-autocomplete="/api/diagnoses"' in combo
    assert 'id="diagnosis-listbox"' in html and "js/editor.js" in html


def test_quiz_titles_must_not_give_the_diagnosis_away(teacher):
    data = {**FULL_CASE, "title": "Hepatocellular carcinoma", "quiz_mode": "on"}
    response = client_for(teacher).post("/cases/new/", data)
    assert response.status_code == 200
    assert "must not give the diagnosis away" in response.content.decode()


@pytest.mark.parametrize(
    "field, text",
    [
        ("history", "Referred by Dr. Kalorava; seen on 12.3.2024."),
        ("findings", "Lesion as on the study of 2019-07-04."),
    ],
)
def test_personal_data_typed_into_a_draft_is_refused(teacher, field, text):
    """The free-text checker of the de-identification reads what the teacher types too: a
    name or a date in the history would reach every student."""
    data = {**FULL_CASE, field: text}
    response = client_for(teacher).post("/cases/new/", data)
    assert response.status_code == 200
    assert "looks like it holds personal data" in response.content.decode()
    assert not Case.objects.filter(title=FULL_CASE["title"]).exists()


# --- upload results and thumbnails -----------------------------------------------------------


def test_upload_reports_each_file(teacher, phi_file):
    case = Case.objects.create(owner=teacher, title="t", modality="CT", body_region="chest")
    c = client_for(teacher)
    good = phi_file()
    response = c.post(
        f"/cases/{case.pk}/upload/",
        {"files": [_file("a.dcm", good), _file("b.txt", b"not an image"), _file("c.dcm", b"")]},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert [i["label"] for i in body["items"]] == ["File 1", "File 2", "File 3"]
    assert body["items"][2]["status"] == "rejected" and "empty" in body["items"][2]["reason"]
    process_upload(Upload.objects.get(public_id=body["id"]).pk)
    status = c.get(body["status_url"]).json()
    assert status["status"] == "done"
    assert [i["status"] for i in status["items"]] == ["anonymized", "rejected", "rejected"]
    assert "not a DICOM file" in status["items"][1]["reason"]
    # The same file again is reported as a duplicate, not stored twice.
    again = c.post(f"/cases/{case.pk}/upload/", {"files": [_file("a.dcm", good)]},
                   HTTP_ACCEPT="application/json").json()  # fmt: skip
    process_upload(Upload.objects.get(public_id=again["id"]).pk)
    assert c.get(again["status_url"]).json()["items"][0]["status"] == "duplicate"
    assert case.instances().count() == 1
    html = c.get(f"/cases/{case.pk}/edit/").content.decode()
    assert "Already in this case" in html and "not a DICOM file" in html


def test_thumbnails_outline_the_blanked_text_with_its_reason(teacher, phi_file):
    case = case_with_images(teacher, [phi_file()])
    instance = case.instances().get()
    instance.pixel_report = {"boxes": [[0, 10, 20, 60, 32, "burned-in text (OCR)"],
                                       [1, 0, 0, 5, 5, "other frame"]]}  # fmt: skip
    instance.save()
    html = client_for(teacher).get(f"/cases/{case.pk}/edit/").content.decode()
    svg = re.search(r'<svg class="redactions"[^>]*>.*?</svg>', html, re.S).group(0)
    assert f'viewBox="0 0 {instance.columns} {instance.rows}"' in svg
    assert '<rect x="10" y="20" width="50" height="12"' in svg
    assert "<title>Redacted: burned-in text (OCR)</title>" in svg
    assert "other frame" not in svg  # the thumbnail shows frame 0
    assert "2 text areas blanked" in html
    assert f"/instances/{instance.pk}/frames/0.png?size=160" in html


def test_thumbnails_without_redactions_have_no_boxes(teacher, phi_file):
    case = case_with_images(teacher, [phi_file()])
    html = client_for(teacher).get(f"/cases/{case.pk}/edit/").content.decode()
    assert 'class="series-thumb"' in html and "<svg" not in html


def _file(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


# --- who may edit ------------------------------------------------------------------------------


def test_teachers_edit_only_their_own_cases(teacher, other_teacher, phi_file):
    case = case_with_images(teacher, [phi_file()])
    other = client_for(other_teacher)
    assert other.get(f"/cases/{case.pk}/edit/").status_code == 404
    assert other.post(f"/cases/{case.pk}/edit/", FULL_CASE).status_code == 404
    assert other.post(f"/cases/{case.pk}/upload/", {}).status_code == 404
    assert other.post(f"/cases/{case.pk}/submit/").status_code == 404
    case.refresh_from_db()
    assert case.title == "Right upper lobe mass" and case.status == "draft"


def test_a_submitted_case_is_locked_for_its_author(teacher, phi_file):
    case = case_with_images(teacher, [phi_file()])
    c = client_for(teacher)
    assert c.post(f"/cases/{case.pk}/submit/").status_code == 302
    case.refresh_from_db()
    assert case.status == "submitted"
    assert c.get(f"/cases/{case.pk}/edit/").status_code == 403
    assert c.post(f"/cases/{case.pk}/edit/", FULL_CASE).status_code == 403
    assert c.post(f"/cases/{case.pk}/upload/", {"files": [_file("a", b"x")]}).status_code == 403
    # My cases links a locked case to its page, not to the editor.
    html = c.get("/my/cases/").content.decode()
    assert f'href="/cases/{case.pk}/"' in html and f"/cases/{case.pk}/edit/" not in html


def test_a_case_without_images_cannot_be_submitted(teacher):
    case = Case.objects.create(owner=teacher, title="t", modality="CT", body_region="chest")
    response = client_for(teacher).post(f"/cases/{case.pk}/submit/", follow=True)
    assert "Add at least one anonymized image" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "draft"
