"""The quiz flow students expect: "Next case", the images beside the choices, answered cases
findable, bookmarks, the case of the day, the review queue on the home page; the teacher's
lesion editor; "normal" as an answer."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from archive.models import Case, KeyImage, QuizAnswer
from archive.services import quiz
from search.services import index_case
from teaching.models import Bookmark, ReviewCard
from tests.teaching.conftest import LESION
from tests.viewer.factories import ct_stack, make_case

pytestmark = pytest.mark.django_db


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_normal_is_an_answer():
    normal = Case(is_normal=True)
    abnormal = Case(is_normal=False)
    for text in ("normal", "Normal study", "no abnormality", "bez nálezu", "Normální"):
        assert quiz.answer_is_correct(normal, text), text
        assert not quiz.answer_is_correct(abnormal, text), text
    assert not quiz.answer_is_correct(normal, "pneumothorax")


def test_answering_a_quiz_makes_a_review_card_and_offers_the_next_case(student, cases):
    quiz_case = cases["effusion"]
    s = client(student)
    page = s.get(f"/cases/{quiz_case.pk}/").content.decode()
    assert 'name="started"' in page and "Pleural effusion" not in page
    token = page.split('name="started" value="')[1].split('"')[0]
    response = s.post(
        f"/cases/{quiz_case.pk}/quiz/answer", {"answer": "pleural effusion", "started": token}
    )
    assert response["Location"].endswith("#quiz-result")
    assert QuizAnswer.objects.get(user=student).correct
    card = ReviewCard.objects.get(user=student, case=quiz_case)
    assert card.reps == 1
    # Answered within seconds of opening: an easy card, back in more than a week.
    assert (card.due - card.last_review).days == 8


def test_next_case_follows_the_search_the_student_came_from(student, cases):
    for case in cases.values():
        index_case(case.pk)
    s = client(student)
    hits = s.get("/api/search?q=chest").json()["results"]
    ids = [h["id"] for h in hits]
    quiz_case = cases["effusion"]
    assert quiz_case.pk in ids and ids[-1] != quiz_case.pk, ids
    s.get(f"/cases/{quiz_case.pk}/", HTTP_REFERER="http://testserver/search/?q=chest")
    s.post(f"/cases/{quiz_case.pk}/quiz/answer", {"answer": "effusion"})
    page = s.get(f"/cases/{quiz_case.pk}/").content.decode()
    following = ids[ids.index(quiz_case.pk) + 1]
    assert f'id="next-case" href="/cases/{following}/"' in page


def test_the_choices_keep_the_images_beside_them(student, cases):
    quiz_case = make_case(
        cases["ptx"].owner, ct_stack(1), title="Which one?",
        diagnosis=cases["ptx"].diagnosis, differential="Bulla\nSkin fold", quiz_mode=True,
    )  # fmt: skip
    html = client(student).get(f"/cases/{quiz_case.pk}/quiz/choices/").content.decode()
    assert 'id="viewer-data"' in html and "viewer/viewer.js" in html
    assert 'name="choice"' in html and 'name="started"' in html


def test_answered_cases_are_findable_by_their_student(student, second_student, cases):
    s = client(student)
    assert "None of the cases you answered" in s.get("/my/progress/?q=effusion").content.decode()
    s.post(f"/cases/{cases['effusion'].pk}/quiz/answer", {"answer": "pneumonia"})
    for query in ("pleural effusion", "J90", "dyspnoea"):
        html = s.get(f"/my/progress/?q={query}").content.decode()
        assert f'<a href="/cases/{cases["effusion"].pk}/">Quiz: dyspnoea</a>' in html, query
    other = client(second_student).get("/my/progress/?q=effusion").content.decode()
    assert "Quiz: dyspnoea" not in other
    # The search page too: the index leaves a quiz's diagnosis out, the student's answer not.
    found = s.get("/search/?q=pleural+effusion").content.decode()
    assert "Quiz cases you answered" in found and "Quiz: dyspnoea" in found
    assert (
        "Quiz: dyspnoea"
        not in client(second_student).get("/search/?q=pleural+effusion").content.decode()
    )


def test_teachers_mark_normal_studies_in_the_editor(teacher):
    html = client(teacher).get("/cases/new/").content.decode()
    assert 'name="is_normal"' in html and "Normal study" in html


def test_bookmarks(student, cases):
    s = client(student)
    case = cases["nodule"]
    s.post(f"/teaching/cases/{case.pk}/bookmark")
    assert Bookmark.objects.filter(user=student, case=case).exists()
    assert "Saved for later ✓" in s.get(f"/cases/{case.pk}/").content.decode()
    assert "Solitary nodule" in s.get("/teaching/bookmarks/").content.decode()
    assert "1 bookmark" in s.get("/").content.decode()
    Case.objects.filter(pk=case.pk).update(status=Case.Status.DRAFT)
    assert "Solitary nodule" not in s.get("/teaching/bookmarks/").content.decode()
    Case.objects.filter(pk=case.pk).update(status=Case.Status.PUBLISHED)
    s.post(f"/teaching/cases/{case.pk}/bookmark")
    assert not Bookmark.objects.exists()


def test_the_home_page_has_the_case_of_the_day_and_the_review_queue(student, cases):
    s = client(student)
    html = s.get("/").content.decode()
    assert "Case of the day" in html and "0 cases to review today" in html
    assert "0-day streak" in html
    # The case of the day of a quiz hides its diagnosis like every other surface.
    Case.objects.exclude(pk=cases["effusion"].pk).update(status=Case.Status.DRAFT)
    html = s.get("/").content.decode()
    assert "Quiz: dyspnoea" in html and "Pleural effusion" not in html


def test_the_lesion_editor_keeps_the_region_as_key_image_data(teacher, student, cases):
    draft = make_case(teacher, ct_stack(1), title="Draft with a lesion", publish=False)
    key = KeyImage.objects.create(
        case=draft, instance=draft.instances().first(),
        annotations=[{"type": "arrow", "x1": 0.1, "y1": 0.1, "x2": 0.4, "y2": 0.4, "label": "x"}],
    )  # fmt: skip
    t = client(teacher)
    assert 'id="lesion-draw"' in t.get(f"/teaching/cases/{draft.pk}/lesion/").content.decode()
    bad = t.post(
        f"/teaching/cases/{draft.pk}/lesion/save",
        {"key": key.pk, "region": json.dumps({"type": "ellipse", "cx": 2, "cy": 0.5,
                                               "rx": 0.1, "ry": 0.1})},
        follow=True,
    ).content.decode()  # fmt: skip
    assert "The region must lie within the image." in bad
    t.post(
        f"/teaching/cases/{draft.pk}/lesion/save",
        {"key": key.pk, "region": json.dumps(LESION)},
    )
    key.refresh_from_db()
    assert [a["type"] for a in key.annotations] == ["arrow", "ellipse"]
    # Saving the key image again from the viewer (arrows and circles only) keeps the region.
    t.post(
        f"/cases/{draft.pk}/key-images/",
        data=json.dumps({"instance": key.instance_id, "frame": 0, "caption": "c",
                         "annotations": []}),
        content_type="application/json",
    )  # fmt: skip
    key.refresh_from_db()
    assert key.annotations == [{**LESION}]
    # Removing it.
    t.post(f"/teaching/cases/{draft.pk}/lesion/save", {"key": key.pk, "region": ""})
    key.refresh_from_db()
    assert key.annotations == []
    # Students cannot reach the editor of a published case; nobody else sees a draft's.
    assert client(student).get(f"/teaching/cases/{cases['ptx'].pk}/lesion/").status_code == 403
    assert client(student).get(f"/teaching/cases/{draft.pk}/lesion/").status_code == 404


def test_an_unanswered_quiz_does_not_give_the_region_away(teacher, student, cases):
    Case.objects.filter(pk=cases["ptx"].pk).update(quiz_mode=True)
    html = client(student).get(f"/cases/{cases['ptx'].pk}/").content.decode()
    data = json.loads(html.split('<script id="viewer-data" type="application/json">')[1]
                      .split("</script>")[0])  # fmt: skip
    assert [k["annotations"] for k in data["keyImages"]] == [[]]
