"""A real DICOMweb client nobody here wrote (``dicomweb-client``, as scripts and viewers use it)
against the archive served on a real socket: a teacher stores a study, then teacher and
student search, retrieve, read metadata, frames, rendered images, thumbnails and bulk data, and
every call works or is refused as the privacy policy says."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
import requests
from dicomweb_client.api import DICOMwebClient
from PIL import Image
from pydicom.uid import ExplicitVRLittleEndian, JPEGLSLossless, RLELossless

from archive.models import Case, Upload
from archive.services.cases import publish_case
from archive.services.processing import process_upload
from tests.dicomweb.conftest import case_with_images

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def client_for(live_server, user) -> DICOMwebClient:
    session = requests.Session()
    session.auth = (user.username, f"pw-{user.username}")
    return DICOMwebClient(url=f"{live_server.url}/dicomweb", session=session)


def _status(call) -> int:
    with pytest.raises(requests.HTTPError) as info:
        call()
    return info.value.response.status_code


def _leak(ds):
    ds.StudyDescription = "CT chest pneumothorax"
    ds.SeriesDescription = "PTX follow up"


@pytest.fixture
def stored(live_server, teacher, curator, phi_file, patient):
    """A study the teacher stores over STOW-RS, processed and published."""
    dicom = client_for(live_server, teacher)
    datasets = [
        pydicom.dcmread(io.BytesIO(phi_file("CT_small.dcm"))),
        pydicom.dcmread(io.BytesIO(phi_file("MR_small.dcm"))),
    ]
    answer = dicom.store_instances(datasets)
    # Where to follow the upload (with the server's port, which dicomweb-client's Host header
    # leaves out), and the two instances accepted, by the UIDs the teacher sent.
    assert answer.RetrieveURL.startswith(live_server.url + "/uploads/")
    assert sorted(i.ReferencedSOPInstanceUID for i in answer.ReferencedSOPSequence) == sorted(
        d.SOPInstanceUID for d in datasets
    )
    assert "FailedSOPSequence" not in answer
    upload = Upload.objects.get()
    process_upload(upload.pk)
    case = publish_case(case=upload.case, user=curator)
    return case


def test_a_teacher_and_a_student_use_the_archive_with_dicomweb_client(
    live_server, stored, teacher, student, other_teacher, phi_file, patient
):
    ct = stored.instances().get(series__modality="CT")
    study_uid, series_uid, sop_uid = ct.series.study.study_uid, ct.series.series_uid, ct.sop_uid
    draft = case_with_images(other_teacher, [phi_file("SC_rgb_rle_2frame.dcm")], modality="OT")
    hidden = draft.instances().get()
    hidden_study = hidden.series.study.study_uid
    for user in (teacher, student):
        dicom = client_for(live_server, user)
        # QIDO-RS at each level, top level included.
        studies = dicom.search_for_studies()
        uids = {s["0020000D"]["Value"][0] for s in studies}
        assert study_uid in uids and hidden_study not in uids
        assert dicom.search_for_studies(search_filters={"ModalitiesInStudy": "CT"})
        series = dicom.search_for_series(search_filters={"Modality": "CT"})
        assert [s["0020000E"]["Value"][0] for s in series] == [series_uid]
        assert series[0]["0020000D"]["Value"] == [study_uid]  # study attributes at top level
        found = dicom.search_for_instances(search_filters={"SOPInstanceUID": sop_uid})
        assert [i["00080018"]["Value"][0] for i in found] == [sop_uid]
        in_study = dicom.search_for_series(study_uid)
        assert {s["00080060"]["Value"][0] for s in in_study} == {"CT"}

        # WADO-RS: study, series, instance, as stored and transcoded.
        (instance,) = dicom.retrieve_series(study_uid, series_uid)
        assert instance.SOPInstanceUID == sop_uid
        assert [d.SOPInstanceUID for d in dicom.retrieve_study(study_uid)] == [sop_uid]
        plain = dicom.retrieve_instance(study_uid, series_uid, sop_uid)
        assert plain.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
        rle = dicom.retrieve_instance(
            study_uid, series_uid, sop_uid, media_types=(("application/dicom", RLELossless),)
        )
        assert rle.file_meta.TransferSyntaxUID == RLELossless
        assert np.array_equal(rle.pixel_array, plain.pixel_array)
        for secret in patient.secrets():
            assert secret.upper() not in str(plain).upper()

        # Metadata, and the bulk data it points to (the URI carries the server's port).
        meta = dicom.retrieve_instance_metadata(study_uid, series_uid, sop_uid)
        assert meta["00080018"]["Value"] == [sop_uid]
        uri = meta["7FE00010"]["BulkDataURI"]
        assert uri.startswith(live_server.url + "/dicomweb/")
        (pixels,) = dicom.retrieve_bulkdata(uri)
        assert pixels == plain.PixelData
        assert len(dicom.retrieve_series_metadata(study_uid, series_uid)) == 1
        assert len(dicom.retrieve_study_metadata(study_uid)) == 1

        # Frames: uncompressed by default, JPEG-LS lossless on request, 406 for lossy JPEG.
        (frame,) = dicom.retrieve_instance_frames(study_uid, series_uid, sop_uid, [1])
        assert frame == plain.PixelData
        (jls,) = dicom.retrieve_instance_frames(
            study_uid, series_uid, sop_uid, [1], media_types=(("image/jls", JPEGLSLossless),)
        )
        assert jls[:4] == b"\xff\xd8\xff\xf7" and len(jls) < len(frame)
        refused = _status(
            lambda d=dicom: d.retrieve_instance_frames(
                study_uid,
                series_uid,
                sop_uid,
                [1],
                media_types=(("image/jpeg", "1.2.840.10008.1.2.4.50"),),
            )
        )
        assert refused == 406
        assert (
            _status(lambda d=dicom: d.retrieve_instance_frames(study_uid, series_uid, sop_uid, [2]))
            == 404
        )

        # Rendered: JPEG by default, PNG on request, sized by viewport.
        jpeg = dicom.retrieve_instance_rendered(study_uid, series_uid, sop_uid)
        assert Image.open(io.BytesIO(jpeg)).format == "JPEG"
        png = dicom.retrieve_instance_rendered(
            study_uid, series_uid, sop_uid, media_types=("image/png",)
        )
        assert Image.open(io.BytesIO(png)).size == (ct.columns, ct.rows)
        small = dicom.retrieve_instance_frames_rendered(
            study_uid,
            series_uid,
            sop_uid,
            [1],
            media_types=("image/png",),
            params={"viewport": "64,64"},
        )
        assert Image.open(io.BytesIO(small)).size == (64, 64)
        series_image = dicom.retrieve_series_rendered(
            study_uid, series_uid, media_types=("image/png",)
        )
        assert series_image[:8] == b"\x89PNG\r\n\x1a\n"
        thumb = dicom._session.get(f"{live_server.url}/dicomweb/studies/{study_uid}/thumbnail")
        assert Image.open(io.BytesIO(thumb.content)).size == (128, 128)

        # Someone else's draft does not exist for either of them.
        assert _status(lambda d=dicom: d.retrieve_study(hidden_study)) == 404
        assert _status(lambda d=dicom: d.retrieve_study_metadata(hidden_study)) == 404
    # Storing is for teachers.
    refused = _status(
        lambda: client_for(live_server, student).store_instances(
            [pydicom.dcmread(io.BytesIO(phi_file("CT_small.dcm")))]
        )
    )
    assert refused == 403
    assert not Upload.objects.filter(uploaded_by=student).exists()


def test_an_unanswered_quiz_is_not_found_by_its_answer(
    live_server, teacher, student, phi_file, curator
):
    quiz = case_with_images(
        teacher,
        [phi_file("CT_small.dcm", dataset_hook=_leak)],
        title="Chest pain",
        quiz_mode=True,
    )
    from tests.viewer.factories import pneumothorax

    quiz.diagnosis = pneumothorax()
    quiz.save(update_fields=["diagnosis"])
    publish_case(case=quiz, user=curator)
    study_uid = quiz.studies.get().study_uid
    for user, sees in ((teacher, True), (student, False)):
        dicom = client_for(live_server, user)
        found = dicom.search_for_studies(search_filters={"StudyDescription": "*pneumothorax*"})
        assert bool(found) == sees, user
        series = dicom.search_for_series(search_filters={"SeriesDescription": "PTX*"})
        assert bool(series) == sees, user
        # The study is found by what the student is shown.
        shown = dicom.search_for_studies(search_filters={"StudyDescription": "CT chest*"})
        assert [s["0020000D"]["Value"][0] for s in shown] == [study_uid]
        meta = dicom.retrieve_study_metadata(study_uid)
        text = str(meta).lower()
        assert ("pneumothorax" in text) == sees and ("ptx" in text) == sees
        series_all = dicom.search_for_instances(
            study_uid, fields=["SeriesDescription", "ImageComments"]
        )
        assert ("ptx" in str(series_all).lower()) == sees
    assert Case.objects.get(pk=quiz.pk).quiz_mode
