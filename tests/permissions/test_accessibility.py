"""Accessibility basics: every form control has a label, every image has alt text."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from archive.services.cases import publish_case
from tests.editor.builders import case_with_images, hcc

pytestmark = pytest.mark.django_db(transaction=True)

SKIP_TYPES = {"hidden", "submit", "button", "reset", "image"}


class Controls(HTMLParser):
    def __init__(self):
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.images: list[dict] = []
        self._label_depth = 0

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in {"input", "select", "textarea"}:
            if tag == "input" and a.get("type", "text") in SKIP_TYPES:
                return
            self.controls.append({**a, "_tag": tag, "_wrapped": self._label_depth > 0})
        elif tag == "img":
            self.images.append(a)

    def handle_endtag(self, tag):
        if tag == "label" and self._label_depth:
            self._label_depth -= 1


def unlabelled(html: str) -> tuple[list[str], list[str]]:
    parser = Controls()
    parser.feed(html)
    bad = [
        f"<{c['_tag']} name={c.get('name')!r} id={c.get('id')!r}>"
        for c in parser.controls
        if not (
            c.get("aria-label")
            or c.get("aria-labelledby")
            or c["_wrapped"]
            or (c.get("id") and c["id"] in parser.label_for)
        )
    ]
    no_alt = [i.get("src", "?") for i in parser.images if "alt" not in i]
    return bad, no_alt


@pytest.fixture
def pages(teacher, student, curator, phi_file):
    hcc()
    draft = case_with_images(teacher, [phi_file()], title="Draft for labels")
    published = case_with_images(teacher, [phi_file()], title="Published for labels")
    publish_case(case=published, user=curator)
    return {
        None: ["/", "/accounts/login/"],
        teacher: ["/", "/my/cases/", "/cases/new/", f"/cases/{draft.pk}/edit/",
                  f"/cases/{draft.pk}/"],
        student: ["/", "/search/?q=labels", f"/cases/{published.pk}/"],
        curator: ["/admin/archive/case/", f"/admin/archive/case/{draft.pk}/change/",
                  "/admin/archive/uploaditem/"],
    }  # fmt: skip


def test_every_control_has_a_label_and_every_image_alt_text(pages):
    problems = []
    for user, urls in pages.items():
        c = Client()
        if user is not None:
            c.force_login(user)
        for url in urls:
            for lang in ("en", "cs"):
                response = c.get(url, HTTP_ACCEPT_LANGUAGE=lang)
                assert response.status_code == 200, url
                bad, no_alt = unlabelled(response.content.decode())
                problems += [f"{url} ({lang}): unlabelled {b}" for b in bad]
                problems += [f"{url} ({lang}): image without alt {s}" for s in no_alt]
    assert not problems, "\n".join(problems)


def test_the_checker_notices_a_missing_label():
    bad, no_alt = unlabelled(
        '<input name="x"><img src="a.png"><label for="y">Y</label><input id="y">'
    )
    assert bad == ["<input name='x' id=None>"] and no_alt == ["a.png"]
