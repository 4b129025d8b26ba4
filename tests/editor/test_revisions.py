"""Revisions of published cases: the author edits a published case as a new revision, students
keep the published text (case page, search, autocomplete) until a curator publishes it; the
curator sees the difference (text fields, series list) and the history (who, when); text that
looks like personal data is refused; the author keeps the key-image editor after submitting
and after publishing."""

from __future__ import annotations

import json

import pytest

from archive.models import Case, CaseEvent, CaseRevision, Instance, KeyImage, Series
from archive.services import revisions as revision_services
from archive.services.cases import publish_case, submit_case, unpublish_case
from search.services import index_case
from tests.editor.builders import case_with_images, client_for, new_series

pytestmark = pytest.mark.django_db(transaction=True)


def _published(teacher, curator, phi_file, two_series: bool = False, **fields) -> Case:
    files = [phi_file()]
    if two_series:
        files.append(phi_file("MR_small.dcm", dataset_hook=new_series))
    fields.setdefault("title", "Apical lucency in a smoker")
    fields.setdefault("history", "Sudden chest pain after a long flight.")
    case = case_with_images(teacher, files, **fields)
    publish_case(case=case, user=curator)
    index_case(case.pk)
    return Case.objects.get(pk=case.pk)


def _revision_post(case: Case, **changes) -> dict:
    """What the revision editor sends: the case as it is, with ``changes``."""
    fields = revision_services.case_fields(case)
    data = {k: ("on" if v is True else str(v)) for k, v in fields.items() if v not in (None, False)}
    for s in revision_services.series_snapshot(case):
        data[f"series_{s['id']}_description"] = s["description"]
        data[f"series_{s['id']}_order"] = str(s["order"])
    data.update(changes)
    return data


def _search_titles(client, q: str) -> list[str]:
    answer = client.get("/api/search", {"q": q}).json()
    return [hit["title"] for hit in answer["results"]]


def test_students_see_the_published_case_until_a_curator_publishes_the_revision(
    teacher, curator, student, phi_file
):
    case = _published(teacher, curator, phi_file)
    t = client_for(teacher)
    # The author's editor of a published case is the revision editor.
    assert t.get(f"/cases/{case.pk}/edit/").url == f"/cases/{case.pk}/revision/"
    page = t.get(f"/cases/{case.pk}/revision/").content.decode()
    assert "Students see the published version until a curator publishes this revision." in page
    saved = t.post(
        f"/cases/{case.pk}/revision/",
        _revision_post(
            case,
            title="Spontaneous pneumothorax of the apex",
            history="Sudden chest pain after a transatlantic flight.",
        ),
        follow=True,
    ).content.decode()
    assert "Revision saved." in saved
    assert "Spontaneous pneumothorax of the apex" in saved  # the author sees the draft
    case.refresh_from_db()
    assert case.title == "Apical lucency in a smoker"
    assert t.post(f"/cases/{case.pk}/revision/submit", {"action": "submit"}).status_code == 302
    assert case.revisions.get(number=2).state == CaseRevision.State.SUBMITTED

    # A worker re-indexing the case now (any reason) still indexes the published text.
    index_case(case.pk)
    s = client_for(student)
    page = s.get(f"/cases/{case.pk}/").content.decode()
    assert "Apical lucency in a smoker" in page and "long flight" in page
    assert "Spontaneous pneumothorax" not in page and "transatlantic" not in page
    assert _search_titles(s, "apical lucency") == ["Apical lucency in a smoker"]
    assert _search_titles(s, "transatlantic") == []
    assert "Spontaneous" not in s.get("/api/autocomplete", {"q": "spont"}).content.decode()

    # The curator sees the difference on the case page and publishes it there.
    c = client_for(curator)
    page = c.get(f"/cases/{case.pk}/").content.decode()
    assert "Publish revision" in page
    assert "- Apical lucency in a smoker" in page
    assert "+ Spontaneous pneumothorax of the apex" in page
    assert c.post(f"/cases/{case.pk}/revision/curation", {"action": "publish"}).status_code == 302
    index_case(case.pk)  # what the worker does on commit
    page = s.get(f"/cases/{case.pk}/").content.decode()
    assert "Spontaneous pneumothorax of the apex" in page and "transatlantic" in page
    assert _search_titles(s, "transatlantic") == ["Spontaneous pneumothorax of the apex"]

    history = {r.number: r for r in case.revisions.all()}
    assert history[1].state == CaseRevision.State.SUPERSEDED  # the original publication
    assert history[1].author == teacher
    assert history[2].state == CaseRevision.State.PUBLISHED
    assert (history[2].author, history[2].decided_by) == (teacher, curator)
    assert history[2].submitted_at and history[2].decided_at


