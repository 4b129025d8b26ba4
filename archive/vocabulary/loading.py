"""Writing the ICD-10 catalogue (and the curated terms of ``search/data/synonyms.tsv``) into the
``archive_icd10_code`` and ``archive_icd10_term`` tables.

Run by migration 0008 (so a fresh database, a test database included, has the catalogue) and by
``manage.py load_icd10`` (``make setup``), which reloads it after an upgrade of the packages or
of the curated vocabulary. One transaction: readers see the old catalogue or the new one.
"""

from __future__ import annotations

from django.db import transaction

from archive.privacy import normalise
from archive.vocabulary.catalogue import BLOCK, CHAPTER, Entry, read_catalogue
from search.synonyms import curated_terms, phrase
from search.variants import american, strip_possessives

__all__ = ["folded", "load_catalogue"]

TITLE, SPELLING = "title", "spelling"


def folded(term: str) -> str:
    """What ``Icd10Term.folded`` holds: a space, then the normalised words ("Crohn's" →
    " crohn s"), so ``LIKE '% word%'`` finds a word start."""
    return " " + normalise(strip_possessives(term))


def _terms(entry: Entry, curated: dict[str, list]) -> list[tuple[str, str, str, str]]:
    """(term, kind, language, concept) of one category or subcategory."""
    out = [(entry.title, TITLE, "en", "")]
    us = " ".join(american(phrase(entry.title)))
    if us != " ".join(phrase(entry.title)):
        out.append((us, SPELLING, "en", ""))
    out += [(term, kind, "en", "") for term, kind in entry.terms]
    out += [(t.term, t.kind, t.lang, t.concept) for t in curated.get(entry.code, [])]
    seen, unique = set(), []
    for term, kind, lang, concept in out:
        key = (normalise(term), concept)
        if key[0] and key not in seen:
            seen.add(key)
            unique.append((term[:300], kind, lang, concept[:200]))
    return unique


def load_catalogue(*, using: str = "default", code_model=None, term_model=None) -> tuple[int, int]:
    """Replace the catalogue; returns (codes, terms). The models may be a migration's."""
    from archive.models import Icd10Code, Icd10Term

    Code = code_model or Icd10Code
    Term = term_model or Icd10Term
    entries = read_catalogue()
    curated: dict[str, list] = {}
    for t in curated_terms():
        if t.icd10:
            curated.setdefault(t.icd10, []).append(t)
    codes, terms = [], []
    for e in entries:
        czech = next(
            (t.term for t in curated.get(e.code, []) if t.lang == "cs" and t.kind == "name"), ""
        )
        codes.append(
            Code(
                code=e.code,
                kind=e.kind,
                title=e.title[:300],
                title_cs=czech[:300],
                parent=e.parent,
                chapter=e.chapter,
                block=e.block,
                position=e.position,
            )
        )
        if e.kind in (CHAPTER, BLOCK):
            continue  # groups of diagnoses, not diagnoses: never suggested
        for term, kind, lang, concept in _terms(e, curated):
            terms.append(
                Term(
                    code=e.code,
                    term=term,
                    folded=folded(term)[:320],
                    kind=kind,
                    language=lang,
                    concept=concept,
                )
            )
    with transaction.atomic(using=using):
        Term.objects.using(using).all().delete()
        Code.objects.using(using).all().delete()
        Code.objects.using(using).bulk_create(codes, batch_size=2000)
        Term.objects.using(using).bulk_create(terms, batch_size=5000)
    from archive.vocabulary.selectors import forget_hierarchy

    forget_hierarchy()
    return len(codes), len(terms)
