"""Every teaching page in Czech: the catalogue is complete and compiled, and the pages say it."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

FOLDER = Path(settings.BASE_DIR) / "teaching" / "locale" / "cs" / "LC_MESSAGES"


def _entries(po: str) -> list[tuple[str, list[str]]]:
    """(msgid, [msgstr, ...]) of every entry, multi-line strings joined."""
    out = []
    for block in po.split("\n\n")[1:]:
        lines = [line for line in block.splitlines() if not line.startswith("#")]
        fields: dict[str, str] = {}
        key = None
        for line in lines:
            match = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                fields[key] = match.group(2)
            elif key:
                fields[key] += line.strip()[1:-1]
        strs = [v for k, v in sorted(fields.items()) if k.startswith("msgstr")]
        # gettext keys a string with a context as "context\x04msgid".
        msgid = fields["msgid"]
        if "msgctxt" in fields:
            msgid = f"{fields['msgctxt']}\x04{msgid}"
        out.append((msgid, strs))
    return out


def test_the_teaching_catalogue_is_complete_and_compiled():
    po = (FOLDER / "django.po").read_text(encoding="utf-8")
    entries = _entries(po)
    assert len(entries) > 250
    untranslated = [msgid for msgid, strs in entries if not all(strs)]
    assert not untranslated, untranslated
    with open(FOLDER / "django.mo", "rb") as fh:
        catalog = gettext.GNUTranslations(fh)._catalog
    for msgid, strs in entries:
        unescape = lambda s: s.replace('\\"', '"').replace("\\n", "\n")  # noqa: E731
        if len(strs) == 1:
            assert catalog.get(unescape(msgid)) == unescape(strs[0]), msgid


def _cs(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="cs")
    c.force_login(user)
    return c


def test_the_teachers_pages_are_in_czech(teacher, collection, assignment):
    t = _cs(teacher)
    pages = {
        f"/teaching/collections/{collection.pk}/": ["Prezentovat (konferenční režim)",
                                                    "Exportovat do PowerPointu", "Přidat případ"],
        "/teaching/collections/": ["Moje kolekce", "Nová kolekce"],
        f"/teaching/collections/{collection.pk}/present/": ["Anamnéza", "černá obrazovka"],
        f"/teaching/classes/{assignment.klass_id}/": ["Kód pro vstup:", "Zadat kolekci"],
        f"/teaching/assignments/{assignment.pk}/results/": ["Podle studentů",
                                                            "Nejčastější chybné odpovědi"],
        "/": ["Případ dne", "Kolekce", "Třídy"],
    }  # fmt: skip
    for url, texts in pages.items():
        html = t.get(url).content.decode()
        for text in texts:
            assert text in html, (url, text)
    assert (
        "Present (conference mode)"
        not in t.get(f"/teaching/collections/{collection.pk}/").content.decode()
    )


def test_the_students_pages_are_in_czech(student, assignment, cases):
    s = _cs(student)
    pages = {
        "/": ["Vaše úkoly", "Opakování", "zodpovězeno 0 z 5"],
        f"/teaching/assignments/{assignment.pk}/": ["Odpověděli jste na 0 z 5 případů"],
        f"/teaching/assignments/{assignment.pk}/cases/1/": ["Případ 1 z 5", "Hádám",
                                                            "Klikněte na ložisko"],
        "/teaching/review/": ["Zatím nic k opakování"],
        "/my/progress/": ["Najít zodpovězený případ"],
        f"/cases/{cases['fracture'].pk}/": ["Odpovědět v úkolu", "Uložit na později"],
    }  # fmt: skip
    for url, texts in pages.items():
        html = s.get(url).content.decode()
        for text in texts:
            assert text in html, (url, text)
