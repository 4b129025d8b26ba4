"""Conference mode and the PowerPoint export: nothing of an answer in the presenting page until
the teacher's reveal fetches it; teachers only; the deck holds the expected slides."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from django.test import Client
from pptx import Presentation

from archive.packages.manifest import check_manifest
from teaching.models import Collection, CollectionEntry

pytestmark = pytest.mark.django_db

# What the five cases' answers say (their findings, diagnoses, teaching points), written out.
ANSWERS = re.compile(
    r"pneumothorax|visceral pleural|look for the pleural|pulmonary nodule|rib fracture|"
    r"pleural effusion|J93|R91|S22|J90",
    re.I,
)


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_the_presenting_page_holds_no_answer(teacher, collection, cases):
    CollectionEntry.objects.filter(collection=collection, case=cases["ptx"]).update(
        show_as_unknown=True, note="Ask who has flown recently."
    )
    html = client(teacher).get(f"/teaching/collections/{collection.pk}/present/").content.decode()
    # History of each case is there, step by step; the unknown's title is not.
    assert "Tall young man, sudden chest pain." in html and "Fell from a ladder." in html
    assert "Unknown case 1" in html
    # "Rib fracture after a fall" and "Pneumothorax after a long flight" are titles: the first
    # is shown masked, the second withheld; no answer field of any case is in the page.
    assert not ANSWERS.search(html.replace("Rib fracture after a fall", "")), ANSWERS.search(html)
    assert "Ask who has flown recently." not in html
    assert html.count('class="slide"') == 5


def test_the_reveal_brings_the_answer(teacher, collection, cases):
    entry = collection.entries.get(case=cases["ptx"])
    CollectionEntry.objects.filter(pk=entry.pk).update(note="Ask who has flown recently.")
    html = (
        client(teacher)
        .get(f"/teaching/collections/{collection.pk}/present/{entry.pk}/reveal")
        .content.decode()
    )
    for text in ("Pneumothorax", "J93.1", "Visceral pleural line.", "Look for the pleural line.",
                 "Ask who has flown recently."):  # fmt: skip
        assert text in html, text
    # The key image with the lesion's region drawn over it.
    assert '<ellipse class="region"' in html


def test_a_presenter_reveals_another_authors_quiz(other_teacher, collection, cases):
    Collection.objects.filter(pk=collection.pk).update(visibility="public")
    entry = collection.entries.get(case=cases["effusion"])
    page = client(other_teacher).get(f"/teaching/collections/{collection.pk}/")
    assert "Pleural effusion" not in page.content.decode()  # their own view: an open quiz
    html = (
        client(other_teacher)
        .get(f"/teaching/collections/{collection.pk}/present/{entry.pk}/reveal")
        .content.decode()
    )
    assert "Pleural effusion" in html


def test_students_cannot_present_reveal_or_export(student, collection):
    Collection.objects.filter(pk=collection.pk).update(visibility="public")
    entry = collection.entries.first()
    s = client(student)
    base = f"/teaching/collections/{collection.pk}"
    for url in (f"{base}/present/", f"{base}/present/{entry.pk}/reveal", f"{base}/export.pptx",
                f"{base}/package.zip"):  # fmt: skip
        assert s.get(url).status_code == 403, url


def test_a_private_collection_cannot_be_presented_by_another_teacher(other_teacher, collection):
    entry = collection.entries.first()
    base = f"/teaching/collections/{collection.pk}"
    c = client(other_teacher)
    for url in (f"{base}/present/", f"{base}/present/{entry.pk}/reveal", f"{base}/export.pptx",
                f"{base}/package.zip"):  # fmt: skip
        assert c.get(url).status_code == 404, url


def _texts(slide) -> str:
    return "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)


def test_the_powerpoint_deck(teacher, collection, cases):
    CollectionEntry.objects.filter(collection=collection, case=cases["ptx"]).update(
        show_as_unknown=True, note="Ask who has flown recently."
    )
    response = client(teacher).get(f"/teaching/collections/{collection.pk}/export.pptx")
    assert response["Content-Disposition"] == 'attachment; filename="chest-emergencies.pptx"'
    deck = Presentation(io.BytesIO(response.content))
    slides = list(deck.slides)
    # A title slide, then a question and an answer slide per case.
    assert len(slides) == 1 + 2 * 5
    assert "Chest emergencies" in _texts(slides[0]) and "5 cases" in _texts(slides[0])
    question, answer = slides[1], slides[2]
    assert "Unknown case 1" in _texts(question)
    assert "Tall young man, sudden chest pain." in _texts(question)
    assert not ANSWERS.search(_texts(question))
    assert question.notes_slide.notes_text_frame.text == "Ask who has flown recently."
    assert any(s.shape_type == 13 for s in question.shapes)  # the lead image (a picture)
    assert "Pneumothorax" in _texts(answer) and "Look for the pleural line." in _texts(answer)
    # The lesion's region drawn on the key image as an oval.
    assert any(getattr(s, "auto_shape_type", None) == 9 for s in answer.shapes if s.shape_type == 1)
    # The normal study's answer slide says so.
    assert "Normal study" in _texts(slides[6])
    # A known case's question slide has its title, an answer-free history.
    assert "Case 2: Solitary nodule" in _texts(slides[3])


def _package_titles(response) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        manifest = check_manifest(json.loads(zf.read("manifest.json")))
        listed = zf.namelist()
        names = set(listed)
    assert len(names) == len(listed), "two files of the package share a name"
    for case in manifest["cases"]:
        for study in case["studies"]:
            for series in study["series"]:
                for instance in series["instances"]:
                    assert instance["file"] in names, instance["file"]
    return [case["title"] for case in manifest["cases"]]


def test_a_collection_exports_as_one_case_package_in_its_order(teacher, collection):
    response = client(teacher).get(f"/teaching/collections/{collection.pk}/package.zip")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="collection-{collection.pk}-package.zip"'
    )
    assert _package_titles(response) == [
        "Pneumothorax after a long flight",
        "Solitary nodule",
        "Chest CT without findings",
        "Rib fracture after a fall",
        "Quiz: dyspnoea",
    ]


def test_a_shared_collection_leaves_out_a_quiz_the_teacher_has_not_answered(
    other_teacher, collection
):
    Collection.objects.filter(pk=collection.pk).update(visibility="public")
    response = client(other_teacher).get(f"/teaching/collections/{collection.pk}/package.zip")
    assert response.status_code == 200
    titles = _package_titles(response)
    # Another teacher's unanswered quiz carries its diagnosis in a package: it stays out.
    assert "Quiz: dyspnoea" not in titles and len(titles) == 4
