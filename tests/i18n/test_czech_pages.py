"""No English word of the interface on any page a user can reach in Czech: every GET URL of the
permission matrix, as each role (anonymous, student, the case's teacher, another teacher, a
curator, the site's administrator), with a revision pending on the published case (the
curator's review on the case page and in the admin, the conflict with a direct edit), the
admin pages curators use, and the styled 403/404/500 pages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from archive.models import Case, Series
from archive.services import revisions as revision_services
from tests.i18n.english import english_left, visible_text
from tests.permissions import test_matrix as matrix

pytestmark = pytest.mark.django_db(transaction=True)

#: The permission matrix's objects (its fixture, used here under its own name).
world = matrix.world

#: Pages of the admin curators work in beyond the matrix's representative rows.
ADMIN_PAGES = [
    ("GET", "/admin/archive/case/{case}/change/", "published"),  # the revision's review
    ("GET", "/admin/archive/case/?revision=submitted", "-"),
    ("GET", "/admin/archive/case/?status__exact=submitted", "-"),
    ("GET", "/admin/archive/case/{case}/history/", "published"),
    ("GET", "/admin/archive/tag/", "-"),
    ("POST", "/admin/archive/case/", "return_to_author"),  # an action's own page
    ("POST", "/admin/archive/case/", "edit_tags"),
]


def _czech(user=None) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="cs")
    if user is not None:
        c.force_login(user)
    return c


@pytest.fixture
def czech_world(world):
    """The matrix's world with Czech case texts (what teachers type is no interface text) and
    a submitted revision of the published case whose title was also changed directly."""
    published, draft = world["published"], world["draft"]
    Case.objects.filter(pk=draft.pk).update(title="Rozpracovaný případ")
    Case.objects.filter(pk=published.pk).update(
        title="Pneumotorax vpravo", history="Náhlá dušnost po dlouhém letu."
    )
    Series.objects.filter(study__case__in=[draft, published]).update(description="Plicní okno")
    from teaching.models import Assignment, Collection, TeachingClass

    Collection.objects.update(title="Hrudní nálezy")
    TeachingClass.objects.update(name="Radiologie, 4. ročník")
    Assignment.objects.update(title="Týden 1")
    teacher = world["users"]["owner"]
    published = Case.objects.get(pk=published.pk)
    revision = revision_services.open_revision(case=published, user=teacher)
    fields = {**revision.fields, "title": "Spontánní pneumotorax vpravo"}
    revision_services.save_revision(
        revision=revision, user=teacher, fields=fields, series=revision.series
    )
    revision_services.submit_revision(revision=revision, user=teacher)
    Case.objects.filter(pk=published.pk).update(title="Pneumotorax vpravo nahoře")
    world["users"]["admin"] = User.objects.create_superuser("spravce", password="pw-spravce")
    return world


def _html(response) -> str | None:
    if not response.get("Content-Type", "").startswith("text/html"):
        return None
    return response.content.decode()


def test_no_english_on_the_czech_pages_of_any_role(czech_world):
    values = {
        kind: matrix._values(czech_world[kind], czech_world["item"])
        for kind in ("draft", "published")
    }
    values["teaching"] = {**values["published"], **czech_world["teaching"]}
    published = czech_world["published"].pk
    found: dict[str, set[str]] = {}
    pages = 0
    statuses: set[int] = set()
    conflict_shown = False
    for role, user in czech_world["users"].items():
        c = _czech(user)
        requests = [(m, t, k) for _, m, t, k, _ in matrix.MATRIX if m == "GET"] + ADMIN_PAGES
        for method, template, kind in requests:
            url = template.format(**values.get(kind, values["draft"]))
            # What a user searches for is shown back to them: in Czech here.
            url = url.replace("q=case", "q=pneumotorax").replace("q=ca", "q=pn")
            if method == "GET":
                response = c.get(url)
            else:
                data = {"action": kind, "_selected_action": [published], "index": "0"}
                response = c.post(url, data)
            html = _html(response)
            if html is None:
                continue
            pages += 1
            statuses.add(response.status_code)
            if role == "curator" and url == f"/cases/{published}/":
                conflict_shown = "Změněno touto revizí i přímo od jejího zahájení: Název" in html
            assert '<html lang="cs"' in html or "<html" not in html, url
            for piece in english_left(visible_text(html)):
                found.setdefault(piece, set()).add(f"{role} {method} {url}")
    with translation.override("cs"):
        from django.test import RequestFactory
        from django.views.defaults import server_error

        html = server_error(RequestFactory().get("/")).content.decode()
    for piece in english_left(visible_text(html)):
        found.setdefault(piece, set()).add("500 page")
    assert pages > 200
    assert {200, 403, 404} <= statuses  # the styled error pages were read too
    assert conflict_shown  # the curator's review of the revision, conflict included
    report = "\n".join(f"{piece!r}: {sorted(where)[:3]}" for piece, where in sorted(found.items()))
    assert not found, f"English on {len(found)} Czech page texts:\n{report}"
