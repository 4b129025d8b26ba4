"""QIDO-RS, WADO-RS and STOW-RS against the DICOM JSON Model and the visibility rules."""

from __future__ import annotations

import io
import re

import pydicom
import pytest
from django.test import Client
from PIL import Image

from archive.models import Case, Upload
from archive.services.cases import publish_case
from archive.services.processing import process_upload
from tests.dicomweb.conftest import assert_dicom_json, basic

pytestmark = pytest.mark.django_db


def _study(case: Case):
    return case.studies.get()


def _get(client: Client, url: str, user, **extra):
    return client.get(url, **basic(user), **extra)


def _parts(response) -> list[tuple[str, bytes]]:
    content_type = response["Content-Type"]
    boundary = re.search(r"boundary=([^;]+)", content_type).group(1)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    parts = []
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        headers, _, data = chunk.partition(b"\r\n\r\n")
        part_type = re.search(rb"Content-Type: ([^\r\n]+)", headers).group(1).decode()
        parts.append((part_type, data[:-2]))
    return parts


def test_anonymous_requests_are_challenged(client, published_case):
    response = client.get("/dicomweb/studies")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    wrong = client.get("/dicomweb/studies", HTTP_AUTHORIZATION="Basic c3R1ZGVudDE6bm9wZQ==")
    assert wrong.status_code == 401


def test_qido_studies_lists_only_published_studies_in_the_dicom_json_model(
    client, student, published_case, draft_case, patient
):
    response = _get(client, "/dicomweb/studies", student)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/dicom+json"
    studies = response.json()
    assert len(studies) == 2  # CT and MR studies of the published case
    for study in studies:
        assert_dicom_json(study)
        assert study["0020000D"]["Value"][0] in {s.study_uid for s in published_case.studies.all()}
        assert study["00201208"]["Value"] == [1]
        assert study["00081190"]["Value"][0].startswith("http://testserver/dicomweb/studies/")
    text = response.content.decode().upper()
    for secret in patient.secrets():
        assert secret.upper() not in text
    draft_uid = _study(draft_case).study_uid
    assert draft_uid not in response.content.decode()
    only = _get(client, f"/dicomweb/studies?StudyInstanceUID={draft_uid}", student).json()
    assert only == []


def test_qido_matching_and_paging(client, student, published_case):
    ct = published_case.studies.get(series__modality="CT")
    by_modality = _get(client, "/dicomweb/studies?ModalitiesInStudy=CT", student).json()
    assert [s["0020000D"]["Value"][0] for s in by_modality] == [ct.study_uid]
    by_uid = _get(client, f"/dicomweb/studies?0020000D={ct.study_uid}", student).json()
    assert len(by_uid) == 1
    by_patient = _get(
        client, f"/dicomweb/studies?PatientID={ct.pseudonymous_patient_id}", student
    ).json()
    assert ct.study_uid in {s["0020000D"]["Value"][0] for s in by_patient}
    first = _get(client, "/dicomweb/studies?limit=1", student).json()
    second = _get(client, "/dicomweb/studies?limit=1&offset=1", student).json()
    assert len(first) == len(second) == 1 and first != second


def test_owner_and_curator_see_the_draft_others_do_not(
    client, other_teacher, curator, teacher, draft_case
):
    uid = _study(draft_case).study_uid
    for user, expected in [(other_teacher, 1), (curator, 1), (teacher, 0)]:
        found = _get(client, f"/dicomweb/studies?StudyInstanceUID={uid}", user).json()
        assert len(found) == expected, user


def test_qido_series_and_instances(client, student, published_case, draft_case):
    study = published_case.studies.get(series__modality="CT")
    series = _get(client, f"/dicomweb/studies/{study.study_uid}/series", student).json()
    assert len(series) == 1
    assert_dicom_json(series[0])
    series_uid = series[0]["0020000E"]["Value"][0]
    assert series[0]["00080060"]["Value"] == ["CT"]
    url = f"/dicomweb/studies/{study.study_uid}/series/{series_uid}/instances"
    instances = _get(client, url, student).json()
    assert len(instances) == 1
    assert_dicom_json(instances[0])
    instance = study.series.get().instances.get()
    assert instances[0]["00080018"]["Value"] == [instance.sop_uid]
    assert instances[0]["00280010"]["Value"] == [instance.rows]
    hidden = _study(draft_case)
    assert _get(client, f"/dicomweb/studies/{hidden.study_uid}/series", student).json() == []


