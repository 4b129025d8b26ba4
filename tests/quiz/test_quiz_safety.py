"""Quiz safety (invariant 5): while a student has not answered, the diagnosis appears nowhere —
page HTML (title, alt texts, key-image captions, tags), the viewer's JSON, image URLs, rendered
frames, single-file and zip downloads — and after answering everything is revealed."""

from __future__ import annotations

import json
import re

import pydicom
import pytest
from django.test import Client

from archive.models import KeyImage, Tag
from archive.services.quiz import diagnosis_terms, normalise
from tests.viewer.factories import ct_stack, make_case, pneumothorax, read_zip_members


def _leak_hook(ds):
    # Descriptions a scanner or a teacher could write; Clean Descriptors keeps "clinical" text.
    ds.StudyDescription = "CT chest pneumothorax"
    ds.SeriesDescription = "PTX follow up"
    ds.ImageComments = "J93.1"


@pytest.fixture
def quiz_case(teacher):
    diagnosis = pneumothorax()
    case = make_case(
        teacher,
        ct_stack(3, hook=_leak_hook),
        title="Pneumothorax after a long flight",
        history="Tall young man with sudden chest pain. Pneumotorax suspected by the GP.",
        findings="Visceral pleural line, no lung markings beyond it.",
        diagnosis=diagnosis,
        differential="Bulla\nSkin fold",
        discussion="Collapsed lung in a tall smoker.",
        teaching_points="Look for the pleural line.",
        organ_system="chest",
        quiz_mode=True,
    )
    case.tags.add(Tag.objects.create(name="pneumothorax"), Tag.objects.create(name="emergency"))
    instance = case.instances().order_by("instance_number").first()
    KeyImage.objects.create(
        case=case,
        instance=instance,
        frame=0,
        caption="Pneumothorax on the right",
        annotations=[{"type": "arrow", "x1": 0.2, "y1": 0.2, "x2": 0.4, "y2": 0.4, "label": "PTX"}],
    )
    return case


def _forbidden(case) -> list[str]:
    terms = diagnosis_terms(case.diagnosis)
    return sorted({t.lower() for t in terms} | {normalise(t) for t in terms})


def _assert_clean(text: str, case, where: str) -> None:
    lowered = text.lower()
    for term in _forbidden(case):
        assert not re.search(rf"(?<!\w){re.escape(term)}(?!\w)", lowered), f"{term!r} in {where}"


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_unanswered_quiz_hides_the_diagnosis_everywhere(quiz_case, student):
    c = _client(student)
    html = c.get(f"/cases/{quiz_case.pk}/").content.decode()
    _assert_clean(html, quiz_case, "case page HTML")
    assert "Tall young man" in html  # history stays
    assert "Visceral pleural line" not in html  # findings wait for the answer
    assert "Look for the pleural line" not in html and "Skin fold" not in html
    assert 'name="answer"' in html

    data_json = re.search(r'id="viewer-data" type="application/json">(.*?)</script>', html, re.S)
    data = json.loads(data_json.group(1))
    _assert_clean(json.dumps(data, ensure_ascii=False), quiz_case, "viewer JSON")
    # The key image is there to open on, but what the teacher drew and wrote on it is not.
    assert data["keyImages"] and data["keyImages"][0]["annotations"] == []
    assert data["keyImages"][0]["caption"] == ""
    alts = re.findall(r'alt="([^"]*)"', html)
    _assert_clean(" ".join(alts), quiz_case, "alt texts")

    image_urls = re.findall(r'(?:src|href)="([^"]+)"', html) + [
        k["thumb"] for k in data["keyImages"]
    ]
    _assert_clean(" ".join(image_urls), quiz_case, "URLs")
    for instance in quiz_case.instances():
        frame = c.get(f"/instances/{instance.pk}/frames/0.png", {"preset": "lung"})
        assert frame.status_code == 200
        _assert_clean(frame.content.decode("latin-1"), quiz_case, "rendered frame")
        single = c.get(f"/instances/{instance.pk}/download")
        assert single.status_code == 200
        _assert_clean(single.content.decode("latin-1"), quiz_case, "single DICOM download")
        assert "attachment" in single["Content-Disposition"]

    response = c.get(f"/cases/{quiz_case.pk}/download.zip")
    assert response.status_code == 200 and response.streaming
    members = read_zip_members(b"".join(response.streaming_content))
    for name, content in members.items():
        _assert_clean(name, quiz_case, "zip member name")
        _assert_clean(content.decode("latin-1"), quiz_case, f"zip member {name}")
    dicoms = [n for n in members if n.endswith(".dcm")]
    assert len(dicoms) == 3
    ds = pydicom.dcmread(__import__("io").BytesIO(members[dicoms[0]]))
    assert "chest" in str(ds.get("StudyDescription", "")).lower()  # the rest is kept


def test_answering_reveals_everything_and_is_remembered(quiz_case, student):
    c = _client(student)
    r = c.post(f"/cases/{quiz_case.pk}/quiz/answer", {"answer": "pnuemothorax"})
    assert r.status_code == 302
    html = c.get(f"/cases/{quiz_case.pk}/").content.decode()
    assert "Correct!" in html and "Pneumothorax" in html and "J93.1" in html
    assert "Look for the pleural line" in html and "Visceral pleural line" in html
    assert "Pneumothorax on the right" in html  # key-image caption now shown
    data_json = re.search(r'id="viewer-data" type="application/json">(.*?)</script>', html, re.S)
    (key,) = json.loads(data_json.group(1))["keyImages"]
    assert key["annotations"][0]["type"] == "arrow" and key["annotations"][0]["label"] == "PTX"
    assert 'name="answer"' not in html
    # A second answer does not replace the first.
    c.post(f"/cases/{quiz_case.pk}/quiz/answer", {"answer": "bulla"})
    assert quiz_case.quiz_answers.get().correct is True


