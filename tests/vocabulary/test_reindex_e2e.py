"""A change to a diagnosis's names reaches search by itself: the admin or the editor saves it,
a real Celery worker re-indexes the diagnosis's published cases, students find them by the new
name (no ``search_index --rebuild``)."""

from __future__ import annotations

import pytest
from django.test import Client

from archive.models import Case, Diagnosis
from search import services
from tests.conftest import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _ids(text: str) -> list[int]:
    return [r["id"] for r in services.search_cases(text=text).results]


def test_a_new_czech_name_is_searchable_without_a_rebuild(
    celery_worker_process, teacher, curator, student
):
    diagnosis = Diagnosis.objects.create(name="Balloon pneumothorax", icd10="J93.8")
    case = Case.objects.create(
        owner=teacher,
        title="Air under the diaphragm?",
        modality="CR",
        body_region="chest",
        diagnosis=diagnosis,
        status=Case.Status.PUBLISHED,
    )
    services.index_case(case.pk)
    assert _ids("balonovy pneumotorax") == []
    admin = Client()
    admin.force_login(curator)
    response = admin.post(
        f"/admin/archive/diagnosis/{diagnosis.pk}/change/",
        {
            "name": "Balloon pneumothorax",
            "icd10": "J93.8",
            "synonyms": "",
            "name_cs": "Balónový pneumotorax",
            "synonyms_cs": "BPNO",
        },
    )
    assert response.status_code == 302
    wait_for(
        lambda: _ids("balonovy pneumotorax") == [case.pk],
        timeout=60,
        message="the worker to re-index the case under its new Czech name",
    )
    assert _ids("BPNO") == [case.pk]
    # The student's autocomplete, in Czech, offers the new name.
    browser = Client(HTTP_ACCEPT_LANGUAGE="cs")
    browser.force_login(student)
    suggestions = browser.get("/api/autocomplete", {"q": "balon"}).json()["suggestions"]
    assert {"text": "Balónový pneumotorax", "kind": "diagnosis"} in suggestions
