"""The privacy re-check of a search page (issue 14): what the database says is shown, read in a
fixed number of queries whatever the page holds, and still deciding every hit, facet value and
suggestion when the index lags behind (an unpublished case, a case turned into a quiz)."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from archive.models import Case
from search import services
from search.backends import get_search_backend, search_backends

from .conftest import CaseFactory, DiagnosisFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def backend(settings):
    settings.SEARCH_BACKEND = "database"
    search_backends.reset()
    backend = get_search_backend()
    backend.clear()
    yield backend
    backend.clear()
    search_backends.reset()


def publish(**kwargs) -> Case:
    case = CaseFactory(**kwargs)
    services.index_case(case.pk)
    return case


def publish_many(n: int, start: int = 0) -> None:
    """``n`` cases, every third a quiz, each with its own coded diagnosis and tag, so that each
    hit of a page asks the policy something different (a quiz's own tag is decided by the
    quiz alone: does it name the diagnosis?)."""
    for i in range(start, start + n):
        diagnosis = DiagnosisFactory(
            name=f"Entity {i}", icd10=f"J9{i % 5}.{i % 10}", synonyms=f"Syn {i}"
        )
        publish(
            title=f"Crowded case {i}",
            diagnosis=diagnosis,
            quiz_mode=i % 3 == 0,
            tags=[f"crowd {i}", "crowded"],
        )


def as_requested(user):
    """The user read afresh, as a request does: nothing the policy remembered of them from an
    earlier search (their permissions, answers, assignments) is reused."""
    return type(user).objects.get(pk=user.pk) if user is not None else None


@pytest.mark.parametrize("as_user", [False, True], ids=["anonymous-strictest", "student"])
def test_the_queries_of_a_search_page_do_not_grow_with_its_results(
    django_assert_max_num_queries, as_user
):
    user = UserFactory(username="search-student") if as_user else None
    publish_many(2)
    get_search_backend().refresh()
    reader = as_requested(user)
    with CaptureQueriesContext(connection) as ctx:
        services.search_cases(text="crowded", user=reader)
    few = len(ctx.captured_queries)
    # The backend's, the hits' rows and lead images, the policy's (a user's permissions,
    # answers and assignments), one for the whole vocabulary of the facets (diagnoses, tags and
    # ICD-10 groups) and the quizzes that decide a tag only they have.
    assert few <= 30
    publish_many(40, start=2)
    get_search_backend().refresh()
    reader = as_requested(user)
    # A full page of hits, a third of them quizzes, each with its own diagnosis, code and tags.
    with django_assert_max_num_queries(few):
        page = services.search_cases(text="crowded", user=reader)
    assert len(page.results) == 20 and page.total == 42
    assert len([r for r in page.results if r["diagnosis"] is None]) >= 6


def test_a_tag_only_quizzes_have_is_shown_unless_it_names_their_diagnosis():
    for i in range(3):
        publish(
            title=f"Quiz {i}",
            diagnosis=DiagnosisFactory(name="Aortic dissection", icd10="I71.0"),
            quiz_mode=True,
            tags=["night shift", "aortic dissection", "Aortic-dissection review"],
        )
    publish(title="Open case", diagnosis=DiagnosisFactory(name="Pneumothorax"), tags=["chest"])
    page = services.search_cases(text="")
    tags = {v["value"] for v in page.facets["tags"]}
    assert tags == {"night shift", "chest"}
    assert {v["value"] for v in page.facets["diagnosis"]} == {"Pneumothorax"}
    assert "dissection" not in json.dumps(page.as_json()).lower()
    assert [s["text"] for s in services.suggest("night")] == ["night shift"]
    assert services.suggest("dissect") == []


def test_a_case_unpublished_behind_the_index_counts_in_no_facet():
    kept = publish(
        title="Kept",
        diagnosis=DiagnosisFactory(name="Pleural effusion", icd10="J90"),
        tags=["kept tag"],
    )
    gone = publish(
        title="Gone",
        diagnosis=DiagnosisFactory(name="Appendicitis", icd10="K35.8"),
        body_region="abdomen",
        tags=["gone tag"],
    )
    # The index still holds it (no worker ran): the database decides.
    Case.objects.filter(pk=gone.pk).update(status=Case.Status.DRAFT)
    page = services.search_cases(text="")
    assert [r["id"] for r in page.results] == [kept.pk]
    assert {v["value"] for v in page.facets["diagnosis"]} == {"Pleural effusion"}
    assert {v["value"] for v in page.facets["tags"]} == {"kept tag"}
    assert {v["value"] for v in page.facets["icd_chapter"]} == {"X"}
    assert {v["value"] for v in page.facets["icd_block"]} == {"J90-J94"}
    assert services.suggest("appen") == [] and services.suggest("gone") == []


def test_a_case_turned_into_a_quiz_behind_the_index_gives_no_group_away():
    quiz = publish(
        title="Runner with chest pain",
        diagnosis=DiagnosisFactory(name="Aortic dissection", icd10="I71.0"),
        tags=["marathon"],
    )
    publish(title="Other", diagnosis=DiagnosisFactory(name="Appendicitis", icd10="K35.8"))
    Case.objects.filter(pk=quiz.pk).update(quiz_mode=True)
    page = services.search_cases(text="")
    assert quiz.pk in [r["id"] for r in page.results]
    assert {v["value"] for v in page.facets["diagnosis"]} == {"Appendicitis"}
    assert {v["value"] for v in page.facets["icd_chapter"]} == {"XI"}
    assert {v["value"] for v in page.facets["icd_block"]} == {"K35-K38"}
    # The quiz's own tag does not name its diagnosis: still shown.
    assert "marathon" in {v["value"] for v in page.facets["tags"]}
    assert "dissection" not in json.dumps(page.as_json()).lower()