def test_text_that_looks_like_personal_data_is_refused_in_a_revision(teacher, curator, phi_file):
    case = _published(teacher, curator, phi_file)
    refused = (
        client_for(teacher)
        .post(
            f"/cases/{case.pk}/revision/",
            _revision_post(case, history="Referred by Dr. Kalorava on 12.3.2024."),
        )
        .content.decode()
    )
    assert "looks like it holds personal data" in refused
    assert not CaseRevision.objects.filter(case=case).exists()


def test_a_returned_revision_is_changed_and_submitted_again(teacher, curator, phi_file):
    case = _published(teacher, curator, phi_file)
    t, c = client_for(teacher), client_for(curator)
    # Nothing to submit before something changed.
    t.post(f"/cases/{case.pk}/revision/", _revision_post(case))
    refused = t.post(
        f"/cases/{case.pk}/revision/submit", {"action": "submit"}, follow=True
    ).content.decode()
    assert "This revision changes nothing yet" in refused
    t.post(f"/cases/{case.pk}/revision/", _revision_post(case, discussion="Bullae rupture."))
    t.post(f"/cases/{case.pk}/revision/submit", {"action": "submit"})
    # While it is reviewed the author cannot change it.
    locked = t.post(
        f"/cases/{case.pk}/revision/",
        _revision_post(case, discussion="Changed meanwhile."),
        follow=True,
    ).content.decode()
    assert "A curator is reviewing this revision, so it cannot be changed now." in locked
    assert case.revisions.get(number=2).fields["discussion"] == "Bullae rupture."
    c.post(
        f"/cases/{case.pk}/revision/curation",
        {"action": "return", "comment": "Cite the guideline."},
    )
    page = t.get(f"/cases/{case.pk}/revision/").content.decode()
    assert "Cite the guideline." in page
    t.post(
        f"/cases/{case.pk}/revision/",
        _revision_post(case, discussion="Bullae rupture.", references="BTS guideline 2023"),
    )
    t.post(f"/cases/{case.pk}/revision/submit", {"action": "submit"})
    c.post(f"/cases/{case.pk}/revision/curation", {"action": "publish"})
    case.refresh_from_db()
    assert (case.discussion, case.references) == ("Bullae rupture.", "BTS guideline 2023")
    # A new change starts revision 3 from the published text.
    t.post(f"/cases/{case.pk}/revision/", _revision_post(case, findings="Deep sulcus."))
    assert case.revisions.get(number=3).fields["discussion"] == "Bullae rupture."
    t.post(f"/cases/{case.pk}/revision/submit", {"action": "withdraw"})
    assert case.revisions.get(number=3).state == CaseRevision.State.WITHDRAWN
    case.refresh_from_db()
    assert case.findings == ""


