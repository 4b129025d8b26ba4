"""Quiz mode: what a student may see of a case before answering, how answers are matched, and
the score per topic.

While a quiz case is unanswered nothing may name the diagnosis: not the page, not the viewer's
JSON, not image URLs, not downloaded headers. ``hidden_terms`` lists every way the diagnosis can
be written (name, synonyms, Czech name, ICD-10 code) and ``redact`` removes them from any text the
teacher wrote elsewhere (title, history, series descriptions) because teachers do slip.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from archive.models import BodyRegion, Case, Diagnosis, OrganSystem, QuizAnswer
from archive.services import cases as case_services

REDACTED = "▇▇▇"
_PUNCT_RE = re.compile(r"[^\w]+", re.UNICODE)
_BULLET_RE = re.compile(r"^\s*(?:[-*•–]|\d+[.)])\s*")


# --- Normalisation and matching ---------------------------------------------------------------


def normalise(text: str) -> str:
    """Fold case, diacritics, punctuation: ``"Pneumotórax, L."`` → ``"pneumotorax l"``."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_PUNCT_RE.sub(" ", stripped.casefold()).replace("_", " ").split())


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


def diagnosis_terms(diagnosis: Diagnosis | None) -> list[str]:
    """Every way of writing the diagnosis: name, synonyms, Czech name, ICD-10 code."""
    if diagnosis is None:
        return []
    terms = [diagnosis.name, *diagnosis.synonym_list, diagnosis.name_cs, diagnosis.icd10]
    seen, out = set(), []
    for t in terms:
        t = (t or "").strip()
        if t and normalise(t) not in seen:
            seen.add(normalise(t))
            out.append(t)
    return out


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


# --- Visibility and redaction -----------------------------------------------------------------


def has_answered(user, case: Case) -> bool:
    return QuizAnswer.objects.filter(user_id=user.pk, case=case).exists()


def diagnosis_hidden(user, case: Case) -> bool:
    """Whether this user must not see the diagnosis of this case (yet)."""
    if not case.quiz_mode:
        return False
    if case.owner_id == user.pk or case_services.can_edit(user, case):
        return False
    return not has_answered(user, case)


def hidden_terms(case: Case) -> list[str]:
    return diagnosis_terms(case.diagnosis)


def _term_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    parts = sorted({t for t in terms if len(t) >= 2}, key=len, reverse=True)
    if not parts:
        return None
    alternatives = "|".join(
        r"\s*".join(re.escape(w) for w in re.split(r"[\s\-]+", p) if w) for p in parts
    )
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def redact(text: str, terms: Iterable[str], replacement: str = REDACTED) -> str:
    """Replace every occurrence of the terms (case- and diacritic-insensitive) in text."""
    if not text:
        return text
    terms = list(terms)
    pattern = _term_pattern(terms)
    if pattern is not None:
        text = pattern.sub(replacement, text)
    # A diacritic variant ("pneumotorax" for "pneumotórax"): compare word by word, folded.
    folded_terms = {normalise(t) for t in terms if normalise(t)}
    if not folded_terms:
        return text
    tokens = re.split(r"(\W+)", text)
    words = [
        (i, normalise(tok)) for i, tok in enumerate(tokens) if tok and not re.match(r"\W", tok)
    ]
    for term in folded_terms:
        n = len(term.split())
        for k in range(len(words) - n + 1):
            window = words[k : k + n]
            if " ".join(w for _, w in window) == term:
                first, last = window[0][0], window[-1][0]
                tokens[first] = replacement
                for j in range(first + 1, last + 1):
                    tokens[j] = ""
    return "".join(tokens)


def mentions_diagnosis(text: str, case: Case) -> bool:
    return redact(text, hidden_terms(case), "\x00") != text


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
    seed = hashlib.sha256(f"{settings.SECRET_KEY}|quiz|{user.pk}|{case.pk}".encode()).digest()
    random.Random(seed).shuffle(options)
    return options


# --- Answering and progress -------------------------------------------------------------------


def answer_case(
    *, user, case: Case, text: str = "", choice: int | None = None, language: str | None = None
) -> QuizAnswer:
    """Record the student's first answer (a repeat returns the first one unchanged)."""
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
        correct, mode = answer_matches(answer_text, case.diagnosis), QuizAnswer.Mode.TEXT
    try:
        with transaction.atomic():
            return QuizAnswer.objects.create(
                user=user, case=case, answer_text=answer_text, correct=correct, mode=mode
            )
    except IntegrityError:  # a double submit raced us: the first answer counts
        return QuizAnswer.objects.get(user_id=user.pk, case=case)


@dataclass(frozen=True)
class TopicScore:
    key: str
    label: str
    answered: int
    correct: int

    @property
    def percent(self) -> int:
        return round(100 * self.correct / self.answered) if self.answered else 0


def progress(*, user) -> dict:
    """Answered and correct quiz cases of one student, by organ system and by body region."""
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
    }
