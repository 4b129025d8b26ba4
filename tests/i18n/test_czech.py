"""The interface in English and Czech: chosen from the browser's Accept-Language or the header's
language switcher; diagnosis names in Czech where the vocabulary has them."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from archive.models import Case
from tests.editor.builders import hcc

pytestmark = pytest.mark.django_db


def _client(user=None, **headers) -> Client:
    c = Client(**headers)
    if user is not None:
        c.force_login(user)
    return c


def test_the_compiled_catalogue_is_committed_and_current():
    # `make run` must have Czech without gettext installed, so the .mo is in git: it has to
    # hold every translation of the .po (recompile with msgfmt after editing the .po).
    import gettext
    import re

    folder = Path(settings.BASE_DIR) / "locale" / "cs" / "LC_MESSAGES"
    with open(folder / "django.mo", "rb") as fh:
        catalog = gettext.GNUTranslations(fh)._catalog
    po = (folder / "django.po").read_text(encoding="utf-8")
    pairs = re.findall(r'^msgid "(.+)"\nmsgstr "(.+)"$', po, re.M)
    assert len(pairs) > 150
    for msgid, msgstr in pairs:
        unescape = lambda s: s.replace('\\"', '"')  # noqa: E731
        assert catalog.get(unescape(msgid)) == unescape(msgstr), msgid


@pytest.mark.parametrize(
    ("url", "czech", "english"),
    [
        ("/", "Anonymní výukový archiv", "Anonymous teaching archive"),
        ("/accounts/login/", "Uživatelské jméno", "Username"),
    ],
)
def test_anonymous_pages_follow_accept_language(url, czech, english):
    cs = _client(HTTP_ACCEPT_LANGUAGE="cs-CZ,cs;q=0.9,en;q=0.5").get(url).content.decode()
    assert czech in cs and '<html lang="cs">' in cs
    en = _client(HTTP_ACCEPT_LANGUAGE="en-GB").get(url).content.decode()
    assert english in en and czech not in en


def test_the_editor_is_in_czech(teacher):
    html = _client(teacher, HTTP_ACCEPT_LANGUAGE="cs").get("/cases/new/").content.decode()
    for text in ["Nový případ", "Kód MKN-10", "Anamnéza", "Diferenciální diagnóza",
                 "Oblast těla", "Obtížnost", "Štítky", "Vytvořit případ", "Potvrzeno patologem",
                 "Student medicíny", "Hrudník"]:  # fmt: skip
        assert text in html, text
    assert "Clinical history" not in html


def test_the_switcher_sets_the_language(teacher):
    c = _client(teacher, HTTP_ACCEPT_LANGUAGE="en")
    assert "Moje případy" not in c.get("/my/cases/").content.decode()
    response = c.post("/i18n/setlang/", {"language": "cs", "next": "/my/cases/"})
    assert response.status_code == 302 and response["Location"] == "/my/cases/"
    html = c.get("/my/cases/").content.decode()
    assert "Moje případy" in html and '<option value="cs" lang="cs" selected>' in html
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "My cases" in c.get("/my/cases/").content.decode()


def test_diagnoses_are_shown_in_czech_where_the_vocabulary_has_them(teacher, student):
    diagnosis = hcc()
    Case.objects.create(
        owner=teacher, title="Liver lesion", modality="CT", body_region="abdomen",
        diagnosis=diagnosis, status="published",
    )  # fmt: skip
    cs = _client(student, HTTP_ACCEPT_LANGUAGE="cs").get("/").content.decode()
    assert "Hepatocelulární karcinom" in cs and "Hepatocellular carcinoma" not in cs
    en = _client(student, HTTP_ACCEPT_LANGUAGE="en").get("/").content.decode()
    assert "Hepatocellular carcinoma" in en
    mine = _client(teacher, HTTP_ACCEPT_LANGUAGE="cs").get("/my/cases/").content.decode()
    assert "Hepatocelulární karcinom" in mine


def test_workflow_messages_are_translated(teacher):
    case = Case.objects.create(owner=teacher, title="t", modality="CT", body_region="chest")
    c = _client(teacher, HTTP_ACCEPT_LANGUAGE="cs")
    html = c.post(f"/cases/{case.pk}/submit/", follow=True).content.decode()
    assert "Před odesláním přidejte alespoň jeden anonymizovaný snímek." in html


def test_curator_admin_is_in_czech(curator, teacher):
    Case.objects.create(owner=teacher, title="t", modality="CT", body_region="chest")
    html = _client(curator, HTTP_ACCEPT_LANGUAGE="cs").get("/admin/archive/case/").content.decode()
    assert "Fronta ke kontrole" in html and "Odesláno ke kontrole" in html
    assert "Vrátit vybrané případy autorům s komentářem" in html
