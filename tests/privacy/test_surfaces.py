"""The privacy contract, walked over every surface of the project as a student would attack it.

The world: a published **quiz** case the student has not answered, whose teacher slipped the
diagnosis (pneumothorax) into the title, history, tags, a key-image caption and the DICOM
descriptions (as "PTX" and "J93.1" too); and a case that was published, indexed and then
**unpublished** with no worker running, whose document the index still holds (re-written after
the removal, as a lagging Elasticsearch would). For every URL of the project there is a row: the
status the student gets and, where the surface shows the quiz case, a piece of it that proves the
case really was served. No response may contain a way of writing the quiz's diagnosis, nor a word
of the unpublished case. A URL without a row fails ``test_every_url_has_a_row``.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile

import pytest
from django.test import Client
from django.utils import timezone

from archive.models import Case, CaseRevision, KeyImage, QuizAnswer, Tag
from archive.services.cases import unpublish_case
from search.backends import get_search_backend
from search.documents import build_document
from search.services import index_case
from teaching.models import Assignment
from tests.conftest import _user
from tests.permissions.test_matrix import DJANGO_OWN, _route_names, _values
from tests.teaching.world import teaching_world
from tests.viewer.factories import ct_stack, make_case, pneumothorax

pytestmark = pytest.mark.django_db(transaction=True)

# Every way of writing the quiz's diagnosis (written out here, not computed by the code under
# test), and words that only the unpublished case contains.
QUIZ_SECRETS = re.compile(
    r"(?<!\w)(pneumo\s*thorax\w*|pneumotorax|ptx|collapsed lung|j93\w*)(?!\w)"
)
DRAFT_SECRETS = re.compile(r"(?<!\w)(zebrafinch|aortic dissection|dissection)(?!\w)")

# (route name, method, URL template, case kind, student's status, proof the case was served)
# {case} {instance} {study} {series} {series_pk} {sop} {upload} are the case kind's values.
SURFACES: list[tuple[str, str, str, str, int, str | None]] = [
    ("home", "GET", "/", "-", 200, "after a long flight"),
    ("login", "GET", "/accounts/login/", "-", 200, None),
    ("search", "GET", "/search/?q=flight", "-", 200, "after a long"),
    ("search", "GET", "/search/?q=rupture", "-", 200, None),
    ("api-search", "GET", "/api/search?q=flight", "-", 200, "after a long flight"),
    ("api-search", "GET", "/api/search?q=", "-", 200, "after a long flight"),
    ("api-autocomplete", "GET", "/api/autocomplete?q=pn", "-", 200, None),
    ("api-autocomplete", "GET", "/api/autocomplete?q=ao", "-", 200, None),
    ("api-autocomplete", "GET", "/api/autocomplete?q=emer", "-", 200, "emergency"),
    ("api-diagnoses", "GET", "/api/diagnoses?q=pn", "-", 403, None),
    ("my-cases", "GET", "/my/cases/", "-", 403, None),
    ("my-progress", "GET", "/my/progress/", "-", 200, None),
    ("case-create", "GET", "/cases/new/", "-", 403, None),
    ("case-detail", "GET", "/cases/{case}/", "quiz", 200, "Tall young man"),
    ("case-detail", "GET", "/cases/{case}/", "draft", 404, None),
    ("case-edit", "GET", "/cases/{case}/edit/", "quiz", 403, None),
    ("case-edit", "GET", "/cases/{case}/edit/", "draft", 404, None),
    ("case-upload", "POST", "/cases/{case}/upload/", "quiz", 403, None),
    ("case-upload", "POST", "/cases/{case}/upload/", "draft", 404, None),
    ("case-submit", "POST", "/cases/{case}/submit/", "quiz", 403, None),
    ("case-submit", "POST", "/cases/{case}/submit/", "draft", 404, None),
    ("case-download", "GET", "/cases/{case}/download.zip", "quiz", 200, "DICM"),
    ("case-download", "GET", "/cases/{case}/download.zip", "draft", 404, None),
    # A case package carries the diagnosis: teachers and curators only, never a hidden quiz.
    ("case-package", "GET", "/cases/{case}/package.zip", "quiz", 403, None),
    ("case-package", "GET", "/cases/{case}/package.zip", "draft", 404, None),
    ("package-import", "GET", "/cases/import/", "-", 403, None),
    ("case-key-images", "POST", "/cases/{case}/key-images/", "quiz", 403, None),
    ("case-key-images", "POST", "/cases/{case}/key-images/", "draft", 404, None),
    ("case-key-image-delete", "POST", "/cases/{case}/key-images/1/delete", "quiz", 403, None),
    ("case-key-image-delete", "POST", "/cases/{case}/key-images/1/delete", "draft", 404, None),
    # An empty answer is refused (nothing recorded); the quiz stays unanswered for the walk.
    ("quiz-answer", "POST", "/cases/{case}/quiz/answer", "quiz", 302, None),
    ("quiz-answer", "POST", "/cases/{case}/quiz/answer", "draft", 404, None),
    # The choices offer the diagnosis among the differential: checked in its own test below.
    ("quiz-choices", "GET", "/cases/{case}/quiz/choices/", "draft", 404, None),
    ("upload-status", "GET", "/uploads/{upload}/status", "quiz", 404, None),
    ("upload-status", "GET", "/uploads/{upload}/status", "draft", 404, None),
    ("instance-frame", "GET", "/instances/{instance}/frames/0.png", "quiz", 200, "PNG"),
    ("instance-frame", "GET", "/instances/{instance}/frames/0.png", "draft", 404, None),
    ("instance-window", "GET", "/instances/{instance}/frames/0/window.json", "quiz", 200,
     "center"),
    ("instance-window", "GET", "/instances/{instance}/frames/0/window.json", "draft", 404, None),
    ("instance-download", "GET", "/instances/{instance}/download", "quiz", 200, "DICM"),
    ("instance-download", "GET", "/instances/{instance}/download", "draft", 404, None),
    ("series-redaction-boxes", "POST", "/series/{series_pk}/redaction-boxes/", "quiz", 403, None),
    ("series-redaction-boxes", "POST", "/series/{series_pk}/redaction-boxes/", "draft", 404,
     None),
    ("series-redaction-box-delete", "POST", "/series/{series_pk}/redaction-boxes/1/delete",
     "quiz", 403, None),
    ("series-redaction-status", "GET", "/series/{series_pk}/redaction.json", "quiz", 403, None),
    ("series-redaction-status", "GET", "/series/{series_pk}/redaction.json", "draft", 404, None),
    ("series-preview", "GET", "/series/{series_pk}/preview", "quiz", 403, None),
    ("series-preview", "GET", "/series/{series_pk}/preview", "draft", 404, None),
    ("series-review", "GET", "/series/{series_pk}/review/", "quiz", 403, None),
    ("series-review", "GET", "/series/{series_pk}/review/", "draft", 404, None),
    ("case-finish-review", "POST", "/cases/{case}/finish-review", "quiz", 403, None),
    ("case-finish-review", "POST", "/cases/{case}/finish-review", "draft", 404, None),
    # Curation on the case page: curators only (a student's POST changes nothing).
    ("case-curate", "POST", "/cases/{case}/curation", "quiz", 403, None),
    ("case-curate", "POST", "/cases/{case}/curation", "draft", 404, None),
    # Revisions of a published case: its author and curators only.
    ("case-revise", "GET", "/cases/{case}/revision/", "quiz", 403, None),
    ("case-revise", "GET", "/cases/{case}/revision/", "draft", 404, None),
    ("case-revision-submit", "POST", "/cases/{case}/revision/submit", "quiz", 403, None),
    ("case-revision-submit", "POST", "/cases/{case}/revision/submit", "draft", 404, None),
    ("case-revision-curate", "POST", "/cases/{case}/revision/curation", "quiz", 403, None),
    ("case-revision-curate", "POST", "/cases/{case}/revision/curation", "draft", 404, None),
    # The teacher's control over series and images: whoever may edit the case.
    ("case-comments", "POST", "/cases/{case}/comments/", "quiz", 403, None),
    ("case-comments", "POST", "/cases/{case}/comments/", "draft", 404, None),
    ("series-manage", "POST", "/series/{series_pk}/manage", "quiz", 403, None),
    ("series-manage", "POST", "/series/{series_pk}/manage", "draft", 404, None),
    ("series-images", "GET", "/series/{series_pk}/images/", "quiz", 403, None),
    ("series-images", "GET", "/series/{series_pk}/images/", "draft", 404, None),
    ("instance-manage", "POST", "/instances/{instance}/manage", "quiz", 403, None),
    ("instance-manage", "POST", "/instances/{instance}/manage", "draft", 404, None),
    # The admin (curators' previews, quarantine): the student is sent to its login.
    ("admin:index", "GET", "/admin/", "-", 302, None),
    ("admin:archive_case_change", "GET", "/admin/archive/case/{case}/change/", "quiz", 302, None),
    # DICOMweb, over HTTP Basic as an external viewer would.
    ("dicomweb:studies", "GET", "/dicomweb/studies", "-", 200, "{study_quiz}"),
    ("dicomweb:study", "GET", "/dicomweb/studies/{study}", "quiz", 200, "DICM"),
    ("dicomweb:study", "GET", "/dicomweb/studies/{study}", "draft", 404, None),
    ("dicomweb:study-metadata", "GET", "/dicomweb/studies/{study}/metadata", "quiz", 200,
     "00081030"),
    ("dicomweb:study-metadata", "GET", "/dicomweb/studies/{study}/metadata", "draft", 404, None),
    ("dicomweb:study-series", "GET", "/dicomweb/studies/{study}/series", "quiz", 200, "0008103E"),
    ("dicomweb:study-series", "GET", "/dicomweb/studies/{study}/series", "draft", 200, None),
    ("dicomweb:series", "GET", "/dicomweb/studies/{study}/series/{series}", "quiz", 200, "DICM"),
    ("dicomweb:series", "GET", "/dicomweb/studies/{study}/series/{series}", "draft", 404, None),
    ("dicomweb:series-metadata", "GET", "/dicomweb/studies/{study}/series/{series}/metadata",
     "quiz", 200, "0008103E"),
    ("dicomweb:series-instances", "GET", "/dicomweb/studies/{study}/series/{series}/instances",
     "quiz", 200, "{sop}"),
    ("dicomweb:instance", "GET", "/dicomweb/studies/{study}/series/{series}/instances/{sop}",
     "quiz", 200, "DICM"),
    ("dicomweb:instance", "GET", "/dicomweb/studies/{study}/series/{series}/instances/{sop}",
     "draft", 404, None),
    ("dicomweb:instance-metadata", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/metadata", "quiz", 200,
     "{sop}"),
    ("dicomweb:bulkdata", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/bulkdata/7FE00010", "quiz", 200,
     None),
    ("dicomweb:bulkdata", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/bulkdata/7FE00010", "draft", 404,
     None),
    ("dicomweb:rendered-frame", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/frames/1/rendered", "quiz", 200,
     "JFIF"),
    # Top-level QIDO, with every attribute the headers offer (descriptions, image comments).
    ("dicomweb:studies", "GET", "/dicomweb/studies?includefield=all", "-", 200,
     "{study_quiz}"),
    ("dicomweb:all-series", "GET", "/dicomweb/series", "-", 200, "{series}"),
    ("dicomweb:all-series", "GET", "/dicomweb/series?includefield=all", "-", 200, "{series}"),
    ("dicomweb:all-instances", "GET", "/dicomweb/instances", "-", 200, "{sop}"),
    ("dicomweb:all-instances", "GET", "/dicomweb/instances?includefield=all", "-", 200,
     "{sop}"),
    ("dicomweb:study-instances", "GET", "/dicomweb/studies/{study}/instances?includefield=all",
     "quiz", 200, "{sop}"),
    ("dicomweb:study-instances", "GET", "/dicomweb/studies/{study}/instances", "draft", 200,
     None),
    # Pixels: frames, rendered images and thumbnails at every level.
    ("dicomweb:frames", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/frames/1", "quiz", 200,
     "transfer-syntax=1.2.840.10008.1.2.1"),
    ("dicomweb:frames", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/frames/1", "draft", 404, None),
    ("dicomweb:study-rendered", "GET", "/dicomweb/studies/{study}/rendered", "quiz", 200,
     "JFIF"),
    ("dicomweb:study-rendered", "GET", "/dicomweb/studies/{study}/rendered", "draft", 404,
     None),
    ("dicomweb:series-rendered", "GET", "/dicomweb/studies/{study}/series/{series}/rendered",
     "quiz", 200, "JFIF"),
    ("dicomweb:series-rendered", "GET", "/dicomweb/studies/{study}/series/{series}/rendered",
     "draft", 404, None),
    ("dicomweb:instance-rendered", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/rendered", "quiz", 200, "JFIF"),
    ("dicomweb:instance-rendered", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/rendered", "draft", 404, None),
    ("dicomweb:study-thumbnail", "GET", "/dicomweb/studies/{study}/thumbnail", "quiz", 200,
     "JFIF"),
    ("dicomweb:study-thumbnail", "GET", "/dicomweb/studies/{study}/thumbnail", "draft", 404,
     None),
    ("dicomweb:series-thumbnail", "GET", "/dicomweb/studies/{study}/series/{series}/thumbnail",
     "quiz", 200, "JFIF"),
    ("dicomweb:series-thumbnail", "GET", "/dicomweb/studies/{study}/series/{series}/thumbnail",
     "draft", 404, None),
    ("dicomweb:instance-thumbnail", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/thumbnail", "quiz", 200,
     "JFIF"),
    ("dicomweb:instance-thumbnail", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/thumbnail", "draft", 404, None),
    ("dicomweb:frame-thumbnail", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/frames/1/thumbnail", "quiz",
     200, "JFIF"),
    ("dicomweb:frame-thumbnail", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/frames/1/thumbnail", "draft",
     404, None),
    ("dicomweb:rendered-frame", "GET",
     "/dicomweb/studies/{study}/series/{series}/instances/{sop}/frames/1/rendered", "draft", 404,
     None),
    # The teaching loop: a public collection of the quiz case (shown as unknown) and of the
    # unpublished case, assigned to the student's class; another student answered the quiz.
    ("teaching:collection-list", "GET", "/teaching/collections/", "-", 200, "Chest emergencies"),
    ("teaching:collection-create", "POST", "/teaching/collections/new", "-", 403, None),
    ("teaching:collection-detail", "GET", "/teaching/collections/{collection}/", "quiz", 200,
     "Unknown case 1"),
    ("teaching:collection-edit", "POST", "/teaching/collections/{collection}/edit", "quiz", 403,
     None),
    ("teaching:entry-add", "POST", "/teaching/collections/{collection}/entries/add", "quiz", 403,
     None),
    ("teaching:entry-edit", "POST", "/teaching/collections/{collection}/entries/{entry}/edit",
     "quiz", 403, None),
    ("teaching:entry-remove", "POST",
     "/teaching/collections/{collection}/entries/{entry}/remove", "quiz", 403, None),
    ("teaching:entry-move", "POST", "/teaching/collections/{collection}/entries/{entry}/move",
     "quiz", 403, None),
    ("teaching:collection-reorder", "POST", "/teaching/collections/{collection}/reorder", "quiz",
     403, None),
    ("teaching:collection-duplicate", "POST", "/teaching/collections/{collection}/duplicate",
     "quiz", 403, None),
    ("teaching:collection-delete", "POST", "/teaching/collections/{collection}/delete", "quiz",
     403, None),
    ("teaching:entry-study", "GET", "/teaching/collections/{collection}/entries/{entry}/", "quiz",
     200, "Tall young man"),
    ("teaching:collection-present", "GET", "/teaching/collections/{collection}/present/", "quiz",
     403, None),
    ("teaching:collection-reveal", "GET",
     "/teaching/collections/{collection}/present/{entry}/reveal", "quiz", 403, None),
    ("teaching:collection-export", "GET", "/teaching/collections/{collection}/export.pptx",
     "quiz", 403, None),
    ("teaching:collection-package", "GET", "/teaching/collections/{collection}/package.zip",
     "quiz", 403, None),
    ("teaching:case-collect", "POST", "/teaching/cases/{case}/collect", "quiz", 403, None),
    ("teaching:case-collect", "POST", "/teaching/cases/{case}/collect", "draft", 404, None),
    ("teaching:lesion-editor", "GET", "/teaching/cases/{case}/lesion/", "quiz", 403, None),
    ("teaching:lesion-editor", "GET", "/teaching/cases/{case}/lesion/", "draft", 404, None),
    ("teaching:lesion-save", "POST", "/teaching/cases/{case}/lesion/save", "quiz", 403, None),
    ("teaching:lesion-save", "POST", "/teaching/cases/{case}/lesion/save", "draft", 404, None),
    ("teaching:class-list", "GET", "/teaching/classes/", "-", 200, "Year 4 radiology"),
    ("teaching:class-create", "POST", "/teaching/classes/new", "-", 403, None),
    ("teaching:class-detail", "GET", "/teaching/classes/{klass}/", "quiz", 200, "Week 1"),
    ("teaching:class-invite", "POST", "/teaching/classes/{klass}/invite", "quiz", 403, None),
    ("teaching:class-remove-student", "POST",
     "/teaching/classes/{klass}/students/{student_id}/remove", "quiz", 403, None),
    ("teaching:assignment-create", "POST", "/teaching/classes/{klass}/assign", "quiz", 403,
     None),
    ("teaching:class-join", "GET", "/teaching/join/", "-", 200, None),
    ("teaching:assignment-detail", "GET", "/teaching/assignments/{assignment}/", "quiz", 200,
     "Case 1"),
    ("teaching:assignment-case", "GET", "/teaching/assignments/{assignment}/cases/1/", "quiz",
     200, "Tall young man"),
    # An empty answer is refused; the form comes back, the quiz stays unanswered.
    ("teaching:assignment-case", "POST", "/teaching/assignments/{assignment}/cases/1/", "quiz",
     200, "Tall young man"),
    ("teaching:assignment-case", "GET", "/teaching/assignments/{assignment}/cases/2/", "quiz",
     404, None),
    # The other student's answer (it names the diagnosis).
    ("teaching:attempt-result", "GET", "/teaching/attempts/{attempt}/", "quiz", 404, None),
    ("teaching:assignment-results", "GET", "/teaching/assignments/{assignment}/results/", "quiz",
     404, None),
    ("teaching:assignment-results-csv", "GET", "/teaching/assignments/{assignment}/results.csv",
     "quiz", 404, None),
    ("teaching:student-progress", "GET", "/teaching/classes/{klass}/students/{student_id}/",
     "quiz", 404, None),
    ("teaching:review-queue", "GET", "/teaching/review/", "-", 200, None),
    ("teaching:review-next", "GET", "/teaching/review/next", "-", 302, None),
    # Waiting in the assignment: answered there.
    ("teaching:review-case", "GET", "/teaching/review/cases/{case}/", "quiz", 302, None),
    ("teaching:review-case", "GET", "/teaching/review/cases/{case}/", "draft", 404, None),
    ("teaching:bookmarks", "GET", "/teaching/bookmarks/", "-", 200, None),
    ("teaching:bookmark-toggle", "POST", "/teaching/cases/{case}/bookmark", "quiz", 302, None),
    ("teaching:bookmark-toggle", "POST", "/teaching/cases/{case}/bookmark", "draft", 404, None),
    # Bookmarked by the row above: the list shows it, as the student sees it.
    ("teaching:bookmarks", "GET", "/teaching/bookmarks/", "-", 200, "after a long flight"),
]  # fmt: skip


def test_every_url_has_a_row():
    from django.urls import get_resolver

    covered = {row[0] for row in SURFACES} | {"quiz-choices"}
    missing = _route_names(get_resolver().url_patterns) - covered - DJANGO_OWN
    # Admin pages are generated per model: the student reaches none (rows above), curators all.
    missing = {m for m in missing if not m.startswith("admin:")}
    assert not missing, f"add these URLs to the privacy contract: {sorted(missing)}"


def _leak_hook(ds):
    # What a scanner or a hurried teacher writes; Clean Descriptors keeps "clinical" text.
    ds.StudyDescription = "CT chest pneumothorax"
    ds.SeriesDescription = "PTX follow up"
    ds.ImageComments = "J93.1 on the right"


def _other_study(ds):
    from pydicom.uid import generate_uid

    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()


@pytest.fixture
def world(teacher, student):
    quiz = make_case(
        teacher,
        ct_stack(2, hook=_leak_hook),
        title="PTX after a long flight",
        history="Tall young man with sudden chest pain. Pneumotorax suspected by the GP.",
        findings="Visceral pleural line, no lung markings beyond it.",
        diagnosis=pneumothorax(),
        differential="Bulla\nSkin fold",
        discussion="Collapsed lung in a tall smoker.",
        quiz_mode=True,
    )
    quiz.tags.add(Tag.objects.create(name="Pneumothorax"), Tag.objects.create(name="emergency"))
    KeyImage.objects.create(
        case=quiz,
        instance=quiz.instances().first(),
        caption="Pneumothorax on the right",
        annotations=[{"type": "arrow", "x1": 0.2, "y1": 0.2, "x2": 0.4, "y2": 0.4, "label": "PTX"}],
    )
    from archive.models import Diagnosis

    dissection = Diagnosis.objects.create(name="Aortic dissection", icd10="I71.0")
    draft = make_case(
        teacher,
        ct_stack(1, hook=_other_study),
        title="Zebrafinch rupture",
        findings="Intimal flap: a dissection",
        diagnosis=dissection,
    )
    draft.tags.add(Tag.objects.create(name="zebrafinch"))
    # The quiz's author is revising it: the revision (submitted, not published) is for the
    # author and curators only, and is there while the cases are indexed.
    CaseRevision.objects.create(
        case=quiz,
        number=2,
        author=teacher,
        state=CaseRevision.State.SUBMITTED,
        fields={"title": "Zebrafinch rupture revised", "history": "A dissection, revised."},
        series=[],
    )
    for case in (quiz, draft):
        index_case(case.pk)
    unpublish_case(case=draft)
    # Another student of the class answered the quiz in the assignment (their answer names it).
    teaching = teaching_world(
        teacher=teacher, student=student, cases=[quiz, draft], visibility="public",
        unknown=True, answered_by=_user("student2", "student"),
    )  # fmt: skip
    # The index lags (a worker that has not run, an Elasticsearch node that missed the delete).
    get_search_backend().index(build_document(Case.objects.get(pk=draft.pk)))
    get_search_backend().refresh()
    return {"quiz": quiz, "draft": draft, "student": student, "teaching": teaching}


def _texts(response) -> list[str]:
    """Everything the response carries, as text: zip members unpacked, bytes as Latin-1."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    texts = [body.decode("latin-1")]
    if response.get("Content-Type", "").startswith("application/zip"):
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            texts += [name for name in zf.namelist()]
            texts += [zf.read(name).decode("latin-1") for name in zf.namelist()]
    try:  # UTF-8 pages and JSON (a Czech name with diacritics)
        texts.append(body.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    return texts


def _basic(user) -> dict[str, str]:
    token = base64.b64encode(f"{user.username}:pw-{user.username}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def test_no_surface_shows_a_hidden_diagnosis_or_an_unpublished_case(world):
    student = world["student"]
    values = {kind: {**_values(world[kind]), **world["teaching"]} for kind in ("quiz", "draft")}
    browser = Client()
    browser.force_login(student)
    wrong = []
    for name, method, template, kind, status, proof in SURFACES:
        fill = {**values.get(kind, values["quiz"]), "study_quiz": values["quiz"]["study"]}
        url = template.format(**fill)
        extra = _basic(student) if name.startswith("dicomweb:") else {}
        client = Client() if extra else browser
        response = client.get(url, **extra) if method == "GET" else client.post(url, {}, **extra)
        where = f"{method} {url} ({kind})"
        if response.status_code != status:
            wrong.append(f"{where}: status {response.status_code}, expected {status}")
            continue
        texts = _texts(response)
        if proof and not any(proof.format(**fill) in t for t in texts):
            wrong.append(f"{where}: the case was not served (no {proof!r})")
        for text in texts:
            lowered = text.lower()
            for pattern, what in (
                (QUIZ_SECRETS, "the quiz's diagnosis"),
                (DRAFT_SECRETS, "the unpublished case"),
            ):
                if found := pattern.search(lowered):
                    wrong.append(f"{where}: shows {what} ({found.group()!r})")
                    break
    assert not QuizAnswer.objects.exists()  # the walk answered nothing
    assert not wrong, "\n".join(dict.fromkeys(wrong))


def test_choices_name_the_diagnosis_only_as_one_option(world):
    browser = Client()
    browser.force_login(world["student"])
    html = browser.get(f"/cases/{world['quiz'].pk}/quiz/choices/").content.decode()
    options = re.findall(r'name="choice" value="\d+"[^>]*> <span>([^<]+)</span>', html)
    assert sorted(options) == ["Bulla", "Pneumothorax", "Skin fold"]
    rest = re.sub(r'name="choice" value="\d+"[^>]*> <span>[^<]+</span>', "", html).lower()
    assert not QUIZ_SECRETS.search(rest)
    assert "after a long flight" in rest


def test_answering_reveals_what_was_hidden(world):
    browser = Client()
    browser.force_login(world["student"])
    # While the class's assignment waits for it, the quiz is answered there: let it close.
    Assignment.objects.update(due_at=timezone.now())
    browser.post(f"/cases/{world['quiz'].pk}/quiz/answer", {"answer": "pneumothorax"})
    quiz = world["quiz"]
    html = browser.get(f"/cases/{quiz.pk}/").content.decode()
    assert "PTX after a long flight" in html and "Pneumothorax on the right" in html
    study = quiz.studies.first().study_uid
    qido = Client().get("/dicomweb/studies", **_basic(world["student"])).content.decode()
    assert "CT chest pneumothorax" in qido
    series = Client().get(f"/dicomweb/studies/{study}/series", **_basic(world["student"]))
    assert "PTX follow up" in series.content.decode()
