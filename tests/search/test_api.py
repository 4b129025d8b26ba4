"""The search page, the JSON API and the indexing task path, through Django's test client."""

from __future__ import annotations

import pytest
from django.urls import reverse

from archive.models import Case
from search import services
from search.backends import search_backends
from teaching_archive.celery import app as celery_app

from .conftest import CaseFactory, DiagnosisFactory, UserFactory


@pytest.fixture(autouse=True)
def database_backend(settings, db):
    settings.SEARCH_BACKEND = "database"
    search_backends.reset()
    search_backends["database"].clear()
    yield
    search_backends.reset()


@pytest.fixture
def eager_celery():
    # The app reads Django settings with the CELERY_ namespace, so override the namespaced keys.
    conf = celery_app.conf
    old = conf.CELERY_TASK_ALWAYS_EAGER, conf.CELERY_TASK_EAGER_PROPAGATES
    conf.CELERY_TASK_ALWAYS_EAGER = conf.CELERY_TASK_EAGER_PROPAGATES = True
    assert conf.task_always_eager
    yield
    conf.CELERY_TASK_ALWAYS_EAGER, conf.CELERY_TASK_EAGER_PROPAGATES = old


@pytest.fixture
def logged_in(client):
    client.force_login(UserFactory(username="any-student"))
    return client


def published(**kwargs) -> Case:
    diagnosis = kwargs.pop("diagnosis", "Pneumothorax")
    if isinstance(diagnosis, str):
        diagnosis = DiagnosisFactory(name=diagnosis)
    case = CaseFactory(diagnosis=diagnosis, **kwargs)
    services.index_case(case.pk)
    return case


def test_search_requires_login(client):
    assert client.get(reverse("api-search")).status_code == 401
    assert client.get(reverse("api-autocomplete"), {"q": "pn"}).status_code == 401
    page = client.get(reverse("search"))
    assert page.status_code == 302 and "login" in page["Location"]


def test_api_search_shape_and_multi_select(logged_in):
    ct = published(modality="CT", title="<i>Tension</i> pneumothorax")
    mr = published(modality="MR")
    published(modality="US", diagnosis="Appendicitis", body_region="abdomen")
    r = logged_in.get(
        reverse("api-search"),
        {"q": "pneumothorax", "modality": ["CT", "MR"], "level": "student", "bogus": "x"},
    )
    assert r.status_code == 200
    data = r.json()
    assert data["total"] == 2
    assert {x["id"] for x in data["results"]} == {ct.pk, mr.pk}
    hit = next(x for x in data["results"] if x["id"] == ct.pk)
    assert set(hit) >= {"id", "title", "diagnosis", "modality", "body_region", "url", "highlights"}
    assert hit["url"] == reverse("case-detail", args=[ct.pk])
    assert hit["diagnosis"] == "Pneumothorax"
    assert "&lt;i&gt;" in hit["highlights"]["title"]
    modality = {v["value"]: v for v in data["facets"]["modality"]}
    assert modality["CT"] == {"value": "CT", "label": "CT", "count": 1, "selected": True}
    assert modality["MR"]["selected"] and modality["MR"]["count"] == 1
    assert set(data["facets"]) == {
        "modality",
        "body_region",
        "organ_system",
        "diagnosis",
        "icd_chapter",
        "icd_block",
        "level",
        "age_group",
        "sex",
        "tags",
    }


def test_the_search_page_lists_icd10_blocks_under_their_chapter(logged_in):
    published(diagnosis=DiagnosisFactory(name="Spontaneous pneumothorax", icd10="J93.1"))
    html = logged_in.get(reverse("search"), {"icd_block": "J90-J94"}).content.decode()
    chapter = html.index('name="icd_chapter" value="X"')
    block = html.index('name="icd_block" value="J90-J94" checked')
    assert chapter < block < html.index("</fieldset>", chapter)
    assert "J90-J94 Other diseases of pleura" in html
    assert "1 case found" in html


def test_api_drops_unknown_values_and_bad_pages(logged_in):
    published()
    r = logged_in.get(reverse("api-search"), {"modality": "XX", "page": "nope"})
    assert r.status_code == 200 and r.json()["total"] == 1
    r = logged_in.get(reverse("api-search"), {"page": "9"})
    assert r.json()["results"] == []


def test_api_autocomplete(logged_in):
    published(tags=["trauma"])
    r = logged_in.get(reverse("api-autocomplete"), {"q": "pneu"})
    assert r.json() == {"suggestions": [{"text": "Pneumothorax", "kind": "diagnosis"}]}
    r = logged_in.get(reverse("api-autocomplete"), {"q": "tra"})
    assert {"text": "trauma", "kind": "tag"} in r.json()["suggestions"]


def test_search_page_renders_facets_highlights_and_paging(logged_in):
    for _ in range(21):
        published(title="Collapsed lung <script>x</script>")
    r = logged_in.get(reverse("search"), {"q": "pneumothorax", "modality": "CT"})
    html = r.content.decode()
    assert r.status_code == 200
    assert 'name="modality" value="CT" checked' in html
    assert "<mark>" in html
    assert "<script>x</script>" not in html
    assert "page=2" in html
    assert "21" in html


def test_task_path_indexes_on_commit_and_removes_on_unpublish(
    eager_celery, django_capture_on_commit_callbacks
):
    case = CaseFactory(diagnosis=DiagnosisFactory(name="Pneumothorax"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.schedule_case_indexing(case.pk)
        assert services.search_cases(text="pneumothorax").total == 0  # not before commit
    assert len(callbacks) == 1
    assert [r["id"] for r in services.search_cases(text="pneumothorax").results] == [case.pk]

    Case.objects.filter(pk=case.pk).update(status=Case.Status.DRAFT)
    with django_capture_on_commit_callbacks(execute=True):
        services.schedule_case_indexing(case.pk)
    assert services.search_cases(text="pneumothorax").total == 0

    # A deleted case is removed too, and running the task twice is harmless.
    from search.tasks import index_case

    assert index_case.name == "search.index_case"
    assert index_case.apply(args=[case.pk]).get() == "deleted"
    assert index_case.apply(args=[987654]).get() == "deleted"
