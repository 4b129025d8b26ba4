"""Case packages in one archive: who may export, what the manifest says (against its JSON
Schema), broken packages refused with a reason, PHI in the manifest or burned into an image
quarantined with its reason while the rest goes on."""

from __future__ import annotations

import io
import json
import stat
import zipfile

import pydicom
import pytest
from django.test import Client
from jsonschema import Draft202012Validator

from archive.models import Case, PackageImport, QuizAnswer, UploadItem
from archive.packages.importing import apply_package_extras
from archive.packages.manifest import schema
from archive.services.processing import process_upload
from tests.conftest import dicom_bytes
from tests.deid.pixels.synthetic import Text, alpha_mask, blend, set_native_pixels
from tests.packages.builders import ANNOTATIONS, members, rebuilt, teaching_case

pytestmark = pytest.mark.django_db(transaction=True)


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def export(user, case) -> bytes:
    response = _client(user).get(f"/cases/{case.pk}/package.zip")
    assert response.status_code == 200, response.status_code
    assert response["Content-Disposition"] == f'attachment; filename="case-{case.pk}-package.zip"'
    return response.content


def import_via_page(user, package: bytes):
    upload = io.BytesIO(package)
    upload.name = "package.zip"
    return _client(user).post("/cases/import/", {"package": upload}, follow=True)


def finish(package: PackageImport) -> None:
    """What the worker does: process the upload, then attach the key images."""
    process_upload(package.upload_id)
    assert apply_package_extras(package.pk)


def test_the_manifest_describes_the_case_and_follows_its_schema(teacher):
    case = teaching_case(teacher)
    files = members(export(teacher, case))
    manifest = json.loads(files["manifest.json"])
    assert not list(Draft202012Validator(schema()).iter_errors(manifest))
    [entry] = manifest["cases"]
    assert entry["title"] == case.title and entry["findings"] == case.findings
    assert entry["diagnosis"]["name"] == "Tension pneumothorax"
    assert entry["diagnosis"]["icd10"] == "J93.0"
    assert entry["diagnosis"]["name_cs"] == "Tenzní pneumotorax"
    assert entry["tags"] == ["emergency", "pleura"]
    assert entry["licence"] == "CC BY-NC-SA 4.0" and entry["author"] == teacher.username
    names = [i["file"] for s in entry["studies"] for se in s["series"] for i in se["instances"]]
    assert names == ["dicom/1/1/1.dcm", "dicom/1/1/2.dcm", "dicom/1/1/3.dcm"]
    assert sorted(files) == sorted([*names, "manifest.json"])  # neutral names, nothing else
    assert entry["key_images"][0] == {
        "file": "dicom/1/1/1.dcm",
        "frame": 0,
        "caption": "Right apex",
        "order": 0,
        "annotations": ANNOTATIONS,
    }
    for name in names:  # the archive's anonymized files, as stored
        ds = pydicom.dcmread(io.BytesIO(files[name]))
        assert case.instances().filter(sop_uid=ds.SOPInstanceUID).exists()


def test_only_teachers_who_may_see_the_diagnosis_export(teacher, other_teacher, student, curator):
    quiz = teaching_case(teacher, quiz_mode=True)
    assert _client(student).get(f"/cases/{quiz.pk}/package.zip").status_code == 403
    # Another teacher has not answered the quiz: the package would give the answer away.
    assert _client(other_teacher).get(f"/cases/{quiz.pk}/package.zip").status_code == 403
    QuizAnswer.objects.create(user=other_teacher, case=quiz, answer_text="pneumothorax")
    assert _client(other_teacher).get(f"/cases/{quiz.pk}/package.zip").status_code == 200
    assert _client(teacher).get(f"/cases/{quiz.pk}/package.zip").status_code == 200
    assert _client(curator).get(f"/cases/{quiz.pk}/package.zip").status_code == 200
    Case.objects.filter(pk=quiz.pk).update(status=Case.Status.DRAFT)
    assert _client(teacher).get(f"/cases/{quiz.pk}/package.zip").status_code == 403


def test_an_imported_package_is_a_draft_of_the_importing_teacher(teacher, other_teacher):
    package = export(teacher, teaching_case(teacher))
    page = import_via_page(other_teacher, package)
    assert "Imported 1 case(s) as your drafts" in page.content.decode()
    [imported] = PackageImport.objects.all()
    finish(imported)
    case = imported.case
    assert (case.owner, case.status) == (other_teacher, "draft")
    assert imported.upload.source == "package" and imported.author == teacher.username
    assert [i.status for i in imported.upload.items.order_by("pk")] == ["anonymized"] * 3
    assert case.instances().count() == 3
    keys = list(case.key_images.order_by("order"))
    assert [(k.caption, k.annotations) for k in keys] == [
        ("Right apex", ANNOTATIONS),
        ("Hilum", []),
    ]
    assert keys[0].instance.instance_number == 1 and keys[1].instance.instance_number == 3


