"""Who gets what: anonymous / student / teacher (owner) / other teacher / curator × every URL of
the project, for a draft and a published case, in one table. A URL added to the project without
a row here fails ``test_every_url_is_in_the_matrix``."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from archive.models import Case
from archive.services.cases import publish_case
from tests.editor.builders import case_with_images, quarantined_item
from tests.teaching.world import teaching_world

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = ("anonymous", "student", "owner", "other_teacher", "curator")
L = "login"  # 302 to the login page (site login or admin login)

# (route name, method, URL template, case, expected status per role in ROLES order)
# {case} {instance} {upload} {study} {series} {series_pk} {sop} {item} are filled in per case.
MATRIX: list[tuple[str, str, str, str, tuple]] = [
    ("home", "GET", "/", "-", (200, 200, 200, 200, 200)),
    ("login", "GET", "/accounts/login/", "-", (200, 200, 200, 200, 200)),
    ("search", "GET", "/search/?q=case", "-", (L, 200, 200, 200, 200)),
    ("api-search", "GET", "/api/search?q=case", "-", (401, 200, 200, 200, 200)),
    ("api-autocomplete", "GET", "/api/autocomplete?q=ca", "-", (401, 200, 200, 200, 200)),
    ("api-diagnoses", "GET", "/api/diagnoses?q=ca", "-", (401, 403, 200, 200, 200)),
    ("my-cases", "GET", "/my/cases/", "-", (L, 403, 200, 200, 200)),
    ("my-progress", "GET", "/my/progress/", "-", (L, 200, 200, 200, 200)),
    ("case-create", "GET", "/cases/new/", "-", (L, 403, 200, 200, 200)),
    # A draft: its author and curators only; to anyone else it does not exist (404).
    ("case-detail", "GET", "/cases/{case}/", "draft", (L, 404, 200, 404, 200)),
    ("case-edit", "GET", "/cases/{case}/edit/", "draft", (L, 404, 200, 404, 200)),
    ("case-upload", "POST", "/cases/{case}/upload/", "draft", (L, 404, 302, 404, 302)),
    ("case-submit", "POST", "/cases/{case}/submit/", "draft", (L, 404, 302, 404, 403)),
    ("case-download", "GET", "/cases/{case}/download.zip", "draft", (L, 404, 200, 404, 200)),
    # Case packages: published cases only, by teachers and curators.
    ("case-package", "GET", "/cases/{case}/package.zip", "draft", (L, 404, 403, 404, 403)),
    ("package-import", "GET", "/cases/import/", "-", (L, 403, 200, 200, 200)),
    ("case-key-images", "POST", "/cases/{case}/key-images/", "draft", (L, 404, 400, 404, 400)),
    ("case-key-image-delete", "POST", "/cases/{case}/key-images/999999/delete", "draft",
     (L, 404, 404, 404, 404)),
    # Not a quiz case: those who may see it are sent back to the case page.
    ("quiz-answer", "POST", "/cases/{case}/quiz/answer", "draft", (L, 404, 302, 404, 302)),
    ("quiz-choices", "GET", "/cases/{case}/quiz/choices/", "draft", (L, 404, 302, 404, 302)),
    ("upload-status", "GET", "/uploads/{upload}/status", "draft", (L, 404, 200, 404, 200)),
    ("instance-frame", "GET", "/instances/{instance}/frames/0.png", "draft",
     (L, 404, 200, 404, 200)),
    ("instance-window", "GET", "/instances/{instance}/frames/0/window.json", "draft",
     (L, 404, 200, 404, 200)),
    ("instance-download", "GET", "/instances/{instance}/download", "draft",
     (L, 404, 200, 404, 200)),
    # Teacher review of the redaction (an empty form is sent back to the editor with a message).
    ("series-redaction-boxes", "POST", "/series/{series_pk}/redaction-boxes/", "draft",
     (L, 404, 302, 404, 302)),
    ("series-redaction-box-delete", "POST", "/series/{series_pk}/redaction-boxes/999999/delete",
     "draft", (L, 404, 404, 404, 404)),
    ("series-redaction-status", "GET", "/series/{series_pk}/redaction.json", "draft",
     (L, 404, 200, 404, 200)),
    ("series-preview", "GET", "/series/{series_pk}/preview", "draft", (L, 404, 200, 404, 200)),
    ("series-review", "GET", "/series/{series_pk}/review/", "draft", (L, 404, 200, 404, 200)),
    ("case-finish-review", "POST", "/cases/{case}/finish-review", "draft",
     (L, 404, 302, 404, 302)),
    # Curation on the case page: curators (no action chosen: back to the case with a message).
    ("case-curate", "POST", "/cases/{case}/curation", "draft", (L, 404, 403, 404, 302)),
    # Series and images under control of whoever may edit the case (no action: a message).
    # Peer review comments: teachers and curators who see the case (an empty one: a message).
    ("case-comments", "POST", "/cases/{case}/comments/", "draft", (L, 404, 302, 404, 302)),
    ("case-comments", "POST", "/cases/{case}/comments/", "published", (L, 403, 302, 302, 302)),
    ("series-manage", "POST", "/series/{series_pk}/manage", "draft", (L, 404, 302, 404, 302)),
    ("series-images", "GET", "/series/{series_pk}/images/", "draft", (L, 404, 200, 404, 200)),
    ("instance-manage", "POST", "/instances/{instance}/manage", "draft",
     (L, 404, 302, 404, 302)),
    # Published: every logged-in user reads it; only curators change it.
    ("case-detail", "GET", "/cases/{case}/", "published", (L, 200, 200, 200, 200)),
    # Its author changes a published case as a revision (sent to the revision editor).
    ("case-edit", "GET", "/cases/{case}/edit/", "published", (L, 403, 302, 403, 200)),
    ("case-upload", "POST", "/cases/{case}/upload/", "published", (L, 403, 403, 403, 302)),
    ("case-submit", "POST", "/cases/{case}/submit/", "published", (L, 403, 302, 403, 403)),
    ("case-download", "GET", "/cases/{case}/download.zip", "published", (L, 200, 200, 200, 200)),
    ("case-package", "GET", "/cases/{case}/package.zip", "published", (L, 403, 200, 200, 200)),
    # Key images: the author keeps the editor after publishing (an empty request: 400).
    ("case-key-images", "POST", "/cases/{case}/key-images/", "published",
     (L, 403, 400, 403, 400)),
    ("case-key-image-delete", "POST", "/cases/{case}/key-images/999999/delete", "published",
     (L, 403, 404, 403, 404)),
    # Revisions of a published case: its author writes and submits (no revision yet: back to
    # the editor with a message); curators publish or return one (none pending: 404).
    ("case-revise", "GET", "/cases/{case}/revision/", "published", (L, 403, 200, 403, 403)),
    ("case-revise", "GET", "/cases/{case}/revision/", "draft", (L, 404, 403, 404, 403)),
    ("case-revision-submit", "POST", "/cases/{case}/revision/submit", "published",
     (L, 403, 302, 403, 403)),
    ("case-revision-submit", "POST", "/cases/{case}/revision/submit", "draft",
     (L, 404, 403, 404, 403)),
    ("case-revision-curate", "POST", "/cases/{case}/revision/curation", "published",
     (L, 403, 403, 403, 404)),
    ("case-revision-curate", "POST", "/cases/{case}/revision/curation", "draft",
     (L, 404, 403, 404, 404)),
    ("upload-status", "GET", "/uploads/{upload}/status", "published", (L, 404, 200, 404, 200)),
    ("instance-frame", "GET", "/instances/{instance}/frames/0.png", "published",
     (L, 200, 200, 200, 200)),
    ("instance-window", "GET", "/instances/{instance}/frames/0/window.json", "published",
     (L, 200, 200, 200, 200)),
    ("instance-download", "GET", "/instances/{instance}/download", "published",
     (L, 200, 200, 200, 200)),
    ("series-redaction-boxes", "POST", "/series/{series_pk}/redaction-boxes/", "published",
     (L, 403, 403, 403, 302)),
    ("series-redaction-box-delete", "POST", "/series/{series_pk}/redaction-boxes/999999/delete",
     "published", (L, 403, 403, 403, 404)),
    ("series-redaction-status", "GET", "/series/{series_pk}/redaction.json", "published",
     (L, 403, 403, 403, 200)),
    ("series-preview", "GET", "/series/{series_pk}/preview", "published",
     (L, 403, 403, 403, 200)),
    ("series-review", "GET", "/series/{series_pk}/review/", "published",
     (L, 403, 403, 403, 200)),
    ("case-finish-review", "POST", "/cases/{case}/finish-review", "published",
     (L, 403, 403, 403, 302)),
    ("case-curate", "POST", "/cases/{case}/curation", "published", (L, 403, 403, 403, 302)),
    ("series-manage", "POST", "/series/{series_pk}/manage", "published",
     (L, 403, 403, 403, 302)),
    ("series-images", "GET", "/series/{series_pk}/images/", "published",
     (L, 403, 403, 403, 200)),
    ("instance-manage", "POST", "/instances/{instance}/manage", "published",
     (L, 403, 403, 403, 302)),
    # Curation happens in the admin: staff curators only, everyone else goes to its login.
    ("admin:index", "GET", "/admin/", "-", (L, L, L, L, 200)),
    ("admin:archive_case_changelist", "GET", "/admin/archive/case/", "-", (L, L, L, L, 200)),
    ("admin:archive_case_change", "GET", "/admin/archive/case/{case}/change/", "draft",
     (L, L, L, L, 200)),
    ("admin:archive_uploaditem_changelist", "GET", "/admin/archive/uploaditem/", "-",
     (L, L, L, L, 200)),
    ("admin:archive_uploaditem_quarantine", "GET", "/admin/archive/uploaditem/{item}/quarantine/",
     "draft", (L, L, L, L, 200)),
    ("admin:archive_diagnosis_changelist", "GET", "/admin/archive/diagnosis/", "-",
     (L, L, L, L, 200)),
    ("admin:archive_upload_changelist", "GET", "/admin/archive/upload/", "-", (L, L, L, L, 200)),
    ("admin:archive_receivedstudyfailure_changelist", "GET",
     "/admin/archive/receivedstudyfailure/", "-", (L, L, L, L, 200)),
    # DICOMweb: logged-in users (session or HTTP Basic), the same visibility as the case page.
    ("dicomweb:studies", "GET", "/dicomweb/studies", "-", (401, 200, 200, 200, 200)),
    ("dicomweb:study", "GET", "/dicomweb/studies/{study}", "draft", (401, 404, 200, 404, 200)),
    ("dicomweb:study", "GET", "/dicomweb/studies/{study}", "published", (401, 200, 200, 200, 200)),
    ("dicomweb:study-metadata", "GET", "/dicomweb/studies/{study}/metadata", "draft",
     (401, 404, 200, 404, 200)),
    ("dicomweb:study-metadata", "GET", "/dicomweb/studies/{study}/metadata", "published",
     (401, 200, 200, 200, 200)),
    ("dicomweb:study-series", "GET", "/dicomweb/studies/{study}/series", "published",
     (401, 200, 200, 200, 200)),
    ("dicomweb:series", "GET", "/dicomweb/studies/{study}/series/{series}", "published",
     (401, 200, 200, 200, 200)),
    ("dicomweb:series-metadata", "GET", "/dicomweb/studies/{study}/series/{series}/metadata",
     "published", (401, 200, 200, 200, 200)),
    ("dicomweb:series-instances", "GET", "/dicomweb/studies/{study}/series/{series}/instances",
     "published", (401, 200, 200, 200, 200)),
    ("dicomweb:instance", "GET", "/dicomweb/studies/{study}/series/{series}/instances/{sop}",
     "draft", (401, 404, 200, 404, 200)),
    ("dicomweb:instance", "GET", "/dicomweb/studies/{study}/series/{series}/instances/{sop}",
     "published", (401, 200, 200, 200, 200)),
    ("dicomweb:instance-metadata", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/metadata", "published",
     (401, 200, 200, 200, 200)),
    ("dicomweb:bulkdata", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/bulkdata/7FE00010", "draft",
     (401, 404, 200, 404, 200)),
    ("dicomweb:rendered-frame", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/frames/1/rendered", "published",
     (401, 200, 200, 200, 200)),
    ("dicomweb:rendered-frame", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/frames/1/rendered", "draft",
     (401, 404, 200, 404, 200)),
    ("dicomweb:all-series", "GET", "/dicomweb/series", "-", (401, 200, 200, 200, 200)),
    ("dicomweb:all-instances", "GET", "/dicomweb/instances", "-", (401, 200, 200, 200, 200)),
    ("dicomweb:study-instances", "GET", "/dicomweb/studies/{study}/instances", "published",
     (401, 200, 200, 200, 200)),
    ("dicomweb:frames", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/frames/1", "draft",
     (401, 404, 200, 404, 200)),
    ("dicomweb:frames", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/frames/1", "published",
     (401, 200, 200, 200, 200)),
    ("dicomweb:study-rendered", "GET", "/dicomweb/studies/{study}/rendered", "draft",
     (401, 404, 200, 404, 200)),
    ("dicomweb:study-rendered", "GET", "/dicomweb/studies/{study}/rendered", "published",
     (401, 200, 200, 200, 200)),
    ("dicomweb:series-rendered", "GET", "/dicomweb/studies/{study}/series/{series}/rendered",
     "draft", (401, 404, 200, 404, 200)),
    ("dicomweb:series-rendered", "GET", "/dicomweb/studies/{study}/series/{series}/rendered",
     "published", (401, 200, 200, 200, 200)),
    ("dicomweb:instance-rendered", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/rendered", "draft",
     (401, 404, 200, 404, 200)),
    ("dicomweb:instance-rendered", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/rendered", "published",
     (401, 200, 200, 200, 200)),
    ("dicomweb:study-thumbnail", "GET", "/dicomweb/studies/{study}/thumbnail", "draft",
     (401, 404, 200, 404, 200)),
    ("dicomweb:study-thumbnail", "GET", "/dicomweb/studies/{study}/thumbnail", "published",
     (401, 200, 200, 200, 200)),
    ("dicomweb:series-thumbnail", "GET", "/dicomweb/studies/{study}/series/{series}/thumbnail",
     "draft", (401, 404, 200, 404, 200)),
    ("dicomweb:series-thumbnail", "GET", "/dicomweb/studies/{study}/series/{series}/thumbnail",
     "published", (401, 200, 200, 200, 200)),
    ("dicomweb:instance-thumbnail", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/thumbnail", "draft",
     (401, 404, 200, 404, 200)),
    ("dicomweb:instance-thumbnail", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/thumbnail", "published",
     (401, 200, 200, 200, 200)),
    ("dicomweb:frame-thumbnail", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/frames/1/thumbnail", "draft",
     (401, 404, 200, 404, 200)),
    ("dicomweb:frame-thumbnail", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/frames/1/thumbnail",
     "published", (401, 200, 200, 200, 200)),
    # The teaching loop ("teaching": the owner's private collection of the published case,
    # assigned to the owner's class, whose student answered it). Collections: their owner;
    # presenting, exporting and revealing: teachers who see it; a class: its teachers and
    # students; its results: its teachers only. Empty POSTs are refused with a message.
    ("teaching:collection-list", "GET", "/teaching/collections/", "-", (L, 200, 200, 200, 200)),
    ("teaching:collection-create", "POST", "/teaching/collections/new", "-",
     (L, 403, 302, 302, 302)),
    ("teaching:collection-detail", "GET", "/teaching/collections/{collection}/", "teaching",
     (L, 404, 200, 404, 404)),
    ("teaching:collection-edit", "POST", "/teaching/collections/{collection}/edit", "teaching",
     (L, 404, 302, 404, 404)),
    ("teaching:entry-add", "POST", "/teaching/collections/{collection}/entries/add", "teaching",
     (L, 404, 302, 404, 404)),
    ("teaching:entry-edit", "POST", "/teaching/collections/{collection}/entries/{entry}/edit",
     "teaching", (L, 404, 302, 404, 404)),
    ("teaching:entry-remove", "POST",
     "/teaching/collections/{collection}/entries/999999/remove", "teaching",
     (L, 404, 404, 404, 404)),
    ("teaching:entry-move", "POST", "/teaching/collections/{collection}/entries/{entry}/move",
     "teaching", (L, 404, 400, 404, 404)),
    ("teaching:collection-reorder", "POST", "/teaching/collections/{collection}/reorder",
     "teaching", (L, 404, 400, 404, 404)),
    ("teaching:collection-duplicate", "POST", "/teaching/collections/{collection}/duplicate",
     "teaching", (L, 404, 302, 404, 404)),
    # Assigned to a class: refused with a message, the collection stays.
    ("teaching:collection-delete", "POST", "/teaching/collections/{collection}/delete",
     "teaching", (L, 404, 302, 404, 404)),
    ("teaching:entry-study", "GET", "/teaching/collections/{collection}/entries/{entry}/",
     "teaching", (L, 404, 302, 404, 404)),
    ("teaching:collection-present", "GET", "/teaching/collections/{collection}/present/",
     "teaching", (L, 404, 200, 404, 404)),
    ("teaching:collection-reveal", "GET",
     "/teaching/collections/{collection}/present/{entry}/reveal", "teaching",
     (L, 404, 200, 404, 404)),
    ("teaching:collection-export", "GET", "/teaching/collections/{collection}/export.pptx",
     "teaching", (L, 404, 200, 404, 404)),
    ("teaching:collection-package", "GET", "/teaching/collections/{collection}/package.zip",
     "teaching", (L, 404, 200, 404, 404)),
    ("teaching:case-collect", "POST", "/teaching/cases/{case}/collect", "published",
     (L, 403, 302, 302, 302)),
    ("teaching:case-collect", "POST", "/teaching/cases/{case}/collect", "draft",
     (L, 404, 302, 404, 302)),
    # The lesion's region: whoever may edit the case (key images' rule).
    ("teaching:lesion-editor", "GET", "/teaching/cases/{case}/lesion/", "draft",
     (L, 404, 200, 404, 200)),
    ("teaching:lesion-editor", "GET", "/teaching/cases/{case}/lesion/", "published",
     (L, 403, 403, 403, 200)),
    ("teaching:lesion-save", "POST", "/teaching/cases/{case}/lesion/save", "draft",
     (L, 404, 302, 404, 302)),
    ("teaching:lesion-save", "POST", "/teaching/cases/{case}/lesion/save", "published",
     (L, 403, 403, 403, 302)),
    ("teaching:class-list", "GET", "/teaching/classes/", "-", (L, 200, 200, 200, 200)),
    ("teaching:class-create", "POST", "/teaching/classes/new", "-", (L, 403, 302, 302, 302)),
    ("teaching:class-detail", "GET", "/teaching/classes/{klass}/", "teaching",
     (L, 200, 200, 404, 404)),
    ("teaching:class-invite", "POST", "/teaching/classes/{klass}/invite", "teaching",
     (L, 403, 302, 404, 404)),
    ("teaching:class-remove-student", "POST", "/teaching/classes/{klass}/students/999999/remove",
     "teaching", (L, 403, 302, 404, 404)),
    ("teaching:assignment-create", "POST", "/teaching/classes/{klass}/assign", "teaching",
     (L, 403, 302, 404, 404)),
    ("teaching:class-join", "GET", "/teaching/join/", "-", (L, 200, 200, 200, 200)),
    ("teaching:assignment-detail", "GET", "/teaching/assignments/{assignment}/", "teaching",
     (L, 200, 200, 404, 404)),
    # The student answered it: their result; its teacher: the case itself.
    ("teaching:assignment-case", "GET", "/teaching/assignments/{assignment}/cases/1/",
     "teaching", (L, 302, 302, 404, 404)),
    ("teaching:attempt-result", "GET", "/teaching/attempts/{attempt}/", "teaching",
     (L, 200, 200, 404, 404)),
    ("teaching:assignment-results", "GET", "/teaching/assignments/{assignment}/results/",
     "teaching", (L, 404, 200, 404, 404)),
    ("teaching:assignment-results-csv", "GET", "/teaching/assignments/{assignment}/results.csv",
     "teaching", (L, 404, 200, 404, 404)),
    ("teaching:student-progress", "GET", "/teaching/classes/{klass}/students/{student_id}/",
     "teaching", (L, 404, 200, 404, 404)),
    ("teaching:review-queue", "GET", "/teaching/review/", "-", (L, 200, 200, 200, 200)),
    ("teaching:review-next", "GET", "/teaching/review/next", "-", (L, 302, 302, 302, 302)),
    ("teaching:review-case", "GET", "/teaching/review/cases/{case}/", "published",
     (L, 200, 200, 200, 200)),
    ("teaching:review-case", "GET", "/teaching/review/cases/{case}/", "draft",
     (L, 404, 404, 404, 404)),
    ("teaching:bookmarks", "GET", "/teaching/bookmarks/", "-", (L, 200, 200, 200, 200)),
    ("teaching:bookmark-toggle", "POST", "/teaching/cases/{case}/bookmark", "published",
     (L, 302, 302, 302, 302)),
    ("teaching:bookmark-toggle", "POST", "/teaching/cases/{case}/bookmark", "draft",
     (L, 404, 302, 404, 302)),
]  # fmt: skip

# Django's own account pages (password reset/change, logout, set_language) need no row.
DJANGO_OWN = {
    "logout", "password_change", "password_change_done", "password_reset",
    "password_reset_done", "password_reset_confirm", "password_reset_complete", "set_language",
}  # fmt: skip


def _route_names(patterns, namespace: str = "") -> set[str]:
    names = set()
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            if ns == "admin:":
                continue  # the admin's generated pages: representative rows above
            names |= _route_names(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name:
            names.add(namespace + p.name)
    return names


def test_every_url_is_in_the_matrix():
    covered = {row[0] for row in MATRIX}
    missing = _route_names(get_resolver().url_patterns) - covered - DJANGO_OWN
    assert not missing, f"add these URLs to the permission matrix: {sorted(missing)}"


@pytest.fixture
def world(teacher, other_teacher, student, curator, phi_file):
    draft = case_with_images(teacher, [phi_file()], title="Draft case")
    item = quarantined_item(draft)
    # New original UIDs, so the published case has its own study, series and instance.
    from pydicom.uid import generate_uid

    def new_uids(ds):
        ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()

    published = case_with_images(teacher, [phi_file(dataset_hook=new_uids)], title="Published")
    publish_case(case=published, user=curator)
    teaching = teaching_world(teacher=teacher, student=student, cases=[published])
    users = {
        "anonymous": None,
        "student": student,
        "owner": teacher,
        "other_teacher": other_teacher,
        "curator": curator,
    }
    return {
        "draft": draft,
        "published": published,
        "item": item,
        "users": users,
        "teaching": teaching,
    }


def _values(case: Case, item=None) -> dict:
    """The URL parts of a case's first image (and of a quarantined item, when given)."""
    instance = case.instances().select_related("series__study").first()
    return {
        "case": case.pk,
        "instance": instance.pk,
        "upload": case.uploads.first().public_id,
        "study": instance.series.study.study_uid,
        "series": instance.series.series_uid,
        "series_pk": instance.series_id,
        "sop": instance.sop_uid,
        "item": item.pk if item else None,
    }