def test_the_admin_shows_the_series_list_and_text_difference_escaped(teacher, curator, phi_file):
    case = _published(teacher, curator, phi_file, two_series=True)
    ct = Series.objects.get(study__case=case, modality="CT")
    mr = Series.objects.get(study__case=case, modality="MR")
    t = client_for(teacher)
    t.post(
        f"/cases/{case.pk}/revision/",
        _revision_post(
            case,
            title="Apical lucency <b>bold</b>",
            **{
                f"series_{ct.pk}_description": "Lung window",
                f"series_{ct.pk}_order": "2",
                f"series_{mr.pk}_order": "1",
                "lead_series": str(mr.pk),
            },
        ),
    )
    t.post(f"/cases/{case.pk}/revision/submit", {"action": "submit"})
    queue = client_for(curator).get("/admin/archive/case/", {"revision": "submitted"})
    assert "<strong>1</strong> revisions to review" in queue.content.decode()
    assert [c.pk for c in queue.context["cl"].result_list] == [case.pk]
    admin = client_for(curator).get(f"/admin/archive/case/{case.pk}/change/").content.decode()
    assert "Apical lucency &lt;b&gt;bold&lt;/b&gt;" in admin
    assert "<b>bold</b>" not in admin
    assert "+ 2. CT — Lung window" in admin
    assert "+ 1. MR — " in admin and "★" in admin
    assert f"- 1. {ct.modality} — " in admin
    assert "Submitted for review" in admin  # the history's state column
    # Nothing changed for students until it is published; then the series list is as written.
    ct.refresh_from_db()
    assert (ct.description, ct.position) == ("", 0)
    client_for(curator).post(f"/cases/{case.pk}/revision/curation", {"action": "publish"})
    ct.refresh_from_db()
    mr.refresh_from_db()
    case.refresh_from_db()
    assert (ct.description, ct.position, mr.position) == ("Lung window", 2, 1)
    assert case.lead_series_id == mr.pk
    assert case.title == "Apical lucency <b>bold</b>"


def test_only_the_author_and_curators_see_a_revision(
    teacher, other_teacher, curator, student, phi_file
):
    case = _published(teacher, curator, phi_file)
    client_for(teacher).post(f"/cases/{case.pk}/revision/", _revision_post(case, title="Draft zz"))
    client_for(teacher).post(f"/cases/{case.pk}/revision/submit", {"action": "submit"})
    for user in (other_teacher, student):
        c = client_for(user)
        assert c.get(f"/cases/{case.pk}/revision/").status_code == 403
        withdraw = c.post(f"/cases/{case.pk}/revision/submit", {"action": "withdraw"})
        assert withdraw.status_code == 403
        assert (
            c.post(f"/cases/{case.pk}/revision/curation", {"action": "publish"}).status_code == 403
        )
        assert "Draft zz" not in c.get(f"/cases/{case.pk}/").content.decode()
    # The author sees its state on the case page, not the curator's buttons.
    page = client_for(teacher).get(f"/cases/{case.pk}/").content.decode()
    assert "Revision 2 (Submitted for review)" in page and "Publish revision" not in page
    assert CaseRevision.objects.get(case=case, number=2).state == CaseRevision.State.SUBMITTED


def test_unpublishing_withdraws_the_revision_in_progress(teacher, curator, phi_file):
    case = _published(teacher, curator, phi_file)
    client_for(teacher).post(f"/cases/{case.pk}/revision/", _revision_post(case, title="New"))
    unpublish_case(case=case, user=curator, comment="Check the images.")
    assert case.revisions.get(number=2).state == CaseRevision.State.WITHDRAWN
    # The author edits the case itself again.
    assert client_for(teacher).get(f"/cases/{case.pk}/edit/").status_code == 200


