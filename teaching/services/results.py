"""Results for teachers: per assignment and per case (attempts, share correct, median time, the
most common wrong answers grouped by the diagnosis vocabulary, where the clicks fell), per
student (progress over time), and the same as CSV.

Only a class's teachers get here (``archive.privacy.can_view_results``): the functions check it
themselves, so no caller can hand a student another student's answers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import operator
import statistics
from collections import Counter
from dataclasses import dataclass, field
from functools import reduce

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from archive import privacy
from archive.models import Case, Diagnosis, KeyImage
from archive.privacy import normalise
from archive.services import quiz
from teaching import selectors
from teaching.models import Assignment, Attempt, TeachingClass

MAX_NGRAM = 4
TOP_WRONG = 3


def vocabulary_label(answer: str, candidates: list[Diagnosis] = ()) -> str:
    """The diagnosis of the vocabulary a free-text answer names ("PTX", "pnuemothorax" and
    "left pneumothorax" are all Pneumothorax), "Normal" for a normal answer, else the answer
    itself, tidied."""
    if quiz.says_normal(answer):
        return _("Normal")
    words = normalise(answer).split()
    grams = {
        " ".join(words[i : i + n])
        for n in range(1, MAX_NGRAM + 1)
        for i in range(len(words) - n + 1)
    }
    found = list(candidates)
    if grams:
        query = reduce(
            operator.or_,
            (
                Q(name__iexact=g) | Q(name_cs__iexact=g) | Q(icd10__iexact=g)
                | Q(synonyms__icontains=g)
                for g in sorted(grams)
            ),
        )  # fmt: skip
        found += list(Diagnosis.objects.filter(query)[:50])
    for diagnosis in found:
        if quiz.answer_matches(answer, diagnosis):
            return diagnosis.name
    return " ".join(answer.split())[:80].capitalize()


def group_wrong_answers(
    answers: list[str], candidates: list[Diagnosis] = (), top: int = TOP_WRONG
) -> list[tuple[str, int]]:
    """The most common wrong answers, counted by :func:`vocabulary_label`."""
    counts = Counter(vocabulary_label(a, candidates) for a in answers if a.strip())
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]


@dataclass
class CaseResult:
    n: int
    case: Case
    title: str
    attempts: int = 0
    correct: int = 0
    median_seconds: float | None = None
    wrong: list[tuple[str, int]] = field(default_factory=list)
    key: KeyImage | None = None
    region: dict | None = None
    clicks: list[tuple[float, float]] = field(default_factory=list)
    inside: int = 0

    @property
    def share(self) -> int:
        return round(100 * self.correct / self.attempts) if self.attempts else 0

    @property
    def key_url(self) -> str:
        if self.key is None:
            return ""
        return reverse("instance-frame", args=[self.key.instance_id, self.key.frame]) + (
            "?preset=default"
        )


@dataclass
class StudentResult:
    student: object
    answered: int = 0
    correct: int = 0
    score: float = 0.0
    seconds: float = 0.0

    @property
    def share(self) -> int:
        return round(100 * self.correct / self.answered) if self.answered else 0


@dataclass
class AssignmentResults:
    assignment: Assignment
    cases: list[CaseResult]
    students: list[StudentResult]

    @property
    def attempts(self) -> int:
        return sum(c.attempts for c in self.cases)

    @property
    def share(self) -> int:
        correct = sum(c.correct for c in self.cases)
        return round(100 * correct / self.attempts) if self.attempts else 0


def _answered(assignment: Assignment):
    return (
        Attempt.objects.filter(assignment=assignment, answered_at__isnull=False)
        .select_related("user", "case")
        .order_by("answered_at", "pk")
    )


def assignment_results(*, assignment: Assignment, user) -> AssignmentResults:
    if not privacy.can_view_results(user, assignment):
        raise PermissionDenied
    entries = selectors.assignment_entries(assignment=assignment, user=user)
    attempts = list(_answered(assignment))
    policy = privacy.policy_for(user)
    candidates = [e.case.diagnosis for e in entries if e.case.diagnosis_id]
    cases = []
    for n, entry in enumerate(entries, 1):
        mine = [a for a in attempts if a.case_id == entry.case_id]
        key = selectors.target_key_image(case=entry.case)
        result = CaseResult(
            n=n,
            case=entry.case,
            title=policy.view(entry.case).title,
            attempts=len(mine),
            correct=sum(1 for a in mine if a.correct),
            median_seconds=statistics.median([a.seconds for a in mine]) if mine else None,
            wrong=group_wrong_answers([a.answer_text for a in mine if not a.correct], candidates),
            key=key,
            region=selectors.region_of(key),
            clicks=[
                a.click_point
                for a in mine
                if a.click_point and a.key_image_id == getattr(key, "pk", None)
            ],
            inside=sum(1 for a in mine if a.inside),
        )
        cases.append(result)
    students = {}
    for m in assignment.klass.memberships.select_related("student"):
        students[m.student_id] = StudentResult(student=m.student)
    for a in attempts:
        row = students.setdefault(a.user_id, StudentResult(student=a.user))
        row.answered += 1
        row.correct += 1 if a.correct else 0
        row.score += a.score or 0.0
        row.seconds += a.seconds or 0.0
    ordered = sorted(students.values(), key=lambda s: s.student.get_username())
    return AssignmentResults(assignment=assignment, cases=cases, students=ordered)


def _cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (answers are typed by students)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def assignment_csv(*, assignment: Assignment, user) -> str:
    if not privacy.can_view_results(user, assignment):
        raise PermissionDenied
    entries = selectors.assignment_entries(assignment=assignment, user=user)
    number = {e.case_id: n for n, e in enumerate(entries, 1)}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["assignment", "case_number", "case_id", "student", "answer", "correct", "click_inside",
         "click_distance_mm", "seconds", "score", "answered_at"]
    )  # fmt: skip
    for a in _answered(assignment):
        writer.writerow(
            [
                _cell(assignment.title),
                number.get(a.case_id, ""),
                a.case_id,
                _cell(a.user.get_username()),
                _cell(a.answer_text),
                "yes" if a.correct else "no",
                "" if a.inside is None else ("yes" if a.inside else "no"),
                "" if a.distance_mm is None else f"{a.distance_mm:.1f}",
                f"{a.seconds:.0f}",
                "" if a.score is None else f"{a.score:.2f}",
                a.answered_at.isoformat(),
            ]
        )
    return out.getvalue()


@dataclass
class WeekProgress:
    week: dt.date
    answered: int
    correct: int
    cumulative_answered: int
    cumulative_correct: int

    @property
    def share(self) -> int:
        return round(100 * self.correct / self.answered) if self.answered else 0

    @property
    def cumulative_share(self) -> int:
        if not self.cumulative_answered:
            return 0
        return round(100 * self.cumulative_correct / self.cumulative_answered)


def student_progress(*, klass: TeachingClass, user, student) -> dict:
    """One student's answers in the class's assignments, and their progress week by week."""
    if not privacy.is_class_teacher(user, klass):
        raise PermissionDenied
    if not klass.memberships.filter(student=student).exists():
        raise PermissionDenied
    attempts = list(
        Attempt.objects.filter(assignment__klass=klass, user=student, answered_at__isnull=False)
        .select_related("assignment", "case")
        .order_by("answered_at", "pk")
    )
    weeks: dict[dt.date, list[Attempt]] = {}
    for a in attempts:
        day = timezone.localtime(a.answered_at).date()
        weeks.setdefault(day - dt.timedelta(days=day.weekday()), []).append(a)
    rows, total, right = [], 0, 0
    for week in sorted(weeks):
        items = weeks[week]
        correct = sum(1 for a in items if a.correct)
        total, right = total + len(items), right + correct
        rows.append(WeekProgress(week, len(items), correct, total, right))
    policy = privacy.policy_for(user)
    return {
        "attempts": [(a, policy.view(a.case).title) for a in attempts],
        "weeks": rows,
        "answered": total,
        "correct": right,
        "share": round(100 * right / total) if total else 0,
    }
