"""While the author of a published case revises it, students (and other teachers) get the
published text everywhere: the case page, search results and autocomplete, the case package;
the revision's text reaches them only when a curator publishes it."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client

from archive.models import Case
from archive.services import revisions as revision_services
from search.services import index_case
from tests.viewer.factories import ct_stack, make_case

pytestmark = pytest.mark.django_db(transaction=True)


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_a_student_sees_the_old_text_in_the_case_page_and_in_search_while_a_draft_exists(
    teacher, other_teacher, student, curator
):
    case = make_case(
        teacher, ct_stack(1), title="Lucency at the apex", history="Chest pain after a flight."
    )
    index_case(case.pk)
    revision = revision_services.open_revision(case=case, user=teacher)
    revision_services.save_revision(
        revision=revision,
        user=teacher,
        fields={**revision.fields, "title": "Quokka pneumothorax", "history": "Quokka bite."},
        series=revision.series,
    )
    index_case(case.pk)  # a re-index while the draft exists
    s = _client(student)
    page = s.get(f"/cases/{case.pk}/").content.decode()
    assert "Lucency at the apex" in page and "Chest pain after a flight." in page
    assert "Quokka" not in page
    assert [h["title"] for h in s.get("/api/search", {"q": "lucency"}).json()["results"]] == [
        "Lucency at the apex"
    ]
    assert s.get("/api/search", {"q": "quokka"}).json()["results"] == []
    assert "Quokka" not in s.get("/search/", {"q": "quokka"}).content.decode()
    assert "uokka" not in s.get("/api/autocomplete", {"q": "quo"}).content.decode()
    # An export is the published case too (another teacher's package).
    package = _client(other_teacher).get(f"/cases/{case.pk}/package.zip")
    assert package.status_code == 200
    body = b"".join(package.streaming_content) if package.streaming else package.content
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        text = " ".join(zf.read(n).decode("latin-1") for n in zf.namelist())
    assert "Lucency at the apex" in text and "Quokka" not in text

    revision_services.submit_revision(revision=revision, user=teacher)
    revision_services.publish_revision(revision=revision, user=curator)
    index_case(case.pk)
    assert Case.objects.get(pk=case.pk).title == "Quokka pneumothorax"
    assert "Quokka pneumothorax" in s.get(f"/cases/{case.pk}/").content.decode()
    assert [h["title"] for h in s.get("/api/search", {"q": "quokka"}).json()["results"]] == [
        "Quokka pneumothorax"
    ]
