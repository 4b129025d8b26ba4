"""Search services: keep the index in step with published cases, and answer searches.

Indexing is triggered explicitly by the archive (``schedule_case_indexing``), never by model
signals; the Celery task re-fetches the case, so a retry or a late run is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.urls import reverse

from archive import privacy
from archive.models import Case, Diagnosis
from archive.selectors import lead_images

from . import synonyms as synonyms_module
from .backends import SearchHit, SearchQuery, get_search_backend
from .documents import build_document, cases_for_indexing
from .facets import FACETS
from .synonyms import synonym_table

logger = logging.getLogger(__name__)


def schedule_case_indexing(case_id: int) -> None:
    """Queue (re)indexing of a case once the current transaction commits."""
    from .tasks import index_case

    transaction.on_commit(lambda: index_case.delay(case_id))


def schedule_diagnosis_indexing(diagnosis_id: int) -> None:
    """Queue re-indexing of a diagnosis's published cases once the transaction commits (its
    names, synonyms or code changed: every document of its cases carries them)."""
    from .tasks import index_diagnosis_cases

    transaction.on_commit(lambda: index_diagnosis_cases.delay(diagnosis_id))


def index_diagnosis_cases(diagnosis_id: int) -> int:
    """Re-index the published cases filed under a diagnosis; returns how many."""
    synonyms_module.clear_cache()
    ids = list(
        Case.objects.published().filter(diagnosis_id=diagnosis_id).values_list("pk", flat=True)
    )
    return index_cases(ids) if ids else 0


def remove_from_index_now(case_id: int) -> None:
    """Take a case out of the index as soon as the current transaction commits, in this
    process: an unpublished case must not wait for a worker to stop being found. If the
    backend cannot be reached, the indexing task is queued to retry (searches re-check
    publication against the database meanwhile)."""

    def remove() -> None:
        try:
            get_search_backend().delete(case_id)
        except Exception as exc:  # noqa: BLE001 - the task retries; searches re-check anyway
            logger.warning(
                "Case %s could not be removed from the search index now (%s); queued.",
                case_id,
                type(exc).__name__,
            )
            from .tasks import index_case

            index_case.delay(case_id)

    transaction.on_commit(remove)


def index_case(case_id: int) -> str:
    """Index the case if it is published, otherwise remove it. Returns what was done."""
    backend = get_search_backend()
    case = (
        Case.objects.select_related("diagnosis").prefetch_related("tags").filter(pk=case_id).first()
    )
    if case is None or not case.is_published:
        backend.delete(case_id)
        logger.info("Removed case %s from the search index.", case_id)
        return "deleted"
    backend.index(build_document(case))
    logger.info("Indexed case %s.", case_id)
    return "indexed"


def iter_documents(chunk_size: int = 1000) -> Iterator[dict[str, Any]]:
    synonyms = synonym_table(fresh=True)
    qs = cases_for_indexing()
    for case in qs.iterator(chunk_size=chunk_size):
        yield build_document(case, synonyms)


def rebuild_index(
    *, alias: str | None = None, progress: Callable[[int, int], None] | None = None
) -> int:
    """Replace the whole index with the published cases; ``progress(done, total)`` as it goes."""
    backend = get_search_backend(alias)
    total = cases_for_indexing().count()

    def docs() -> Iterator[dict[str, Any]]:
        for n, doc in enumerate(iter_documents(), start=1):
            yield doc
            if progress and (n % 500 == 0 or n == total):
                progress(n, total)

    count = backend.rebuild(docs())
    backend.refresh()
    return count


def index_cases(case_ids: list[int]) -> int:
    """Index (or remove) many cases at once, e.g. after a bulk import."""
    backend = get_search_backend()
    synonyms = synonym_table(fresh=True)
    found = set()

    def docs():
        ids = sorted(set(case_ids))
        for start in range(0, len(ids), 2000):
            chunk = cases_for_indexing().filter(pk__in=ids[start : start + 2000])
            for case in chunk.iterator(chunk_size=1000):
                found.add(case.pk)
                yield build_document(case, synonyms)

    n = backend.index_many(docs())
    for case_id in set(case_ids) - found:
        backend.delete(case_id)
    backend.refresh()
    return n


# Reading ----------------------------------------------------------------------------------------


@dataclass
class SearchPage:
    query: SearchQuery
    total: int
    results: list[dict[str, Any]]
    facets: dict[str, list[dict[str, Any]]]

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total // self.query.page_size))

    @property
    def has_next(self) -> bool:
        return self.query.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.query.page > 1

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "page": self.query.page,
            "num_pages": self.num_pages,
            "results": self.results,
            "facets": self.facets,
        }


def case_url(case_id: int) -> str:
    return reverse("case-detail", args=[case_id])


# Fields whose highlights the case page would not show before a quiz is answered.
ANSWER_FIELDS = frozenset({"diagnosis", "diagnosis_terms", "findings", "discussion"})


def _thumbnail(lead: tuple[int, int] | None) -> str:
    """The lead image's thumbnail: a frame URL that asks the privacy policy again when fetched."""
    if lead is None:
        return ""
    return reverse("instance-frame", args=[lead[0], lead[1]]) + f"?size={THUMBNAIL_SIZE}"


