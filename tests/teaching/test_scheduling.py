"""Spaced repetition with a fixed clock: the grade an answer earns, when FSRS brings a case back,
and what the daily review queue holds (due cards, new cases from assignments, normal studies)."""

from __future__ import annotations

import datetime as dt

import pytest
from fsrs import Rating

from archive.models import Case
from teaching import scheduling
from teaching.models import (
    Assignment,
    Attempt,
    Collection,
    CollectionEntry,
    Membership,
    ReviewCard,
    TeachingClass,
)
from teaching.services.review import record_review, review_queue, streak

UTC = dt.UTC
# Tuesday 10 March 2026, 15:00 UTC (the site's TIME_ZONE is UTC).
NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("correct", "seconds", "localised", "unsure", "rating"),
    [
        (False, 10, True, False, Rating.Again),
        (False, None, None, False, Rating.Again),
        (True, 10, None, False, Rating.Easy),
        (True, 60, None, False, Rating.Good),
        (True, None, None, False, Rating.Good),
        (True, 300, None, False, Rating.Hard),
        (True, 10, False, False, Rating.Hard),  # right diagnosis, the lesion missed
        (True, 10, True, True, Rating.Hard),  # "I am guessing" only ever lowers the grade
        (True, 10, True, False, Rating.Easy),
    ],
)
def test_the_grade_comes_from_the_answer_and_its_time(correct, seconds, localised, unsure, rating):
    got = scheduling.rating_for(
        correct=correct, seconds=seconds, localised=localised, unsure=unsure
    )
    assert got == rating


@pytest.mark.parametrize(
    ("rating", "due"),
    [
        (Rating.Again, dt.datetime(2026, 3, 11, 15, 0, tzinfo=UTC)),  # tomorrow
        (Rating.Hard, dt.datetime(2026, 3, 11, 15, 0, tzinfo=UTC)),
        (Rating.Good, dt.datetime(2026, 3, 12, 15, 0, tzinfo=UTC)),
        (Rating.Easy, dt.datetime(2026, 3, 18, 15, 0, tzinfo=UTC)),
    ],
)
def test_a_new_card_comes_back_in_whole_days(rating, due):
    assert scheduling.review(scheduling.CardState(), rating, NOW).due == due


def test_knowing_it_again_spaces_it_out_and_a_lapse_brings_it_back_soon():
    first = scheduling.review(scheduling.CardState(), Rating.Good, NOW)
    again_good = scheduling.review(first, Rating.Good, first.due)
    assert again_good.due - first.due == dt.timedelta(days=11)
    # Forgotten after 11 days: back in 2 days (FSRS keeps some of the stability it had).
    lapse = scheduling.review(again_good, Rating.Again, again_good.due)
    assert lapse.due - again_good.due == dt.timedelta(days=2)


@pytest.fixture
def published(teacher):
    def make(title: str, **fields) -> Case:
        return Case.objects.create(
            owner=teacher, title=title, modality="CT", body_region="chest",
            status=Case.Status.PUBLISHED, **fields,
        )  # fmt: skip

    return make


@pytest.mark.django_db
def test_a_missed_case_is_in_tomorrows_queue_not_todays(student, published):
    case = published("Missed case")
    card = record_review(user=student, case=case, rating=Rating.Again, now=NOW)
    assert card.due == dt.datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
    assert card.reps == 1 and card.lapses == 0
    later_today = review_queue(user=student, now=NOW + dt.timedelta(hours=2))
    assert [i.case for i in later_today.items] == []
    # From the first minute of the next day, before the card's exact hour.
    tomorrow = review_queue(user=student, now=dt.datetime(2026, 3, 11, 0, 1, tzinfo=UTC))
    assert [(i.case, i.reason) for i in tomorrow.items] == [(case, "due")]


@pytest.mark.django_db
def test_a_lapse_is_counted(student, published):
    case = published("Known, then forgotten")
    card = record_review(user=student, case=case, rating=Rating.Good, now=NOW)
    card = record_review(user=student, case=case, rating=Rating.Again, now=card.due)
    assert (card.reps, card.lapses) == (2, 1)


@pytest.mark.django_db
def test_normal_studies_are_mixed_in(student, published, settings):
    settings.TA_REVIEW_NORMAL_SHARE = 0.2
    for n in range(4):
        record_review(user=student, case=published(f"Abnormal {n}"), rating=Rating.Again, now=NOW)
    normals = [published(f"Normal {n}", is_normal=True) for n in range(3)]
    queue = review_queue(user=student, now=NOW + dt.timedelta(days=1))
    # 4 abnormal cases due; a fifth of the queue normal: one normal study (ceil(0.2 × 4 / 0.8)).
    assert (queue.due, queue.normal, len(queue)) == (4, 1, 5)
    assert {i.case for i in queue.items if i.reason == "normal"} <= set(normals)
    # The same queue all day long (the order is drawn once per student and day).
    again = review_queue(user=student, now=NOW + dt.timedelta(days=1, hours=3))
    assert [i.case.pk for i in again.items] == [i.case.pk for i in queue.items]


@pytest.mark.django_db
def test_no_normal_study_when_nothing_else_is_due(student, published):
    published("Normal", is_normal=True)
    assert len(review_queue(user=student, now=NOW)) == 0


@pytest.mark.django_db
def test_new_cases_come_from_the_students_assignments_not_open_ones(
    student, teacher, published, settings
):
    settings.TA_REVIEW_NORMAL_SHARE = 0.0
    closed_case, open_case = published("From a closed assignment"), published("Still open")
    klass = TeachingClass.objects.create(name="Class")
    klass.teachers.add(teacher)
    Membership.objects.create(klass=klass, student=student)
    for title, case, due in (("Past", closed_case, NOW - dt.timedelta(days=1)),
                             ("Open", open_case, NOW + dt.timedelta(days=1))):  # fmt: skip
        collection = Collection.objects.create(owner=teacher, title=title)
        CollectionEntry.objects.create(collection=collection, case=case)
        Assignment.objects.create(
            klass=klass, collection=collection, title=title,
            opens_at=NOW - dt.timedelta(days=3), due_at=due,
        )  # fmt: skip
    queue = review_queue(user=student, now=NOW)
    # The open assignment's case is answered there (timed, scored), not in the review queue.
    assert [(i.case, i.reason) for i in queue.items] == [(closed_case, "new")]
    settings.TA_REVIEW_NEW_PER_DAY = 0
    assert len(review_queue(user=student, now=NOW)) == 0


@pytest.mark.django_db
def test_unpublished_cases_leave_the_queue(student, published):
    case = published("Withdrawn")
    record_review(user=student, case=case, rating=Rating.Again, now=NOW)
    Case.objects.filter(pk=case.pk).update(status=Case.Status.DRAFT)
    assert len(review_queue(user=student, now=NOW + dt.timedelta(days=1))) == 0
    assert ReviewCard.objects.filter(user=student).count() == 1  # kept for when it is back


@pytest.mark.django_db
def test_streak_counts_days_in_a_row(student, published):
    case = published("Any")
    for days_ago in (0, 1, 2, 4):
        at = NOW - dt.timedelta(days=days_ago)
        Attempt.objects.create(
            user=student, case=case, kind="review", started_at=at, answered_at=at
        )
    assert streak(user=student, now=NOW) == 3
    # Nothing yet today: yesterday's run still counts until the day is over.
    assert streak(user=student, now=NOW + dt.timedelta(days=1)) == 3
    assert streak(user=student, now=NOW + dt.timedelta(days=2)) == 0
