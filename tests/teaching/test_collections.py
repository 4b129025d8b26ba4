"""Collections: building one (add, reorder by drag and by keyboard, note, lead image, shown as
unknown), sharing it, duplicating it, and what each kind of user is shown of it."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from archive.models import Case
from teaching.models import Assignment, Collection, CollectionEntry

pytestmark = pytest.mark.django_db


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def order(collection) -> list[str]:
    return [e.case.title for e in collection.entries.order_by("position").select_related("case")]


def test_a_teacher_builds_a_collection(teacher, cases):
    t = client(teacher)
    response = t.post("/teaching/collections/new", {"title": "Chest night shift"})
    collection = Collection.objects.get(title="Chest night shift")
    assert response["Location"] == f"/teaching/collections/{collection.pk}/"
    assert collection.visibility == "private" and collection.owner == teacher
    t.post(f"/teaching/collections/{collection.pk}/entries/add", {"case": cases["nodule"].pk})
    link = f"https://archive.example.org/cases/{cases['ptx'].pk}/"
    t.post(f"/teaching/collections/{collection.pk}/entries/add", {"case": link})
    # From the case page's "Add to collection".
    t.post(f"/teaching/cases/{cases['normal'].pk}/collect", {"collection": collection.pk})
    assert order(collection) == [
        "Solitary nodule",
        "Pneumothorax after a long flight",
        "Chest CT without findings",
    ]
    again = t.post(
        f"/teaching/collections/{collection.pk}/entries/add", {"case": cases["nodule"].pk},
        follow=True,
    )  # fmt: skip
    assert "This case is already in the collection." in again.content.decode()


def test_only_published_cases_go_into_a_collection(teacher, cases):
    draft = Case.objects.create(owner=teacher, title="My draft", modality="CT", body_region="chest")
    collection = Collection.objects.create(owner=teacher, title="c")
    html = (
        client(teacher)
        .post(f"/teaching/collections/{collection.pk}/entries/add", {"case": draft.pk}, follow=True)
        .content.decode()
    )
    assert "Only published cases can be added to a collection." in html
    assert not collection.entries.exists()


def test_reorder_by_drag_and_by_the_move_buttons(teacher, collection):
    t = client(teacher)
    ids = list(collection.entries.order_by("position").values_list("pk", flat=True))
    # A drag and drop sends the whole new order.
    response = t.post(
        f"/teaching/collections/{collection.pk}/reorder",
        data=json.dumps({"order": [ids[4], *ids[:4]]}),
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["order"] == [ids[4], *ids[:4]]
    assert order(collection)[0] == "Quiz: dyspnoea"
    # The keyboard's Alt+↓ and the ↓ button: one place down.
    response = t.post(
        f"/teaching/collections/{collection.pk}/entries/{ids[4]}/move",
        {"direction": "down"},
        HTTP_ACCEPT="application/json",
    )
    assert response.json()["order"] == [ids[0], ids[4], ids[1], ids[2], ids[3]]
    # Without JavaScript the same form reloads the page at the moved case.
    response = t.post(
        f"/teaching/collections/{collection.pk}/entries/{ids[4]}/move", {"direction": "up"}
    )
    assert response["Location"].endswith(f"#entry-{ids[4]}")
    assert order(collection)[0] == "Quiz: dyspnoea"
    # An order that loses a case is refused whole.
    bad = t.post(
        f"/teaching/collections/{collection.pk}/reorder",
        data=json.dumps({"order": ids[:3]}),
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert bad.json()["error"] == "The order must list every case of the collection once."


def test_note_lead_image_and_unknown_per_entry(teacher, collection, cases):
    entry = collection.entries.get(case=cases["ptx"])
    key = cases["ptx"].key_images.get()
    series = cases["nodule"].instances().first().series
    t = client(teacher)
    t.post(
        f"/teaching/collections/{collection.pk}/entries/{entry.pk}/edit",
        {"note": "Ask about the tall habitus.", "show_as_unknown": "on", "lead": f"key:{key.pk}"},
    )
    entry.refresh_from_db()
    assert entry.note == "Ask about the tall habitus." and entry.show_as_unknown
    assert entry.lead_key_image == key
    # A series of another case is not this entry's to lead with: nothing changes.
    html = t.post(
        f"/teaching/collections/{collection.pk}/entries/{entry.pk}/edit",
        {"note": "", "lead": f"series:{series.pk}"},
        follow=True,
    ).content.decode()
    assert "Choose an image of this case to lead with." in html
    entry.refresh_from_db()
    assert entry.lead_key_image == key and entry.show_as_unknown
    assert "Ask about the tall habitus." in html  # the owner's page shows the note


def test_who_sees_a_collection(teacher, other_teacher, student, collection):
    url = f"/teaching/collections/{collection.pk}/"
    assert client(teacher).get(url).status_code == 200
    assert client(other_teacher).get(url).status_code == 404
    assert client(student).get(url).status_code == 404
    assert Client().get(url).status_code == 302
    # Shared with a named teacher: that teacher, still not the students.
    html = client(teacher).post(
        f"/teaching/collections/{collection.pk}/edit",
        {"title": collection.title, "visibility": "shared",
         "shared_with": f"{other_teacher.username}, {student.username} nobody"},
        follow=True,
    ).content.decode()  # fmt: skip
    assert "Not shared with student1, nobody: only teachers of the archive can be named." in html
    assert client(other_teacher).get(url).status_code == 200
    assert client(student).get(url).status_code == 404
    # Others may look but not change it.
    edit = client(other_teacher).post(f"/teaching/collections/{collection.pk}/edit", {})
    assert edit.status_code == 403
    # Public: every signed-in user.
    Collection.objects.filter(pk=collection.pk).update(visibility="public")
    assert client(student).get(url).status_code == 200
    lists = client(student).get("/teaching/collections/").content.decode()
    assert "Chest emergencies" in lists


def test_an_unknown_entry_hides_its_answer_from_students_until_they_answer(
    teacher, student, collection, cases
):
    Collection.objects.filter(pk=collection.pk).update(visibility="public")
    entry = collection.entries.get(case=cases["ptx"])
    CollectionEntry.objects.filter(pk=entry.pk).update(show_as_unknown=True)
    s = client(student)
    html = s.get(f"/teaching/collections/{collection.pk}/").content.decode()
    assert "Unknown case 1" in html
    assert not re.search(r"pneumo|pleural", html, re.I)
    study = s.get(f"/teaching/collections/{collection.pk}/entries/{entry.pk}/").content.decode()
    assert "Tall young man" in study
    assert not re.search(r"pneumo|pleural line|Look for", study, re.I)
    response = s.post(
        f"/teaching/collections/{collection.pk}/entries/{entry.pk}/",
        {"answer": "pneumothorax", "click_x": "0.5", "click_y": "0.5"},
    )
    result = s.get(response["Location"]).content.decode()
    assert "Correct!" in result and "Visceral pleural line." in result
    # Answered: the collection shows it like any other case now, and "Next case" goes on.
    assert (
        "Pneumothorax after a long flight"
        in s.get(f"/teaching/collections/{collection.pk}/").content.decode()
    )
    assert f'href="/cases/{cases["nodule"].pk}/" id="next-case"' in result
    # The teacher sees everything on their own collection, marked as unknown.
    mine = client(teacher).get(f"/teaching/collections/{collection.pk}/").content.decode()
    assert "Pneumothorax after a long flight" in mine and "shown as unknown" in mine


def test_duplicate_is_a_private_copy_of_what_the_teacher_is_shown(
    teacher, other_teacher, collection, cases
):
    Collection.objects.filter(pk=collection.pk).update(visibility="public")
    Case.objects.filter(pk=cases["fracture"].pk).update(status=Case.Status.DRAFT)
    response = client(other_teacher).post(f"/teaching/collections/{collection.pk}/duplicate")
    copy = Collection.objects.get(owner=other_teacher)
    assert response["Location"] == f"/teaching/collections/{copy.pk}/"
    assert copy.title == "Chest emergencies (copy)" and copy.visibility == "private"
    assert order(copy) == [
        "Pneumothorax after a long flight",
        "Solitary nodule",
        "Chest CT without findings",
        "Quiz: dyspnoea",
    ]


def test_an_unpublished_case_drops_out_for_everyone_until_it_is_back(
    teacher, student, collection, cases
):
    Collection.objects.filter(pk=collection.pk).update(visibility="public")
    Case.objects.filter(pk=cases["fracture"].pk).update(status=Case.Status.DRAFT)
    for user in (teacher, student):
        html = client(user).get(f"/teaching/collections/{collection.pk}/").content.decode()
        assert "Rib fracture after a fall" not in html
    owner_page = client(teacher).get(f"/teaching/collections/{collection.pk}/").content.decode()
    assert "1 case of this collection is no longer published" in owner_page


def test_an_assigned_collection_cannot_be_deleted(teacher, collection, assignment):
    html = (
        client(teacher)
        .post(f"/teaching/collections/{collection.pk}/delete", follow=True)
        .content.decode()
    )
    assert "This collection is assigned to a class: delete the assignments first." in html
    Assignment.objects.all().delete()
    client(teacher).post(f"/teaching/collections/{collection.pk}/delete")
    assert not Collection.objects.exists()
