"""Spaced repetition per student: every answered case is a card (``ReviewCard``) scheduled by
FSRS (``teaching.scheduling``); the daily review queue mixes the cards due today, cases of the
student's assignments not met yet, and a share of normal studies.

Days are the site's days (``TIME_ZONE``): a card is due "today" until midnight, so a case missed
at 15:00 is in the next day's queue from its first minute.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from fsrs import Rating

from archive import privacy
from archive.models import Case, QuizAnswer
from teaching import scheduling
from teaching.models import Attempt, CollectionEntry, ReviewCard


def start_of_day(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def end_of_day(now: dt.datetime) -> dt.datetime:
    return start_of_day(now) + dt.timedelta(days=1)


@transaction.atomic
def record_review(
    *, user, case: Case, rating: Rating, now: dt.datetime | None = None
) -> ReviewCard:
    """Grade the student's card for ``case`` (creating it on the first answer)."""
    now = now or timezone.now()
    card, _created = ReviewCard.objects.get_or_create(user=user, case=case, defaults={"due": now})
    card = ReviewCard.objects.select_for_update().get(pk=card.pk)
    before = scheduling.CardState(
        state=card.state,
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=card.due,
        last_review=card.last_review,
    )
    after = scheduling.review(before, rating, now)
    if rating == Rating.Again and card.reps > 0:
        card.lapses += 1
    card.reps += 1
    card.state, card.step = after.state, after.step
    card.stability, card.difficulty = after.stability, after.difficulty
    card.due, card.last_review = after.due, after.last_review
    card.save()
    return card


@dataclass(frozen=True)
class QueueItem:
    case: Case
    #: "due" (a card due today), "new" (from an assignment, not met yet), "normal" (a normal
    #: study mixed in).
    reason: str
    card: ReviewCard | None = None


@dataclass
class ReviewQueue:
    items: list[QueueItem] = field(default_factory=list)

    def count(self, reason: str) -> int:
        return sum(1 for i in self.items if i.reason == reason)

    @property
    def due(self) -> int:
        return self.count("due")

    @property
    def new(self) -> int:
        return self.count("new")

    @property
    def normal(self) -> int:
        return self.count("normal")

    def __len__(self) -> int:
        return len(self.items)

    def first(self) -> QueueItem | None:
        return self.items[0] if self.items else None

    def after(self, case_id: int) -> QueueItem | None:
        """The next case to review once ``case_id`` is done."""
        rest = [i for i in self.items if i.case.pk != case_id]
        return rest[0] if rest else None


def _day_random(user, now: dt.datetime) -> random.Random:
    # Keyed by the site's secret and the day: the place of a normal study in the queue says
    # nothing, and the order stays put while the student works through the day.
    seed = salted_hmac("teaching.review.queue", f"{user.pk}|{start_of_day(now).date()}")
    return random.Random(seed.digest())


def review_queue(*, user, now: dt.datetime | None = None) -> ReviewQueue:
    now = now or timezone.now()
    if not user.is_authenticated:
        return ReviewQueue()
    horizon = end_of_day(now)
    # Cases waiting for an answer in an open assignment are answered there, timed and scored.
    pending = privacy.assignment_pending_cases(user, now)
    published = Case.Status.PUBLISHED
    due_cards = list(
        ReviewCard.objects.filter(user=user, due__lt=horizon, case__status=published)
        .exclude(case_id__in=pending)
        .select_related("case", "case__diagnosis")
        .order_by("due", "pk")
    )
    items = [QueueItem(case=c.case, reason="due", card=c) for c in due_cards]
    carded = set(ReviewCard.objects.filter(user=user).values_list("case_id", flat=True))
    met_today = ReviewCard.objects.filter(user=user, created_at__gte=start_of_day(now)).count()
    new_room = max(0, settings.TA_REVIEW_NEW_PER_DAY - met_today)
    if new_room:
        seen: set[int] = set()
        for entry in (
            CollectionEntry.objects.filter(
                collection__assignments__klass__memberships__student=user,
                collection__assignments__opens_at__lte=now,
                case__status=published,
            )
            .exclude(case_id__in=carded | pending)
            .select_related("case", "case__diagnosis")
            .order_by("collection__assignments__due_at", "position")
        ):
            if entry.case_id in seen:
                continue
            seen.add(entry.case_id)
            items.append(QueueItem(case=entry.case, reason="new"))
            if len(seen) >= new_room:
                break
    rng = _day_random(user, now)
    share = min(max(settings.TA_REVIEW_NORMAL_SHARE, 0.0), 0.9)
    abnormal = sum(1 for i in items if not i.case.is_normal)
    have = len(items) - abnormal
    want = math.ceil(share * abnormal / (1 - share)) if abnormal and share else 0
    if want > have:
        taken = {i.case.pk for i in items}
        candidates = list(
            Case.objects.published()
            .filter(is_normal=True)
            .exclude(pk__in=carded | pending | taken)
            .order_by("pk")
            .values_list("pk", flat=True)[:500]
        )
        rng.shuffle(candidates)
        chosen = Case.objects.filter(pk__in=candidates[: want - have]).select_related("diagnosis")
        items += [QueueItem(case=c, reason="normal") for c in chosen]
    rng.shuffle(items)
    return ReviewQueue(items=items)


def streak(*, user, now: dt.datetime | None = None) -> int:
    """Days in a row, up to today (or up to yesterday, if nothing was answered yet today), on
    which the student answered at least one case."""
    now = now or timezone.now()
    since = start_of_day(now) - dt.timedelta(days=366)
    stamps = list(
        Attempt.objects.filter(user=user, answered_at__gte=since).values_list(
            "answered_at", flat=True
        )
    ) + list(QuizAnswer.objects.filter(user=user, created_at__gte=since).values_list(
        "created_at", flat=True
    ))  # fmt: skip
    days = {timezone.localtime(s).date() for s in stamps}
    day = timezone.localtime(now).date()
    if day not in days:
        day -= dt.timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= dt.timedelta(days=1)
    return count


def next_due(*, user, now: dt.datetime | None = None) -> ReviewCard | None:
    """The student's next card due after today, if nothing is due today."""
    now = now or timezone.now()
    return (
        ReviewCard.objects.filter(user=user, due__gte=end_of_day(now), case__status="published")
        .order_by("due")
        .first()
    )
