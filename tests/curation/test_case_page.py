"""Curation in one click on the case page: a curator publishes, returns with a comment and
unpublishes there (the same services and policy as the admin); nobody else sees the buttons or
can use the URL. Also: "Submit for review" only with an anonymized image, tags keep their case
but match case-insensitively, and students read the teaching points and references (withheld
with the other answer fields while a quiz is unanswered)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from archive.models import Case, Diagnosis, Tag
from archive.services.cases import publish_case
from tests.editor.builders import case_with_images

pytestmark = pytest.mark.django_db(transaction=True)


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _buttons(html: str) -> list[str]:
    section = re.search(r'<section class="curation".*?</section>', html, re.S)
    if section is None:
        return []
    return re.findall(r"<(?:button|summary)[^>]*>([^<]+)</", section.group(0))


def test_a_curator_publishes_a_submitted_case_from_its_page(teacher, curator, student, phi_file):
    case = case_with_images(teacher, [phi_file()], status=Case.Status.SUBMITTED)
    c = _client(curator)
    page = c.get(f"/cases/{case.pk}/").content.decode()
    assert _buttons(page) == ["Publish", "Return with comment", "Return to the author"]
    response = c.post(f"/cases/{case.pk}/curation", {"action": "publish"}, follow=True)
    assert "Published: students can now find this case." in response.content.decode()
    case.refresh_from_db()
    assert case.status == "published" and case.published_at is not None
    assert _client(student).get(f"/cases/{case.pk}/").status_code == 200
    # Now the page offers what fits a published case.
    assert _buttons(response.content.decode()) == [
        "Unpublish",
        "Return with comment",
        "Return to the author",
    ]


def test_a_curator_returns_a_case_with_a_comment_the_author_reads(teacher, curator, phi_file):
    case = case_with_images(teacher, [phi_file()], status=Case.Status.SUBMITTED)
    c = _client(curator)
    empty = c.post(f"/cases/{case.pk}/curation", {"action": "return", "comment": " "}, follow=True)
    assert "Say what the author should change." in empty.content.decode()
    case.refresh_from_db()
    assert case.status == "submitted"
    c.post(f"/cases/{case.pk}/curation", {"action": "return", "comment": "Crop the scout."})
    case.refresh_from_db()
    assert case.status == "returned"
    editor = _client(teacher).get(f"/cases/{case.pk}/edit/").content.decode()
    assert "Crop the scout." in editor


def test_a_curator_unpublishes_and_students_lose_the_case(teacher, curator, student, phi_file):
    case = case_with_images(teacher, [phi_file()])
    publish_case(case=case, user=curator)
    c = _client(curator)
    c.post(f"/cases/{case.pk}/curation", {"action": "unpublish"})
    case.refresh_from_db()
    assert case.status == "draft"
    assert _client(student).get(f"/cases/{case.pk}/").status_code == 404


def test_an_action_that_does_not_fit_the_state_changes_nothing(teacher, curator, phi_file):
    case = case_with_images(teacher, [phi_file()])
    publish_case(case=case, user=curator)
    response = _client(curator).post(
        f"/cases/{case.pk}/curation", {"action": "publish"}, follow=True
    )
    assert "cannot be changed that way" in response.content.decode()


def test_a_case_without_images_is_not_published(teacher, curator):
    case = Case.objects.create(owner=teacher, title="t", modality="CT", body_region="chest")
    response = _client(curator).post(
        f"/cases/{case.pk}/curation", {"action": "publish"}, follow=True
    )
    assert "no anonymized image yet" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "draft"


def test_only_curators_see_the_buttons_or_use_the_url(teacher, student, curator, phi_file):
    case = case_with_images(teacher, [phi_file()], status=Case.Status.SUBMITTED)
    assert _buttons(_client(teacher).get(f"/cases/{case.pk}/").content.decode()) == []
    assert (
        _client(teacher).post(f"/cases/{case.pk}/curation", {"action": "publish"}).status_code
        == 403
    )
    assert (
        _client(student).post(f"/cases/{case.pk}/curation", {"action": "publish"}).status_code
        == 404
    )
    case.refresh_from_db()
    assert case.status == "submitted"


def test_the_czech_page_offers_the_buttons_in_czech(teacher, curator, phi_file):
    case = case_with_images(teacher, [phi_file()], status=Case.Status.SUBMITTED)
    page = _client(curator).get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="cs").content.decode()
    assert _buttons(page) == ["Publikovat", "Vrátit s komentářem", "Vrátit autorovi"]


# --- submit only with images -------------------------------------------------------------------


def test_submit_for_review_is_offered_only_with_an_anonymized_image(teacher, phi_file):
    empty = Case.objects.create(owner=teacher, title="t", modality="CT", body_region="chest")
    html = _client(teacher).get(f"/cases/{empty.pk}/edit/").content.decode()
    assert "Submit for review</button>" not in html
    assert "once at least one image has been anonymized" in html
    with_image = case_with_images(teacher, [phi_file()])
    html = _client(teacher).get(f"/cases/{with_image.pk}/edit/").content.decode()
    assert "Submit for review</button>" in html


# --- tags --------------------------------------------------------------------------------------


def test_tags_keep_their_case_and_match_case_insensitively(teacher, student, curator, phi_file):
    case = case_with_images(teacher, [phi_file()])
    form = {
        "title": case.title,
        "modality": "CT",
        "body_region": "chest",
        "level": "student",
        "tag_names": "ICU, LI-RADS, icu",
    }
    c = _client(teacher)
    assert c.post(f"/cases/{case.pk}/edit/", form).status_code == 302
    assert sorted(case.tags.values_list("name", flat=True)) == ["ICU", "LI-RADS"]
    # Another case typing "icu" gets the same tag, as written the first time.
    other = case_with_images(teacher, [phi_file()], title="Second")
    c.post(f"/cases/{other.pk}/edit/", {**form, "title": "Second", "tag_names": "icu"})
    assert list(other.tags.values_list("name", flat=True)) == ["ICU"]
    assert Tag.objects.filter(name__iexact="icu").count() == 1
    publish_case(case=case, user=curator)
    page = _client(student).get(f"/cases/{case.pk}/").content.decode()
    assert '<span class="tag">ICU</span>' in page


# --- what students read --------------------------------------------------------------------------


def test_students_read_teaching_points_and_references(teacher, student, curator, phi_file):
    case = case_with_images(
        teacher,
        [phi_file()],
        teaching_points="Look for the deep sulcus sign.\nSupine films hide air anteriorly.",
        references="BTS guideline 2023.\nhttps://example.org/ptx",
    )
    publish_case(case=case, user=curator)
    page = _client(student).get(f"/cases/{case.pk}/").content.decode()
    points = re.search(r'<ul class="teaching-points">(.*?)</ul>', page, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", points) == [
        "Look for the deep sulcus sign.",
        "Supine films hide air anteriorly.",
    ]
    refs = re.search(r'<ol class="references">(.*?)</ol>', page, re.S).group(1)
    assert "BTS guideline 2023." in refs
    assert '<a href="https://example.org/ptx"' in refs


def test_an_unanswered_quiz_withholds_teaching_points_and_references(
    teacher, student, curator, phi_file
):
    diagnosis = Diagnosis.objects.create(name="Pneumothorax", icd10="J93.9")
    case = case_with_images(
        teacher,
        [phi_file()],
        quiz_mode=True,
        diagnosis=diagnosis,
        teaching_points="Deep sulcus sign.",
        references="BTS guideline 2023.",
    )
    publish_case(case=case, user=curator)
    c = _client(student)
    before = c.get(f"/cases/{case.pk}/").content.decode()
    assert "Deep sulcus sign" not in before and "BTS guideline" not in before
    c.post(f"/cases/{case.pk}/quiz/answer", {"answer": "pneumothorax"})
    after = c.get(f"/cases/{case.pk}/").content.decode()
    assert "Deep sulcus sign." in after and "BTS guideline 2023." in after
