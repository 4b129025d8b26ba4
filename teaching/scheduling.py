"""Spaced repetition with FSRS (the ``fsrs`` package, the scheduler current flashcard apps use).

Each case a student answered is a card. The grade is not the student's say-so alone: it comes
from the answer (correct or not), the localisation of the click when the case asks for one, the
time taken, and the student's own "I was unsure", which can only lower it:

==========================================  ======
wrong diagnosis                             Again
right, but the lesion missed, or unsure,    Hard
or slower than :data:`SLOW_SECONDS`
right within :data:`FAST_SECONDS`           Easy
right otherwise                             Good
==========================================  ======

A case is not a flashcard read in seconds: there are no intra-day learning steps, every review
is scheduled in whole days (a case missed at its first answer comes back the next day), and
no random fuzz, so a
student (and a test with a fixed clock) can be told exactly when a case is due.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fsrs import Card, Rating, Scheduler, State

__all__ = ["FAST_SECONDS", "SLOW_SECONDS", "CardState", "rating_for", "review"]

FAST_SECONDS = 20.0
SLOW_SECONDS = 120.0

SCHEDULER = Scheduler(
    desired_retention=0.9,
    learning_steps=(),
    relearning_steps=(),
    enable_fuzzing=False,
)


def rating_for(
    *,
    correct: bool,
    seconds: float | None,
    localised: bool | None = None,
    unsure: bool = False,
) -> Rating:
    if not correct:
        return Rating.Again
    if localised is False or unsure or (seconds is not None and seconds > SLOW_SECONDS):
        return Rating.Hard
    if seconds is not None and seconds < FAST_SECONDS:
        return Rating.Easy
    return Rating.Good


@dataclass(frozen=True)
class CardState:
    """What ``teaching.models.ReviewCard`` stores of an FSRS card."""

    state: int = State.Learning.value
    step: int | None = 0
    stability: float | None = None
    difficulty: float | None = None
    due: dt.datetime | None = None
    last_review: dt.datetime | None = None


def review(card: CardState, rating: Rating, now: dt.datetime) -> CardState:
    """The card after a review graded ``rating`` at ``now`` (timezone-aware)."""
    now = now.astimezone(dt.UTC)
    fsrs_card = Card(
        card_id=1,  # unused; the database row is the identity
        state=State(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=(card.due or now).astimezone(dt.UTC),
        last_review=card.last_review.astimezone(dt.UTC) if card.last_review else None,
    )
    after, _log = SCHEDULER.review_card(fsrs_card, rating, review_datetime=now)
    return CardState(
        state=after.state.value,
        step=after.step,
        stability=after.stability,
        difficulty=after.difficulty,
        due=after.due,
        last_review=after.last_review,
    )
