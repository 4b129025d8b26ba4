"""Finding 3 of the privacy review: search answers from the database's truth, not the index's.
An unpublished case leaves the index when the unpublishing commits (no worker needed), and a
hit the index still holds is re-checked at query time: unpublished cases are dropped, and a case
that became a quiz after it was indexed shows no diagnosis."""

from __future__ import annotations

import pytest
from django.test import Client

from archive.models import Case
from search.backends import SearchQuery, get_search_backend
from search.services import index_case
from tests.viewer.factories import ct_stack, make_case, pneumothorax

pytestmark = pytest.mark.django_db(transaction=True)


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def indexed(teacher):
    case = make_case(
        teacher,
        ct_stack(1),
        title="Zebrafinch pleura",
        findings="Visceral pleural line",
        diagnosis=pneumothorax(),
    )
    index_case(case.pk)
    return case


def test_unpublishing_in_the_admin_removes_the_case_from_search_at_once(indexed, curator, student):
    assert get_search_backend().search(SearchQuery(text="zebrafinch")).total == 1
    response = _client(curator).post(
        "/admin/archive/case/", {"action": "unpublish", "_selected_action": [indexed.pk]}
    )
    assert response.status_code == 302
    assert Case.objects.get(pk=indexed.pk).status != "published"
    # No worker runs in this test: the index itself no longer holds the case.
    assert get_search_backend().search(SearchQuery(text="zebrafinch")).total == 0
    api = _client(student).get("/api/search", {"q": "pleural"}).json()
    assert api["total"] == 0 and api["results"] == []
    page = _client(student).get("/search/", {"q": "pleural"}).content.decode()
    assert "Zebrafinch" not in page


def test_a_case_turned_into_a_quiz_after_indexing_hides_its_diagnosis(indexed, student):
    Case.objects.filter(pk=indexed.pk).update(quiz_mode=True)  # the index still says "no quiz"
    api = _client(student).get("/api/search", {"q": "zebrafinch"}).json()
    assert [r["id"] for r in api["results"]] == [indexed.pk]
    hit = api["results"][0]
    assert hit["diagnosis"] is None
    assert "findings" not in hit["highlights"]
    suggestions = _client(student).get("/api/autocomplete", {"q": "pneu"}).json()["suggestions"]
    assert all("neumothorax" not in s["text"].lower() for s in suggestions)
