"""Series and images under the teacher's control: delete a series or an image (its file and its
cached renders go; audited), reorder series, rename a series' description (refused when it
looks like personal data), choose the lead series and image (the viewer opens there, search
shows it), caption images (students read them; withheld while a quiz is unanswered)."""

from __future__ import annotations

import json
import re

import pytest

from archive.models import Case, CaseEvent, Diagnosis, Instance, Series
from archive.services.cases import publish_case
from search.services import index_case
from tests.editor.builders import case_with_images, client_for, new_series

pytestmark = pytest.mark.django_db(transaction=True)


def _two_series(owner, phi_file, **fields) -> Case:
    """A CT series of one image and an MR series of one image."""
    return case_with_images(
        owner, [phi_file(), phi_file("MR_small.dcm", dataset_hook=new_series)], **fields
    )


def _viewer(client, case) -> dict:
    html = client.get(f"/cases/{case.pk}/").content.decode()
    raw = re.search(r'<script id="viewer-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(raw.group(1))


def _files(folder) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*") if p.is_file())


def test_deleting_a_series_removes_its_files_and_renders_and_is_audited(
    teacher, phi_file, storage_dirs
):
    case = _two_series(teacher, phi_file)
    c = client_for(teacher)
    ct = Series.objects.get(study__case=case, modality="CT")
    instance = ct.instances.get()
    file_name = instance.file.name
    assert c.get(f"/instances/{instance.pk}/frames/0.png?size=160").status_code == 200
    renders = _files(storage_dirs["render"])
    assert renders  # the thumbnail was cached
    assert instance.file.storage.exists(file_name)

    response = c.post(f"/series/{ct.pk}/manage", {"action": "delete"}, follow=True)
    assert "The series and its files were deleted." in response.content.decode()
    assert not Series.objects.filter(pk=ct.pk).exists()
    assert not instance.file.storage.exists(file_name)
    assert _files(storage_dirs["render"]) == []
    assert [s["modality"] for s in _viewer(c, case)["series"]] == ["MR"]
    event = CaseEvent.objects.get(case=case)
    assert (event.user, event.action, event.detail["images"]) == (teacher, "series_deleted", 1)
    assert "Series deleted" in c.get(f"/cases/{case.pk}/edit/").content.decode()


def test_deleting_an_image_removes_its_file(teacher, phi_file):
    case = _two_series(teacher, phi_file)
    mr = Instance.objects.get(series__study__case=case, series__modality="MR")
    name = mr.file.name
    c = client_for(teacher)
    c.post(f"/instances/{mr.pk}/manage", {"action": "delete"})
    assert not Instance.objects.filter(pk=mr.pk).exists()
    assert not mr.file.storage.exists(name)
    # Its series had no other image: it is gone too.
    assert [s.modality for s in Series.objects.filter(study__case=case)] == ["CT"]
    assert CaseEvent.objects.get(case=case).action == "image_deleted"


def test_reordering_series_changes_what_students_scroll_through(teacher, curator, phi_file):
    case = _two_series(teacher, phi_file)
    c = client_for(teacher)
    assert [s["modality"] for s in _viewer(c, case)["series"]] == ["CT", "MR"]
    mr = Series.objects.get(study__case=case, modality="MR")
    c.post(f"/series/{mr.pk}/manage", {"action": "up"})
    assert [s["modality"] for s in _viewer(c, case)["series"]] == ["MR", "CT"]
    html = c.get(f"/cases/{case.pk}/edit/").content.decode()
    assert html.index("Move series 1 down") < html.index("Move series 2 up")


def test_renaming_a_series_is_checked_for_personal_data(teacher, phi_file):
    case = _two_series(teacher, phi_file)
    ct = Series.objects.get(study__case=case, modality="CT")
    c = client_for(teacher)
    c.post(f"/series/{ct.pk}/manage", {"action": "rename", "description": "Arterial phase"})
    ct.refresh_from_db()
    assert ct.description == "Arterial phase"
    assert [s["label"] for s in _viewer(c, case)["series"]][0] == "Arterial phase"
    refused = c.post(
        f"/series/{ct.pk}/manage",
        {"action": "rename", "description": "Dictated by Dr. Kalorava 12.3.2024"},
        follow=True,
    ).content.decode()
    assert "looks like it holds personal data (person name)" in refused
    assert "Kalorava" not in refused
    ct.refresh_from_db()
    assert ct.description == "Arterial phase"


def test_the_lead_image_opens_the_viewer_and_leads_in_search(teacher, curator, student, phi_file):
    case = _two_series(teacher, phi_file, title="Apical lucency")
    mr = Instance.objects.get(series__study__case=case, series__modality="MR")
    c = client_for(teacher)
    assert _viewer(c, case)["lead"] == {"series": 0, "position": 0}  # CT: the first, as long
    c.post(f"/instances/{mr.pk}/manage", {"action": "lead"})
    assert _viewer(c, case)["lead"] == {"series": 1, "position": 0}
    publish_case(case=case, user=curator)
    index_case(case.pk)
    html = client_for(student).get("/search/?q=apical").content.decode()
    assert f'<img src="/instances/{mr.pk}/frames/0.png?size=96"' in html
    # A lead series works the same way.
    ct = Series.objects.get(study__case=case, modality="CT")
    client_for(curator).post(f"/series/{ct.pk}/manage", {"action": "lead"})
    assert _viewer(client_for(student), case)["lead"] == {"series": 0, "position": 0}


def test_captions_are_shown_to_students_after_a_quiz_is_answered(
    teacher, curator, student, phi_file
):
    diagnosis = Diagnosis.objects.create(name="Pneumothorax", icd10="J93.9")
    case = _two_series(teacher, phi_file, quiz_mode=True, diagnosis=diagnosis)
    ct = Instance.objects.get(series__study__case=case, series__modality="CT")
    c = client_for(teacher)
    c.post(f"/instances/{ct.pk}/manage", {"action": "caption", "caption": "Deep sulcus sign."})
    refused = c.post(
        f"/instances/{ct.pk}/manage",
        {"action": "caption", "caption": "Patient Kalorava^Lomi"},
        follow=True,
    ).content.decode()
    assert "personal data" in refused
    ct.refresh_from_db()
    assert ct.caption == "Deep sulcus sign."
    publish_case(case=case, user=curator)
    s = client_for(student)
    assert "Deep sulcus sign." not in s.get(f"/cases/{case.pk}/").content.decode()
    s.post(f"/cases/{case.pk}/quiz/answer", {"answer": "pneumothorax"})
    page = s.get(f"/cases/{case.pk}/").content.decode()
    assert "Image captions" in page and "Deep sulcus sign." in page


def test_only_those_who_may_edit_the_case_control_its_images(
    teacher, other_teacher, student, curator, phi_file
):
    case = _two_series(teacher, phi_file)
    ct = Series.objects.get(study__case=case, modality="CT")
    image = ct.instances.get()
    for user, status in ((other_teacher, 404), (student, 404)):
        assert (
            client_for(user).post(f"/series/{ct.pk}/manage", {"action": "delete"}).status_code
            == status
        )
        assert client_for(user).get(f"/series/{ct.pk}/images/").status_code == status
        assert (
            client_for(user).post(f"/instances/{image.pk}/manage", {"action": "delete"}).status_code
            == status
        )
    Case.objects.filter(pk=case.pk).update(status=Case.Status.SUBMITTED)
    assert (
        client_for(teacher).post(f"/series/{ct.pk}/manage", {"action": "delete"}).status_code == 403
    )
    assert Series.objects.filter(pk=ct.pk).exists()
    # Curators edit any case, published ones too.
    publish_case(case=Case.objects.get(pk=case.pk), user=curator)
    page = client_for(curator).get(f"/series/{ct.pk}/images/")
    assert page.status_code == 200 and "Caption of image 1" in page.content.decode()
