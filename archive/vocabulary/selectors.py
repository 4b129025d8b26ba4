"""Read-only queries of the diagnosis vocabulary: what the editor's diagnosis field suggests.

Suggestions come from two places: the diagnoses already in the archive (with the names,
synonyms and Czech names teachers and curators gave them) and the whole ICD-10 catalogue
(titles, ICD-10-CM inclusion and narrower terms, the curated synonyms and Czech names). Both
are matched the same way: the query folded like the vocabulary (no case, diacritics or
punctuation), every query word the start of a word of one term, in any order. They rank:

1. the term is the query ("pneumothorax" → "Pneumothorax"), then a term that starts with it,
   then one that only contains its words ("Traumatic pneumothorax");
2. a title, name, synonym or abbreviation before an ICD-10-CM inclusion term, before a
   narrower term;
3. the shorter matched term, then the catalogue's order.

A diagnosis of the archive takes the place of the catalogue entry with its code (and of one
with its name), so picking it reuses the archive's record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Length

from archive.models import Diagnosis, Icd10Code, Icd10Kind, Icd10Term
from archive.privacy import normalise
from search.variants import strip_possessives

__all__ = [
    "Hierarchy",
    "Suggestion",
    "catalogue_code",
    "diagnosis_suggestions",
    "fold",
    "words_match",
    "forget_hierarchy",
    "hierarchy",
    "preferred_name",
]

#: Rows of the catalogue ranked in SQL before the best per code is kept.
CANDIDATES = 200
# Lower is better: what kind of term matched.
KIND_RANK = {"inclusion": 1, "narrower": 2}
_CODE_RE = re.compile(r"^([A-Z])(\d{1,2})(?:\.?(\d{0,2}))?$")
SUGGESTED_KINDS = (Icd10Kind.CATEGORY, Icd10Kind.SUBCATEGORY)


@dataclass
class Suggestion:
    """One diagnosis the editor offers."""

    name: str  # what the form stores (and finds again in the archive)
    label: str  # the name in the user's language
    icd10: str = ""
    name_cs: str = ""
    matched: str = ""  # the term that matched, when it is not the name itself
    synonyms: list[str] = field(default_factory=list)
    diagnosis_id: int | None = None
    block: str = ""
    chapter: str = ""
    rank: tuple = ()

    def as_json(self) -> dict:
        return {
            "id": self.diagnosis_id,
            "name": self.name,
            "label": self.label,
            "name_cs": self.name_cs,
            "icd10": self.icd10,
            "synonyms": self.synonyms,
            "matched": self.matched,
            "block": self.block,
            "chapter": self.chapter,
            "in_archive": self.diagnosis_id is not None,
        }


def catalogue_code(text: str) -> Icd10Code | None:
    """The category or subcategory ``text`` names ("J93.1", "j931", " J93 "), or None."""
    match = _CODE_RE.match((text or "").strip().upper().replace(" ", ""))
    if not match:
        return None
    letter, digits, detail = match.groups()
    if len(digits) != 2:
        return None
    code = f"{letter}{digits}" + (f".{detail}" if detail else "")
    return Icd10Code.objects.filter(code=code, kind__in=SUGGESTED_KINDS).first()


def preferred_name(code: str) -> str:
    """What a diagnosis picked from the catalogue by its code or title is called: the English
    name of the curated vocabulary for the code when it has one ("Hepatocellular carcinoma"),
    else the WHO title ("Malignant neoplasm: Liver cell carcinoma")."""
    term = Icd10Term.objects.filter(code=code, kind="name", language="en").order_by("pk").first()
    if term is not None:
        return term.term
    entry = Icd10Code.objects.filter(code=code).first()
    return entry.title if entry else ""


def fold(text: str) -> str:
    """A term or query as the vocabulary is matched: ``normalise`` after dropping possessive
    apostrophes ("Crohn's disease" → "crohn disease")."""
    return normalise(strip_possessives(text))


def _word_forms(word: str) -> list[str]:
    """A query word, and without a plural or possessive "s" ("crohns", "fractures")."""
    return [word, word[:-1]] if len(word) > 3 and word.endswith("s") else [word]


def _has_word(folded: str, word: str) -> bool:
    return any(f" {w}" in folded for w in _word_forms(word))


def _score(query: str, folded: str) -> int | None:
    """0: the term is the query; 1: it starts with it; 2: it has every query word's start."""
    term = folded.strip()
    if term == query:
        return 0
    if term.startswith(query):
        return 1
    if all(_has_word(folded, w) for w in query.split()):
        return 2
    return None


def words_match(column: str, query: str) -> Q:
    """Rows whose folded ``column`` has a word starting with each word of the folded query."""
    match = Q()
    for word in query.split():
        either = Q()
        for form in _word_forms(word):
            either |= Q(**{f"{column}__contains": f" {form}"})
        match &= either
    return match