def test_the_author_keeps_the_key_image_editor_after_submitting_and_publishing(
    teacher, curator, student, phi_file
):
    case = case_with_images(teacher, [phi_file()])
    instance = Instance.objects.get(series__study__case=case)
    t = client_for(teacher)

    def key(caption: str):
        return t.post(
            f"/cases/{case.pk}/key-images/",
            json.dumps({"instance": instance.pk, "frame": 0, "caption": caption}),
            content_type="application/json",
        )

    submit_case(case=Case.objects.get(pk=case.pk), user=teacher)
    assert 'id="key-editor"' in t.get(f"/cases/{case.pk}/").content.decode()
    assert key("Apex").status_code == 201
    publish_case(case=Case.objects.get(pk=case.pk), user=curator)
    assert 'id="key-editor"' in t.get(f"/cases/{case.pk}/").content.decode()
    answer = key("Apical pleural line")
    assert answer.status_code == 201
    assert KeyImage.objects.get(case=case).caption == "Apical pleural line"
    # Recorded like the series controls' changes (who and when, no text).
    events = CaseEvent.objects.filter(case=case, action=CaseEvent.Action.KEY_IMAGE_SAVED)
    assert events.count() == 2 and events.first().user == teacher
    assert "Apical" not in json.dumps(events.first().detail)
    # Students read it at once; they never get the editor.
    s = client_for(student)
    page = s.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="key-editor"' not in page and "Apical pleural line" in page
    assert (
        s.post(
            f"/cases/{case.pk}/key-images/",
            json.dumps({"instance": instance.pk, "frame": 0}),
            content_type="application/json",
        ).status_code
        == 403
    )
    key_pk = KeyImage.objects.get(case=case).pk
    assert t.post(f"/cases/{case.pk}/key-images/{key_pk}/delete").status_code == 200
    assert not KeyImage.objects.filter(case=case).exists()


def test_a_case_has_one_revision_in_progress(teacher, curator, phi_file):
    from django.db import IntegrityError, transaction

    case = _published(teacher, curator, phi_file)
    first = revision_services.open_revision(case=case, user=teacher)
    assert revision_services.open_revision(case=case, user=teacher) == first  # reopened
    assert [r.number for r in case.revisions.all()] == [2, 1]
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseRevision.objects.create(case=case, number=3, author=teacher)  # a second draft
    revision_services.withdraw_revision(revision=first, user=teacher)
    assert revision_services.open_revision(case=case, user=teacher).number == 3


# --- A curator's direct edits while a revision is pending ------------------------------------


def _curator_edits(curator, case: Case, **changes) -> None:
    """A curator changes the published case itself, in the case editor."""
    case = Case.objects.get(pk=case.pk)
    response = client_for(curator).post(f"/cases/{case.pk}/edit/", _revision_post(case, **changes))
    assert response.status_code == 302, response.content.decode()[:2000]


def _submitted(teacher, case: Case, **changes) -> None:
    t = client_for(teacher)
    t.post(f"/cases/{case.pk}/revision/", _revision_post(case, **changes))
    assert t.post(f"/cases/{case.pk}/revision/submit", {"action": "submit"}).status_code == 302


def test_publishing_a_revision_keeps_the_curators_direct_edits_of_other_fields(
    teacher, curator, student, phi_file
):
    case = _published(teacher, curator, phi_file, two_series=True)
    ct = Series.objects.get(study__case=case, modality="CT")
    mr = Series.objects.get(study__case=case, modality="MR")
    # The author starts from the published text: a new title, the MR first.
    _submitted(
        teacher,
        case,
        title="Spontaneous pneumothorax of the apex",
        **{f"series_{ct.pk}_order": "2", f"series_{mr.pk}_order": "1"},
    )
    # Meanwhile a curator fixes a typo in the history and names the CT series directly.
    _curator_edits(curator, case, history="Sudden chest pain after a long-haul flight.")
    c = client_for(curator)
    c.post(f"/series/{ct.pk}/manage", {"action": "rename", "description": "Lung window"})

    page = c.get(f"/cases/{case.pk}/").content.decode()
    # The difference shows what publishing changes: the title and the order, not the history
    # back to the old text.
    assert "+ Spontaneous pneumothorax of the apex" in page
    assert "long flight" not in page.split('id="revision-title"')[1].split("</section>")[0]
    assert 'id="revision-conflict"' not in page
    published = c.post(f"/cases/{case.pk}/revision/curation", {"action": "publish"}, follow=True)
    assert "Revision published: students now see the new version." in published.content.decode()

    case.refresh_from_db()
    ct.refresh_from_db()
    mr.refresh_from_db()
    assert case.title == "Spontaneous pneumothorax of the apex"  # the author's change
    assert case.history == "Sudden chest pain after a long-haul flight."  # the curator's kept
    assert ct.description == "Lung window"  # the curator's rename kept
    assert (mr.position, ct.position) == (1, 2)  # the author's order
    student_page = client_for(student).get(f"/cases/{case.pk}/").content.decode()
    assert "long-haul flight" in student_page and "Spontaneous pneumothorax" in student_page


