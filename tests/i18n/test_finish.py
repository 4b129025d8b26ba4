"""The finish a teacher notices: styled 403/404/500 pages in English and Czech, a favicon, the
viewer's window/level readout in Czech, one search box on the search page, search results with
a thumbnail of the lead image (fetched through the privacy policy), and the filters folded
after the results on a phone."""

from __future__ import annotations

import re

import pytest
from django.test import Client, RequestFactory
from django.utils import translation

from archive.models import Case, KeyImage
from archive.services.cases import publish_case
from archive.views.case_page import viewer_text
from search.services import index_case
from tests.editor.builders import case_with_images

pytestmark = pytest.mark.django_db(transaction=True)


def _client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


@pytest.mark.parametrize(
    ("language", "heading"),
    [("en", "There is no such page"), ("cs", "Taková stránka neexistuje")],
)
def test_the_404_page_is_styled_and_translated(student, language, heading):
    response = _client(student).get("/cases/999999/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    html = response.content.decode()
    assert f'<h1 id="error-title">{heading}</h1>' in html
    assert "/static/css/site.css" in html and 'rel="icon"' in html
    assert 'action="/search/"' in html  # a way on from a dead end


@pytest.mark.parametrize(
    ("language", "heading"),
    [("en", "You cannot do this here"), ("cs", "Tohle zde udělat nemůžete")],
)
def test_the_403_page_is_styled_and_translated(teacher, phi_file, language, heading):
    case = case_with_images(teacher, [phi_file()], status=Case.Status.SUBMITTED)
    response = _client(teacher).get(f"/cases/{case.pk}/edit/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 403
    html = response.content.decode()
    assert f'<h1 id="error-title">{heading}</h1>' in html
    assert "403 Forbidden" not in html


@pytest.mark.parametrize(
    ("language", "heading"),
    [("en", "Something went wrong on our side"), ("cs", "Něco se pokazilo na naší straně")],
)
def test_the_500_page_is_styled_and_translated(language, heading):
    from django.views.defaults import server_error

    with translation.override(language):
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert f'<h1 id="error-title">{heading}</h1>' in html
    assert f'<html lang="{language}">' in html and "/static/css/site.css" in html


def test_the_favicon_is_served(student):
    ico = _client().get("/favicon.ico")
    assert ico.status_code == 200 and ico["Content-Type"] in {
        "image/x-icon",
        "image/vnd.microsoft.icon",
    }
    assert b"".join(ico.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO header
    home = _client(student).get("/").content.decode()
    icon = re.search(r'<link rel="icon" href="([^"]+)"', home).group(1)
    assert icon.endswith("favicon.svg")


def test_the_window_level_readout_and_presets_speak_czech():
    with translation.override("cs"):
        text = viewer_text()
    assert text["windowLevel"] == "Š %(w)s S %(l)s"
    assert text["preset_lung"] == "plíce" and text["preset_header"] == "podle snímku"


def test_the_language_switcher_is_labelled_in_czech(student):
    html = _client(student).get("/", HTTP_ACCEPT_LANGUAGE="cs").content.decode()
    assert '<label for="lang-select" class="visually-hidden">Jazyk</label>' in html
    assert '<option value="en" lang="en"' in html  # "English" is marked as English


# --- the search page -----------------------------------------------------------------------


def _published_with_images(teacher, curator, phi_file, **fields) -> Case:
    case = case_with_images(teacher, [phi_file(), phi_file("MR_small.dcm")], **fields)
    publish_case(case=case, user=curator)
    index_case(case.pk)
    return case


def test_the_search_page_has_one_search_box(student):
    html = _client(student).get("/search/?q=x").content.decode()
    assert len(re.findall(r'<input[^>]*type="search"', html)) == 1
    home = _client(student).get("/").content.decode()
    assert len(re.findall(r'<input[^>]*type="search"', home)) == 1  # the header's


def test_results_show_the_lead_images_thumbnail_through_the_policy(
    teacher, curator, student, phi_file
):
    case = _published_with_images(teacher, curator, phi_file, title="Apical lucency")
    series = case.instances().order_by("pk")
    key = series.last()  # a key image leads, whatever its series
    KeyImage.objects.create(case=case, instance=key, frame=0, order=0)
    draft = case_with_images(teacher, [phi_file()], title="Apical draft")
    c = _client(student)
    html = c.get("/search/?q=apical").content.decode()
    thumbs = re.findall(r'<a class="result-thumb"[^>]*><img src="([^"]+)"', html)
    assert thumbs == [f"/instances/{key.pk}/frames/0.png?size=96"]
    assert c.get(thumbs[0]).status_code == 200
    api = c.get("/api/search", {"q": "apical"}).json()["results"]
    assert [r["thumbnail"] for r in api] == thumbs
    # An image of a case the student may not see is not served, whoever asks for it.
    hidden = draft.instances().first()
    assert c.get(f"/instances/{hidden.pk}/frames/0.png?size=96").status_code == 404


def test_without_key_images_the_longest_series_leads(teacher, curator, student, phi_file):
    case = _published_with_images(teacher, curator, phi_file, title="Apical lucency")
    by_series = {}
    for instance in case.instances():
        by_series.setdefault(instance.series_id, []).append(instance.pk)
    assert len(by_series) == 2
    html = _client(student).get("/search/?q=apical").content.decode()
    src = re.search(r'<a class="result-thumb"[^>]*><img src="([^"]+)"', html).group(1)
    leads = {f"/instances/{min(pks)}/frames/0.png?size=96" for pks in by_series.values()}
    assert src in leads


def test_on_a_phone_the_results_come_before_the_folded_filters(teacher, curator, student, phi_file):
    _published_with_images(teacher, curator, phi_file, title="Apical lucency")
    html = _client(student).get("/search/?q=apical").content.decode()
    assert html.index('class="results"') < html.index('class="facets"')
    assert '<details class="facets-panel" open>' in html
    # Folded on a phone by search.js: tests/browser/test_search_phone.py.