def test_wado_instance_series_and_study_are_multipart_dicom(
    client, student, published_case, patient
):
    instance = published_case.instances().get(series__modality="CT")
    series = instance.series
    base = f"/dicomweb/studies/{series.study.study_uid}/series/{series.series_uid}"
    for url in [
        f"{base}/instances/{instance.sop_uid}",
        base,
        f"/dicomweb/studies/{series.study.study_uid}",
    ]:
        response = _get(
            client, url, student, HTTP_ACCEPT='multipart/related; type="application/dicom"'
        )
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith('multipart/related; type="application/dicom"')
        parts = _parts(response)
        assert len(parts) == 1
        assert parts[0][0] == "application/dicom; transfer-syntax=1.2.840.10008.1.2.1"
        ds = pydicom.dcmread(io.BytesIO(parts[0][1]))
        assert ds.SOPInstanceUID == instance.sop_uid
        text = parts[0][1].decode("latin-1").upper()
        for secret in patient.secrets():
            assert secret.upper() not in text


def test_wado_never_serves_an_unpublished_instance_to_others(
    client, student, teacher, other_teacher, draft_case
):
    instance = draft_case.instances().get()
    series = instance.series
    url = (
        f"/dicomweb/studies/{series.study.study_uid}/series/{series.series_uid}"
        f"/instances/{instance.sop_uid}"
    )
    for suffix in ["", "/metadata", "/frames/1/rendered", "/bulkdata/7FE00010"]:
        assert _get(client, url + suffix, student).status_code == 404, suffix
        assert _get(client, url + suffix, teacher).status_code == 404, suffix
        assert _get(client, url + suffix, other_teacher).status_code == 200, suffix


def test_metadata_is_the_json_model_with_pixel_data_as_bulk_data(
    client, student, draft_case, other_teacher
):
    instance = draft_case.instances().get()
    series = instance.series
    base = f"/dicomweb/studies/{series.study.study_uid}/series/{series.series_uid}"
    for url in [
        f"{base}/instances/{instance.sop_uid}/metadata",
        f"{base}/metadata",
        f"/dicomweb/studies/{series.study.study_uid}/metadata",
    ]:
        response = _get(client, url, other_teacher)
        assert response.status_code == 200
        (meta,) = response.json()
        assert_dicom_json(meta)
        assert meta["00080018"]["Value"] == [instance.sop_uid]
        assert meta["00120062"]["Value"] == ["YES"]  # Patient Identity Removed
    bulk = meta["7FE00010"]["BulkDataURI"]
    response = _get(client, bulk.replace("http://testserver", ""), other_teacher)
    ((content_type, data),) = _parts(response)
    assert content_type == "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"
    assert len(data) == instance.rows * instance.columns * 3 * instance.frames


