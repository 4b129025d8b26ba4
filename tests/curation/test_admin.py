"""The curator's admin: review queue, audit, previews, return with a comment, publish,
unpublish, bulk tags, diagnosis merging, search index rebuild and the quarantine list."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from archive.models import Case, Diagnosis, Tag
from tests.editor.builders import case_with_images, hcc, quarantined_item

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "/admin/archive/case/"


def _client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def _action(c: Client, action: str, cases, **extra):
    data = {"action": action, "_selected_action": [x.pk for x in cases], **extra}
    if "apply" not in extra:
        data["index"] = "0"  # the changelist's own action bar
    return c.post(CHANGELIST, data)


@pytest.fixture
def submitted(teacher, phi_file):
    case = case_with_images(teacher, [phi_file()], title="Submitted case")
    Case.objects.filter(pk=case.pk).update(status="submitted")
    case.refresh_from_db()
    return case


def test_queue_lists_submitted_cases_first_with_counts(curator, teacher, submitted):
    Case.objects.create(owner=teacher, title="A draft", modality="CT", body_region="chest")
    Case.objects.create(
        owner=teacher, title="A published", modality="MR", body_region="head", status="published"
    )
    html = _client(curator).get(CHANGELIST).content.decode()
    titles = re.findall(r'<th class="field-title"><a [^>]*>([^<]+)</a>', html)
    assert titles[0] == "Submitted case"
    assert re.search(r"<strong>1</strong> Submitted for review", html)
    assert re.search(r"<strong>1</strong> Draft", html)
    assert "quarantined files" in html


def _titles(html: str) -> list[str]:
    return re.findall(r'<th class="field-title"><a [^>]*>([^<]+)</a>', html)


def test_a_deep_page_lists_its_cases_with_their_file_counts_in_as_many_queries(
    curator, teacher, submitted, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    quarantined_item(submitted)
    Case.objects.filter(pk=submitted.pk).update(status="published")
    Case.objects.bulk_create(
        Case(owner=teacher, title=f"Draft {n:03d}", modality="CT") for n in range(120)
    )
    c = _client(curator)
    with CaptureQueriesContext(connection) as first:
        assert c.get(CHANGELIST).status_code == 200
    # Drafts come before published cases: the case with images is the 121st row, the last of
    # page 3 (50 a page).
    with django_assert_max_num_queries(len(first.captured_queries)):
        html = c.get(CHANGELIST + "?p=3").content.decode()
    titles = _titles(html)
    assert len(titles) == 21 and titles[-1] == "Submitted case"
    row = html[html.index("Submitted case") :]
    assert re.search(r'<td class="field-image_count">1</td>', row)
    assert re.search(r'<td class="field-problem_files">0 / 1</td>', row)
    # Sorting by the image count still works (the 7th column: title is 1).
    by_images = c.get(CHANGELIST + "?o=-7").content.decode()
    assert _titles(by_images)[0] == "Submitted case"


def test_search_finds_words_of_title_findings_diagnosis_or_author(curator, teacher, other_teacher):
    Case.objects.create(owner=teacher, title="Tension pneumothorax", findings="Deep sulcus.")
    Case.objects.create(owner=teacher, title="Chest trauma", findings="A visible pleural line.")
    Case.objects.create(owner=teacher, title="Liver lesion", diagnosis=hcc())
    Case.objects.create(owner=other_teacher, title="Knee effusion")
    c = _client(curator)

    def found(q: str) -> set[str]:
        return set(_titles(c.get(CHANGELIST, {"q": q}).content.decode()))

    assert found("PNEUMOthorax") == {"Tension pneumothorax"}
    assert found("pleural") == {"Chest trauma"}
    assert found("hepatocellular") == {"Liver lesion"}
    assert found(other_teacher.username) == {"Knee effusion"}
    # Every word somewhere, as Django's admin search has it; quotes keep a phrase together.
    assert found("tension sulcus") == {"Tension pneumothorax"}
    assert found("tension line") == set()
    assert found('"chest trauma"') == {"Chest trauma"}
    assert found("trauma chest") == {"Chest trauma"}


def test_case_page_shows_thumbnails_and_a_readable_audit(curator, submitted):
    instance = submitted.instances().get()
    instance.pixel_report = {"boxes": [[0, 5, 5, 50, 15, "burned-in text"]]}
    instance.save()
    response = _client(curator).get(f"/admin/archive/case/{submitted.pk}/change/")
    html = response.content.decode()
    assert f'<details data-instance="{instance.pk}">' in html and "PatientName" in html
    assert re.search(r"<td>PatientName</td><td><code>\(0010,0010\)</code></td><td>\w+", html)
    assert "<title>Redacted: burned-in text</title>" in html
    assert f"/instances/{instance.pk}/frames/0.png?size=128" in html
    assert "None: every file was anonymized." in html


def test_case_page_shows_the_viewer_beside_the_audit_of_each_series(curator, submitted):
    instance = submitted.instances().get()
    response = _client(curator).get(f"/admin/archive/case/{submitted.pk}/change/")
    html = response.content.decode()
    # The case page's viewer, with the unpublished case's one series and image, read-only here.
    data = response.context["viewer_data"]
    assert [[i["id"] for i in s["images"]] for s in data["series"]] == [[instance.pk]]
    assert data["canEdit"] is False and 'id="key-editor"' not in html
    assert 'id="viewport"' in html and 'id="viewer-data"' in html
    assert "viewer/viewer.js" in html and "js/admin-audit.js" in html
    # The audit of that series stands beside it, tied to the viewer's series by its index.
    assert re.search(r'<section class="ta-audit-series" data-series="0">\s*<h3>', html)
    # Above the case's form: the viewer's own inputs must not submit the case.
    assert html.index('id="viewport"') < html.index('id="case_form"')
    # No inline script or style (the Content-Security-Policy allows none).
    assert "<script>" not in html and " style=" not in html


def test_staff_the_privacy_policy_refuses_get_the_audit_without_the_viewer(submitted):
    from django.contrib.auth.models import Permission, User

    clerk = User.objects.create_user("clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_case"))
    response = _client(clerk).get(f"/admin/archive/case/{submitted.pk}/change/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="viewport"' not in html and "viewer/viewer.js" not in html
    assert "shown to its author and curators only" in html
    assert f'data-instance="{submitted.instances().get().pk}"' in html


def test_return_asks_for_a_comment_then_the_author_sees_it_and_resubmits(
    curator, teacher, submitted
):
    c = _client(curator)
    page = _action(c, "return_to_author", [submitted])
    assert page.status_code == 200
    assert 'name="comment"' in page.content.decode() and "Submitted case" in page.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == "submitted"  # nothing happens before the comment is given
    empty = _action(c, "return_to_author", [submitted], apply="1", comment="  ")
    assert empty.status_code == 200 and "errorlist" in empty.content.decode()
    done = _action(
        c, "return_to_author", [submitted], apply="1", comment="Crop the scout; add a reference."
    )
    assert done.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == "returned"
    assert submitted.review_comment == "Crop the scout; add a reference."

    author = _client(teacher)
    edit = author.get(f"/cases/{submitted.pk}/edit/").content.decode()
    assert "Crop the scout; add a reference." in edit and "Submit again for review" in edit
    assert "Crop the scout" in author.get("/my/cases/").content.decode()
    assert author.post(f"/cases/{submitted.pk}/submit/").status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == "submitted"


def test_publish_and_unpublish(curator, student, submitted):
    c = _client(curator)
    _action(c, "publish", [submitted])
    submitted.refresh_from_db()
    assert submitted.status == "published" and submitted.published_at
    assert _client(student).get(f"/cases/{submitted.pk}/").status_code == 200
    _action(c, "unpublish", [submitted])
    submitted.refresh_from_db()
    assert submitted.status == "draft"
    assert _client(student).get(f"/cases/{submitted.pk}/").status_code == 404


def test_bulk_tag_edit(curator, teacher, submitted):
    other = Case.objects.create(owner=teacher, title="Other", modality="CT", body_region="chest")
    c = _client(curator)
    page = _action(c, "edit_tags", [submitted, other])
    assert page.status_code == 200 and 'name="tag"' in page.content.decode()
    _action(c, "edit_tags", [submitted, other], apply="1", operation="add", tag=" Emergency ")
    assert [t.name for t in submitted.tags.all()] == ["Emergency"]  # trimmed, case kept
    assert [t.name for t in other.tags.all()] == ["Emergency"]
    _action(c, "edit_tags", [other], apply="1", operation="remove", tag="emergency")
    assert other.tags.count() == 0 and submitted.tags.count() == 1
    assert Tag.objects.filter(name__iexact="emergency").count() == 1


def test_merge_duplicate_diagnoses(curator, teacher):
    keep = hcc()
    duplicate = Diagnosis.objects.create(name="Hepatocellular Ca", synonyms="Primary liver cancer")
    cases = [
        Case.objects.create(
            owner=teacher,
            title=f"c{i}",
            modality="CT",
            body_region="abdomen",
            diagnosis=keep if i < 2 else duplicate,
        )  # fmt: skip
        for i in range(3)
    ]
    c = _client(curator)
    response = c.post(
        "/admin/archive/diagnosis/",
        {"action": "merge_into_first", "_selected_action": [keep.pk, duplicate.pk], "index": "0"},
    )
    assert response.status_code == 302
    assert not Diagnosis.objects.filter(pk=duplicate.pk).exists()
    keep.refresh_from_db()
    assert {"HCC", "Hepatocellular Ca", "Primary liver cancer"} <= set(keep.synonym_list)
    assert all(Case.objects.get(pk=x.pk).diagnosis_id == keep.pk for x in cases)


def test_rebuild_search_index_runs_the_command_on_the_configured_backend(
    curator, teacher, settings
):
    from search.backends import get_search_backend
    from search.backends.base import SearchQuery

    case = Case.objects.create(
        owner=teacher, title="Indexed by the rebuild", modality="CT", body_region="chest",
        status="published",
    )  # fmt: skip
    backend = get_search_backend()
    assert case.pk not in _hits(backend, SearchQuery)  # created without indexing
    response = _client(curator).post(
        CHANGELIST,
        {"action": "rebuild_search_index", "_selected_action": [case.pk], "index": "0"},
        follow=True,
    )
    html = response.content.decode()
    assert f"Search index rebuilt on the “{settings.SEARCH_BACKEND}” backend" in html
    assert "Indexed 1 published cases" in html
    assert case.pk in _hits(get_search_backend(), SearchQuery)


def _hits(backend, query_class) -> list[int]:
    return [h.id for h in backend.search(query_class(text="Indexed by the rebuild")).hits]


def test_quarantine_list_and_download_are_for_curators_only(
    curator, teacher, student, submitted, settings
):
    item = quarantined_item(submitted, b"DICM quarantined bytes")
    c = _client(curator)
    listing = c.get("/admin/archive/uploaditem/?status__exact=quarantined").content.decode()
    assert "Residual PHI found" in listing
    url = f"/admin/archive/uploaditem/{item.pk}/quarantine/"
    assert url in listing
    response = c.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"DICM quarantined bytes"
    assert "attachment" in response["Content-Disposition"]
    for user in (None, student, teacher):
        r = _client(user).get(url)
        assert r.status_code == 302 and "/admin/login/" in r["Location"]
    # No URL serves the quarantine folder itself.
    name = item.quarantined_file.name
    for path in (f"/media/{name}", f"/quarantine/{name}", f"/static/{name}"):
        assert c.get(path).status_code == 404, path