def test_a_field_changed_by_the_revision_and_directly_is_not_overwritten_silently(
    teacher, curator, phi_file
):
    case = _published(teacher, curator, phi_file)
    _submitted(
        teacher,
        case,
        title="Spontaneous pneumothorax of the apex",
        findings="Visceral pleural line at the apex.",
    )
    _curator_edits(curator, case, title="Apical pneumothorax", discussion="Bullae rupture.")
    c = client_for(curator)
    page = c.get(f"/cases/{case.pk}/").content.decode()
    # Seen before publishing: the field is marked and the override is a separate button.
    assert 'id="revision-conflict"' in page
    assert "also changed directly since the revision was started" in page
    assert "Publish, replacing the direct changes" in page

    refused = c.post(
        f"/cases/{case.pk}/revision/curation", {"action": "publish"}, follow=True
    ).content.decode()
    assert (
        "Since this revision was started, the published case was also changed directly in: "
        "Title." in refused
    )
    assert "Return the revision with a comment, or publish it replacing the direct changes." in (
        refused
    )
    case.refresh_from_db()
    assert (case.title, case.findings) == ("Apical pneumothorax", "")  # nothing applied
    revision = case.revisions.get(number=2)
    assert revision.state == CaseRevision.State.SUBMITTED

    # The admin's action refuses it the same way.
    admin = client_for(curator).post(
        "/admin/archive/case/",
        {"action": "publish_revisions", "_selected_action": [case.pk], "index": "0"},
        follow=True,
    )
    text = admin.content.decode()
    assert "was also changed directly in: Title." in text
    assert "Published 0 revisions." in text
    # The admin's revision panel marks the field too.
    change = client_for(curator).get(f"/admin/archive/case/{case.pk}/change/").content.decode()
    assert "also changed directly since the revision was started" in change
    case.refresh_from_db()
    assert case.title == "Apical pneumothorax"

    # The curator chooses: replace the direct change of the title with the author's.
    c.post(f"/cases/{case.pk}/revision/curation", {"action": "publish_override"})
    case.refresh_from_db()
    assert case.title == "Spontaneous pneumothorax of the apex"
    assert case.findings == "Visceral pleural line at the apex."
    assert case.discussion == "Bullae rupture."  # the direct change the author left alone
    assert case.revisions.get(number=2).state == CaseRevision.State.PUBLISHED


def test_a_conflicting_revision_can_be_returned_and_resubmitted(teacher, curator, phi_file):
    case = _published(teacher, curator, phi_file)
    _submitted(teacher, case, title="Spontaneous pneumothorax")
    _curator_edits(curator, case, title="Apical pneumothorax")
    c = client_for(curator)
    c.post(
        f"/cases/{case.pk}/revision/curation",
        {"action": "return", "comment": "I renamed the case meanwhile; keep my title?"},
    )
    assert case.revisions.get(number=2).state == CaseRevision.State.RETURNED
    # The author agrees: the title back to what the case holds now; nothing conflicts.
    t = client_for(teacher)
    case.refresh_from_db()
    t.post(
        f"/cases/{case.pk}/revision/",
        _revision_post(case, title="Apical pneumothorax", findings="Deep sulcus sign."),
    )
    t.post(f"/cases/{case.pk}/revision/submit", {"action": "submit"})
    admin = c.post(
        "/admin/archive/case/",
        {"action": "publish_revisions", "_selected_action": [case.pk], "index": "0"},
        follow=True,
    )
    assert "Published 1 revision." in admin.content.decode()
    case.refresh_from_db()
    assert (case.title, case.findings) == ("Apical pneumothorax", "Deep sulcus sign.")


