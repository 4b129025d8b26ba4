"""Key images: only those who may edit the case pick them; annotations are validated data."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from archive.models import KeyImage
from tests.viewer.factories import ct_stack, make_case

ARROW = {"type": "arrow", "x1": 0.1, "y1": 0.1, "x2": 0.5, "y2": 0.45, "label": "pleural line"}


def _client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def _post(client, case, body):
    return client.post(
        f"/cases/{case.pk}/key-images/", json.dumps(body), content_type="application/json"
    )


@pytest.fixture
def draft(teacher):
    return make_case(teacher, ct_stack(2), publish=False)


@pytest.fixture
def published(teacher):
    return make_case(teacher, ct_stack(2))


def test_owner_marks_and_updates_a_key_image_on_a_draft(draft, teacher):
    instance = draft.instances().first()
    body = {"instance": instance.pk, "frame": 0, "caption": "Apex", "annotations": [ARROW]}
    r = _post(_client(teacher), draft, body)
    assert r.status_code == 201
    key = KeyImage.objects.get()
    assert key.annotations == [ARROW] and key.caption == "Apex" and key.order == 0
    assert r.json()["keyImages"][0]["annotations"] == [ARROW]
    # Same frame again: an update, not a duplicate.
    r = _post(_client(teacher), draft, {**body, "caption": "Apex, right", "annotations": []})
    assert r.status_code == 201
    assert KeyImage.objects.get().caption == "Apex, right"
    r = _client(teacher).post(f"/cases/{draft.pk}/key-images/{key.pk}/delete")
    assert r.status_code == 200 and not KeyImage.objects.exists()


def test_curator_marks_a_key_image_on_a_published_case(published, curator):
    instance = published.instances().first()
    r = _post(_client(curator), published, {"instance": instance.pk, "frame": 0})
    assert r.status_code == 201


def test_students_and_other_teachers_cannot_edit_key_images(
    draft, published, teacher, student, other_teacher
):
    for case, user, expected in [
        (published, student, 403),
        (published, other_teacher, 403),
        # (The owner keeps the key-image editor after publishing: tests/editor/test_revisions.)
        (draft, student, 404),
        (draft, other_teacher, 404),
    ]:
        instance = case.instances().first()
        r = _post(_client(user), case, {"instance": instance.pk, "frame": 0})
        assert r.status_code == expected, (user.username, case.status)
    key = KeyImage.objects.create(case=published, instance=published.instances().first())
    for user in (student, other_teacher):
        r = _client(user).post(f"/cases/{published.pk}/key-images/{key.pk}/delete")
        assert r.status_code == 403
    assert _client().post(f"/cases/{published.pk}/key-images/").status_code == 302
    assert KeyImage.objects.count() == 1


@pytest.mark.parametrize(
    "annotations",
    [
        [{"type": "text", "x": 0.1}],
        [{"type": "arrow", "x1": 0.1, "y1": 0.1, "x2": 1.5, "y2": 0.2}],
        [{"type": "circle", "cx": 0.5, "cy": 0.5, "r": 0}],
        [{"type": "circle", "cx": "0.5", "cy": 0.5, "r": 0.1}],
        [{"type": "arrow", "x1": 0.1, "y1": 0.1, "x2": 0.2, "y2": 0.2, "label": 5}],
        "arrow",
        [ARROW] * 11,
    ],
)
def test_bad_annotations_are_refused(draft, teacher, annotations):
    instance = draft.instances().first()
    r = _post(_client(teacher), draft, {"instance": instance.pk, "annotations": annotations})
    assert r.status_code == 400 and r.json()["error"]
    assert not KeyImage.objects.exists()


def test_frame_and_instance_must_belong_to_the_case(draft, published, teacher):
    other_instance = published.instances().first()
    assert _post(_client(teacher), draft, {"instance": other_instance.pk}).status_code == 400
    own = draft.instances().first()
    assert _post(_client(teacher), draft, {"instance": own.pk, "frame": 3}).status_code == 400
    assert _post(_client(teacher), draft, {"frame": 0}).status_code == 400
