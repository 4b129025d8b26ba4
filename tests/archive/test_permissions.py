"""Who sees what: anonymous users see nothing; students never see unpublished cases, uploads,
raw or quarantined files; teachers edit only their own cases; curators publish."""

from __future__ import annotations

import pytest
from django.test import Client

from archive.models import Case
from archive.services.cases import publish_case
from archive.services.intake import receive_files, received_from_bytes
from archive.services.processing import process_upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def draft(teacher, phi_file):
    case = Case.objects.create(
        owner=teacher, title="Draft case", modality="CT", body_region="chest"
    )
    upload = receive_files(case=case, user=teacher, files=[received_from_bytes(phi_file())])
    process_upload(upload.pk)
    return case


def _client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def _urls(case: Case) -> dict[str, str]:
    instance = case.instances().first()
    upload = case.uploads.first()
    return {
        "detail": f"/cases/{case.pk}/",
        "edit": f"/cases/{case.pk}/edit/",
        "frame": f"/instances/{instance.pk}/frames/0.png",
        "download": f"/instances/{instance.pk}/download",
        "upload_status": f"/uploads/{upload.public_id}/status",
        "search_api": "/api/search?q=draft",
        "admin": "/admin/archive/case/",
    }


def test_anonymous_users_see_nothing(draft):
    c = _client()
    for name, url in _urls(draft).items():
        response = c.get(url)
        assert response.status_code in (302, 401, 403, 404), name
        if response.status_code == 302:
            assert "/login" in response["Location"], name


def test_students_never_see_unpublished_cases_or_uploads(draft, student):
    c = _client(student)
    urls = _urls(draft)
    expected = {"detail": 404, "edit": 404, "frame": 404, "download": 404, "upload_status": 404}
    for name, status in expected.items():
        assert c.get(urls[name]).status_code == status, name
    assert c.get(urls["search_api"]).json()["total"] == 0
    assert c.get(urls["admin"]).status_code == 302  # not staff: sent to the admin login
    assert c.get("/my/cases/").status_code == 403
    assert c.get("/cases/new/").status_code == 403


def test_other_teacher_cannot_edit_or_see_a_draft(draft, other_teacher):
    c = _client(other_teacher)
    urls = _urls(draft)
    for name in ("detail", "edit", "frame", "download", "upload_status"):
        assert c.get(urls[name]).status_code == 404, name
    assert c.post(f"/cases/{draft.pk}/upload/", {}).status_code == 404


def test_owner_and_curator_see_the_draft_and_students_see_it_once_published(
    draft, teacher, curator, student
):
    for user in (teacher, curator):
        c = _client(user)
        assert c.get(f"/cases/{draft.pk}/").status_code == 200
        assert c.get(_urls(draft)["frame"]).status_code == 200
    publish_case(case=draft, user=curator)
    c = _client(student)
    assert c.get(f"/cases/{draft.pk}/").status_code == 200
    assert c.get(_urls(draft)["frame"]).status_code == 200
    assert c.get(f"/cases/{draft.pk}/edit/").status_code == 403


def test_curator_reaches_the_admin_review_queue(draft, curator):
    c = _client(curator)
    response = c.get("/admin/archive/case/")
    assert response.status_code == 200
    assert b"Draft case" in response.content
