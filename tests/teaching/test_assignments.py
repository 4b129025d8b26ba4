"""Classes and assignments: joining, assigning, answering timed and scored (with a click on the
lesion, measured in mm on a real anonymized image), hiding the answer until then, and the
privacy of results between students and between classes."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone

from archive.models import QuizAnswer
from search.services import index_case
from teaching.models import Assignment, Attempt, Membership, ReviewCard, TeachingClass
from teaching.services.answers import answer_attempt, open_attempt
from tests.teaching.conftest import COLUMN_SPACING, ROW_SPACING

pytestmark = pytest.mark.django_db


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_a_teacher_creates_a_class_and_invites_students(teacher, student, second_student):
    t = client(teacher)
    response = t.post("/teaching/classes/new", {"name": "Year 4"})
    klass = TeachingClass.objects.get(name="Year 4")
    assert response["Location"] == f"/teaching/classes/{klass.pk}/"
    html = t.post(
        f"/teaching/classes/{klass.pk}/invite",
        {"usernames": f"{student.username}\nnobody, {teacher.username}"},
        follow=True,
    ).content.decode()
    assert "Added to the class: student1." in html
    assert "No account has these user names: nobody. Check the spelling." in html
    assert list(klass.students.all()) == [student]
    # The other student joins with the code shown on the class page.
    assert klass.join_code in html
    s2 = client(second_student)
    wrong = s2.post("/teaching/join/", {"code": "NOPE1234"}, follow=True).content.decode()
    assert "No class has this code. Check it with your teacher." in wrong
    s2.post("/teaching/join/", {"code": klass.join_code.lower()})
    assert set(klass.students.all()) == {student, second_student}
    t.post(f"/teaching/classes/{klass.pk}/students/{student.pk}/remove")
    assert list(klass.students.all()) == [second_student]


def test_assigning_a_collection(teacher, klass, collection):
    t = client(teacher)
    html = t.post(
        f"/teaching/classes/{klass.pk}/assign",
        {"collection": collection.pk, "title": "", "opens_at": "2030-01-10T09:00",
         "due_at": "2030-01-09T09:00"},
        follow=True,
    ).content.decode()  # fmt: skip
    assert "The due date must come after the opening." in html
    response = t.post(
        f"/teaching/classes/{klass.pk}/assign",
        {"collection": collection.pk, "title": "", "opens_at": "2030-01-10T09:00",
         "due_at": "2030-01-17T09:00"},
    )  # fmt: skip
    assignment = Assignment.objects.get()
    assert response["Location"] == f"/teaching/assignments/{assignment.pk}/"
    assert assignment.title == "Chest emergencies"
    assert assignment.due_at == dt.datetime(2030, 1, 17, 9, 0, tzinfo=dt.UTC)


def test_students_see_their_assignments_on_the_home_page(student, outsider, assignment):
    html = client(student).get("/").content.decode()
    assert "Your assignments" in html and "Week 1" in html and "0 of 5 answered" in html
    assert "Week 1" not in client(outsider).get("/").content.decode()


def test_an_assigned_case_is_hidden_until_answered_in_the_assignment(student, assignment, cases):
    s = client(student)
    # Not a quiz case: yet, while the assignment waits for the answer, its page hides it...
    page = s.get(f"/cases/{cases['fracture'].pk}/").content.decode()
    assert "Fell from a ladder." in page
    assert "Rib fracture" not in page and "S22" not in page
    assert f"/teaching/assignments/{assignment.pk}/cases/4/" in page
    # ... and so does search.
    index_case(cases["fracture"].pk)
    found = s.get("/api/search?q=ladder").json()["results"]
    assert [r["diagnosis"] for r in found] == [None]
    assert "Rib fracture" not in found[0]["title"]
    # Answering on the case page is sent to the assignment, where it is timed and scored.
    response = s.post(f"/cases/{cases['fracture'].pk}/quiz/answer", {"answer": "rib fracture"})
    assert response["Location"] == f"/teaching/assignments/{assignment.pk}/cases/4/"
    assert not QuizAnswer.objects.exists()
    s.post(f"/teaching/assignments/{assignment.pk}/cases/4/", {"answer": "broken rib"})
    page = s.get(f"/cases/{cases['fracture'].pk}/").content.decode()
    assert "Rib fracture" in page and "S22.3" in page


def test_answers_are_timed_and_scored(student, assignment, cases):
    start = timezone.now() - dt.timedelta(minutes=1)
    attempt = open_attempt(
        user=student, case=cases["nodule"], kind="assignment", assignment=assignment, now=start
    )
    # Opening it again (a reload) does not restart the clock.
    assert (
        open_attempt(
            user=student, case=cases["nodule"], kind="assignment", assignment=assignment
        ).started_at
        == start
    )
    attempt = answer_attempt(
        attempt=attempt, text="pulmonary nodule", now=start + dt.timedelta(seconds=45)
    )
    assert attempt.correct and attempt.seconds == 45 and attempt.score == 1.0
    assert attempt.rating == 3  # good: right, neither fast nor slow
    card = ReviewCard.objects.get(user=student, case=cases["nodule"])
    assert card.due == start + dt.timedelta(seconds=45) + dt.timedelta(days=2)
    # The first answer counts.
    again = answer_attempt(attempt=attempt, text="something else")
    assert again.answer_text == "pulmonary nodule" and again.correct


def test_click_the_lesion_in_mm_on_a_real_image(student, second_student, assignment, cases):
    url = f"/teaching/assignments/{assignment.pk}/cases/1/"
    s = client(student)
    page = s.get(url).content.decode()
    assert 'id="lesion-click"' in page and 'name="click_x"' in page
    assert "<ellipse" not in page  # the region is not in the page before the answer
    missing = s.post(url, {"answer": "pneumothorax"}, follow=True).content.decode()
    assert "Click where you see the lesion on the key image." in missing
    # 0.3 of the width right of the lesion's centre on a 128-column image whose columns are
    # 0.8 mm apart: 0.3 × 128 × 0.8 = 30.72 mm; the ellipse reaches 0.1 × 128 × 0.8 = 10.24 mm.
    s.post(url, {"answer": "pneumothorax", "click_x": "0.8", "click_y": "0.5"})
    attempt = Attempt.objects.get(user=student)
    assert (ROW_SPACING, COLUMN_SPACING) == (0.5, 0.8)
    assert not attempt.inside and attempt.distance_mm == pytest.approx(20.5, abs=0.05)
    assert attempt.score == 0.5  # the diagnosis right, the lesion missed
    assert attempt.rating == 2  # hard
    result = s.get(f"/teaching/attempts/{attempt.pk}/").content.decode()
    assert "Your click was 20.5 mm from the lesion." in result
    assert '<ellipse class="region"' in result and 'class="click"' in result
    # 0.4 of the height below: 0.4 × 128 × 0.5 = 25.6 mm, the ellipse reaches 6.4 mm: 19.2 mm.
    other = client(second_student)
    other.post(url, {"answer": "pneumothorax", "click_x": "0.5", "click_y": "0.9"})
    assert Attempt.objects.get(user=second_student).distance_mm == pytest.approx(19.2, abs=0.05)


def test_closed_and_not_yet_open_assignments(student, assignment):
    url = f"/teaching/assignments/{assignment.pk}/cases/2/"
    Assignment.objects.filter(pk=assignment.pk).update(due_at=timezone.now())
    html = client(student).get(url, follow=True).content.decode()
    assert "This assignment is past its due date: answers are closed." in html
    Assignment.objects.filter(pk=assignment.pk).update(
        opens_at=timezone.now() + dt.timedelta(days=1),
        due_at=timezone.now() + dt.timedelta(days=2),
    )
    html = client(student).get(url, follow=True).content.decode()
    assert "This assignment is not open yet." in html
    assert not Attempt.objects.exists()


@pytest.fixture
def answered(student, second_student, assignment, cases):
    """student1: two right, nodule wrong ("pneumothorax"); student2: nodule wrong ("PTX")."""
    base = f"/teaching/assignments/{assignment.pk}/cases"
    s1, s2 = client(student), client(second_student)
    s1.post(f"{base}/1/", {"answer": "pneumothorax", "click_x": "0.52", "click_y": "0.5"})
    s1.post(f"{base}/2/", {"answer": "pneumothorax"})
    s1.post(f"{base}/3/", {"answer": "normal"})
    s2.post(f"{base}/2/", {"answer": "PTX"})
    s2.post(f"{base}/3/", {"answer": '=HYPERLINK("x")'})
    return {"s1": s1, "s2": s2}


def test_results_for_the_teacher(teacher, student, assignment, answered):
    html = client(teacher).get(f"/teaching/assignments/{assignment.pk}/results/").content.decode()
    assert "5 answers, 40 % correct." in html
    assert "student1" in html and "student2" in html
    # The nodule (case 2): both wrong, grouped by the vocabulary as one diagnosis.
    assert "<li>Pneumothorax (2)</li>" in html
    # The heat map of the lesion case: one click, on the lesion.
    assert "1 of 1 clicks on the lesion." in html and 'class="heat"' in html
    progress = (
        client(teacher)
        .get(f"/teaching/classes/{assignment.klass_id}/students/{student.pk}/")
        .content.decode()
    )
    assert "2 of 3 answers correct (67 %)." in progress


def test_results_as_csv(teacher, assignment, answered):
    response = client(teacher).get(f"/teaching/assignments/{assignment.pk}/results.csv")
    assert response["Content-Disposition"] == 'attachment; filename="week-1-results.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["student"], r["case_number"], r["correct"]) for r in rows] == [
        ("student1", "1", "yes"),
        ("student1", "2", "no"),
        ("student1", "3", "yes"),
        ("student2", "2", "no"),
        ("student2", "3", "no"),
    ]
    assert rows[0]["click_inside"] == "yes" and rows[0]["click_distance_mm"] == "0.0"
    # A student's answer never runs as a spreadsheet formula.
    assert rows[4]["answer"] == '\'=HYPERLINK("x")'


def test_a_student_never_sees_another_students_answers(
    student, second_student, outsider, assignment, answered
):
    theirs = Attempt.objects.get(user=second_student, case__title="Solitary nodule")
    mine = Attempt.objects.get(user=student, case__title="Solitary nodule")
    s1 = answered["s1"]
    assert s1.get(f"/teaching/attempts/{mine.pk}/").status_code == 200
    assert s1.get(f"/teaching/attempts/{theirs.pk}/").status_code == 404
    for url in (
        f"/teaching/assignments/{assignment.pk}/results/",
        f"/teaching/assignments/{assignment.pk}/results.csv",
        f"/teaching/classes/{assignment.klass_id}/students/{second_student.pk}/",
    ):
        assert s1.get(url).status_code == 404, url
    # The assignment page lists only the student's own answers.
    page = s1.get(f"/teaching/assignments/{assignment.pk}/").content.decode()
    assert "PTX" not in page and f"/teaching/attempts/{theirs.pk}/" not in page
    # A student of another class: nothing of this class at all.
    o = client(outsider)
    for url in (
        f"/teaching/assignments/{assignment.pk}/",
        f"/teaching/assignments/{assignment.pk}/cases/1/",
        f"/teaching/classes/{assignment.klass_id}/",
        f"/teaching/attempts/{mine.pk}/",
    ):
        assert o.get(url).status_code == 404, url


def test_a_teacher_of_another_class_sees_none_of_its_results(
    other_teacher, outsider, assignment, answered
):
    mine = TeachingClass.objects.create(name="Other class")
    mine.teachers.add(other_teacher)
    Membership.objects.create(klass=mine, student=outsider)
    o = client(other_teacher)
    attempt = Attempt.objects.first()
    for url in (
        f"/teaching/assignments/{assignment.pk}/results/",
        f"/teaching/assignments/{assignment.pk}/results.csv",
        f"/teaching/classes/{assignment.klass_id}/",
        f"/teaching/attempts/{attempt.pk}/",
    ):
        assert o.get(url).status_code == 404, url
    # Nor can they pull another class's student into a progress page of their own class.
    student_id = attempt.user_id
    assert o.get(f"/teaching/classes/{mine.pk}/students/{student_id}/").status_code == 404
