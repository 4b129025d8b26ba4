"""Changing the diagnosis vocabulary: a diagnosis picked from the catalogue, typed freely,
linked to a code by a curator, renamed or given Czech names; and keeping search in step.

Every change of a diagnosis's names or code goes through :func:`diagnosis_changed`, which drops
this process's synonym table and queues the re-indexing of the diagnosis's published cases
(their documents carry its names, synonyms and code), so the change is searchable without a
``search_index --rebuild``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from archive.models import Diagnosis, Icd10Code, Icd10Term
from archive.vocabulary.selectors import catalogue_code, fold, preferred_name

__all__ = [
    "CatalogueNames",
    "catalogue_names",
    "diagnosis_changed",
    "diagnosis_for",
    "draft_diagnosis",
    "link_to_code",
    "update_names",
]


@dataclass
class CatalogueNames:
    """What a diagnosis picked from the catalogue is called, in English and Czech."""

    code: str
    synonyms: list[str] = field(default_factory=list)
    name_cs: str = ""
    synonyms_cs: list[str] = field(default_factory=list)


def catalogue_names(entry: Icd10Code, name: str) -> CatalogueNames:
    """The synonyms and Czech names a diagnosis called ``name`` takes from catalogue ``entry``.

    Only when ``name`` is one of the entry's own names (its title, a curated name or synonym,
    an inclusion term): "Fibrolamellar carcinoma" filed under C22.0 is not a "hepatoma".
    """
    terms = list(Icd10Term.objects.filter(code=entry.code).order_by("pk"))
    wanted = fold(name)
    own = {fold(entry.title), fold(preferred_name(entry.code))} | {
        fold(t.term) for t in terms if t.kind not in ("narrower",)
    }
    if wanted not in own:
        return CatalogueNames(entry.code)
    concepts = [t.concept for t in terms if t.concept]
    concept = next(
        (t.concept for t in terms if t.concept and fold(t.term) == wanted),
        concepts[0] if concepts else "",
    )
    synonyms = [entry.title] + [
        t.term
        for t in terms
        if t.language == "en"
        and (t.kind == "inclusion" or (t.concept == concept and t.kind != "name"))
    ]
    if concept:
        synonyms.append(concept)
    czech = [t.term for t in terms if t.language == "cs" and t.concept == concept]
    name_cs = next(
        (t.term for t in terms if t.language == "cs" and t.concept == concept and t.kind == "name"),
        entry.title_cs,
    )
    return CatalogueNames(
        code=entry.code,
        synonyms=_unique(synonyms, exclude=[name]),
        name_cs=name_cs,
        synonyms_cs=_unique(czech, exclude=[name_cs]),
    )


def _unique(terms: list[str], exclude: list[str]) -> list[str]:
    seen = {fold(t) for t in exclude}
    out = []
    for t in terms:
        if t and fold(t) not in seen:
            seen.add(fold(t))
            out.append(t)
    return out


def draft_diagnosis(*, name: str, icd10: str = "") -> Diagnosis:
    """The diagnosis ``name`` (with ``icd10``) stands for, unsaved if it is new: the archive's
    record with that name, else a new one with the catalogue's synonyms and Czech names."""
    name = " ".join((name or "").split())
    existing = Diagnosis.objects.filter(name__iexact=name).first()
    if existing is not None:
        return existing
    entry = catalogue_code(icd10) if icd10 else None
    if entry is None:
        return Diagnosis(name=name, icd10="")
    names = catalogue_names(entry, name)
    return Diagnosis(
        name=name,
        icd10=entry.code,
        synonyms="\n".join(names.synonyms),
        name_cs=names.name_cs,
        synonyms_cs="\n".join(names.synonyms_cs),
    )


@transaction.atomic
def diagnosis_for(*, name: str, icd10: str = "") -> Diagnosis:
    """The saved diagnosis a case filed as ``name`` (``icd10``) gets: reused when the archive
    has the name (its missing code filled in), created from the catalogue or as free text."""
    diagnosis = draft_diagnosis(name=name, icd10=icd10)
    if diagnosis.pk is None:
        diagnosis.save()
        return diagnosis
    entry = catalogue_code(icd10) if icd10 else None
    if entry is not None and not diagnosis.icd10:
        link_to_code(diagnosis, entry)
    return diagnosis


@transaction.atomic
def link_to_code(diagnosis: Diagnosis, entry: Icd10Code) -> Diagnosis:
    """A curator files a free-text diagnosis under a catalogue code: the code, and the
    catalogue's synonyms and Czech names where its own name is the catalogue's."""
    names = catalogue_names(entry, diagnosis.name)
    diagnosis.icd10 = entry.code
    diagnosis.synonyms = "\n".join(_unique([*diagnosis.synonym_list, *names.synonyms], []))
    diagnosis.name_cs = diagnosis.name_cs or names.name_cs
    diagnosis.synonyms_cs = "\n".join(
        _unique([*diagnosis.synonym_list_cs, *names.synonyms_cs], [diagnosis.name_cs])
    )
    diagnosis.save()
    diagnosis_changed(diagnosis.pk)
    return diagnosis


@transaction.atomic
def update_names(
    diagnosis: Diagnosis, *, name_cs: str = "", synonyms_cs: list[str] | tuple = ()
) -> bool:
    """What a teacher adds in the editor: a Czech name where there is none, Czech synonyms.
    (Curators change any name in the admin.) Returns whether anything changed."""
    before = (diagnosis.name_cs, diagnosis.synonyms_cs)
    name_cs = " ".join((name_cs or "").split())[:200]
    if name_cs and not diagnosis.name_cs:
        diagnosis.name_cs = name_cs
    diagnosis.synonyms_cs = "\n".join(
        _unique([*diagnosis.synonym_list_cs, *synonyms_cs], [diagnosis.name_cs])
    )
    if (diagnosis.name_cs, diagnosis.synonyms_cs) == before:
        return False
    diagnosis.save(update_fields=["name_cs", "synonyms_cs"])
    diagnosis_changed(diagnosis.pk)
    return True


def diagnosis_changed(diagnosis_id: int) -> None:
    """Call after a diagnosis's names or code changed: its published cases are re-indexed
    (on commit) and this process's synonym table is rebuilt at its next use."""
    from search import synonyms
    from search.services import schedule_diagnosis_indexing

    synonyms.clear_cache()
    schedule_diagnosis_indexing(diagnosis_id)
