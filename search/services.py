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
from django.urls import NoReverseMatch, reverse

from archive.models import Case

from .backends import SearchQuery, get_search_backend
from .documents import build_document, cases_for_indexing
from .facets import FACETS
from .synonyms import synonym_table

logger = logging.getLogger(__name__)


def schedule_case_indexing(case_id: int) -> None:
    """Queue (re)indexing of a case once the current transaction commits."""
    from .tasks import index_case

    transaction.on_commit(lambda: index_case.delay(case_id))


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
    try:
        return reverse("case-detail", args=[case_id])
    except NoReverseMatch:
        return f"/cases/{case_id}/"


def search_cases(
    *,
    text: str = "",
    filters: dict[str, tuple[str, ...]] | None = None,
    page: int = 1,
    page_size: int = 20,
) -> SearchPage:
    """Published cases matching ``text`` and the facet selections, one page of them."""
    query = SearchQuery(
        text=" ".join(text.split())[:500],
        filters=filters or {},
        page=max(1, min(page, 500)),
        page_size=page_size,
    )
    found = get_search_backend().search(query)
    results = [
        {
            "id": h.id,
            "title": h.title,
            "diagnosis": h.diagnosis,
            "modality": h.modality,
            "body_region": h.body_region,
            "url": case_url(h.id),
            "highlights": h.highlights,
        }
        for h in found.hits
    ]
    facets = {}
    for facet in FACETS:
        values = found.facets.get(facet.name, [])
        facets[facet.name] = [
            {
                "value": v.value,
                "label": facet.label_for(v.value),
                "count": v.count,
                "selected": v.selected,
            }
            for v in values
        ]
    return SearchPage(query=query, total=found.total, results=results, facets=facets)


def suggest(prefix: str, limit: int = 10) -> list[dict[str, str]]:
    return get_search_backend().suggest(prefix, limit=limit)
