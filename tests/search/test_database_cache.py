"""The database backend's page cache: reused while the index is unchanged, dropped by any write."""

from __future__ import annotations

import pytest

from search import services
from search.backends import get_search_backend, search_backends

from .conftest import CaseFactory, DiagnosisFactory


@pytest.fixture
def backend(db, settings):
    settings.SEARCH_BACKEND = "database"
    search_backends.reset()
    backend = get_search_backend()
    backend.clear()
    yield backend
    search_backends.reset()


def test_a_write_makes_cached_pages_unreachable(backend):
    case = CaseFactory(diagnosis=DiagnosisFactory(name="Pneumothorax"))
    services.index_case(case.pk)
    first = services.search_cases(text="pneumothorax")
    assert [r["id"] for r in first.results] == [case.pk]

    other = CaseFactory(diagnosis=DiagnosisFactory(name="Pneumothorax"))
    services.index_case(other.pk)
    assert services.search_cases(text="pneumothorax").total == 2

    other.status = other.Status.RETURNED
    other.save()
    services.index_case(other.pk)
    page = services.search_cases(text="pneumothorax")
    assert page.total == 1 and [r["id"] for r in page.results] == [case.pk]
    assert {v["value"]: v["count"] for v in page.facets["diagnosis"]} == {"Pneumothorax": 1}


def test_without_a_cache_every_page_is_computed(backend):
    backend.cache_alias = None
    case = CaseFactory(diagnosis=DiagnosisFactory(name="Pneumothorax"))
    services.index_case(case.pk)
    assert services.search_cases(text="pneumothorax").total == 1
    assert services.search_cases(text="pneumothorax").total == 1
