"""The search document: a plain dict built from a published ``Case``.

Every backend indexes exactly this dict, so what students can find (and what can leak) is decided
here once. For a quiz case the diagnosis, its synonyms and code, the differential, discussion and
teaching points are left out, and any mention of the diagnosis in the title, history or findings
is masked, so nothing searchable, highlightable or returned can reveal the answer.
"""

from __future__ import annotations

from typing import Any

from archive import privacy
from archive.models import Case
from archive.vocabulary.selectors import hierarchy

from .synonyms import SynonymTable, synonym_table, vocabulary_words

TEXT_FIELDS = (
    "title",
    "diagnosis",
    "diagnosis_terms",
    "tags_text",
    "anatomy",
    "findings",
    "history",
    "discussion",
)


def cases_for_indexing():
    """Published cases with what ``build_document`` reads, fetched in few queries."""
    return (
        Case.objects.published().select_related("diagnosis").prefetch_related("tags").order_by("pk")
    )


def build_document(case: Case, synonyms: SynonymTable | None = None) -> dict[str, Any]:
    synonyms = synonyms or synonym_table()
    diagnosis = case.diagnosis
    tags = sorted({t.name for t in case.tags.all()})
    anatomy = " ".join(
        str(x)
        for x in (
            case.modality,
            case.get_modality_display() if case.modality else "",
            case.get_body_region_display() if case.body_region else "",
            case.get_organ_system_display() if case.organ_system else "",
        )
        if x
    )
    diagnosis_names = diagnosis.names() if diagnosis is not None else []
    doc: dict[str, Any] = {
        "id": case.pk,
        "title": case.title,
        "diagnosis": diagnosis.name if diagnosis else "",
        "diagnosis_id": diagnosis.pk if diagnosis else None,
        "icd10": (diagnosis.icd10 if diagnosis else "") or "",
        # Synonyms, abbreviations, the Czech name and the ICD-10 code: matched, never displayed.
        "diagnosis_terms": "",
        "tags": tags,
        "tags_text": " ".join(tags),
        "anatomy": anatomy,
        "findings": case.findings,
        "history": case.history,
        "discussion": "\n".join(
            x for x in (case.differential, case.discussion, case.teaching_points) if x
        ),
        "modality": case.modality,
        "body_region": case.body_region,
        "organ_system": case.organ_system,
        # The diagnosis's ICD-10 chapter and block (facet values: "X", "J90-J94").
        "icd_chapter": "",
        "icd_block": "",
        "level": case.level,
        "age_group": case.age_group,
        "sex": case.sex,
        "quiz_mode": case.quiz_mode,
        "published_at": case.published_at.isoformat() if case.published_at else None,
    }
    if diagnosis is not None:
        terms = [t for t in synonyms.terms_for(diagnosis_names) if t != diagnosis.name.lower()]
        if diagnosis.icd10:
            # The code and every code above it, so "J93" or "J90-J94" finds a J93.1 case.
            tree = hierarchy()
            terms += [diagnosis.icd10, *tree.ancestry(diagnosis.icd10)]
            doc["icd_chapter"], doc["icd_block"] = tree.chapter_and_block(diagnosis.icd10)
        doc["diagnosis_terms"] = "\n".join(dict.fromkeys(terms))
    if case.quiz_mode:
        _make_quiz_safe(doc, privacy.hidden_terms(diagnosis, synonyms))
    return doc


def _make_quiz_safe(doc: dict[str, Any], secret: list[str]) -> None:
    """What the privacy policy hides on a quiz case is neither indexed nor shown."""
    doc.update(
        diagnosis="",
        diagnosis_id=None,
        icd10="",
        diagnosis_terms="",
        discussion="",
        # A chapter or block narrows the answer down (the privacy policy hides the parent
        # category): a quiz case is not counted or found under either.
        icd_chapter="",
        icd_block="",
    )
    for name in ("title", "findings", "history"):
        doc[name] = privacy.redact(doc[name], secret)
    # A tag that names the diagnosis would give the answer away (in facets and autocomplete).
    doc["tags"] = [t for t in doc["tags"] if not privacy.mentions(t, secret)]
    doc["tags_text"] = " ".join(doc["tags"])


def document_vocabulary(doc: dict[str, Any]) -> set[str]:
    """Words a typo in a query may be corrected towards (only from what the document shows)."""
    return vocabulary_words([str(doc.get(f) or "") for f in TEXT_FIELDS])
