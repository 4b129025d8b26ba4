"""The database backend's counts and pages against an oracle computed from the entries, and
what it keeps in memory per index token (PostgreSQL: facet columns, each text's ranked matches).
"""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from search import services
from search.backends import database, get_search_backend, search_backends
from search.facets import FACETS
from search.models import SearchEntry, SearchEntryTag

from .conftest import CaseFactory, DiagnosisFactory

FACET_VALUES = {
    "modality": ["CT", "MR", "US"],
    "body_region": ["chest", "abdomen", "head"],
    "level": ["student", "resident", "specialist"],
    "sex": ["F", "M", ""],
    "diagnosis": ["Pneumothorax", "Appendicitis", "Glioblastoma"],
    "tags": ["icu", "trauma", "rare", "classic"],
}


@pytest.fixture
def backend(db, settings):
    settings.SEARCH_BACKEND = "database"
    search_backends.reset()
    backend = get_search_backend()
    backend.clear()
    backend.cache_alias = None  # every page computed: what is tested is the computation
    yield backend
    search_backends.reset()


@pytest.fixture
def archive(backend):
    rnd = random.Random(5)
    now = timezone.now()
    diagnoses = {name: DiagnosisFactory(name=name) for name in FACET_VALUES["diagnosis"]}
    cases = []
    for i in range(45):
        case = CaseFactory(
            diagnosis=diagnoses[rnd.choice(FACET_VALUES["diagnosis"])],
            modality=rnd.choice(FACET_VALUES["modality"]),
            body_region=rnd.choice(FACET_VALUES["body_region"]),
            level=rnd.choice(FACET_VALUES["level"]),
            sex=rnd.choice(FACET_VALUES["sex"]),
            findings="Small pleural effusion." if i % 3 else "Normal lungs.",
            # Some share a publication time, so the case id decides between them.
            published_at=now - timedelta(hours=i // 2),
            tags=rnd.sample(FACET_VALUES["tags"], rnd.randint(0, 2)),
        )
        services.index_case(case.pk)
        cases.append(case)
    return cases


def expected(text_ids: set[int] | None, filters: dict[str, tuple[str, ...]]):
    """(ids newest first, {facet: {value: count}}) straight from the search entries."""
    tags: dict[int, set[str]] = {}
    for entry_id, name in SearchEntryTag.objects.values_list("entry_id", "name"):
        tags.setdefault(entry_id, set()).add(name)
    entries = [e for e in SearchEntry.objects.all() if text_ids is None or e.case_id in text_ids]

    def values(e, facet: str) -> set[str]:
        if facet == "tags":
            return tags.get(e.case_id, set())
        value = getattr(e, facet)
        return {value} if value else set()

    def passes(e, skip: str | None = None) -> bool:
        return all(values(e, f) & set(selected) for f, selected in filters.items() if f != skip)

    counts = {}
    for facet in FACETS:
        found: dict[str, int] = {}
        for e in entries:
            if passes(e, skip=facet.name):
                for v in values(e, facet.name):
                    found[v] = found.get(v, 0) + 1
        counts[facet.name] = found
    hits = sorted(
        (e for e in entries if passes(e)), key=lambda e: (e.published_at, e.case_id), reverse=True
    )
    return [e.case_id for e in hits], counts


def found(text: str, filters: dict[str, tuple[str, ...]]):
    ids, counts, total = [], None, None
    for page in itertools.count(1):
        result = services.search_cases(text=text, filters=filters, page=page)
        if counts is None:
            total = result.total
            counts = {
                f: {v["value"]: v["count"] for v in vs if v["count"]}
                for f, vs in result.facets.items()
            }
        ids += [r["id"] for r in result.results]
        if len(ids) >= result.total or not result.results:
            break
    assert total == len(ids)
    return ids, counts


SELECTIONS = [
    {},
    {"modality": ("CT",)},
    {"modality": ("CT", "MR")},
    {"tags": ("icu", "trauma")},
    {"modality": ("US",), "level": ("student", "resident")},
    {"body_region": ("chest",), "tags": ("rare",), "sex": ("F",)},
    {"diagnosis": ("Appendicitis", "Glioblastoma"), "level": ("specialist",), "tags": ("icu",)},
    {"modality": ("PET",)},
]


@pytest.mark.parametrize("filters", SELECTIONS)
def test_counts_and_order_without_text(archive, filters):
    ids, counts = found("", filters)
    want_ids, want_counts = expected(None, filters)
    assert ids == want_ids
    assert counts == want_counts


@pytest.mark.parametrize("filters", SELECTIONS)
def test_counts_with_a_broad_text(archive, filters):
    effusion = {c.pk for i, c in enumerate(archive) if i % 3}
    ids, counts = found("effusion", filters)
    want_ids, want_counts = expected(effusion, filters)
    assert sorted(ids) == sorted(want_ids)
    if connection.vendor == "postgresql":
        # Every match has the same words, so ts_rank ties and the newest comes first (bm25 on
        # SQLite also weighs the length of the other text).
        assert ids == want_ids
    assert counts == want_counts


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("facet columns and ranked matches are kept in memory on PostgreSQL only")


def test_a_write_is_seen_although_matches_were_kept(postgres_only, backend):
    first = CaseFactory(diagnosis=DiagnosisFactory(name="Pneumothorax"))
    services.index_case(first.pk)
    assert services.search_cases(text="pneumothorax").total == 1
    assert services.search_cases(text="pneumothorax", filters={"modality": ("CT",)}).total == 1
    other = CaseFactory(diagnosis=DiagnosisFactory(name="Pneumothorax"), modality="MR")
    services.index_case(other.pk)
    page = services.search_cases(text="pneumothorax")
    assert page.total == 2
    assert {v["value"]: v["count"] for v in page.facets["modality"]} == {"CT": 1, "MR": 1}
    other.status = other.Status.RETURNED
    other.save()
    services.index_case(other.pk)
    assert [r["id"] for r in services.search_cases(text="pneumothorax").results] == [first.pk]
    assert services.search_cases(text="").total == 1


def test_without_text_memory_every_text_is_ranked_again(postgres_only, backend, monkeypatch):
    monkeypatch.setattr(database.TEXT_MEMORY, "budget", 0)
    database.TEXT_MEMORY.clear()
    case = CaseFactory(diagnosis=DiagnosisFactory(name="Pneumothorax"))
    services.index_case(case.pk)
    for _ in range(2):
        assert [r["id"] for r in services.search_cases(text="pneumothorax").results] == [case.pk]
    assert database.TEXT_MEMORY.get  # nothing kept, nothing broken
    assert not database.TEXT_MEMORY._items