def test_teacher_and_curator_see_their_quiz_case_in_full(quiz_case, teacher, curator):
    for user in (teacher, curator):
        html = _client(user).get(f"/cases/{quiz_case.pk}/").content.decode()
        assert "Pneumothorax" in html and 'name="answer"' not in html


def test_multiple_choice_is_shuffled_per_student_and_scored(quiz_case, student, django_user_model):
    quiz_case.differential = "Bulla\nSkin fold\nPneumomediastinum\nPTX\nPleural effusion"
    quiz_case.save()
    others = [
        django_user_model.objects.create_user(username=f"s{n}", password="x") for n in range(6)
    ]

    def options(user):
        html = _client(user).get(f"/cases/{quiz_case.pk}/quiz/choices/").content.decode()
        return re.findall(r'name="choice" value="\d+"[^>]*> <span>([^<]+)</span>', html)

    first = options(student)
    assert first == options(student)  # deterministic
    assert sorted(first) == sorted(
        ["Pneumothorax", "Bulla", "Skin fold", "Pneumomediastinum", "Pleural effusion"]
    )  # the synonym "PTX" in the differential is not offered twice
    assert len({tuple(options(u)) for u in [student, *others]}) > 1  # differs between students
    wrong = next(i for i, o in enumerate(first) if o != "Pneumothorax")
    _client(student).post(f"/cases/{quiz_case.pk}/quiz/answer", {"choice": str(wrong)})
    answer = quiz_case.quiz_answers.get()
    assert answer.correct is False and answer.mode == "choice"
    assert answer.answer_text == first[wrong]
    html = _client(student).get(f"/cases/{quiz_case.pk}/").content.decode()
    assert "Not quite." in html


def test_bad_choice_and_empty_answer_record_nothing(quiz_case, student):
    c = _client(student)
    c.post(f"/cases/{quiz_case.pk}/quiz/answer", {"choice": "99"})
    c.post(f"/cases/{quiz_case.pk}/quiz/answer", {"choice": "x"})
    c.post(f"/cases/{quiz_case.pk}/quiz/answer", {"answer": "   "})
    assert not quiz_case.quiz_answers.exists()


def test_progress_scores_per_topic(teacher, student):
    diagnosis = pneumothorax()
    chest = make_case(
        teacher, ct_stack(1), diagnosis=diagnosis, quiz_mode=True, organ_system="chest"
    )
    neuro = make_case(
        teacher,
        ct_stack(1),
        diagnosis=diagnosis,
        quiz_mode=True,
        organ_system="neuro",
        body_region="head",
    )
    c = _client(student)
    c.post(f"/cases/{chest.pk}/quiz/answer", {"answer": "J93.1"})
    c.post(f"/cases/{neuro.pk}/quiz/answer", {"answer": "glioma"})
    html = c.get("/my/progress/").content.decode()
    assert "1 of 2 quiz cases correct (50 %)" in html
    assert re.search(r"Chest</th><td class=\"num\">1</td><td class=\"num\">1</td>", html)
    assert re.search(r"Neuroradiology</th><td class=\"num\">0</td><td class=\"num\">1</td>", html)
    assert "Head" in html
    assert _client(teacher).get("/my/progress/").status_code == 200
    assert Client().get("/my/progress/").status_code == 302


def test_unpublished_quiz_cannot_be_answered(teacher, student):
    draft = make_case(teacher, ct_stack(1), publish=False, diagnosis=pneumothorax(), quiz_mode=True)
    c = _client(student)
    assert c.post(f"/cases/{draft.pk}/quiz/answer", {"answer": "PTX"}).status_code == 404
    assert c.get(f"/cases/{draft.pk}/quiz/choices/").status_code == 404


def test_the_viewer_requests_carry_no_answer(quiz_case, student):
    """Everything the viewer script fetches for an unanswered quiz: the series metadata it
    reads (descriptions, image comments), the frames, the series thumbnails, and a DICOMweb
    search for the answer itself, which must find nothing."""
    c = _client(student)
    html = c.get(f"/cases/{quiz_case.pk}/").content.decode()
    data = json.loads(
        re.search(r'id="viewer-data" type="application/json">(.*?)</script>', html, re.S).group(1)
    )
    (series,) = data["series"]
    _assert_clean(series["label"], quiz_case, "series label")
    base = f"{data['dicomweb']}/studies/{series['study']}/series/{series['uid']}"
    metadata = c.get(f"{base}/metadata")
    assert metadata.status_code == 200 and len(metadata.json()) == 3
    _assert_clean(metadata.content.decode(), quiz_case, "series metadata")
    assert "CT chest" in metadata.content.decode()  # the rest of the description is kept
    for image in series["images"]:
        frame = c.get(f"{base}/instances/{image['sop']}/frames/1")
        assert frame.status_code == 200
        _assert_clean(frame.content.decode("latin-1"), quiz_case, "frame")
    thumb = c.get(series["thumb"])
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    for query in ("StudyDescription=*pneumothorax*", "SeriesDescription=PTX*"):
        assert c.get(f"/dicomweb/series?{query}").json() == [], query
    assert len(c.get("/dicomweb/series?SeriesDescription=*follow*").json()) == 1
