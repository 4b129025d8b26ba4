"""Quiz mode: how answers are matched, the multiple choices, and the score per topic.

What a student may see of a quiz case before answering is decided by ``archive.privacy`` (the
one privacy policy); this module matches answers and keeps scores.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass

from django.core import signing
from django.core.signing import BadSignature, TimestampSigner
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils.crypto import salted_hmac

from archive import privacy
from archive.models import BodyRegion, Case, Diagnosis, OrganSystem, QuizAnswer
from archive.privacy import diagnosis_terms, normalise
from teaching.scheduling import rating_for
from teaching.services.review import record_review

_BULLET_RE = re.compile(r"^\s*(?:[-*•–]|\d+[.)])\s*")


# --- Normalisation and matching ---------------------------------------------------------------


def _compact(text: str) -> str:
    return normalise(text).replace(" ", "")


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Optimal-string-alignment distance (a transposition counts as one edit), capped at limit+1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def allowed_typos(word: str) -> int:
    """Abbreviations and short words must be exact; long words forgive two slips."""
    if len(word) <= 4:
        return 0
    if len(word) <= 8:
        return 1
    return 2


def _words_match(answer_words: list[str], term_words: list[str]) -> bool:
    return len(answer_words) == len(term_words) and all(
        edit_distance(a, t, allowed_typos(t)) <= allowed_typos(t)
        for a, t in zip(answer_words, term_words, strict=True)
    )


_NEGATIONS = {"no", "not", "without", "non", "ne", "bez", "neni"}


def answer_matches(answer: str, diagnosis: Diagnosis | None) -> bool:
    """True when the free-text answer names the diagnosis.

    Accepted: any term equal after normalisation, the ICD-10 code with or without its dot, a
    term with a few typos in long words, or a term inside a longer answer ("left pneumothorax")
    unless the answer negates it.
    """
    if diagnosis is None:
        return False
    words = normalise(answer).split()
    if not words:
        return False
    if diagnosis.icd10 and _compact(answer) == _compact(diagnosis.icd10):
        return True
    if _NEGATIONS & set(words):
        return False
    for term in diagnosis_terms(diagnosis):
        if term == diagnosis.icd10:
            continue
        term_words = normalise(term).split()
        if not term_words:
            continue
        n = len(term_words)
        for start in range(len(words) - n + 1):
            if _words_match(words[start : start + n], term_words):
                return True
        # "pneumo thorax" vs "pneumothorax": compare without spaces too.
        if _words_match(["".join(words)], ["".join(term_words)]):
            return True
    return False


# "Normal" as an answer: a normal study is answered by saying so, and an abnormal one is not.
NORMAL_ANSWERS = (
    "normal", "normal study", "no abnormality", "no abnormalities", "nothing abnormal",
    "no pathology", "no finding", "no findings", "negative", "unremarkable",
    "normalni", "normalni nalez", "bez nalezu", "bez patologie", "bez patologickeho nalezu",
)  # fmt: skip
_NORMAL = {normalise(a) for a in NORMAL_ANSWERS}


def says_normal(answer: str) -> bool:
    """True when the answer says the study is normal ("normal", "no abnormality", "bez
    nálezu", ...), folded like every answer."""
    return normalise(answer) in _NORMAL


def answer_is_correct(case: Case, answer: str) -> bool:
    """A normal study is answered "normal" (or with its own diagnosis, if it has one, such as
    "normal variant"); any other case by naming its diagnosis."""
    if case.is_normal:
        return says_normal(answer) or answer_matches(answer, case.diagnosis)
    return not says_normal(answer) and answer_matches(answer, case.diagnosis)


# --- Multiple choice --------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    text: str
    correct: bool


def display_name(diagnosis: Diagnosis, language: str | None = None) -> str:
    if language and language.startswith("cs") and diagnosis.name_cs:
        return diagnosis.name_cs
    return diagnosis.name


def differential_items(case: Case) -> list[str]:
    items = []
    for line in (case.differential or "").splitlines():
        line = _BULLET_RE.sub("", line).strip(" ;,.")
        if line:
            items.append(line[:200])
    return items


def choices_for(user, case: Case, language: str | None = None) -> list[Choice]:
    """The diagnosis plus the differential, shuffled the same way every time for this student."""
    if case.diagnosis is None:
        return []
    correct = display_name(case.diagnosis, language)
    options = [Choice(correct, True)]
    seen = {normalise(correct), *(normalise(t) for t in diagnosis_terms(case.diagnosis))}
    for item in differential_items(case):
        key = normalise(item)
        if key in seen or answer_matches(item, case.diagnosis):
            continue
        seen.add(key)
        options.append(Choice(item, False))
    if len(options) < 2:
        return []
    # Keyed by the site's secret: a student who knows the code cannot predict the order.
    seed = salted_hmac("archive.quiz.choices", f"{user.pk}|{case.pk}").digest()
    random.Random(seed).shuffle(options)
    return options


# --- Timing ---------------------------------------------------------------------------------

_START_SALT = "archive.quiz.started"


def start_token(user, case: Case) -> str:
    """A signed "shown at" stamp for the answer form: the time taken is measured from it."""
    return TimestampSigner(salt=_START_SALT).sign(f"{user.pk}:{case.pk}")


def seconds_since(token: str, user, case: Case, max_age: int = 86_400) -> float | None:
    """Seconds since :func:`start_token` made ``token`` for this user and case (``None`` if
    it is missing, forged, for another case or older than a day)."""
    signer = TimestampSigner(salt=_START_SALT)
    try:
        value = signer.unsign(token or "", max_age=max_age)
    except BadSignature:
        return None
    if value != f"{user.pk}:{case.pk}":
        return None
    signed_at = signing.b62_decode(token.rsplit(signer.sep, 2)[1])
    return max(0.0, time.time() - signed_at)


# --- Answering and progress -------------------------------------------------------------------


def answer_case(
    *,
    user,
    case: Case,
    text: str = "",
    choice: int | None = None,
    language: str | None = None,
    seconds: float | None = None,
) -> QuizAnswer:
    """Record the student's first answer (a repeat returns the first one unchanged); the case
    becomes one of the student's review cards, graded from the answer and ``seconds`` taken."""
    existing = QuizAnswer.objects.filter(user_id=user.pk, case=case).first()
    if existing is not None:
        return existing
    if choice is not None:
        options = choices_for(user, case, language)
        if not 0 <= choice < len(options):
            raise ValueError("Choose one of the offered answers.")
        picked = options[choice]
        answer_text, correct, mode = picked.text, picked.correct, QuizAnswer.Mode.CHOICE
    else:
        answer_text = " ".join(text.split())[:300]
        if not answer_text:
            raise ValueError("Type your diagnosis before checking it.")
        correct, mode = answer_is_correct(case, answer_text), QuizAnswer.Mode.TEXT
    answer, created = record_answer(
        user=user, case=case, text=answer_text, correct=correct, mode=mode
    )
    if created:
        record_review(user=user, case=case, rating=rating_for(correct=correct, seconds=seconds))
    return answer


def record_answer(
    *, user, case: Case, text: str, correct: bool, mode: str = QuizAnswer.Mode.TEXT
) -> tuple[QuizAnswer, bool]:
    """The student's first answer to the case, wherever it was given (the case page, an
    assignment, the review queue): it reveals the case to them. Returns (answer, created)."""
    existing = QuizAnswer.objects.filter(user_id=user.pk, case=case).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            answer = QuizAnswer.objects.create(
                user=user, case=case, answer_text=text[:300], correct=correct, mode=mode
            )
            return answer, True
    except IntegrityError:  # a double submit raced us: the first answer counts
        return QuizAnswer.objects.get(user_id=user.pk, case=case), False


@dataclass(frozen=True)
class TopicScore:
    key: str
    label: str
    answered: int
    correct: int

    @property
    def percent(self) -> int:
        return round(100 * self.correct / self.answered) if self.answered else 0


def progress(*, user, search: str = "") -> dict:
    """Answered and correct quiz cases of one student, by organ system and by body region;
    ``search`` finds among the answered cases those whose diagnosis it names (typos, synonyms
    and codes as in an answer) or whose title, history or findings contain it."""
    answers = QuizAnswer.objects.filter(user_id=user.pk)

    def by(field: str, labels: dict) -> list[TopicScore]:
        rows = (
            answers.values(f"case__{field}")
            .annotate(answered=Count("id"), correct=Count("id", filter=Q(correct=True)))
            .order_by(f"case__{field}")
        )
        return [
            TopicScore(
                key=r[f"case__{field}"] or "",
                label=str(labels.get(r[f"case__{field}"], "")) or "—",
                answered=r["answered"],
                correct=r["correct"],
            )
            for r in rows
        ]

    total = answers.count()
    correct = answers.filter(correct=True).count()
    return {
        "total": total,
        "correct": correct,
        "percent": round(100 * correct / total) if total else 0,
        "by_organ_system": by("organ_system", dict(OrganSystem.choices)),
        "by_body_region": by("body_region", dict(BodyRegion.choices)),
        "recent": answers.select_related("case", "case__diagnosis")[:50],
        "search": " ".join((search or "").split())[:200],
        "found": answered_matching(user=user, text=search) if search.strip() else None,
    }


def answered_matching(*, user, text: str, limit: int = 50) -> list[QuizAnswer]:
    """The student's answered cases (still visible to them) that ``text`` finds: the answer is
    theirs, so the diagnosis may be searched for once the quiz is answered."""
    text = " ".join((text or "").split())[:200]
    if not text:
        return []
    folded = normalise(text)
    out = []
    answers = (
        QuizAnswer.objects.filter(user_id=user.pk)
        .filter(privacy.case_filter(user, "case__"))
        .select_related("case", "case__diagnosis")
    )
    policy = privacy.policy_for(user)
    for answer in answers.iterator(chunk_size=200):
        case = answer.case
        if policy.view(case).hidden:  # answered, but waiting in an assignment again
            continue
        written = normalise(" ".join((case.title, case.history, case.findings)))
        if answer_matches(text, case.diagnosis) or (folded and folded in written):
            out.append(answer)
            if len(out) >= limit:
                break
    return out
