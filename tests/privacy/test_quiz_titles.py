"""Finding 4 of the privacy review: a quiz title is checked against every way of writing the
diagnosis (not only its name), and the home page shows quiz titles as the case page does."""

from __future__ import annotations

import pytest
from django.test import Client

from archive.models import Case, Diagnosis
from tests.editor.test_editor import FULL_CASE
from tests.viewer.factories import ct_stack, make_case, pneumothorax

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def hcc(db) -> Diagnosis:
    return Diagnosis.objects.create(
        name="Hepatocellular carcinoma", icd10="C22.0", synonyms="HCC\nHepatoma"
    )


@pytest.mark.parametrize(
    "title",
    [
        "HCC in a man with cirrhosis",  # a synonym of the record
        "Liver mass, C22.0",  # the ICD-10 code
        "Liver mass (C22)",  # its parent category
        "Hepatocellular carcinomas in cirrhosis",  # an inflection
        "Liver cell carcinoma?",  # a synonym search knows, not in the record
    ],
)
def test_quiz_titles_that_give_the_diagnosis_away_are_refused(teacher, hcc, title):
    data = {**FULL_CASE, "title": title, "quiz_mode": "on"}
    response = _client(teacher).post("/cases/new/", data)
    assert response.status_code == 200
    assert "must not give the diagnosis away" in response.content.decode()
    assert not Case.objects.exists()


def test_a_quiz_title_without_the_diagnosis_is_accepted(teacher, hcc):
    data = {**FULL_CASE, "title": "Liver mass in a man with cirrhosis", "quiz_mode": "on"}
    assert _client(teacher).post("/cases/new/", data).status_code == 302
    assert Case.objects.get().quiz_mode


def test_the_home_page_shows_quiz_titles_as_the_case_page_does(teacher, student):
    quiz = make_case(
        teacher, ct_stack(1), title="Pneumotorax after a flight", diagnosis=pneumothorax(),
        quiz_mode=True,
    )  # fmt: skip
    plain = make_case(teacher, ct_stack(1), title="Rib fracture", diagnosis=pneumothorax())
    html = _client(student).get("/").content.decode()
    assert "▇▇▇ after a flight" in html and "Pneumotorax" not in html
    assert "Rib fracture" in html
    assert html.count("Pneumothorax") == 1  # the diagnosis line of the plain case only
    # The author (and anyone who may edit it) sees the title as written.
    assert "Pneumotorax after a flight" in _client(teacher).get("/").content.decode()
    assert quiz.pk != plain.pk
