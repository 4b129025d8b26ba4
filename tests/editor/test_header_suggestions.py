"""Age group and sex from the headers are suggestions, never overwrites: they fill only an empty
field, only with a value that says something (``000Y``, ``O`` and empty are unknown), the
teacher's value always wins, and the editor shows what the images say when they disagree."""

from __future__ import annotations

import pytest
from django.test import Client

from archive.models import Case
from archive.services.cases import refresh_case_from_images
from tests.editor.builders import case_with_images

pytestmark = pytest.mark.django_db(transaction=True)


def _headers(age: str, sex: str):
    def hook(ds):
        ds.PatientAge = age
        ds.PatientSex = sex

    return hook


def _editor(user, case: Case, language: str = "en") -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/cases/{case.pk}/edit/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def _selected(html: str, field: str) -> str:
    """The label of the selected option of a select of the editor."""
    import re

    select = re.search(rf'<select name="{field}".*?</select>', html, re.S).group(0)
    return re.search(r"<option[^>]*selected>([^<]*)</option>", select).group(1)


def test_placeholder_headers_leave_the_teachers_empty_fields_unknown(teacher, phi_file):
    # The case: 000Y and O in the file, a 62-year-old woman in the history.
    case = case_with_images(
        teacher, [phi_file(dataset_hook=_headers("000Y", "O"))], history="62-year-old woman."
    )
    case.refresh_from_db()
    assert (case.age_group, case.sex) == ("", "")
    assert (case.header_age_group, case.header_sex) == ("", "")
    html = _editor(teacher, case)
    assert _selected(html, "age_group") == "Unknown" and _selected(html, "sex") == "Unknown"
    assert "Child" not in Client().get(f"/cases/{case.pk}/").content.decode()
    assert "The images say" not in html


def test_valid_headers_fill_empty_fields(teacher, phi_file):
    case = case_with_images(teacher, [phi_file(dataset_hook=_headers("062Y", "F"))])
    case.refresh_from_db()
    assert (case.age_group, case.sex) == ("adult", "F")
    html = _editor(teacher, case)
    assert _selected(html, "age_group") == "Adult (18 – 64 years)"
    assert _selected(html, "sex") == "Female"
    assert "The images say" not in html  # they agree


def test_the_teachers_values_win_and_the_editor_shows_what_the_images_say(teacher, phi_file):
    case = case_with_images(
        teacher, [phi_file(dataset_hook=_headers("045Y", "F"))], age_group="elderly", sex="M"
    )
    case.refresh_from_db()
    assert (case.age_group, case.sex) == ("elderly", "M")
    assert (case.header_age_group, case.header_sex) == ("adult", "F")
    html = _editor(teacher, case)
    assert (
        _selected(html, "age_group") == "Elderly (65+ years)" and _selected(html, "sex") == "Male"
    )
    assert "The images say: Adult (18 – 64 years)." in html
    assert "The images say: Female." in html
    czech = _editor(teacher, case, "cs")
    assert "Snímky uvádějí: Žena." in czech


def test_a_value_the_teacher_sets_after_an_upload_survives_the_next_upload(teacher, phi_file):
    case = case_with_images(teacher, [phi_file(dataset_hook=_headers("030Y", "F"))])
    Case.objects.filter(pk=case.pk).update(age_group="child", sex="")  # the teacher's choices
    refresh_case_from_images(case.pk)  # what the finalizer of the next upload runs
    case.refresh_from_db()
    assert case.age_group == "child"
    assert case.sex == "F"  # the empty field is filled again