def test_permission_matrix(world):
    values = {kind: _values(world[kind], world["item"]) for kind in ("draft", "published")}
    values["teaching"] = {**values["published"], **world["teaching"]}
    clients = {}
    for role, user in world["users"].items():
        clients[role] = Client()
        if user is not None:
            clients[role].force_login(user)
    wrong = []
    for name, method, template, kind, expected in MATRIX:
        url = template.format(**values.get(kind, values["draft"]))
        for role, want in zip(ROLES, expected, strict=True):
            c = clients[role]
            response = c.get(url) if method == "GET" else c.post(url, {})
            got = response.status_code
            if want == L:
                ok = got == 302 and "login" in response["Location"]
            else:
                ok = got == want
            if not ok:
                wrong.append(f"{kind:9} {method} {url} as {role}: expected {want}, got {got}")
            if kind == "published" and name == "case-submit" and got == 302:
                Case.objects.filter(pk=world["published"].pk).update(status="published")
    assert not wrong, "\n".join(wrong)


def test_no_url_serves_the_storage_folders(world, settings, storage_dirs):
    instance = world["published"].instances().first()
    item = world["item"]
    raw = storage_dirs["holding"] / "leftover.dcm"
    raw.write_bytes(b"raw")
    curator = Client()
    curator.force_login(world["users"]["curator"])
    paths = [
        f"/media/{instance.file.name}",
        f"{settings.MEDIA_URL}{instance.file.name}",
        f"/media/{item.quarantined_file.name}",
        f"/quarantine/{item.quarantined_file.name}",
        "/holding/leftover.dcm",
        "/media/leftover.dcm",
        f"/static/{instance.file.name}",
        "/var/media/",
    ]
    for path in paths:
        for c in (Client(), curator):
            assert c.get(path).status_code == 404, path