def test_rendered_frame_is_a_png_or_a_jpeg(client, student, published_case):
    instance = published_case.instances().get(series__modality="CT")
    series = instance.series
    url = (
        f"/dicomweb/studies/{series.study.study_uid}/series/{series.series_uid}"
        f"/instances/{instance.sop_uid}/frames/1/rendered"
    )
    response = _get(client, url, student, HTTP_ACCEPT="image/png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (instance.columns, instance.rows)
    # Without a preference, JPEG: the default of PS3.18 for rendered images.
    plain = _get(client, url, student)
    assert plain["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(plain.content)).format == "JPEG"
    assert _get(client, url.replace("/frames/1/", "/frames/2/"), student).status_code == 404


def _multipart(parts: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "stow-test-boundary"
    body = (
        b"".join(
            f"--{boundary}\r\nContent-Type: {ctype}\r\n\r\n".encode() + data + b"\r\n"
            for ctype, data in parts
        )
        + f"--{boundary}--\r\n".encode()
    )
    return body, f'multipart/related; type="application/dicom"; boundary={boundary}'


def test_stow_feeds_the_intake_pipeline_into_a_new_draft(client, teacher, phi_file, patient):
    body, content_type = _multipart(
        [
            ("application/dicom", phi_file("CT_small.dcm")),
            ("application/dicom", phi_file("MR_small.dcm")),
            ("text/plain", b"not an image"),
        ]
    )
    response = client.post("/dicomweb/studies", body, content_type=content_type, **basic(teacher))
    assert response.status_code == 202, response.content
    answer = response.json()
    assert_dicom_json(answer)
    referenced = answer["00081199"]["Value"]  # Referenced SOP Sequence
    assert [r["00081155"]["Value"][0] for r in referenced] == [
        pydicom.dcmread(io.BytesIO(phi_file(n))).SOPInstanceUID
        for n in ("CT_small.dcm", "MR_small.dcm")
    ]
    assert "00081198" not in answer  # Failed SOP Sequence
    assert "2 instance(s) queued" in response["Warning"]
    upload = Upload.objects.get()
    assert upload.source == "stow" and upload.items.count() == 2
    case = upload.case
    assert case.owner == teacher and case.status == Case.Status.DRAFT
    assert not any(s.upper() in case.title.upper() for s in patient.secrets())
    process_upload(upload.pk)
    assert [i.status for i in upload.items.all()] == ["anonymized", "anonymized"]


def test_stow_into_a_named_case_only_for_its_author(
    client, teacher, other_teacher, student, phi_file
):
    mine = Case.objects.create(owner=teacher, title="Mine", modality="CT", body_region="chest")
    body, content_type = _multipart([("application/dicom", phi_file("CT_small.dcm"))])
    ok = client.post(
        f"/dicomweb/studies?case={mine.pk}", body, content_type=content_type, **basic(teacher)
    )
    assert ok.status_code == 202
    assert Upload.objects.get().case == mine
    theirs = client.post(
        f"/dicomweb/studies?case={mine.pk}", body, content_type=content_type, **basic(other_teacher)
    )
    assert theirs.status_code == 403
    students = client.post("/dicomweb/studies", body, content_type=content_type, **basic(student))
    assert students.status_code == 403
    assert Upload.objects.count() == 1


def test_stow_with_a_session_needs_the_csrf_token(teacher, phi_file):
    client = Client(enforce_csrf_checks=True)
    client.force_login(teacher)
    body, content_type = _multipart([("application/dicom", phi_file("CT_small.dcm"))])
    assert client.post("/dicomweb/studies", body, content_type=content_type).status_code == 403
    assert not Upload.objects.exists()


def test_stow_lists_a_part_that_is_not_dicom_as_failed(client, teacher, phi_file):
    body, content_type = _multipart(
        [("application/dicom", phi_file("CT_small.dcm")), ("application/dicom", b"garbage")]
    )
    response = client.post("/dicomweb/studies", body, content_type=content_type, **basic(teacher))
    assert response.status_code == 202
    answer = response.json()
    assert len(answer["00081199"]["Value"]) == 1
    (failed,) = answer["00081198"]["Value"]
    assert failed["00081197"]["Value"] == [0xC000]  # Failure Reason: cannot understand


def test_stow_rejects_a_body_that_is_not_multipart(client, teacher, phi_file):
    response = client.post(
        "/dicomweb/studies",
        phi_file("CT_small.dcm"),
        content_type="application/dicom",
        **basic(teacher),
    )
    assert response.status_code == 415


def test_metadata_follows_the_teachers_series_names_and_order(client, teacher, student, phi_file):
    """A viewer reading the study's metadata shows the series as the archive's pages do: in the
    order the teacher gave them, under the descriptions the teacher wrote."""
    from archive.services.series_control import move_series, ordered_series, rename_series
    from tests.dicomweb.conftest import case_with_images
    from tests.editor.builders import new_series

    case = case_with_images(
        teacher, [phi_file("CT_small.dcm"), phi_file("CT_small.dcm", new_series)]
    )
    first, second = ordered_series(case)
    move_series(series=second, user=teacher, step=-1)
    rename_series(series=second, user=teacher, description="Lung window, apex first")
    case = publish_case(case=case)
    study_uid = first.study.study_uid

    response = _get(client, f"/dicomweb/studies/{study_uid}/metadata", student)
    assert response.status_code == 200
    metadata = response.json()
    assert [m["0020000E"]["Value"][0] for m in metadata] == [second.series_uid, first.series_uid]
    assert metadata[0]["0008103E"]["Value"] == ["Lung window, apex first"]
    series = _get(client, f"/dicomweb/studies/{study_uid}/series", student).json()
    assert [s["0020000E"]["Value"][0] for s in series] == [second.series_uid, first.series_uid]
