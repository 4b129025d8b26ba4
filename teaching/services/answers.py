"""Timed, scored answers: open an attempt when the case is shown, answer it once.

The score counts the diagnosis and, on a case whose key image has the lesion's region, the
localisation of the student's click (``teaching.localisation``): half each. Answering reveals
the case to the student everywhere (``archive.services.quiz.record_answer``) and grades their
review card (``teaching.services.review``).
"""

from __future__ import annotations

import datetime as dt

import pydicom
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from archive.models import Case, Instance
from archive.services import quiz
from teaching import localisation, scheduling, selectors
from teaching.models import Assignment, Attempt, Collection
from teaching.services.review import record_review

#: An unanswered review or collection attempt older than this is stale: a new one is opened.
STALE_AFTER = dt.timedelta(hours=6)


def pixel_spacing(instance: Instance) -> tuple[float, float] | None:
    """(row spacing, column spacing) in mm from the anonymized header: Pixel Spacing, else
    Imager Pixel Spacing (projection radiographs, at the detector), else ``None``."""
    try:
        with instance.file.open("rb") as fh:
            ds = pydicom.dcmread(
                fh,
                stop_before_pixels=True,
                specific_tags=["PixelSpacing", "ImagerPixelSpacing"],
            )
    except (OSError, ValueError, pydicom.errors.InvalidDicomError):
        return None
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        value = ds.get(keyword)
        try:
            rows, columns = float(value[0]), float(value[1])
        except (TypeError, ValueError, IndexError):
            continue
        if rows > 0 and columns > 0:
            return rows, columns
    return None


def open_attempt(
    *,
    user,
    case: Case,
    kind: str,
    assignment: Assignment | None = None,
    collection: Collection | None = None,
    now: dt.datetime | None = None,
) -> Attempt:
    """The attempt the student is answering now: started when the case was first shown (in an
    assignment, the one and only attempt, so reloading does not restart the clock)."""
    now = now or timezone.now()
    if assignment is not None:
        try:
            with transaction.atomic():
                attempt, _created = Attempt.objects.get_or_create(
                    assignment=assignment,
                    user=user,
                    case=case,
                    defaults={"kind": Attempt.Kind.ASSIGNMENT, "started_at": now},
                )
        except IntegrityError:
            attempt = Attempt.objects.get(assignment=assignment, user=user, case=case)
        return attempt
    attempt = (
        Attempt.objects.filter(
            user=user,
            case=case,
            kind=kind,
            assignment__isnull=True,
            answered_at__isnull=True,
            started_at__gte=now - STALE_AFTER,
        )
        .order_by("-started_at")
        .first()
    )
    if attempt is None:
        attempt = Attempt.objects.create(
            user=user, case=case, kind=kind, collection=collection, started_at=now
        )
    return attempt


@transaction.atomic
def answer_attempt(
    *,
    attempt: Attempt,
    text: str,
    unsure: bool = False,
    click: tuple[float, float] | None = None,
    now: dt.datetime | None = None,
) -> Attempt:
    """Score the student's answer; the first answer counts (a repeat returns it unchanged).
    Raises ``ValidationError`` with a sentence the student can act on."""
    now = now or timezone.now()
    attempt = (
        # Lock the attempt only (a join's nullable side cannot be locked on PostgreSQL).
        Attempt.objects.select_for_update(of=("self",))
        .select_related("case", "assignment")
        .get(pk=attempt.pk)
    )
    if attempt.answered:
        return attempt
    assignment = attempt.assignment
    if assignment is not None:
        if now < assignment.opens_at:
            raise ValidationError(
                _("This assignment opens on %(when)s.")
                % {
                    "when": formats.date_format(
                        timezone.localtime(assignment.opens_at), "DATETIME_FORMAT"
                    )
                }
            )
        if assignment.is_past_due(now):
            raise ValidationError(
                _("This assignment was due on %(when)s: answers are closed.")
                % {
                    "when": formats.date_format(
                        timezone.localtime(assignment.due_at), "DATETIME_FORMAT"
                    )
                }
            )
    answer = " ".join((text or "").split())[:300]
    if not answer:
        raise ValidationError(_("Type your diagnosis (or “normal”) before checking it."))
    case = attempt.case
    correct = quiz.answer_is_correct(case, answer)
    key = selectors.target_key_image(case=case)
    region = selectors.region_of(key)
    localised = None
    if region is not None:
        if click is None:
            raise ValidationError(_("Click where you see the lesion on the key image."))
        x, y = click
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValidationError(_("Click inside the key image."))
        where = localisation.locate(
            region,
            x,
            y,
            columns=key.instance.columns,
            rows=key.instance.rows,
            spacing=pixel_spacing(key.instance),
        )
        attempt.key_image = key
        attempt.click_x, attempt.click_y = round(x, 4), round(y, 4)
        attempt.inside = where.inside
        attempt.distance_mm = None if where.distance_mm is None else round(where.distance_mm, 1)
        attempt.score = 0.5 * float(correct) + 0.5 * where.score
        localised = where.localised
    else:
        attempt.score = 1.0 if correct else 0.0
    attempt.answer_text = answer
    attempt.correct = correct
    attempt.unsure = bool(unsure)
    attempt.answered_at = max(now, attempt.started_at)
    rating = scheduling.rating_for(
        correct=correct, seconds=attempt.seconds, localised=localised, unsure=unsure
    )
    attempt.rating = int(rating)
    attempt.save()
    quiz.record_answer(user=attempt.user, case=case, text=answer, correct=correct)
    record_review(user=attempt.user, case=case, rating=rating, now=now)
    return attempt


def parse_click(x: str, y: str) -> tuple[float, float] | None:
    try:
        return float(x), float(y)
    except (TypeError, ValueError):
        return None