THUMBNAIL_SIZE = 96


def _result(
    hit: SearchHit, view: privacy.CaseView, lead: tuple[int, int] | None = None
) -> dict[str, Any]:
    """One hit as the user may see it: the index's text, re-checked by the privacy policy."""
    highlights = hit.highlights
    if view.hidden:
        highlights = {f: view.text(h) for f, h in highlights.items() if f not in ANSWER_FIELDS}
    return {
        "id": hit.id,
        "title": view.text(hit.title),
        "diagnosis": None if view.hidden else hit.diagnosis,
        "modality": hit.modality,
        "body_region": hit.body_region,
        "url": case_url(hit.id),
        "thumbnail": _thumbnail(lead) if view.visible else "",
        "highlights": highlights,
    }


def search_cases(
    *,
    text: str = "",
    filters: dict[str, tuple[str, ...]] | None = None,
    page: int = 1,
    page_size: int = 20,
    user=None,
) -> SearchPage:
    """Published cases matching ``text`` and the facet selections, one page of them, as
    ``user`` may see them (``None``: as a student who has answered no quiz)."""
    query = SearchQuery(
        text=" ".join(text.split())[:500],
        filters=filters or {},
        page=max(1, min(page, 500)),
        page_size=page_size,
    )
    found = get_search_backend().search(query)
    # The index may still hold a case unpublished a moment ago: the database decides.
    views = privacy.search_views(user, [h.id for h in found.hits])
    leads = lead_images(case_ids=list(views))
    results = [_result(h, views[h.id], leads.get(h.id)) for h in found.hits if h.id in views]
    total = max(found.total - (len(found.hits) - len(results)), 0)
    # The open vocabularies and the ICD-10 groups are re-checked against the database in one
    # statement (the index may lag behind an unpublished case or a case turned into a quiz).
    vocabulary = privacy.shown_in_search(
        diagnoses=[v.value for v in found.facets.get("diagnosis", [])],
        tags=[v.value for v in found.facets.get("tags", [])],
        icd10_groups=[
            v.value for f in ("icd_chapter", "icd_block") for v in found.facets.get(f, [])
        ],
    )
    shown = {
        "diagnosis": vocabulary.diagnoses,
        "tags": vocabulary.tags,
        "icd_chapter": vocabulary.icd10_groups,
        "icd_block": vocabulary.icd10_groups,
    }
    facets = {}
    for facet in FACETS:
        values = found.facets.get(facet.name, [])
        facets[facet.name] = [
            {
                "value": v.value,
                "label": facet.label_for(v.value),
                "count": v.count,
                "selected": v.selected,
                **({"parent": facet.parent_of(v.value)} if facet.parent_of else {}),
            }
            for v in values
            if facet.name not in shown or v.selected or v.value in shown[facet.name]
        ]
    return SearchPage(query=query, total=total, results=results, facets=facets)


def suggest(prefix: str, limit: int = 10, language: str = "en") -> list[dict[str, str]]:
    """Autocomplete from the index, re-checked against the database by the privacy policy,
    diagnoses named in ``language`` (their Czech name for "cs" where the vocabulary has one)."""
    found = privacy.suggestable(get_search_backend().suggest(prefix, limit=limit))
    if (language or "en").split("-")[0] != "cs":
        return found
    names = [s["text"] for s in found if s["kind"] == "diagnosis"]
    czech = dict(
        Diagnosis.objects.filter(name__in=names).exclude(name_cs="").values_list("name", "name_cs")
    )
    curated = synonyms_module.czech_names()
    out = []
    for s in found:
        if s["kind"] == "diagnosis":
            s = {**s, "text": czech.get(s["text"]) or curated.get(s["text"].casefold(), s["text"])}
        if s not in out:
            out.append(s)
    return out
