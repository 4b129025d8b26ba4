"""Peer review: the case's teacher, other teachers and curators comment on a case (students do
not, and never see the comments); the teacher sees a count of unread comments on "My cases"
until they open the case."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from archive.models import Case, CaseComment, Diagnosis
from archive.services.cases import publish_case
from tests.editor.builders import case_with_images

pytestmark = pytest.mark.django_db(transaction=True)


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _unread(client) -> str:
    """The count beside "My cases" in the header ("" when there is none)."""
    html = client.get("/my/cases/").content.decode()
    link = re.search(r'<a href="/my/cases/"[^>]*>(.*?)</a>', html, re.S).group(1)
    count = re.search(r'class="count-badge"[^>]*>(\d+)<', link)
    return count.group(1) if count else ""


def test_a_curator_comments_the_teacher_reads_and_answers(teacher, curator, phi_file):
    case = case_with_images(teacher, [phi_file()], status=Case.Status.SUBMITTED)
    cur, owner = _client(curator), _client(teacher)
    assert _unread(owner) == ""
    response = cur.post(
        f"/cases/{case.pk}/comments/", {"text": "Is the lesion in series 2?"}, follow=True
    )
    assert "Your comment was added." in response.content.decode()
    assert _unread(owner) == "1"
    page = owner.get(f"/cases/{case.pk}/").content.decode()
    assert "Is the lesion in series 2?" in page and "curator1" in page
    assert _unread(owner) == ""  # read by opening the case
    owner.post(f"/cases/{case.pk}/comments/", {"text": "Yes, image 14."})
    assert _unread(owner) == ""  # one's own comment is no news
    texts = [c.text for c in CaseComment.objects.filter(case=case)]
    assert texts == ["Is the lesion in series 2?", "Yes, image 14."]


def test_a_curator_hears_the_teachers_answer(teacher, curator, phi_file):
    """Whoever commented on a case sees new comments by others on it: the count beside "My
    cases" and the case listed there, until they open it."""
    case = case_with_images(teacher, [phi_file()], status=Case.Status.SUBMITTED)
    cur, owner = _client(curator), _client(teacher)
    cur.post(f"/cases/{case.pk}/comments/", {"text": "Which series shows the apex?"})
    assert _unread(cur) == ""
    owner.post(f"/cases/{case.pk}/comments/", {"text": "Series 2, image 14."})
    assert _unread(cur) == "1"
    listed = cur.get("/my/cases/").content.decode()
    assert "New comments on cases you commented on" in listed
    assert f'href="/cases/{case.pk}/#comments"' in listed
    assert "Series 2, image 14." in cur.get(f"/cases/{case.pk}/").content.decode()
    assert _unread(cur) == ""
    assert "New comments on cases you commented on" not in cur.get("/my/cases/").content.decode()


def test_a_teacher_hears_nothing_of_a_case_no_longer_shown_to_them(
    teacher, other_teacher, phi_file
):
    case = publish_case(case=case_with_images(teacher, [phi_file()]))
    other, owner = _client(other_teacher), _client(teacher)
    other.post(f"/cases/{case.pk}/comments/", {"text": "Lovely apex."})
    owner.post(f"/cases/{case.pk}/comments/", {"text": "Thank you."})
    assert _unread(other) == "1"
    Case.objects.filter(pk=case.pk).update(status=Case.Status.DRAFT)  # unpublished
    assert _unread(other) == ""
    assert case.title not in other.get("/my/cases/").content.decode()


def test_other_teachers_comment_on_published_cases_students_never(
    teacher, other_teacher, student, curator, phi_file
):
    case = case_with_images(teacher, [phi_file()])
    assert (
        _client(other_teacher).post(f"/cases/{case.pk}/comments/", {"text": "x"}).status_code == 404
    )
    publish_case(case=case, user=curator)
    _client(other_teacher).post(f"/cases/{case.pk}/comments/", {"text": "Nice case, add a CT?"})
    assert _client(student).post(f"/cases/{case.pk}/comments/", {"text": "hi"}).status_code == 403
    page = _client(student).get(f"/cases/{case.pk}/").content.decode()
    assert "Nice case, add a CT?" not in page and 'id="comments"' not in page
    assert CaseComment.objects.filter(case=case).count() == 1
    assert _unread(_client(teacher)) == "1"