@pytest.mark.parametrize(
    "tamper, reason",
    [
        (lambda p: b"not a zip at all", "not a zip archive"),
        (lambda p: _without(p, "manifest.json"), "no manifest.json"),
        (lambda p: _without(p, "dicom/1/1/2.dcm"), "lacks dicom/1/1/2.dcm"),
        (lambda p: _replaced(p, "dicom/1/1/2.dcm", b"DICM changed"), "does not match its checksum"),
        (
            lambda p: rebuilt(p, manifest=lambda m: m["cases"][0].update(modality="PET-MRI")),
            "does not follow the case-package schema at cases/0/modality",
        ),
        (lambda p: rebuilt(p, manifest=lambda m: m.update(version=2)), "of version 2"),
    ],
)
def test_a_broken_package_is_refused_with_a_reason(teacher, other_teacher, tamper, reason):
    package = tamper(export(teacher, teaching_case(teacher)))
    page = import_via_page(other_teacher, package).content.decode()
    assert reason in page
    assert not PackageImport.objects.exists()
    assert Case.objects.count() == 1


def _without(package: bytes, name: str) -> bytes:
    files = members(package)
    files.pop(name)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for n, content in files.items():
            zf.writestr(n, content)
    return out.getvalue()


def _replaced(package: bytes, name: str, content: bytes) -> bytes:
    files = members(package)
    files[name] = content
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for n, data in files.items():
            zf.writestr(n, data)
    return out.getvalue()


def test_personal_data_in_the_manifest_quarantines_the_package(teacher, other_teacher):
    package = rebuilt(
        export(teacher, teaching_case(teacher)),
        manifest=lambda m: m["cases"][0].update(
            history="Referred by Dr. Jan Novák; seen on 12. 3. 2024.",
        ),
    )
    page = import_via_page(other_teacher, package).content.decode()
    assert "looks like personal data: case 1, history (a person name)" in page
    assert "Novák" not in page and "2024" not in page  # the reason never quotes the text
    [quarantined] = PackageImport.objects.all()
    assert quarantined.status == "quarantined" and quarantined.case is None
    assert Case.objects.count() == 1  # nothing was created
    path = quarantined.quarantined_file.path
    assert stat.S_IMODE(__import__("os").stat(path).st_mode) == 0o600
    with quarantined.quarantined_file.open("rb") as fh:
        assert fh.read() == package  # kept whole for a curator


def test_only_a_curator_downloads_a_quarantined_package_from_the_admin(
    teacher, other_teacher, curator
):
    package = rebuilt(
        export(teacher, teaching_case(teacher)),
        manifest=lambda m: m["cases"][0].update(history="Referred by Dr. Jan Novák."),
    )
    import_via_page(other_teacher, package)
    [quarantined] = PackageImport.objects.all()
    url = f"/admin/archive/packageimport/{quarantined.pk}/download/"
    response = _client(curator).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="quarantined-package-{quarantined.pk}.zip"'
    )
    assert b"".join(response.streaming_content) == package
    # Staff without the curator's publish permission: the package holds unchecked personal data.
    other_teacher.is_staff = True
    other_teacher.save()
    assert _client(other_teacher).get(url).status_code == 404
    assert _client(teacher).get(url).status_code == 302  # not staff: the admin's login


def test_a_name_burned_into_an_image_is_quarantined_and_the_rest_goes_on(teacher, other_teacher):
    package = export(teacher, teaching_case(teacher))
    ds = pydicom.dcmread(io.BytesIO(members(package)["dicom/1/1/1.dcm"]))
    frame = ds.pixel_array
    alpha = alpha_mask(frame.shape, [Text("NOVAK JAN", (4, 4), size=11, kind="mono")])
    set_native_pixels(ds, blend(frame, alpha, int(frame.max())))
    package = rebuilt(package, replace={"dicom/1/1/1.dcm": dicom_bytes(ds)})
    import_via_page(other_teacher, package)
    [imported] = PackageImport.objects.all()
    finish(imported)
    items = list(imported.upload.items.order_by("pk"))
    assert [i.status for i in items] == ["quarantined", "anonymized", "anonymized"]
    assert "Text was found burned into the pixels of this image" in items[0].reason
    assert items[0].quarantined_file and items[0].instance is None
    case = imported.case
    assert case.instances().count() == 2
    # The key image on the quarantined slice is not attached; the other one is.
    assert [k.caption for k in case.key_images.all()] == ["Hilum"]
    assert UploadItem.objects.filter(status="quarantined").count() == 1