def test_both_changing_the_series_order_is_a_conflict(teacher, curator, phi_file):
    case = _published(teacher, curator, phi_file, two_series=True)
    ct = Series.objects.get(study__case=case, modality="CT")
    mr = Series.objects.get(study__case=case, modality="MR")
    _submitted(teacher, case, **{f"series_{ct.pk}_order": "2", f"series_{mr.pk}_order": "1",
                                 f"series_{mr.pk}_description": "T2"})  # fmt: skip
    c = client_for(curator)
    first = Series.objects.filter(study__case=case).order_by("position", "pk").last()
    c.post(f"/series/{first.pk}/manage", {"action": "up"})  # moves the same way
    c.post(f"/series/{mr.pk}/manage", {"action": "rename", "description": "T1"})
    refused = c.post(
        f"/cases/{case.pk}/revision/curation", {"action": "publish"}, follow=True
    ).content.decode()
    assert "changed directly in: Description of series" in refused
    assert "Series order" not in refused.split("changed directly in:")[1].split(".")[0]
    mr.refresh_from_db()
    assert mr.description == "T1"


def test_a_direct_edit_between_opening_the_editor_and_the_first_save_is_kept(
    teacher, curator, phi_file
):
    import re

    case = _published(teacher, curator, phi_file)
    t = client_for(teacher)
    page = t.get(f"/cases/{case.pk}/revision/").content.decode()
    base = re.search(r'<input type="hidden" name="base" value="([^"]+)">', page).group(1)
    # The teacher reads the published text; meanwhile a curator retitles the case.
    opened = Case.objects.get(pk=case.pk)
    _curator_edits(curator, case, title="Apical pneumothorax")
    # The teacher's form still holds the title it showed and changes only the history.
    t.post(
        f"/cases/{case.pk}/revision/",
        {**_revision_post(opened, history="Chest pain after diving."), "base": base},
    )
    t.post(f"/cases/{case.pk}/revision/submit", {"action": "submit"})
    # A forged base is ignored (the case as it was at the first save is the base then).
    assert revision_services.base_from_token(base[:-2] + "xx") is None
    client_for(curator).post(f"/cases/{case.pk}/revision/curation", {"action": "publish"})
    case.refresh_from_db()
    assert (case.title, case.history) == ("Apical pneumothorax", "Chest pain after diving.")
    assert case.revisions.get(number=2).state == CaseRevision.State.PUBLISHED


def test_the_author_sees_what_a_curator_changed_since_the_revision_was_started(
    teacher, curator, phi_file
):
    case = _published(teacher, curator, phi_file)
    t = client_for(teacher)
    t.post(f"/cases/{case.pk}/revision/", _revision_post(case, title="Apical pneumothorax"))
    page = t.get(f"/cases/{case.pk}/revision/").content.decode()
    assert 'id="revision-changed-directly"' not in page
    assert 'id="revision-changed-by-both"' not in page

    _curator_edits(curator, case, history="Sudden chest pain after a long-haul flight.")
    page = t.get(f"/cases/{case.pk}/revision/").content.decode()
    note = page.split('id="revision-changed-directly">')[1].split("</p>")[0]
    assert "a curator changed the published case in: Clinical history." in note
    assert "publishing the revision keeps the curator's." in note
    assert 'id="revision-changed-by-both"' not in page

    _curator_edits(curator, case, title="Spontaneous pneumothorax")
    page = t.get(f"/cases/{case.pk}/revision/").content.decode()
    both = page.split('id="revision-changed-by-both">')[1].split("</p>")[0]
    assert "A curator also changed the published case in: Title, differently" in both
    note = page.split('id="revision-changed-directly">')[1].split("</p>")[0]
    assert "in: Clinical history." in note