def test_an_empty_comment_is_refused(teacher, phi_file):
    case = case_with_images(teacher, [phi_file()])
    response = _client(teacher).post(f"/cases/{case.pk}/comments/", {"text": "  "}, follow=True)
    assert "Write the comment first." in response.content.decode()
    assert not CaseComment.objects.exists()


def test_comments_are_withheld_from_a_teacher_who_has_not_answered_the_quiz(
    teacher, other_teacher, curator, phi_file
):
    diagnosis = Diagnosis.objects.create(name="Pneumothorax", icd10="J93.9")
    case = case_with_images(teacher, [phi_file()], quiz_mode=True, diagnosis=diagnosis)
    publish_case(case=case, user=curator)
    _client(curator).post(f"/cases/{case.pk}/comments/", {"text": "Classic pneumothorax."})
    page = _client(other_teacher).get(f"/cases/{case.pk}/").content.decode()
    assert "Classic pneumothorax." not in page


# --- proof of unconfirmed diagnoses ----------------------------------------------------------


def test_an_unconfirmed_diagnosis_reminds_its_author_to_attach_proof(
    teacher, curator, settings, phi_file
):
    from datetime import timedelta

    from django.utils import timezone

    from archive.services.comments import remind_unconfirmed
    from teaching_archive.celery import app

    settings.TA_PROOF_REMINDER_DAYS = 30
    probable = case_with_images(teacher, [phi_file()], certainty="probable", title="Probable")
    proven = case_with_images(teacher, [phi_file()], certainty="pathology", title="Proven")
    for case in (probable, proven):
        publish_case(case=case, user=curator)
    long_ago = timezone.now() - timedelta(days=40)
    Case.objects.update(published_at=long_ago)

    assert remind_unconfirmed() == 1
    assert remind_unconfirmed() == 0  # not again within the interval
    owner = _client(teacher)
    assert _unread(owner) == "1"
    page = owner.get(f"/cases/{probable.pk}/", HTTP_ACCEPT_LANGUAGE="cs").content.decode()
    assert "Připomínka: diagnóza tohoto případu stále není potvrzena." in page
    assert not CaseComment.objects.filter(case=proven).exists()
    # After the interval, once more; the daily task is on the beat schedule and routed.
    assert remind_unconfirmed(now=timezone.now() + timedelta(days=31)) == 1
    schedule = {e["task"] for e in app.conf.beat_schedule.values()}
    assert "archive.case_reminders" in schedule
    assert app.conf.task_routes["archive.case_reminders"] == {"queue": "housekeeping"}


def test_a_case_due_for_re_review_reminds_its_author(teacher, curator, phi_file):
    from datetime import timedelta

    from django.utils import timezone

    from archive.services.comments import remind_rereview

    case = case_with_images(teacher, [phi_file()], rereview_years=2)
    never = case_with_images(teacher, [phi_file()], title="No re-review")
    for c in (case, never):
        publish_case(case=c, user=curator)
    assert remind_rereview() == 0  # just published
    later = timezone.now() + timedelta(days=2 * 366)
    assert remind_rereview(now=later) == 1
    assert remind_rereview(now=later) == 0
    assert _unread(_client(teacher)) == "1"
    page = _client(teacher).get(f"/cases/{case.pk}/").content.decode()
    assert "Reminder: this case is due for re-review." in page
    assert not CaseComment.objects.filter(case=never).exists()
    # The teacher sets the interval in the editor.
    draft = Case.objects.create(owner=teacher, title="t", modality="CT", body_region="chest")
    html = _client(teacher).get(f"/cases/{draft.pk}/edit/").content.decode()
    assert 'name="rereview_years"' in html and "Re-review after (years)" in html