def _code_query(text: str) -> str | None:
    """``text`` as the start of a code ("J93", "j93.1", "J931" → "J93.1"), or None."""
    raw = (text or "").strip().upper().replace(" ", "")
    match = _CODE_RE.match(raw)
    if not match:
        return None
    letter, digits, detail = match.groups()
    if len(digits) < 2:
        return f"{letter}{digits}"
    return f"{letter}{digits}" + (f".{detail}" if detail else "")


def _catalogue_rows(query: str, code_prefix: str | None) -> list[tuple]:
    """(code, term, folded, kind, language, concept) of the best catalogue candidates."""
    rows = []
    if code_prefix:
        codes = list(
            Icd10Code.objects.filter(code__startswith=code_prefix, kind__in=SUGGESTED_KINDS)
            .order_by(Length("code"), "position")
            .values_list("code", flat=True)[:CANDIDATES]
        )
        rows += list(
            Icd10Term.objects.filter(code__in=codes, kind="title").values_list(
                "code", "term", "folded", "kind", "language", "concept"
            )
        )
    if len(query) < 2:
        return rows
    ranked = (
        Icd10Term.objects.filter(words_match("folded", query))
        .annotate(
            score=Case(
                When(folded=f" {query}", then=Value(0)),
                When(folded__startswith=f" {query}", then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
            kind_rank=Case(
                When(kind="inclusion", then=Value(1)),
                When(kind="narrower", then=Value(2)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            length=Length("folded"),
        )
        .order_by("score", "kind_rank", "length", "code")
        .values_list("code", "term", "folded", "kind", "language", "concept")
    )
    return rows + list(ranked[:CANDIDATES])


def diagnosis_suggestions(*, query: str, language: str = "en", limit: int = 10) -> list[Suggestion]:
    """The best ``limit`` diagnoses for what a teacher typed, named in ``language``."""
    q = fold(query)[:100]
    code_prefix = _code_query(query)
    if len(q) < 2 and not code_prefix:
        return []
    czech = (language or "en").split("-")[0] == "cs"
    found: dict[tuple, Suggestion] = {}

    # The catalogue: the best term per (code, concept).
    for code, term, folded, kind, lang, concept in _catalogue_rows(q, code_prefix):
        score = _score(q, folded)
        if score is None and code_prefix and code.startswith(code_prefix) and kind == "title":
            # Codes in the classification's order under the typed one.
            rank = (0 if code == code_prefix else 1, 0, 0, 0, code)
        elif score is None:
            continue
        else:
            other_language = 0 if lang == ("cs" if czech else "en") else 1
            rank = (score, KIND_RANK.get(kind, 0), other_language, len(folded), code)
        key = ("code", code, concept)
        if key not in found or rank < found[key].rank:
            found[key] = Suggestion(name=concept, label="", icd10=code, matched=term, rank=rank)

    # The archive's own diagnoses.
    archive = words_match("folded_names", q) if len(q) >= 2 else Q(pk__in=[])
    if code_prefix:
        archive |= Q(icd10__startswith=code_prefix)
    diagnoses = list(Diagnosis.objects.filter(archive)[:CANDIDATES])
    for d in diagnoses:
        best = None
        for term in [*d.names(), d.icd10]:
            if not term:
                continue
            score = _score(q, " " + fold(term))
            if code_prefix and term == d.icd10 and term.startswith(code_prefix):
                score = 0 if term == code_prefix else 1
            if score is not None and (best is None or (score, len(term)) < best[:2]):
                best = (score, len(term), term)
        if best is None:
            continue
        rank = (best[0], 0, 0, best[1], d.icd10 or "~")
        found[("dx", d.pk)] = Suggestion(
            name=d.name,
            label=d.name_cs if czech and d.name_cs else d.name,
            icd10=d.icd10,
            name_cs=d.name_cs,
            matched=best[2],
            synonyms=d.synonym_list,
            diagnosis_id=d.pk,
            rank=rank,
        )

    # An archive diagnosis stands for the catalogue entry with its code or its name.
    archive_codes = {s.icd10 for s in found.values() if s.diagnosis_id and s.icd10}
    archive_names = {s.name.casefold() for s in found.values() if s.diagnosis_id}
    catalogue = [s for k, s in found.items() if k[0] == "code"]
    _name_catalogue(catalogue, czech)
    for key in [k for k, s in found.items() if k[0] == "code"]:
        s = found[key]
        if s.icd10 in archive_codes or s.name.casefold() in archive_names:
            twin = next((a for a in found.values() if a.diagnosis_id and a.icd10 == s.icd10), None)
            if twin is not None and s.rank < twin.rank:
                twin.rank, twin.matched = s.rank, s.matched
            if twin is not None and not twin.name_cs and s.name_cs and s.name == twin.name:
                # The archive's record lacks a Czech name the vocabulary has for it.
                twin.name_cs = s.name_cs
                twin.label = s.name_cs if czech else twin.label
            del found[key]
    # One suggestion per name (several concepts of a code may share the preferred name).
    best_by_name: dict[str, Suggestion] = {}
    for s in sorted(found.values(), key=lambda s: s.rank):
        best_by_name.setdefault(s.name.casefold(), s)
    ranked = sorted(best_by_name.values(), key=lambda s: s.rank)[:limit]
    _describe(ranked)
    for s in ranked:
        if normalise(s.matched) in {normalise(s.name), normalise(s.label), normalise(s.icd10)}:
            s.matched = ""
    return ranked


def _name_catalogue(items: list[Suggestion], czech: bool) -> None:
    """Names and labels of catalogue suggestions: the concept (curated) or preferred name."""
    codes = {s.icd10 for s in items}
    entries = {e.code: e for e in Icd10Code.objects.filter(code__in=codes)}
    names: dict[str, str] = {}
    czech_names: dict[tuple[str, str], str] = {}
    for code, term, lang, concept in (
        Icd10Term.objects.filter(code__in=codes, kind="name")
        .order_by("pk")
        .values_list("code", "term", "language", "concept")
    ):
        if lang == "en":
            names.setdefault(code, term)
        else:
            czech_names.setdefault((code, concept), term)
    for s in items:
        entry = entries.get(s.icd10)
        concept = s.name
        s.name = concept or names.get(s.icd10) or (entry.title if entry else s.icd10)
        cs = czech_names.get((s.icd10, concept or s.name)) or (entry.title_cs if entry else "")
        s.name_cs = cs
        s.label = cs if czech and cs else s.name
        if entry is not None:
            s.block, s.chapter = entry.block, entry.chapter


def _describe(items: list[Suggestion]) -> None:
    """A few synonyms of each catalogue suggestion, for the list to show."""
    codes = [s.icd10 for s in items if s.diagnosis_id is None]
    if not codes:
        return
    terms: dict[str, list[str]] = {}
    for code, term in (
        Icd10Term.objects.filter(code__in=codes, language="en")
        .exclude(kind__in=["narrower", "spelling", "name"])
        .order_by("pk")
        .values_list("code", "term")
    ):
        terms.setdefault(code, []).append(term)
    for s in items:
        if s.diagnosis_id is None:
            s.synonyms = [t for t in terms.get(s.icd10, []) if t != s.name][:5]


# --- The hierarchy: chapters and blocks ---------------------------------------------------------


@dataclass(frozen=True)
class Hierarchy:
    """The catalogue's tree, as a few dicts read once per process (the catalogue changes only
    with ``load_icd10``, which calls :func:`forget_hierarchy`)."""

    parent: dict[str, str]
    title: dict[str, str]
    chapter_of_block: dict[str, str]
    chapters: tuple[str, ...]
    blocks: tuple[str, ...]
    # code → (chapter, block), filled as codes are asked for (every search re-checks them).
    _memo: dict[str, tuple[str, str]] = field(default_factory=dict)

    def ancestry(self, code: str) -> list[str]:
        """``code`` and every entry above it: "J93.1" → J93.1, J93, J90-J94, X. A code the
        catalogue lacks starts from its nearest known prefix ("C64.9" → C64, C64-C68, II)."""
        code = (code or "").strip().upper()
        while code and code not in self.parent:
            code = code[:-1].rstrip(".")
        out = []
        while code:
            out.append(code)
            code = self.parent.get(code, "")
        return out

    def chapter_and_block(self, code: str) -> tuple[str, str]:
        found = self._memo.get(code)
        if found is None:
            chain = self.ancestry(code)
            block = next((c for c in chain if c in self.chapter_of_block), "")
            chapter = next((c for c in chain if c in self.chapters), "")
            found = self._memo[code] = (chapter, block)
        return found


_hierarchy: Hierarchy | None = None


def hierarchy() -> Hierarchy:
    global _hierarchy
    if _hierarchy is None:
        rows = list(
            Icd10Code.objects.order_by("position").values_list(
                "code", "kind", "title", "parent", "chapter"
            )
        )
        _hierarchy = Hierarchy(
            parent={code: parent for code, _k, _t, parent, _c in rows},
            title={code: title for code, _k, title, _p, _c in rows},
            chapter_of_block={c: ch for c, kind, _t, _p, ch in rows if kind == Icd10Kind.BLOCK},
            chapters=tuple(c for c, kind, *_ in rows if kind == Icd10Kind.CHAPTER),
            blocks=tuple(c for c, kind, *_ in rows if kind == Icd10Kind.BLOCK),
        )
    return _hierarchy


def forget_hierarchy() -> None:
    global _hierarchy
    _hierarchy = None
